//! The hostile suite (issue 7): the router called in-process as a browser without
//! JavaScript, fed what an attacker types. SQL and HTML injection, CR/LF in headers, a
//! forged `Host`, passwords at the policy's edges and bodies far past them, posts without
//! the CSRF token, the security headers of every page, and secrets that must never reach
//! the logs, the audit trail or the database. Every test that touches the database runs
//! on SQLite, and on PostgreSQL too when `SESAME_TEST_POSTGRES_URL` is set.

mod common;

use std::{
    future::Future,
    sync::{Arc, Mutex},
};

use app::{
    components::password_checklist::rule_text,
    i18n::{Locale, Msg},
    policy::PasswordRule,
};
use axum::body::Body;
use common::{
    TestSesame,
    browser::{Browser, attribute, csrf, form_action, location, one_at_a_time},
};
use http::{Method, Response, StatusCode, header};
use sesame::{
    clock::Clock,
    config::Config,
    http::{leptos_options, router},
    import::{ImportOptions, import_people},
    mail::{transport::FileTransport, worker::Worker},
    people::{PersonInput, create_person},
    state::Sesame,
    store::{people::Category, roles, sessions},
};
use sqlx::Row;

const PASSWORD: &str = "Vélo-rouge;Marmotte-93";

/// Runs `test` on a fresh Sésame over every engine.
async fn each_engine<F, Fut>(tune: impl Fn(&mut Config), test: F)
where
    F: Fn(TestSesame, &'static str) -> Fut,
    Fut: Future<Output = ()>,
{
    for db in common::databases().await {
        let dir = tempfile::tempdir().expect("tempdir");
        let clock = common::manual_clock();
        let mut config = common::config(dir.path(), &db.url);
        tune(&mut config);
        let sesame = Sesame::start(config, clock.clone() as Arc<dyn Clock>, false)
            .await
            .expect("start");
        let pool = sesame.store.pool.clone();
        test(TestSesame { sesame, clock, dir }, db.name).await;
        pool.close().await;
        db.cleanup().await;
    }
}

/// Every request comes from the same test address: per-address limits would otherwise
/// change the answers these tests compare.
fn lenient(config: &mut Config) {
    config.throttle.signin_per_address = 10_000;
    config.throttle.recovery_per_address = 10_000;
    config.signup.per_address_per_hour = 10_000;
    config.signup.unsolved_per_address_per_hour = 10_000;
}

/// Per-account and per-identifier limits too: the same account is tried many times.
fn very_lenient(config: &mut Config) {
    lenient(config);
    config.throttle.signin_per_account = 10_000;
    config.throttle.recovery_per_identifier = 10_000;
}

/// The registered server function whose name starts with `name`.
fn server_fn_path(name: &str) -> String {
    let prefix = format!("/api/{name}");
    leptos::server_fn::axum::server_fn_paths()
        .map(|(path, _)| path)
        .find(|path| {
            path.strip_prefix(&prefix)
                .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_alphanumeric()))
        })
        .unwrap_or_else(|| panic!("no server function {name}"))
        .to_owned()
}

// ---------------------------------------------------------------------------------------
// Reading pages as a browser does: tags, attributes (decoded), text, raw script bodies.

#[derive(Debug)]
enum Token {
    Open {
        name: String,
        attrs: Vec<(String, String)>,
    },
    Close(String),
    Text(String),
    /// A `<script>`, `<style>`, `<title>` or `<textarea>` body, up to the first end tag
    /// of its element as browsers read it.
    Raw {
        element: String,
        body: String,
    },
}

fn decode(text: &str) -> String {
    html_escape::decode_html_entities(text).into_owned()
}

fn tokens(html: &str) -> Vec<Token> {
    let bytes = html.as_bytes();
    let len = html.len();
    let mut out = Vec::new();
    let mut text = String::new();
    let mut i = 0;
    let flush = |text: &mut String, out: &mut Vec<Token>| {
        if !text.is_empty() {
            out.push(Token::Text(decode(text)));
            text.clear();
        }
    };
    let skip_space = |mut j: usize| {
        while j < len && (bytes[j].is_ascii_whitespace() || bytes[j] == b'/') {
            j += 1;
        }
        j
    };
    while i < len {
        let rest = &html[i..];
        if rest.starts_with("<!--") {
            flush(&mut text, &mut out);
            i += rest.find("-->").map_or(rest.len(), |end| end + 3);
            continue;
        }
        let next = rest.chars().nth(1);
        if rest.starts_with('<')
            && next.is_some_and(|c| c.is_ascii_alphabetic() || c == '/' || c == '!')
        {
            flush(&mut text, &mut out);
            let closing = next == Some('/');
            let mut j = i + 1 + usize::from(closing);
            let name_end = html[j..]
                .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
                .map_or(len, |end| j + end);
            let name = html[j..name_end].to_ascii_lowercase();
            j = name_end;
            let mut attrs = Vec::new();
            loop {
                j = skip_space(j);
                if j >= len {
                    break;
                }
                if bytes[j] == b'>' {
                    j += 1;
                    break;
                }
                let attr_end = html[j..]
                    .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '>' || c == '/')
                    .map_or(len, |end| j + end);
                let attr = html[j..attr_end].to_ascii_lowercase();
                j = attr_end;
                while j < len && bytes[j].is_ascii_whitespace() {
                    j += 1;
                }
                let mut value = String::new();
                if j < len && bytes[j] == b'=' {
                    j += 1;
                    while j < len && bytes[j].is_ascii_whitespace() {
                        j += 1;
                    }
                    if j < len && (bytes[j] == b'"' || bytes[j] == b'\'') {
                        let quote = bytes[j] as char;
                        let close = html[j + 1..].find(quote).map_or(len, |end| j + 1 + end);
                        value = html[j + 1..close].to_owned();
                        j = (close + 1).min(len);
                    } else {
                        let end = html[j..]
                            .find(|c: char| c.is_ascii_whitespace() || c == '>')
                            .map_or(len, |end| j + end);
                        value = html[j..end].to_owned();
                        j = end;
                    }
                }
                if attr.is_empty() {
                    j += 1;
                } else {
                    attrs.push((attr, decode(&value)));
                }
            }
            i = j;
            if closing {
                out.push(Token::Close(name));
            } else {
                // Raw text (script, style) and escapable raw text (title, textarea): no
                // tags inside, only their own end tag closes them.
                let raw = ["script", "style", "title", "textarea"].contains(&name.as_str());
                out.push(Token::Open {
                    name: name.clone(),
                    attrs,
                });
                if raw {
                    let lower = html[i..].to_ascii_lowercase();
                    let end = lower.find(&format!("</{name}")).map_or(len, |end| i + end);
                    out.push(Token::Raw {
                        element: name,
                        body: html[i..end].to_owned(),
                    });
                    i = end;
                }
            }
            continue;
        }
        if let Some(c) = rest.chars().next() {
            text.push(c);
            i += c.len_utf8();
        } else {
            break;
        }
    }
    flush(&mut text, &mut out);
    out
}

fn attr<'a>(attrs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The page's visible text, decoded.
fn visible_text(html: &str) -> String {
    tokens(html)
        .into_iter()
        .filter_map(|t| match t {
            Token::Text(text) => Some(text),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Every attribute value on the page, decoded.
fn attribute_values(html: &str) -> Vec<String> {
    tokens(html)
        .into_iter()
        .flat_map(|t| match t {
            Token::Open { attrs, .. } => attrs.into_iter().map(|(_, v)| v).collect(),
            _ => Vec::new(),
        })
        .collect()
}

/// Markup typed by an attacker stayed text: no element with an event handler, no image
/// from the payload, no script whose body is the payload's.
fn assert_inert(html: &str, what: &str) {
    for token in tokens(html) {
        match token {
            Token::Open { name, attrs } => {
                assert!(
                    attrs.iter().all(|(k, _)| !k.starts_with("on")),
                    "{what}: an element <{name}> with an event handler {attrs:?}"
                );
                assert!(
                    !(name == "img" && attr(&attrs, "src") == Some("x")),
                    "{what}: the payload's <img> became an element"
                );
            }
            Token::Raw { element, body } => assert!(
                !(element == "script" && body.trim_start().starts_with("alert(")),
                "{what}: the payload became a <script>: {body}"
            ),
            _ => {}
        }
    }
}

/// A form as a browser would send it: its action and its fields with their values.
#[derive(Clone, Debug)]
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

fn forms(html: &str) -> Vec<Form> {
    let mut found = Vec::new();
    let mut current: Option<Form> = None;
    let mut select: Option<(String, Option<String>)> = None;
    for token in tokens(html) {
        match token {
            Token::Open { name, attrs } if name == "form" => {
                current = Some(Form {
                    action: attr(&attrs, "action").unwrap_or("").to_owned(),
                    fields: Vec::new(),
                });
            }
            Token::Close(name) if name == "form" => {
                if let Some(form) = current.take() {
                    found.push(form);
                }
            }
            Token::Open { name, attrs } => {
                let Some(form) = current.as_mut() else {
                    continue;
                };
                let Some(field) = attr(&attrs, "name").map(str::to_owned) else {
                    if name == "option"
                        && let Some((_, chosen)) = select.as_mut()
                    {
                        let value = attr(&attrs, "value").unwrap_or("");
                        if (chosen.is_none() && !value.is_empty())
                            || attr(&attrs, "selected").is_some()
                        {
                            *chosen = Some(value.to_owned());
                        }
                    }
                    continue;
                };
                let value = attr(&attrs, "value").unwrap_or("").to_owned();
                let taken = form.fields.iter().any(|(k, _)| *k == field);
                match name.as_str() {
                    "input" => {
                        let kind = attr(&attrs, "type").unwrap_or("text");
                        // An unticked box is not sent; the first radio stands for its group.
                        let unticked = kind == "checkbox" && attr(&attrs, "checked").is_none();
                        if !taken && !unticked {
                            form.fields.push((field, value));
                        }
                    }
                    "button" | "textarea" if !taken => form.fields.push((field, value)),
                    "select" => select = Some((field, None)),
                    _ => {}
                }
            }
            Token::Close(name) if name == "select" => {
                if let (Some(form), Some((field, chosen))) = (current.as_mut(), select.take()) {
                    form.fields.push((field, chosen.unwrap_or_default()));
                }
            }
            _ => {}
        }
    }
    found
}

/// The `<main>` of a page with what differs per response or per typed input masked: every
/// `value` attribute (the typed login, the flow, the CSRF token) and every long hex run.
fn comparable(page: &str) -> String {
    let start = page.find("<main").unwrap_or(0);
    let end = page.find("</main>").unwrap_or(page.len());
    let main = &page[start..end];
    let mut masked = String::new();
    let mut rest = main;
    while let Some(at) = rest.find("value=\"") {
        masked.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        let close = rest.find('"').unwrap_or(rest.len());
        rest = &rest[close..];
    }
    masked.push_str(rest);
    let mut out = String::new();
    let mut run = String::new();
    for c in masked.chars() {
        if c.is_ascii_hexdigit() && !c.is_ascii_uppercase() {
            run.push(c);
            continue;
        }
        out.push_str(if run.len() >= 16 { "HEX" } else { &run });
        run.clear();
        out.push(c);
    }
    out.push_str(if run.len() >= 16 { "HEX" } else { &run });
    out
}

/// The error summary's lines, decoded.
fn error_summary(html: &str) -> Option<String> {
    let start = html.find("class=\"error-summary\"")?;
    let end = html[start..]
        .find("</ul>")
        .map_or(html.len(), |end| start + end);
    Some(visible_text(&html[start..end]))
}

// ---------------------------------------------------------------------------------------
// People, mail and the database.

const HR_FILE: &str =
    "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email
jgagnon,Jean-François,Gagnon,1951-04-12,E10442,retiree,fr,73915284,864209,
mtremblay,Marie,Tremblay,1975-09-30,E20001,permanent-staff,en,51739264,402718,marie@travail.example
";
const JGAGNON_PIN: &str = "73915284";
const JGAGNON_SIN: &str = "864209";
const MTREMBLAY_PIN: &str = "51739264";
const MTREMBLAY_SIN: &str = "402718";

/// Both people of [`HR_FILE`], active with `password`; Marie has a recovery address.
async fn hr_people(sesame: &Sesame, password: &str) {
    import_people(
        sesame,
        HR_FILE.as_bytes(),
        &ImportOptions {
            skip_invalid: false,
            actor: "test",
        },
        &|_, _| {},
    )
    .await
    .expect("import");
    let hash = sesame.hasher.hash(password).await.expect("hash");
    sqlx::query("UPDATE people SET state = 'active', password_hash = $1")
        .bind(hash)
        .execute(&sesame.store.pool)
        .await
        .expect("activate");
    sqlx::query(
        "UPDATE people SET recovery_email = 'marie@perso.example' WHERE login = 'mtremblay'",
    )
    .execute(&sesame.store.pool)
    .await
    .expect("recovery email");
}

async fn person_id(sesame: &Sesame, login: &str) -> String {
    sqlx::query_scalar("SELECT id FROM people WHERE login = $1")
        .bind(login)
        .fetch_one(&sesame.store.pool)
        .await
        .expect("person")
}

async fn password_is(sesame: &Sesame, login: &str, password: &str) -> bool {
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM people WHERE login = $1")
            .bind(login)
            .fetch_one(&sesame.store.pool)
            .await
            .expect("hash");
    sesame
        .hasher
        .verify(hash.as_deref(), password)
        .await
        .expect("verify")
}

async fn count(sesame: &Sesame, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(&sesame.store.pool)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn outbox(sesame: &Sesame) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, text_body FROM outbox ORDER BY created_at, id")
        .fetch_all(&sesame.store.pool)
        .await
        .expect("outbox")
}

/// The 6-digit code and the link's token of the last reset mail to `to`, still queued.
async fn last_code(sesame: &Sesame, to: &str) -> (String, String) {
    let body = outbox(sesame)
        .await
        .into_iter()
        .rev()
        .find(|(recipient, body)| recipient == to && body.contains("token="))
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("no code mail to {to}"));
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("code")
        .to_owned();
    let token = body
        .split("token=")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .expect("token")
        .to_owned();
    (code, token)
}

/// Runs the outbox worker once, writing `.eml` files; answers every `.eml` written so far.
async fn deliver(sesame: &Sesame) -> Vec<String> {
    let worker = Worker {
        store: sesame.store.clone(),
        transport: Box::new(FileTransport::new(sesame.config.mail.dir.clone())),
        clock: sesame.clock.clone(),
        config: sesame.config.mail.clone(),
        outbox: sesame.outbox.clone(),
    };
    worker.pass().await.expect("outbox pass");
    let Ok(entries) = std::fs::read_dir(&sesame.config.mail.dir) else {
        return Vec::new();
    };
    let mut names: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "eml"))
        .collect();
    names.sort();
    names
        .iter()
        .map(|p| std::fs::read_to_string(p).expect("read .eml"))
        .collect()
}

/// The header lines of a raw message, continuation lines joined to theirs.
fn mail_headers(raw: &str) -> Vec<String> {
    let end = raw
        .find("\r\n\r\n")
        .or_else(|| raw.find("\n\n"))
        .unwrap_or(raw.len());
    let mut headers: Vec<String> = Vec::new();
    for line in raw[..end].lines() {
        match headers.last_mut() {
            Some(last) if line.starts_with([' ', '\t']) => last.push_str(line),
            _ => headers.push(line.to_owned()),
        }
    }
    headers
}

/// The decoded text and HTML parts of a raw message.
fn mail_bodies(raw: &str) -> String {
    let message = mail_parser::MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a parsable message");
    let mut bodies = String::new();
    for i in 0..message.text_body_count() {
        bodies.push_str(&message.body_text(i).unwrap_or_default());
        bodies.push('\n');
    }
    for i in 0..message.html_body_count() {
        bodies.push_str(&message.body_html(i).unwrap_or_default());
        bodies.push('\n');
    }
    bodies
}

/// Every `http://` or `https://` link in a text.
fn links(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["http://", "https://"] {
        let mut rest = text;
        while let Some(at) = rest.find(scheme) {
            let link: String = rest[at..]
                .chars()
                .take_while(|c| !c.is_whitespace() && !"\"'<>".contains(*c))
                .collect();
            rest = &rest[at + link.len().max(1)..];
            found.push(link);
        }
    }
    found
}

/// Every row of every table, each column cast to text: what a database dump would show.
async fn dump(sesame: &Sesame, engine: &str) -> Vec<String> {
    let pool = &sesame.store.pool;
    let tables: Vec<String> = if engine == "postgres" {
        sqlx::query_scalar(
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             ORDER BY 1",
        )
        .fetch_all(pool)
        .await
    } else {
        sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .fetch_all(pool)
            .await
    }
    .expect("tables");
    let tables: Vec<String> = tables
        .into_iter()
        .filter(|t| !t.starts_with("_sqlx") && !t.starts_with("sqlite_"))
        .collect();
    assert!(
        tables.iter().any(|t| t == "people") && tables.iter().any(|t| t == "audit_events"),
        "{engine}: {tables:?}"
    );
    let mut lines = Vec::new();
    for table in tables {
        let columns: Vec<String> = if engine == "postgres" {
            sqlx::query_scalar(
                "SELECT CAST(column_name AS TEXT) FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = $1 \
                 ORDER BY ordinal_position",
            )
            .bind(&table)
            .fetch_all(pool)
            .await
        } else {
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(&table)
                .fetch_all(pool)
                .await
        }
        .expect("columns");
        let select = columns
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT)"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("SELECT {select} FROM \"{table}\"");
        let rows = sqlx::query(&sql)
            .fetch_all(pool)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        for row in rows {
            let values: Vec<String> = columns
                .iter()
                .enumerate()
                .map(|(i, column)| {
                    let value = row
                        .try_get::<Option<String>, _>(i)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                    format!("{column}={value}")
                })
                .collect();
            lines.push(format!("{table}: {}", values.join(" | ")));
        }
    }
    lines.sort();
    lines
}

/// Whether `secret` occurs in `haystack` (case aside). Short numeric secrets (codes,
/// PINs) count only standing alone, not inside a longer run of letters and digits such
/// as a hash or a timestamp.
fn leaks(haystack: &str, secret: &str) -> bool {
    let haystack = haystack.to_lowercase();
    let secret = secret.to_lowercase();
    if !secret.chars().all(|c| c.is_ascii_digit()) {
        return haystack.contains(&secret);
    }
    haystack.match_indices(&secret).any(|(at, _)| {
        let before = haystack[..at].chars().next_back();
        let after = haystack[at + secret.len()..].chars().next();
        let joins = |c: char| c.is_ascii_alphanumeric() || c == '.';
        !before.is_some_and(joins) && !after.is_some_and(joins)
    })
}

/// Signs `login` in as a browser without JavaScript does; answers the CSRF token.
async fn sign_in(browser: &mut Browser, login: &str, password: &str) -> String {
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    let fields = [
        ("csrf", token.as_str()),
        ("login", login),
        ("password", password),
    ];
    let (response, _) = browser.post_form(&action, &fields).await;
    assert_eq!(location(&response), "/account", "{login} signs in");
    token
}

/// An agent of the helpdesk, signed in: answers the session token.
async fn agent(test: &TestSesame) -> String {
    let token = common::signed_in(test, "agent", Category::PermanentStaff).await;
    let id = person_id(&test.sesame, "agent").await;
    roles::grant(
        &test.sesame.store.pool,
        &id,
        roles::Role::Helpdesk,
        "test",
        0,
    )
    .await
    .expect("grant");
    token
}

// ---------------------------------------------------------------------------------------
// 1. SQL injection is inert.

const INJECTIONS: &[&str] = &[
    "' OR '1'='1",
    "' OR '1'='1' -- ",
    "' OR 1=1 --",
    "x'; DROP TABLE people; --",
    "mtremblay' --",
    "mtremblay'/*",
    "mtremblay' OR 'x'='x",
    "\" OR \"\"=\"",
    "' UNION SELECT id, login FROM people --",
    "%",
    "_",
    "%%",
    "mtr%",
    "m_remblay",
    "MTREMBLA_",
    "%@perso.example",
    "marie@perso.exampl_",
    "marie@%",
    "\\",
];

/// Posts a sign-in and answers the page the browser is sent to.
async fn sign_in_answer(
    browser: &mut Browser,
    token: &str,
    action: &str,
    login: &str,
    password: &str,
) -> String {
    let fields = [("csrf", token), ("login", login), ("password", password)];
    let (response, _) = browser.post_form(action, &fields).await;
    let next = location(&response);
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{login:?}: sent to {next:?}"
    );
    assert!(
        next.starts_with("/signin?flow="),
        "{login:?}: sent to {next}"
    );
    assert!(
        browser.cookie("sesame-session").is_none(),
        "{login:?} opened a session"
    );
    browser.get(&next).await.1
}

/// Identifies with `identifier` on forgot password, then asks for the emailed code:
/// answers both pages.
async fn recovery_answer(browser: &mut Browser, identifier: &str) -> (String, String) {
    let (_, html) = browser.get("/forgot-password").await;
    let token = csrf(&html);
    let action = form_action(&html, "submit_password_recovery");
    let identify = [
        ("csrf", token.as_str()),
        ("form[step]", "identify"),
        ("form[identifier]", identifier),
    ];
    let (response, _) = browser.post_form(&action, &identify).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{identifier:?}");
    let next = location(&response);
    let flow = next
        .strip_prefix("/forgot-password?flow=")
        .unwrap_or_else(|| panic!("{identifier:?}: sent to {next}"))
        .to_owned();
    let (_, choose_page) = browser.get(&next).await;
    let choose = [
        ("csrf", token.as_str()),
        ("flow", flow.as_str()),
        ("form[step]", "choose"),
        ("form[method]", "email_code"),
    ];
    let (response, _) = browser.post_form(&action, &choose).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{identifier:?}");
    let (_, code_page) = browser.get(&location(&response)).await;
    (choose_page, code_page)
}

/// Posts the forgot-username form and answers the page after it.
async fn username_answer(browser: &mut Browser, fields: &[(&str, &str)]) -> String {
    let (_, html) = browser.get("/forgot-username").await;
    let token = csrf(&html);
    let action = form_action(&html, "recover_username");
    let mut all = vec![("csrf", token.as_str())];
    all.extend_from_slice(fields);
    let (response, _) = browser.post_form(&action, &all).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{fields:?}");
    let next = location(&response);
    assert!(next.starts_with("/forgot-username?flow="), "{next}");
    browser.get(&next).await.1
}

async fn pin_answer(browser: &mut Browser, employee_number: &str, pin: &str) -> String {
    username_answer(
        browser,
        &[
            ("form[method]", "pin"),
            ("form[employee_number]", employee_number),
            ("form[pin]", pin),
        ],
    )
    .await
}

async fn identity_answer(browser: &mut Browser, first_name: &str, sin: &str) -> String {
    username_answer(
        browser,
        &[
            ("form[method]", "identity"),
            ("form[first_name]", first_name),
            ("form[last_name]", first_name),
            ("form[date_of_birth]", "1975-09-30"),
            ("form[sin_last6]", sin),
        ],
    )
    .await
}

/// Asks "Can't sign in?" for `email`: answers where the browser is sent.
async fn help_answer(browser: &mut Browser, email: &str) -> String {
    let (_, html) = browser.get("/cant-sign-in").await;
    let token = csrf(&html);
    let action = form_action(&html, "request_sign_in_help");
    let fields = [
        ("csrf", token.as_str()),
        ("form[email]", email),
        ("form[bot_challenge]", ""),
        ("form[bot_solution]", ""),
    ];
    let (response, _) = browser.post_form(&action, &fields).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER, "{email:?}");
    location(&response)
}

#[tokio::test]
async fn sql_injection_in_identifiers_gets_the_answer_of_an_unknown_account() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(very_lenient, |test, engine| async move {
        let sesame = &test.sesame;
        hr_people(sesame, PASSWORD).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));

        // Sign-in, with Marie's very password: a login matching anyone would sign in.
        let (_, html) = browser.get("/signin").await;
        let token = csrf(&html);
        let action = form_action(&html, "sign_in");
        let unknown = sign_in_answer(&mut browser, &token, &action, "nobody1", PASSWORD).await;
        assert!(unknown.contains("error-summary"), "{engine}: {unknown}");
        for login in INJECTIONS {
            let page = sign_in_answer(&mut browser, &token, &action, login, PASSWORD).await;
            assert_eq!(
                comparable(&page),
                comparable(&unknown),
                "{engine}: sign-in as {login:?}"
            );
        }

        // Forgot password: identify, then ask for the emailed code. A known account looks
        // the same, but a code would be mailed to Marie.
        let (unknown_choose, unknown_code) = recovery_answer(&mut browser, "nobody1").await;
        for identifier in INJECTIONS {
            let (choose, code) = recovery_answer(&mut browser, identifier).await;
            assert_eq!(
                comparable(&choose),
                comparable(&unknown_choose),
                "{engine}: forgot password for {identifier:?}"
            );
            assert_eq!(
                comparable(&code),
                comparable(&unknown_code),
                "{engine}: email code for {identifier:?}"
            );
        }
        assert_eq!(
            outbox(sesame).await,
            vec![],
            "{engine}: an injected identifier reached Marie"
        );

        // Forgot username, by employee number and PIN, and by identity.
        let unknown_pin = pin_answer(&mut browser, "Z99999", "00000000").await;
        let unknown_identity = identity_answer(&mut browser, "Nobody", "000000").await;
        for typed in INJECTIONS {
            for (employee_number, pin) in [
                (*typed, *typed),
                (*typed, MTREMBLAY_PIN),
                ("E20001", *typed),
            ] {
                let page = pin_answer(&mut browser, employee_number, pin).await;
                assert!(
                    !visible_text(&page).contains("mtremblay"),
                    "{engine}: {typed:?} found Marie"
                );
                assert_eq!(
                    comparable(&page),
                    comparable(&unknown_pin),
                    "{engine}: forgot username with {employee_number:?} / {pin:?}"
                );
            }
            let page = identity_answer(&mut browser, typed, typed).await;
            assert!(
                !visible_text(&page).contains("mtremblay"),
                "{engine}: {typed:?} found Marie"
            );
            assert_eq!(
                comparable(&page),
                comparable(&unknown_identity),
                "{engine}: forgot username as {typed:?}"
            );
        }

        // "Can't sign in?": the same page always; a match would mail Marie a reset.
        for email in INJECTIONS
            .iter()
            .copied()
            .chain(["x' OR '1'='1@perso.example", "%@%.%"])
        {
            let next = help_answer(&mut browser, email).await;
            assert!(next.starts_with("/cant-sign-in?"), "{engine}: {next}");
        }
        assert_eq!(
            outbox(sesame).await,
            vec![],
            "{engine}: an injected address reached Marie"
        );

        // Everything is where it was.
        let logins: Vec<String> = sqlx::query_scalar("SELECT login FROM people ORDER BY login")
            .fetch_all(&sesame.store.pool)
            .await
            .expect("the people table is still there");
        assert_eq!(logins, ["jgagnon", "mtremblay"], "{engine}");
        assert!(password_is(sesame, "mtremblay", PASSWORD).await, "{engine}");
        assert_eq!(count(sesame, "SELECT COUNT(*) FROM sessions").await, 0);
        assert!(count(sesame, "SELECT COUNT(*) FROM audit_events").await > 0);
    })
    .await;
}

/// Posts a form and follows its redirect: answers the page, or what came instead of a
/// redirect to `expected`.
async fn try_answer(
    browser: &mut Browser,
    action: &str,
    fields: &[(&str, &str)],
    expected: &str,
) -> Result<String, String> {
    let (response, _) = browser.post_form(action, fields).await;
    let next = location(&response);
    if response.status() != StatusCode::SEE_OTHER || !next.starts_with(expected) {
        return Err(format!("{} to {next:?}", response.status()));
    }
    Ok(browser.get(&next).await.1)
}

#[tokio::test]
async fn nul_bytes_in_identifiers_get_the_answer_of_an_unknown_account() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        hr_people(sesame, PASSWORD).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));
        let (_, html) = browser.get("/").await;
        let token = csrf(&html);
        let action = |name: &str| server_fn_path(name);
        let sign_in = |login: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("login", login.to_owned()),
                ("password", PASSWORD.to_owned()),
            ]
        };
        let identify = |identifier: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("form[step]", "identify".to_owned()),
                ("form[identifier]", identifier.to_owned()),
            ]
        };
        let pin = |typed: &'static str| {
            vec![
                ("csrf", token.clone()),
                ("form[method]", "pin".to_owned()),
                ("form[employee_number]", typed.to_owned()),
                ("form[pin]", typed.to_owned()),
            ]
        };
        let help =
            |email: &'static str| vec![("csrf", token.clone()), ("form[email]", email.to_owned())];
        type Fields<'a> = &'a dyn Fn(&'static str) -> Vec<(&'static str, String)>;
        // The server function, its fields around what is typed, where it sends, and what
        // an unknown account types.
        let forms: [(&str, Fields, &str, &str); 4] = [
            ("sign_in", &sign_in, "/signin?flow=", "nobody1"),
            (
                "submit_password_recovery",
                &identify,
                "/forgot-password?flow=",
                "nobody1",
            ),
            ("recover_username", &pin, "/forgot-username?flow=", "Z99999"),
            (
                "request_sign_in_help",
                &help,
                "/cant-sign-in?",
                "nobody@nowhere.example",
            ),
        ];
        let mut wrong = Vec::new();
        for (server_fn, fields, expected, unknown) in forms {
            let pairs = fields(unknown);
            let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let unknown_page = try_answer(&mut browser, &action(server_fn), &pairs, expected)
                .await
                .unwrap_or_else(|e| panic!("{engine}: {server_fn} for {unknown}: {e}"));
            for typed in ["mtremblay\0", "\0", "mtr\0emblay", "marie@perso.example\0"] {
                let pairs = fields(typed);
                let pairs: Vec<(&str, &str)> =
                    pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                match try_answer(&mut browser, &action(server_fn), &pairs, expected).await {
                    // "Can't sign in?" refuses what is not an address before looking.
                    Ok(_) if server_fn == "request_sign_in_help" => {}
                    Ok(page) if comparable(&page) == comparable(&unknown_page) => {}
                    Ok(page) => wrong.push(format!(
                        "{server_fn} {typed:?}: another page: {:?}",
                        error_summary(&page)
                    )),
                    Err(answer) => wrong.push(format!("{server_fn} {typed:?}: {answer}")),
                }
            }
        }
        assert!(wrong.is_empty(), "{engine}: {wrong:#?}");
        assert_eq!(outbox(sesame).await, vec![], "{engine}");
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 2. HTML injection is inert.

const SCRIPT_NAME: &str = "</title></script><script>alert(1)</script>";
const IMG_NAME: &str = "\"><img src=x onerror=alert(2)>";

/// A person whose names are markup (names are free text: people are called many things,
/// and the policy refuses nothing but an empty name). Answers their id.
async fn hostile_person(sesame: &Sesame) -> String {
    create_person(
        sesame,
        PersonInput {
            login: "hostile".into(),
            first_name: SCRIPT_NAME.into(),
            last_name: IMG_NAME.into(),
            email: Some("hostile@example.org".into()),
            category: "retiree".into(),
            language: "en".into(),
            password: PASSWORD.into(),
        },
        "test",
    )
    .await
    .expect("a name is free text")
}

#[tokio::test]
async fn names_with_markup_are_shown_as_text_on_their_own_pages() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        hostile_person(sesame).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));
        sign_in(&mut browser, "hostile", PASSWORD).await;
        for page in [
            "/",
            "/account",
            "/account/password",
            "/account/sessions",
            "/account/questions",
            "/account/email",
            "/account/authenticator",
            "/account/linked",
        ] {
            let (response, html) = browser.get(page).await;
            assert_eq!(response.status(), StatusCode::OK, "{engine}: {page}");
            assert_inert(&html, &format!("{engine}: {page}"));
            let text = visible_text(&html);
            assert!(
                text.contains(SCRIPT_NAME) && text.contains(IMG_NAME),
                "{engine}: {page} shows the name as text: {html}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn names_with_markup_are_shown_as_text_in_the_helpdesk_console() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let id = hostile_person(sesame).await;
        let router = router(sesame.clone(), leptos_options());
        let mut desk = Browser::signed_in(router, &agent(&test).await);
        for page in [
            format!("/helpdesk/person/{id}"),
            "/helpdesk?q=hostile".to_owned(),
        ] {
            let (response, html) = desk.get(&page).await;
            assert_eq!(response.status(), StatusCode::OK, "{engine}: {page}");
            assert!(
                visible_text(&html).contains(IMG_NAME),
                "{engine}: {page}: {html}"
            );
            assert_inert(&html, &format!("{engine}: {page}"));
        }
    })
    .await;
}

#[tokio::test]
async fn an_address_in_the_helpdesk_invitation_url_is_shown_as_text() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let router = router(sesame.clone(), leptos_options());
        let mut desk = Browser::signed_in(router, &agent(&test).await);
        let typed = "</title><script>alert(6)</script>@example.org";
        let query: String = form_urlencoded::byte_serialize(typed.as_bytes()).collect();
        let page = format!("/helpdesk/invitation?email={query}");
        let (response, html) = desk.get(&page).await;
        assert_eq!(response.status(), StatusCode::OK, "{engine}: {page}");
        assert_inert(&html, &format!("{engine}: {page}"));
    })
    .await;
}

const TYPED_MARKUP: &str = "\"><img src=x onerror=alert(3)><script>alert(4)</script>";

#[tokio::test]
async fn markup_typed_in_forms_comes_back_escaped() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        hr_people(sesame, PASSWORD).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));

        // The typed login, shown again after a refused sign-in.
        let (_, html) = browser.get("/signin").await;
        let token = csrf(&html);
        let action = form_action(&html, "sign_in");
        let page = sign_in_answer(&mut browser, &token, &action, TYPED_MARKUP, "x").await;
        assert_inert(&page, &format!("{engine}: sign-in"));
        assert!(
            attribute_values(&page).iter().any(|v| v == TYPED_MARKUP),
            "{engine}: the typed login is shown again, as a value: {page}"
        );

        // An address refused by "Can't sign in?".
        let next = help_answer(&mut browser, TYPED_MARKUP).await;
        let (_, page) = browser.get(&next).await;
        assert_inert(&page, &format!("{engine}: can't sign in"));
        assert!(
            attribute_values(&page).iter().any(|v| v == TYPED_MARKUP),
            "{engine}: the typed address is shown again: {page}"
        );

        // Names typed in forgot username.
        let page = identity_answer(&mut browser, TYPED_MARKUP, "000000").await;
        assert_inert(&page, &format!("{engine}: forgot username"));
        assert!(
            attribute_values(&page).iter().any(|v| v == TYPED_MARKUP),
            "{engine}: the typed name is shown again: {page}"
        );

        // An identifier in forgot password.
        let (choose, code) = recovery_answer(&mut browser, TYPED_MARKUP).await;
        assert_inert(&choose, &format!("{engine}: forgot password"));
        assert_inert(&code, &format!("{engine}: forgot password"));

        // A query string reflected by a page.
        let (_, page) = browser
            .get("/signin?flow=%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(5)%3E")
            .await;
        assert_inert(&page, &format!("{engine}: flow in the query"));
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 3. CR/LF never makes a header.

const CRLF_ADDRESSES: &[&str] = &[
    "marie@perso.example\r\nBcc: evil@attacker.example",
    "marie@perso.example\nBcc: evil@attacker.example",
    "marie@perso.example\rBcc: evil@attacker.example",
    "marie@perso.example\r\n\r\nBcc: evil@attacker.example",
    "\"x\r\nBcc: evil@attacker.example\"@perso.example",
    "marie@perso.example%0d%0aBcc:evil@attacker.example",
];

fn assert_no_injected_mail_header(raw: &str, what: &str) {
    let headers = mail_headers(raw);
    for line in &headers {
        let name = line.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert!(
            !["bcc", "cc", "x-injected"].contains(&name.as_str()),
            "{what}: an injected header {line:?} in {raw}"
        );
        assert!(
            !line.contains("attacker.example"),
            "{what}: the attacker's address in {line:?}"
        );
    }
    assert_eq!(
        headers
            .iter()
            .filter(|l| l.to_ascii_lowercase().starts_with("to:"))
            .count(),
        1,
        "{what}: {headers:?}"
    );
}

fn assert_no_injected_http_header(response: &Response<Body>, what: &str) {
    assert!(
        !response.status().is_server_error(),
        "{what}: {}",
        response.status()
    );
    for (name, value) in response.headers() {
        let bytes = value.as_bytes();
        assert!(
            !bytes.contains(&b'\r') && !bytes.contains(&b'\n'),
            "{what}: {name}: {value:?}"
        );
        assert_ne!(name.as_str(), "x-injected", "{what}");
        if name == header::SET_COOKIE {
            assert!(
                !bytes.starts_with(b"a="),
                "{what}: an injected cookie {value:?}"
            );
        }
    }
}

#[tokio::test]
async fn crlf_in_addresses_and_names_never_makes_a_mail_header() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        hr_people(sesame, PASSWORD).await;
        let router = router(sesame.clone(), leptos_options());
        let mut browser = Browser::new(router.clone());

        // "Can't sign in?": refused, nothing queued for the attacker.
        for address in CRLF_ADDRESSES {
            let next = help_answer(&mut browser, address).await;
            assert!(next.starts_with("/cant-sign-in?"), "{engine}: {next}");
        }
        // The real address does get its mail, so the files below are not empty.
        help_answer(&mut browser, "marie@perso.example").await;

        // A new recovery address, under My account.
        let token = common::signed_in(&test, "emailer", Category::PermanentStaff).await;
        let mut account = Browser::signed_in(router.clone(), &token);
        let (_, html) = account.get("/account/email").await;
        let token = csrf(&html);
        let action = form_action(&html, "change_recovery_email");
        for address in CRLF_ADDRESSES {
            let fields = [
                ("csrf", token.as_str()),
                ("form[step]", "enter"),
                ("form[email]", address),
                ("form[email_confirmation]", address),
                ("form[current_password]", common::ACCOUNT_PASSWORD),
            ];
            let (response, _) = account.post_form(&action, &fields).await;
            assert_eq!(response.status(), StatusCode::SEE_OTHER, "{engine}");
        }

        // A person whose names carry CR/LF gets a code by mail.
        create_person(
            sesame,
            PersonInput {
                login: "crlf".into(),
                first_name: "Marie\r\nBcc: evil@attacker.example".into(),
                last_name: "Tremblay\r\nX-Injected: yes\r\n".into(),
                email: Some("crlf@example.org".into()),
                category: "retiree".into(),
                language: "en".into(),
                password: PASSWORD.into(),
            },
            "test",
        )
        .await
        .expect("person");
        sqlx::query("UPDATE people SET recovery_email = 'crlf@perso.example' WHERE login = 'crlf'")
            .execute(&sesame.store.pool)
            .await
            .expect("recovery email");
        recovery_answer(&mut browser, "crlf").await;

        for (recipient, _) in outbox(sesame).await {
            assert!(
                !recipient.contains(['\r', '\n']) && !recipient.contains("attacker"),
                "{engine}: queued for {recipient:?}"
            );
        }
        let mails = deliver(sesame).await;
        let recipients: Vec<String> = mails
            .iter()
            .flat_map(|raw| mail_headers(raw))
            .filter(|l| l.to_ascii_lowercase().starts_with("to:"))
            .collect();
        assert!(
            recipients
                .iter()
                .any(|to| to.contains("marie@perso.example"))
                && recipients
                    .iter()
                    .any(|to| to.contains("crlf@perso.example")),
            "{engine}: {recipients:?}"
        );
        for raw in &mails {
            assert_no_injected_mail_header(raw, engine);
        }
    })
    .await;
}

#[tokio::test]
async fn crlf_in_redirect_targets_never_makes_an_http_header() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let router = router(sesame.clone(), leptos_options());
        let mut browser = Browser::new(router.clone());
        for next in [
            "/x%0d%0aSet-Cookie:%20a=b",
            "/x%0aSet-Cookie:%20a=b",
            "/x%0dSet-Cookie:%20a=b",
            "/signin%0d%0aX-Injected:%20yes",
            "/signin%0d%0a%0d%0a%3Cscript%3Ealert(1)%3C/script%3E",
            "%0d%0aSet-Cookie:%20a=b",
        ] {
            let (response, _) = browser.get(&format!("/lang/en?next={next}")).await;
            assert_no_injected_http_header(&response, &format!("{engine}: next={next}"));
            assert_eq!(location(&response), "/", "{engine}: next={next}");
        }

        // Values posted to server functions that redirect with them.
        let (_, html) = browser.get("/").await;
        let token = csrf(&html);
        let hostile = "abc\r\nSet-Cookie: a=b\r\nX-Injected: yes";
        for (server_fn, fields) in [
            ("use_recovery_link", vec![("token", hostile)]),
            ("use_activation_link", vec![("token", hostile)]),
            ("use_sign_up_link", vec![("token", hostile)]),
            (
                "submit_sign_up",
                vec![("form[step]", "details"), ("form[invitation]", hostile)],
            ),
            (
                "sign_in",
                vec![("login", "x"), ("password", "y"), ("flow", hostile)],
            ),
            (
                "submit_password_recovery",
                vec![("flow", hostile), ("form[step]", "choose")],
            ),
            (
                "submit_activation",
                vec![("flow", hostile), ("form[step]", "login")],
            ),
            ("accept_sign_in_terms", vec![("flow", hostile)]),
        ] {
            let mut all = vec![("csrf", token.as_str())];
            all.extend(fields);
            let (response, _) = browser.post_form(&server_fn_path(server_fn), &all).await;
            assert_no_injected_http_header(&response, &format!("{engine}: {server_fn}"));
        }

        // The helpdesk's redirect carries the person's id back.
        let mut desk = Browser::signed_in(router, &agent(&test).await);
        let (_, html) = desk.get("/helpdesk").await;
        let token = csrf(&html);
        for (action, target) in [("sessions", "person"), ("resend_invitation", "email")] {
            let fields = [
                ("csrf", token.as_str()),
                ("action", action),
                ("reason", "hostile"),
                (target, hostile),
            ];
            let (response, _) = desk
                .post_form(&server_fn_path("helpdesk_act"), &fields)
                .await;
            assert_no_injected_http_header(&response, &format!("{engine}: helpdesk {action}"));
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 4. A forged Host never reaches a mailed link.

const PUBLIC_URL: &str = "https://portail.test.example";

#[tokio::test]
async fn mailed_links_use_the_configured_public_url_whatever_the_host_header() {
    let _one_at_a_time = one_at_a_time().await;
    let tune = |config: &mut Config| {
        lenient(config);
        config.public_url = PUBLIC_URL.into();
    };
    each_engine(tune, |test, engine| async move {
        let sesame = &test.sesame;
        hr_people(sesame, PASSWORD).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));
        browser.host = "evil.example".into();
        browser.extra_headers = [
            ("x-forwarded-host", "evil.example"),
            ("x-forwarded-proto", "http"),
            ("x-forwarded-server", "evil.example"),
            ("x-original-host", "evil.example"),
            ("forwarded", "host=evil.example;proto=http"),
        ]
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();

        let (response, html) = browser.get("/forgot-password").await;
        assert_eq!(response.status(), StatusCode::OK, "{engine}");
        assert!(!html.contains("evil.example"), "{engine}: {html}");
        // A code and a link by forgot password, a reset link by "Can't sign in?".
        recovery_answer(&mut browser, "mtremblay").await;
        let next = help_answer(&mut browser, "marie@perso.example").await;
        assert!(!next.contains("evil.example"), "{engine}: {next}");

        let mails = deliver(sesame).await;
        assert!(mails.len() >= 2, "{engine}: {} mails", mails.len());
        let mut found = Vec::new();
        for raw in &mails {
            let bodies = mail_bodies(raw);
            assert!(
                !raw.contains("evil.example") && !bodies.contains("evil.example"),
                "{engine}: the forged host in a mail: {bodies}"
            );
            found.extend(links(&bodies));
        }
        assert!(
            found.iter().any(|l| l.contains("token=")),
            "{engine}: {found:?}"
        );
        for link in &found {
            assert!(
                link.starts_with(&format!("{PUBLIC_URL}/")),
                "{engine}: {link} is not built from public_url"
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 5. Passwords at the policy's edges, and bodies far past them.

/// A password of exactly `length` characters with every class the policy asks for (the
/// first 14 characters are random-looking; past them, a fixed pseudo-random sequence).
fn password_of_length(length: usize) -> String {
    const HEAD: &str = "Qz7!vK2#mW9@xR";
    let alphabet: Vec<char> =
        "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789!#%&*+=?@^_~"
            .chars()
            .collect();
    let mut password: String = HEAD.chars().take(length).collect();
    let mut state: u32 = 0x2545_f491;
    while password.chars().count() < length {
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        password.push(alphabet[(state >> 16) as usize % alphabet.len()]);
    }
    password
}

#[tokio::test]
async fn passwords_of_14_and_256_characters_are_accepted_13_and_257_refused_clearly() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let policy = sesame.config.password.clone();
        assert_eq!((policy.min_length, policy.max_length), (14, 256));
        let token = common::signed_in(&test, "lengths", Category::PermanentStaff).await;
        let mut browser = Browser::signed_in(router(sesame.clone(), leptos_options()), &token);
        browser.get("/lang/en?next=/account/password").await;
        let (_, html) = browser.get("/account/password").await;
        let token = csrf(&html);
        let action = form_action(&html, "change_password");
        let weak = Locale::En.text(Msg::ActivationPasswordWeak);
        let done = Locale::En.text(Msg::PasswordChangeDone);

        let mut current = common::ACCOUNT_PASSWORD.to_owned();
        for (length, broken) in [
            (13, Some(PasswordRule::MinLength)),
            (257, Some(PasswordRule::MaxLength)),
            (20_000, Some(PasswordRule::MaxLength)),
            (14, None),
            (256, None),
        ] {
            let new = password_of_length(length);
            assert_eq!(new.chars().count(), length);
            let fields = [
                ("csrf", token.as_str()),
                ("form[current_password]", current.as_str()),
                ("form[new_password]", new.as_str()),
                ("form[new_password_confirmation]", new.as_str()),
            ];
            let (response, _) = browser.post_form(&action, &fields).await;
            assert_eq!(
                response.status(),
                StatusCode::SEE_OTHER,
                "{engine}: {length}"
            );
            let (response, page) = browser.get(&location(&response)).await;
            assert_eq!(response.status(), StatusCode::OK, "{engine}: {length}");
            match broken {
                Some(rule) => {
                    let summary = error_summary(&page)
                        .unwrap_or_else(|| panic!("{engine}: {length}: no error: {page}"));
                    let expected = rule_text(Locale::En, &policy, rule);
                    assert!(
                        summary.contains(weak) && summary.contains(&expected),
                        "{engine}: {length} characters: {summary:?} should say {expected:?}"
                    );
                    assert!(
                        password_is(sesame, "lengths", &current).await,
                        "{engine}: {length}"
                    );
                }
                None => {
                    assert!(
                        error_summary(&page).is_none() && visible_text(&page).contains(done),
                        "{engine}: {length} characters refused: {page}"
                    );
                    assert!(
                        password_is(sesame, "lengths", &new).await,
                        "{engine}: {length}"
                    );
                    current = new;
                }
            }
        }
    })
    .await;
}

#[tokio::test]
async fn a_megabyte_form_post_is_refused_with_413_not_a_hang_or_a_500() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let big = "Aa1!".repeat(256 * 1024);
        assert_eq!(big.len(), 1024 * 1024);
        let router = router(sesame.clone(), leptos_options());

        // A page's form: forgot password's identifier.
        let mut browser = Browser::new(router.clone());
        let (_, html) = browser.get("/forgot-password").await;
        let fields = [
            ("csrf", csrf(&html)),
            ("form[step]", "identify".to_owned()),
            ("form[identifier]", big.clone()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let started = std::time::Instant::now();
        let (response, page) = browser
            .post_form(&form_action(&html, "submit_password_recovery"), &fields)
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert!(started.elapsed().as_secs() < 10, "{engine}: slow refusal");
        assert!(page.contains("<html"), "{engine}: a page explains: {page}");
        assert_eq!(count(sesame, "SELECT COUNT(*) FROM flows").await, 0);

        // A 1 MB password where a new password goes.
        let token = common::signed_in(&test, "megabyte", Category::PermanentStaff).await;
        let mut account = Browser::signed_in(router, &token);
        let (_, html) = account.get("/account/password").await;
        let token = csrf(&html);
        let fields = [
            ("csrf", token.as_str()),
            ("form[current_password]", common::ACCOUNT_PASSWORD),
            ("form[new_password]", big.as_str()),
            ("form[new_password_confirmation]", big.as_str()),
        ];
        let started = std::time::Instant::now();
        let (response, _) = account
            .post_form(&form_action(&html, "change_password"), &fields)
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert!(started.elapsed().as_secs() < 10, "{engine}: slow refusal");
        // And as the sign-in password.
        let (_, html) = account.get("/signin").await;
        let fields = [
            ("csrf", token.as_str()),
            ("login", "megabyte"),
            ("password", big.as_str()),
        ];
        let (response, _) = account
            .post_form(&form_action(&html, "sign_in"), &fields)
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert!(password_is(sesame, "megabyte", common::ACCOUNT_PASSWORD).await);
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 6. Every state change needs the CSRF token.

#[tokio::test]
async fn every_form_and_server_function_refuses_a_post_without_the_right_csrf_token() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let router = router(sesame.clone(), leptos_options());
        let desk_token = agent(&test).await;
        // A second session, so the sessions page has forms to end one.
        let agent_id = person_id(sesame, "agent").await;
        let now = sesame.clock.now_secs();
        sessions::insert(
            &sesame.store.pool,
            &sessions::NewSession {
                id_hash: &sesame.key.keyed_hash("session", "token-agent-phone"),
                person_id: &agent_id,
                expires_at: now + 3600,
                client_ip: "192.0.2.41",
                user_agent: "phone",
            },
            now,
        )
        .await
        .expect("session");
        common::signed_in(&test, "helped", Category::Retiree).await;
        let helped = person_id(sesame, "helped").await;
        let mut visitor = Browser::new(router.clone());
        let mut desk = Browser::signed_in(router.clone(), &desk_token);
        let signed_out = [
            "/",
            "/signin",
            "/forgot-password",
            "/forgot-username",
            "/forgot-username?method=identity",
            "/activate",
            "/signup",
            "/cant-sign-in",
            "/forgot-password/link?token=abc",
            "/activate/link?token=abc",
            "/signup/link?token=abc",
            "/signin/terms",
        ];
        let person_page = format!("/helpdesk/person/{helped}");
        let signed_in = [
            "/account",
            "/account/password",
            "/account/email",
            "/account/questions",
            "/account/authenticator",
            "/account/sessions",
            "/account/linked",
            "/helpdesk",
            "/helpdesk?q=helped",
            person_page.as_str(),
            "/helpdesk/invitation?email=x%40example.org",
        ];
        // (signed in, form), once per action and set of fields.
        let mut found: Vec<(bool, Form)> = Vec::new();
        for (is_desk, pages) in [(false, &signed_out[..]), (true, &signed_in[..])] {
            for page in pages {
                let browser = if is_desk { &mut desk } else { &mut visitor };
                let (response, html) = browser.get(page).await;
                assert!(
                    response.status().is_success() || response.status().is_redirection(),
                    "{engine}: {page}: {}",
                    response.status()
                );
                for form in forms(&html) {
                    if !form.action.starts_with("/api/") {
                        continue;
                    }
                    let names =
                        |f: &Form| f.fields.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
                    if !found
                        .iter()
                        .any(|(_, f)| f.action == form.action && names(f) == names(&form))
                    {
                        found.push((is_desk, form));
                    }
                }
            }
        }
        let actions: Vec<&str> = found.iter().map(|(_, f)| f.action.as_str()).collect();
        for expected in [
            "sign_in",
            "sign_out",
            "submit_password_recovery",
            "recover_username",
            "submit_activation",
            "request_sign_in_help",
            "change_password",
            "change_recovery_email",
            "save_questions",
            "change_authenticator",
            "end_sessions",
            "helpdesk_act",
        ] {
            assert!(
                actions
                    .iter()
                    .any(|a| a.starts_with(&format!("/api/{expected}"))),
                "{engine}: no form posts to {expected}: {actions:?}"
            );
        }
        let registry: Vec<(&str, Method)> = leptos::server_fn::axum::server_fn_paths().collect();
        for action in &actions {
            assert!(
                registry
                    .iter()
                    .any(|(path, method)| path == action && *method == Method::POST),
                "{engine}: {action} is not a POST server function"
            );
        }
        // What answers a GET must not change anything: only loaders may.
        for (path, method) in &registry {
            if *method == Method::GET {
                assert!(
                    path.starts_with("/api/load_"),
                    "{engine}: {path} answers a GET, where the CSRF check does not look"
                );
            }
        }

        // A token, valid for another browser.
        let mut stranger = Browser::new(router.clone());
        let (_, html) = stranger.get("/").await;
        let foreign = csrf(&html);
        let before = dump(sesame, engine).await;
        for (is_desk, form) in &found {
            let browser = if *is_desk { &mut desk } else { &mut visitor };
            let without: Vec<(&str, &str)> = form
                .fields
                .iter()
                .filter(|(k, _)| k != "csrf")
                .map(|(k, v)| (k.as_str(), v.as_str()))
                .collect();
            let made_up = "0123456789abcdef0123456789abcdef";
            let attempts: [(&str, Option<&str>, Option<&str>); 6] = [
                ("no token", None, None),
                ("an empty token", Some(""), None),
                ("a made-up token", Some(made_up), None),
                ("another browser's token", Some(&foreign), None),
                (
                    "another browser's token in the header",
                    None,
                    Some(&foreign),
                ),
                ("a made-up token in the header", None, Some("nope")),
            ];
            for (what, body_token, header_token) in attempts {
                let mut fields = without.clone();
                if let Some(token) = body_token {
                    fields.push(("csrf", token));
                }
                let headers: Vec<(&str, &str)> = header_token
                    .map(|token| vec![("x-csrf-token", token)])
                    .unwrap_or_default();
                let (response, _) = browser
                    .post_form_with(&form.action, &fields, &headers)
                    .await;
                assert_eq!(
                    response.status(),
                    StatusCode::FORBIDDEN,
                    "{engine}: {} with {what}",
                    form.action
                );
            }
        }
        // Every POST server function, whether a page shows its form or not.
        for (path, method) in &registry {
            if *method != Method::POST {
                continue;
            }
            for browser in [&mut visitor, &mut desk] {
                for fields in [vec![], vec![("csrf", foreign.as_str())]] {
                    let (response, _) = browser.post_form(path, &fields).await;
                    assert_eq!(
                        response.status(),
                        StatusCode::FORBIDDEN,
                        "{engine}: {path} without a valid token"
                    );
                }
            }
        }
        let after = dump(sesame, engine).await;
        assert_eq!(before, after, "{engine}: a refused post changed something");

        // The control: the same forms with this browser's token are not refused for it
        // (signing out last).
        found.sort_by_key(|(_, f)| f.action.starts_with("/api/sign_out"));
        for (is_desk, form) in &found {
            let browser = if *is_desk { &mut desk } else { &mut visitor };
            let (_, html) = browser.get("/").await;
            let token = csrf(&html);
            let fields: Vec<(&str, &str)> = form
                .fields
                .iter()
                .map(|(k, v)| {
                    if k == "csrf" {
                        (k.as_str(), token.as_str())
                    } else {
                        (k.as_str(), v.as_str())
                    }
                })
                .collect();
            let (response, page) = browser.post_form(&form.action, &fields).await;
            assert_ne!(
                response.status(),
                StatusCode::FORBIDDEN,
                "{engine}: {} refused with the right token: {fields:?} {page}",
                form.action
            );
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 7. Security headers on every page.

fn assert_security_headers(response: &Response<Body>, what: &str, no_store: bool) {
    let headers = response.headers();
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{what}: no {name} ({})", response.status()))
    };
    let csp = get("content-security-policy");
    assert!(csp.contains("frame-ancestors 'none'"), "{what}: {csp}");
    assert!(csp.contains("default-src 'self'"), "{what}: {csp}");
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(get("x-content-type-options"), "nosniff", "{what}");
    assert_eq!(get("referrer-policy"), "no-referrer", "{what}");
    assert_eq!(get("x-frame-options"), "DENY", "{what}");
    if no_store {
        assert_eq!(get("cache-control"), "no-store", "{what}");
    }
}

#[tokio::test]
async fn every_page_error_page_and_file_carries_the_security_headers() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        // A site root with one file, as the built site has.
        let site = tempfile::tempdir().expect("site root");
        let favicon =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../public/favicon.svg");
        std::fs::copy(favicon, site.path().join("favicon.svg")).expect("favicon");
        let mut options = leptos_options();
        options.site_root = site.path().to_string_lossy().as_ref().into();
        let router = router(sesame.clone(), options);

        let desk_token = agent(&test).await;
        common::signed_in(&test, "helped", Category::Retiree).await;
        let helped = person_id(sesame, "helped").await;
        let routes: Vec<String> = leptos_axum::generate_route_list(app::App)
            .iter()
            .map(|route| {
                route
                    .path()
                    .split('/')
                    .map(|segment| {
                        if segment.starts_with(':') || segment.starts_with('{') {
                            helped.as_str()
                        } else {
                            segment
                        }
                    })
                    .collect::<Vec<_>>()
                    .join("/")
            })
            .collect();
        for expected in ["/", "/signin", "/account/password", "/helpdesk", "/privacy"] {
            assert!(routes.iter().any(|r| r == expected), "{engine}: {routes:?}");
        }
        assert!(routes.len() >= 24, "{engine}: {routes:?}");

        let mut visitor = Browser::new(router.clone());
        let mut desk = Browser::signed_in(router.clone(), &desk_token);
        for route in &routes {
            for (who, browser) in [("signed out", &mut visitor), ("signed in", &mut desk)] {
                let (response, _) = browser.get(route).await;
                let what = format!("{engine}: {route} {who} ({})", response.status());
                assert!(!response.status().is_server_error(), "{what}");
                assert_security_headers(&response, &what, true);
            }
        }

        // Error pages: unknown, forbidden, refused by the CSRF check, too large.
        let (response, html) = visitor.get("/no/such/page").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{engine}");
        assert!(html.contains("<html"), "{engine}");
        assert_security_headers(&response, &format!("{engine}: 404"), true);
        // The not-found page is a page like the others: the institution in the header, and
        // the name menu for someone signed in.
        assert!(html.contains("site-header__name"), "{engine}: {html}");
        assert!(!html.contains("account-menu"), "{engine}: {html}");
        let (response, html) = desk.get("/no/such/page").await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{engine}");
        assert!(html.contains("account-menu"), "{engine}: {html}");
        let mut stranger = Browser::signed_in(
            router.clone(),
            &common::signed_in(&test, "curious", Category::PermanentStaff).await,
        );
        let (response, _) = stranger.get("/helpdesk").await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{engine}");
        assert_security_headers(&response, &format!("{engine}: 403 page"), true);
        let (response, _) = visitor
            .post_form(&server_fn_path("sign_in"), &[("login", "x")])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{engine}");
        assert_security_headers(&response, &format!("{engine}: CSRF refusal"), true);
        let big = "x".repeat(100 * 1024);
        let (response, _) = visitor
            .post_form(&server_fn_path("sign_in"), &[("login", big.as_str())])
            .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE, "{engine}");
        assert_security_headers(&response, &format!("{engine}: 413"), true);

        // Outside the app: a file, the branding, health, the language switch.
        let (response, body) = visitor.get("/favicon.svg").await;
        assert_eq!(response.status(), StatusCode::OK, "{engine}");
        assert!(body.contains("<svg"), "{engine}");
        assert_security_headers(&response, &format!("{engine}: a file"), false);
        for (path, no_store) in [
            ("/branding.css", false),
            ("/healthz", false),
            ("/lang/en?next=/signin", true),
        ] {
            let (response, _) = visitor.get(path).await;
            assert_security_headers(&response, &format!("{engine}: {path}"), no_store);
        }
    })
    .await;
}

// ---------------------------------------------------------------------------------------
// 8. No secret in the logs, the audit trail or the database.

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("log buffer")).into_owned()
    }
}

const FIRST_PASSWORD: &str = "Zébulon-Secret-Pass-4242!";
const SECOND_PASSWORD: &str = "Quetzalcoatl-Hidden-8080?";
const THIRD_PASSWORD: &str = "Ornithorynque-Final-Secret-77#";
const RETIREE_PASSWORD: &str = "Kangourou-Retraite-Secret-31$";
const WRONG_PASSWORD: &str = "Typo-Zebulon-Secret-Pass-4243!";
const ANSWERS: [(&str, &str); 3] = [
    ("birth-city", "Xylophonville-Secret-Answer"),
    ("first-pet", "Capybara-Wobblesworth"),
    ("first-school", "Ecole-Quasimodo-Zeta"),
];

/// Drives forgot password from its current page to the end; answers the done page.
async fn finish_recovery(
    browser: &mut Browser,
    sesame: &Sesame,
    token: &str,
    mut page: String,
    new_password: &str,
    method: &str,
    pin: (&str, &str),
) -> String {
    let action = form_action(&page, "submit_password_recovery");
    for _ in 0..8 {
        let step = attribute(&page, "name=\"form[step]\"", "value").map(str::to_owned);
        let Some(step) = step else {
            return page;
        };
        let flow = attribute(&page, "name=\"flow\"", "value")
            .unwrap_or("")
            .to_owned();
        let mut fields = vec![
            ("csrf".to_owned(), token.to_owned()),
            ("flow".to_owned(), flow),
            ("form[step]".to_owned(), step.clone()),
        ];
        match step.as_str() {
            "choose" => {
                assert!(
                    page.contains(&format!("value=\"{method}\"")),
                    "{method} is not offered: {page}"
                );
                fields.push(("form[method]".into(), method.into()));
            }
            "questions" => {
                // The answers in the order the questions are shown.
                let mut shown: Vec<(usize, &str)> = ANSWERS
                    .iter()
                    .map(|(id, answer)| {
                        let question = sesame
                            .config
                            .recovery
                            .questions
                            .iter()
                            .find(|q| q.id == *id)
                            .expect("question");
                        let at = page
                            .find(&question.fr)
                            .or_else(|| page.find(&question.en))
                            .unwrap_or_else(|| panic!("{} not asked: {page}", question.en));
                        (at, *answer)
                    })
                    .collect();
                shown.sort();
                for (i, (_, answer)) in shown.iter().enumerate() {
                    fields.push((format!("form[answers][{i}]"), (*answer).to_owned()));
                }
            }
            "pin" => {
                fields.push(("form[employee_number]".into(), pin.0.into()));
                fields.push(("form[pin]".into(), pin.1.into()));
            }
            "new_password" => {
                fields.push(("form[new_password]".into(), new_password.into()));
                fields.push((
                    "form[new_password_confirmation]".into(),
                    new_password.into(),
                ));
            }
            "done" => return page,
            other => panic!("unexpected step {other}: {page}"),
        }
        let fields: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let (response, _) = browser.post_form(&action, &fields).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{step}");
        page = browser.get(&location(&response)).await.1;
        if let Some(summary) = error_summary(&page) {
            panic!("step {step} refused: {summary}");
        }
    }
    panic!("forgot password did not finish: {page}");
}

#[tokio::test]
async fn no_secret_reaches_the_logs_the_audit_trail_or_the_database() {
    let _one_at_a_time = one_at_a_time().await;
    each_engine(lenient, |test, engine| async move {
        let sesame = &test.sesame;
        let logs = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let logs = logs.clone();
                move || logs.clone()
            })
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .finish();
        let capture = tracing::subscriber::set_default(subscriber);

        hr_people(sesame, FIRST_PASSWORD).await;
        let mut browser = Browser::new(router(sesame.clone(), leptos_options()));
        let mut secrets: Vec<String> = [
            FIRST_PASSWORD,
            SECOND_PASSWORD,
            THIRD_PASSWORD,
            RETIREE_PASSWORD,
            WRONG_PASSWORD,
            JGAGNON_PIN,
            JGAGNON_SIN,
            MTREMBLAY_PIN,
            MTREMBLAY_SIN,
        ]
        .iter()
        .chain(ANSWERS.iter().map(|(_, answer)| answer))
        .map(|s| (*s).to_owned())
        .collect();

        // Sign in, once wrong, then right.
        let (_, html) = browser.get("/signin").await;
        let token = csrf(&html);
        let action = form_action(&html, "sign_in");
        sign_in_answer(&mut browser, &token, &action, "mtremblay", WRONG_PASSWORD).await;
        sign_in(&mut browser, "mtremblay", FIRST_PASSWORD).await;
        secrets.push(browser.cookie("sesame-session").expect("session cookie"));

        // Security questions, then a new password, under My account.
        let (_, html) = browser.get("/account/questions").await;
        let mut fields = vec![("csrf", token.as_str())];
        let names: Vec<[String; 3]> = (0..3)
            .map(|i| {
                [
                    format!("form[question][{i}]"),
                    format!("form[custom][{i}]"),
                    format!("form[answer][{i}]"),
                ]
            })
            .collect();
        for (i, (id, answer)) in ANSWERS.iter().enumerate() {
            fields.push((names[i][0].as_str(), id));
            fields.push((names[i][1].as_str(), ""));
            fields.push((names[i][2].as_str(), answer));
        }
        let (response, _) = browser
            .post_form(&form_action(&html, "save_questions"), &fields)
            .await;
        assert_eq!(
            location(&response),
            "/account/questions?saved=1",
            "{engine}"
        );
        let (_, html) = browser.get("/account/password").await;
        let fields = [
            ("csrf", token.as_str()),
            ("form[current_password]", FIRST_PASSWORD),
            ("form[new_password]", SECOND_PASSWORD),
            ("form[new_password_confirmation]", SECOND_PASSWORD),
        ];
        let (response, _) = browser
            .post_form(&form_action(&html, "change_password"), &fields)
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{engine}");
        assert!(
            password_is(sesame, "mtremblay", SECOND_PASSWORD).await,
            "{engine}"
        );
        let (_, html) = browser.get("/account").await;
        browser
            .post_form(&form_action(&html, "sign_out"), &[("csrf", &token)])
            .await;

        // Forgot password by the emailed code and the questions.
        let (_, html) = browser.get("/forgot-password").await;
        let action = form_action(&html, "submit_password_recovery");
        let identify = [
            ("csrf", token.as_str()),
            ("form[step]", "identify"),
            ("form[identifier]", "mtremblay"),
        ];
        let (response, _) = browser.post_form(&action, &identify).await;
        let next = location(&response);
        let flow = next.trim_start_matches("/forgot-password?flow=").to_owned();
        let choose = [
            ("csrf", token.as_str()),
            ("flow", flow.as_str()),
            ("form[step]", "choose"),
            ("form[method]", "email_code"),
        ];
        browser.post_form(&action, &choose).await;
        let (code, link_token) = last_code(sesame, "marie@perso.example").await;
        secrets.push(code.clone());
        secrets.push(link_token);
        let prove = [
            ("csrf", token.as_str()),
            ("flow", flow.as_str()),
            ("form[step]", "email_code"),
            ("form[code]", code.as_str()),
        ];
        let (response, _) = browser.post_form(&action, &prove).await;
        let (_, page) = browser.get(&location(&response)).await;
        let done = finish_recovery(
            &mut browser,
            sesame,
            &token,
            page,
            THIRD_PASSWORD,
            "questions",
            ("", ""),
        )
        .await;
        assert!(done.contains("href=\"/signin\""), "{engine}: {done}");
        assert!(
            password_is(sesame, "mtremblay", THIRD_PASSWORD).await,
            "{engine}"
        );

        // Forgot password by the employee number and PIN.
        let identify = [
            ("csrf", token.as_str()),
            ("form[step]", "identify"),
            ("form[identifier]", "jgagnon"),
        ];
        let (response, _) = browser.post_form(&action, &identify).await;
        let (_, page) = browser.get(&location(&response)).await;
        finish_recovery(
            &mut browser,
            sesame,
            &token,
            page,
            RETIREE_PASSWORD,
            "pin",
            ("E10442", JGAGNON_PIN),
        )
        .await;
        assert!(
            password_is(sesame, "jgagnon", RETIREE_PASSWORD).await,
            "{engine}"
        );

        // Forgot username, by PIN and by identity.
        let page = pin_answer(&mut browser, "E20001", MTREMBLAY_PIN).await;
        assert!(page.contains("mtremblay"), "{engine}: {page}");
        let page = username_answer(
            &mut browser,
            &[
                ("form[method]", "identity"),
                ("form[first_name]", "Jean-François"),
                ("form[last_name]", "Gagnon"),
                ("form[date_of_birth]", "1951-04-12"),
                ("form[sin_last6]", JGAGNON_SIN),
            ],
        )
        .await;
        assert!(page.contains("jgagnon"), "{engine}: {page}");

        // Signed in with the last password; every mail sent (sent bodies are not kept).
        sign_in(&mut browser, "mtremblay", THIRD_PASSWORD).await;
        secrets.push(browser.cookie("sesame-session").expect("session cookie"));
        let mails = deliver(sesame).await;
        assert!(
            mails.iter().any(|m| mail_bodies(m).contains(&code)),
            "{engine}: the code was mailed"
        );
        drop(capture);

        let rows = dump(sesame, engine).await;
        let audit: Vec<String> = rows
            .iter()
            .filter(|r| r.starts_with("audit_events:"))
            .cloned()
            .collect();
        for kind in ["sign_in.succeeded", "password_recovery", "sign_out"] {
            assert!(
                audit.iter().any(|r| r.contains(kind)),
                "{engine}: no {kind} in {audit:#?}"
            );
        }
        let logs = logs.text();
        assert!(logs.contains("answered"), "{engine}: no access log: {logs}");
        for secret in &secrets {
            for row in &rows {
                assert!(!leaks(row, secret), "{engine}: {secret:?} stored in {row}");
            }
            for line in logs.lines() {
                assert!(!leaks(line, secret), "{engine}: {secret:?} logged: {line}");
            }
        }
    })
    .await;
}
