//! Faults, with the real `sesame serve` process (`common::process`): a `kill -9` in the
//! middle of forgot password (before the code mail is sent, as its file is written, during
//! an SMTP session, after the code was proven), an SMTP server down or silent, the
//! database cut off or frozen behind a TCP proxy, and a flood of 1,000 concurrent
//! sign-ins. Slow: every test returns at once unless `SESAME_SLOW_TESTS=1`; PostgreSQL
//! is used too when `SESAME_TEST_POSTGRES_URL` is set (the proxy tests need it).

mod common;

use std::{
    collections::{BTreeMap, BTreeSet},
    io::{Read, Write},
    net::{Shutdown, TcpListener, TcpStream},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use common::{
    process::{Client, Reply, Server, free_port},
    smtp::SmtpServer,
};

const LOGIN: &str = "mtremblay";
const ADDRESS: &str = "marie@perso.example";
const PASSWORD: &str = "Vélo-rouge;Marmotte-93";
const NEW_PASSWORD: &str = "Nouveau-Printemps-2026!";
/// How long a worker's claim on a message protects it (`store::outbox::CLAIM_SECS`).
const CLAIM_SECS: u64 = sesame::store::outbox::CLAIM_SECS as u64;

fn slow_tests(name: &str) -> bool {
    let on = std::env::var("SESAME_SLOW_TESTS").is_ok_and(|v| v == "1");
    if !on {
        eprintln!("{name}: skipped (slow; set SESAME_SLOW_TESTS=1 to run it)");
    }
    on
}

fn wait_until<T>(what: &str, limit: Duration, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    loop {
        if let Some(value) = probe() {
            return value;
        }
        assert!(started.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

// ---------------------------------------------------------------------------------------
// A site: a database, a folder, the settings, and the database seen from the test.

struct Site {
    engine: &'static str,
    /// The URL the server is given (through the proxy in the database tests).
    url: String,
    dir: tempfile::TempDir,
    db: common::TestDb,
    extra: Vec<(&'static str, String)>,
}

impl Site {
    fn new(db: common::TestDb) -> Site {
        Site {
            engine: db.name,
            url: db.url.clone(),
            dir: tempfile::tempdir().expect("tempdir"),
            db,
            extra: Vec::new(),
        }
    }

    fn mail_dir(&self) -> PathBuf {
        self.dir.path().join("mail")
    }

    fn log(&self) -> PathBuf {
        self.dir.path().join("sesame.log")
    }

    fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = vec![
            ("SESAME_DATABASE_URL", self.url.clone()),
            (
                "SESAME_SECRET_KEY_FILE",
                self.dir.path().join("secret.key").display().to_string(),
            ),
            ("SESAME_MAIL_DIR", self.mail_dir().display().to_string()),
            ("SESAME_PUBLIC_URL", "http://127.0.0.1:3000".to_owned()),
            ("SESAME_MAIL_RETRY_BASE_SECS", "1".to_owned()),
        ];
        for (key, value) in &self.extra {
            env.retain(|(k, _)| k != key);
            env.push((key, value.clone()));
        }
        env
    }

    fn start(&self) -> Server {
        Server::start(&self.env(), &self.log())
    }

    /// `sesame admin create-person`, the password on standard input, on the database
    /// itself (not through the proxy).
    fn create_person(&self, login: &str, email: &str) {
        let mut env = self.env();
        env.retain(|(k, _)| *k != "SESAME_DATABASE_URL");
        let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args([
                "admin",
                "create-person",
                "--login",
                login,
                "--first-name",
                "Marie",
                "--last-name",
                "Tremblay",
                "--email",
                email,
                "--category",
                "permanent-staff",
                "--language",
                "fr",
            ])
            .env_remove("SESAME_CONFIG")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("SESAME_DATABASE_URL", &self.db.url)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("sesame admin create-person");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(format!("{PASSWORD}\n").as_bytes())
            .expect("password");
        let output = child.wait_with_output().expect("wait");
        assert!(
            output.status.success(),
            "create-person: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn db(&self) -> Db {
        Db::connect(&self.db.url)
    }

    fn server_log(&self) -> String {
        std::fs::read_to_string(self.log()).unwrap_or_default()
    }

    fn cleanup(self) {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        runtime.block_on(self.db.cleanup());
    }
}

/// SQLite always; PostgreSQL too when `SESAME_TEST_POSTGRES_URL` is set.
fn sites() -> Vec<Site> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime
        .block_on(common::databases())
        .into_iter()
        .map(Site::new)
        .collect()
}

fn postgres_site() -> Option<Site> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(common::postgres()).map(Site::new)
}

#[derive(Debug, Clone, sqlx::FromRow)]
struct OutboxLine {
    message_id: String,
    recipient: String,
    subject: String,
    state: String,
    attempts: i64,
    last_error: Option<String>,
}

impl OutboxLine {
    fn id(&self) -> String {
        normalize_message_id(&self.message_id)
    }
}

/// The database as the test reads it, beside the server.
struct Db {
    runtime: tokio::runtime::Runtime,
    store: sesame::store::Store,
}

impl Db {
    fn connect(url: &str) -> Db {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let store = runtime
            .block_on(sesame::store::Store::connect(url, 2))
            .expect("connect to the test database");
        Db { runtime, store }
    }

    fn outbox(&self) -> Vec<OutboxLine> {
        self.runtime
            .block_on(
                sqlx::query_as::<_, OutboxLine>(
                    "SELECT message_id, recipient, subject, state, attempts, last_error \
                     FROM outbox ORDER BY created_at, id",
                )
                .fetch_all(&self.store.pool),
            )
            .expect("outbox")
    }

    fn flow_state(&self, flow: &str) -> Option<String> {
        self.runtime
            .block_on(
                sqlx::query_scalar::<_, String>("SELECT state FROM flows WHERE id = $1")
                    .bind(flow)
                    .fetch_optional(&self.store.pool),
            )
            .expect("flow")
    }

    fn password_hash(&self, login: &str) -> Option<String> {
        self.runtime
            .block_on(
                sqlx::query_scalar::<_, Option<String>>(
                    "SELECT password_hash FROM people WHERE login = $1",
                )
                .bind(login)
                .fetch_one(&self.store.pool),
            )
            .expect("person")
    }

    fn count(&self, sql: &str) -> i64 {
        self.runtime
            .block_on(sqlx::query_scalar::<_, i64>(sql).fetch_one(&self.store.pool))
            .unwrap_or_else(|e| panic!("{sql}: {e}"))
    }
}

// ---------------------------------------------------------------------------------------
// Mail as it arrived: `.eml` files of the file transport, or aiosmtpd's maildir.

#[derive(Debug, Clone)]
struct Mail {
    message_id: String,
    subject: String,
    text: String,
}

fn normalize_message_id(id: &str) -> String {
    id.trim().trim_matches(['<', '>']).to_owned()
}

fn parse_mail(file: &Path) -> Option<Mail> {
    let raw = std::fs::read(file).ok()?;
    let message = mail_parser::MessageParser::default().parse(&raw)?;
    Some(Mail {
        message_id: normalize_message_id(message.message_id().unwrap_or_default()),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default(),
    })
}

/// The `.eml` files written so far (never the transport's temporary files).
fn eml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|e| e == "eml")
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

fn eml_mails(dir: &Path) -> Vec<Mail> {
    eml_files(dir)
        .iter()
        .filter_map(|f| parse_mail(f))
        .collect()
}

fn maildir_mails(dir: &Path) -> Vec<Mail> {
    let mut mails = Vec::new();
    for folder in ["new", "cur"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(folder)) {
            for entry in entries.flatten() {
                mails.extend(parse_mail(&entry.path()));
            }
        }
    }
    mails
}

/// How many times each Message-ID arrived.
fn arrivals(mails: &[Mail]) -> BTreeMap<String, usize> {
    let mut counts = BTreeMap::new();
    for mail in mails {
        *counts.entry(mail.message_id.clone()).or_insert(0) += 1;
    }
    counts
}

/// The 6-digit code of a reset mail.
fn code_in(mail: &Mail) -> String {
    mail.text
        .split(|c: char| c.is_whitespace() || c == ':')
        .find(|word| word.len() == 6 && word.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| panic!("no code in {:?}: {}", mail.subject, mail.text))
        .to_owned()
}

fn is_code_mail(subject: &str) -> bool {
    subject.starts_with("Votre code pour changer") || subject.starts_with("Your code to change")
}

// ---------------------------------------------------------------------------------------
// Forms, as a browser without JavaScript sends them.

fn unescape(value: &str) -> String {
    value
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let needle = format!(" {name}=\"");
    let at = tag.find(&needle)? + needle.len();
    let end = tag[at..].find('"')?;
    Some(unescape(&tag[at..at + end]))
}

/// The action of the first form posting to `server_fn`, and its fields: its hidden
/// inputs, then `fields` (which replace hidden ones of the same name).
fn form(html: &str, server_fn: &str, fields: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let marker = format!("action=\"/api/{server_fn}");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no form for {server_fn} in {html}"));
    let rest = &html[start..];
    let body = &rest[..rest.find("</form>").unwrap_or(rest.len())];
    let action = attribute(&format!(" {body}"), "action").expect("action");
    let mut all: Vec<(String, String)> = body
        .split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>').unwrap_or(tag.len())];
            (attribute(tag, "type").as_deref() == Some("hidden"))
                .then(|| Some((attribute(tag, "name")?, attribute(tag, "value")?)))
                .flatten()
        })
        .collect();
    for (name, value) in fields {
        all.retain(|(n, _)| n != name);
        all.push(((*name).to_owned(), (*value).to_owned()));
    }
    (action, all)
}

fn post(client: &mut Client, action: &str, fields: &[(String, String)]) -> std::io::Result<Reply> {
    let fields: Vec<(&str, &str)> = fields
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    client.try_post_form(action, &fields)
}

/// Opens `page` and posts its form for `server_fn`; answers the reply and how long the
/// post alone took.
fn submit(
    client: &mut Client,
    page: &str,
    server_fn: &str,
    fields: &[(&str, &str)],
) -> (Reply, Duration) {
    let page_reply = client.get(page);
    assert_eq!(page_reply.status, 200, "GET {page}: {}", page_reply.body);
    let (action, fields) = form(&page_reply.body, server_fn, fields);
    let started = Instant::now();
    let reply =
        post(client, &action, &fields).unwrap_or_else(|e| panic!("POST {action} from {page}: {e}"));
    (reply, started.elapsed())
}

const RECOVERY: &str = "submit_password_recovery";

/// Forgot password's first page: answers the flow id and the post's latency.
fn identify(client: &mut Client, identifier: &str) -> (String, Duration) {
    let (reply, took) = submit(
        client,
        "/forgot-password",
        RECOVERY,
        &[("form[identifier]", identifier)],
    );
    assert_eq!(reply.status, 303, "identify: {}", reply.body);
    let flow = reply
        .location()
        .strip_prefix("/forgot-password?flow=")
        .unwrap_or_else(|| panic!("identify went to {:?}", reply.location()))
        .to_owned();
    (flow, took)
}

/// One step of the flow from its page; the server sends back to the flow's page.
fn recovery_step(client: &mut Client, flow: &str, fields: &[(&str, &str)]) -> (Reply, Duration) {
    let page = format!("/forgot-password?flow={flow}");
    let (reply, took) = submit(client, &page, RECOVERY, fields);
    assert_eq!(reply.status, 303, "step {fields:?}: {}", reply.body);
    assert_eq!(reply.location(), page, "step {fields:?}");
    (reply, took)
}

fn choose_email_code(client: &mut Client, flow: &str) -> Duration {
    recovery_step(client, flow, &[("form[method]", "email_code")]).1
}

fn sign_in(port: u16, login: &str, password: &str) -> Reply {
    let mut client = Client::new(port);
    submit(
        &mut client,
        "/signin",
        "sign_in",
        &[("login", login), ("password", password)],
    )
    .0
}

fn healthy(port: u16) -> bool {
    Client::new(port)
        .try_get("/healthz")
        .is_ok_and(|reply| reply.status == 200)
}

// ---------------------------------------------------------------------------------------
// SMTP servers: a real one (aiosmtpd, `common::smtp`) and one that accepts and says nothing.

/// The mails aiosmtpd delivered so far, parsed (`SmtpServer::delivered` gives them raw).
fn smtp_mails(smtp: &SmtpServer) -> Vec<Mail> {
    maildir_mails(&smtp.maildir)
}

fn bind_again(port: u16) -> TcpListener {
    wait_until(
        &format!("port {port} to be free"),
        Duration::from_secs(20),
        || TcpListener::bind(("127.0.0.1", port)).ok(),
    )
}

/// Accepts connections and never says a word (an SMTP server that hangs).
struct SilentServer {
    stop: Arc<AtomicBool>,
    accepted: Arc<AtomicUsize>,
    thread: Option<JoinHandle<Vec<TcpStream>>>,
}

impl SilentServer {
    fn start(port: u16) -> SilentServer {
        let listener = bind_again(port);
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let accepted = Arc::new(AtomicUsize::new(0));
        let thread = {
            let (stop, accepted) = (stop.clone(), accepted.clone());
            std::thread::spawn(move || {
                let mut held = Vec::new();
                while !stop.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((stream, _)) => {
                            held.push(stream);
                            accepted.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
                held
            })
        };
        SilentServer {
            stop,
            accepted,
            thread: Some(thread),
        }
    }

    fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// Closes the listener (the port is free again) but keeps the connections it
    /// accepted open, still silent: a hung server replaced by a new one.
    fn stop_listening(mut self) -> Vec<TcpStream> {
        self.stop.store(true, Ordering::SeqCst);
        self.thread
            .take()
            .map(|thread| thread.join().expect("silent server"))
            .unwrap_or_default()
    }
}

impl Drop for SilentServer {
    /// Closes the listener and every connection.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

// ---------------------------------------------------------------------------------------
// A TCP proxy in front of PostgreSQL that the test cuts or freezes.

#[derive(Default)]
struct ProxyShared {
    closing: AtomicBool,
    frozen: AtomicBool,
    live: Mutex<Vec<TcpStream>>,
    /// Freeze right after a message to the database containing these bytes went through.
    freeze_after: Mutex<Option<&'static [u8]>>,
    /// ...or cut that connection instead of freezing.
    cut_instead: AtomicBool,
    triggered: AtomicBool,
}

struct DbProxy {
    port: u16,
    upstream: String,
    shared: Arc<ProxyShared>,
    acceptor: Option<JoinHandle<()>>,
}

impl DbProxy {
    fn start(upstream: &str) -> DbProxy {
        let mut proxy = DbProxy {
            port: free_port(),
            upstream: upstream.to_owned(),
            shared: Arc::new(ProxyShared::default()),
            acceptor: None,
        };
        proxy.open();
        proxy
    }

    fn open(&mut self) {
        self.shared.closing.store(false, Ordering::SeqCst);
        self.shared.frozen.store(false, Ordering::SeqCst);
        let listener = bind_again(self.port);
        listener.set_nonblocking(true).expect("nonblocking");
        let shared = self.shared.clone();
        let upstream = self.upstream.clone();
        self.acceptor = Some(std::thread::spawn(move || {
            while !shared.closing.load(Ordering::SeqCst) {
                let Ok((client, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = client.set_nonblocking(false);
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let (Ok(c2), Ok(s2), Ok(c3), Ok(s3)) = (
                    client.try_clone(),
                    server.try_clone(),
                    client.try_clone(),
                    server.try_clone(),
                ) else {
                    continue;
                };
                if let Ok(mut live) = shared.live.lock() {
                    live.push(c3);
                    live.push(s3);
                }
                let (sh1, sh2) = (shared.clone(), shared.clone());
                std::thread::spawn(move || pump(client, s2, sh1, true));
                std::thread::spawn(move || pump(server, c2, sh2, false));
            }
        }));
    }

    /// The database is gone: the listener is closed (connections refused) and every live
    /// connection is cut.
    fn cut(&mut self) {
        self.shared.closing.store(true, Ordering::SeqCst);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        if let Ok(mut live) = self.shared.live.lock() {
            for stream in live.drain(..) {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }

    /// The database is back.
    fn restore(&mut self) {
        self.open();
    }

    /// The database stops answering: connections stay open (and new ones are accepted)
    /// but nothing goes through.
    fn freeze(&self) {
        self.shared.frozen.store(true, Ordering::SeqCst);
    }

    fn thaw(&self) {
        self.shared.frozen.store(false, Ordering::SeqCst);
    }

    /// Freezes the moment the next statement containing `statement` (e.g. `BEGIN`) has
    /// gone to the database: a request is then holding a connection, mid-transaction.
    fn freeze_after(&self, statement: &'static [u8]) {
        self.shared.cut_instead.store(false, Ordering::SeqCst);
        self.shared.triggered.store(false, Ordering::SeqCst);
        if let Ok(mut armed) = self.shared.freeze_after.lock() {
            *armed = Some(statement);
        }
    }

    /// Cuts the connection that carries the next statement containing `statement` once
    /// the database had it, before its answer comes back (the listener stays open).
    fn cut_after(&self, statement: &'static [u8]) {
        self.freeze_after(statement);
        self.shared.cut_instead.store(true, Ordering::SeqCst);
    }

    fn triggered(&self) -> bool {
        self.shared.triggered.load(Ordering::SeqCst)
    }
}

impl Drop for DbProxy {
    fn drop(&mut self) {
        self.cut();
    }
}

fn pump(mut from: TcpStream, mut to: TcpStream, shared: Arc<ProxyShared>, to_database: bool) {
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        while shared.frozen.load(Ordering::SeqCst) && !shared.closing.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if shared.closing.load(Ordering::SeqCst) || to.write_all(&buffer[..n]).is_err() {
            break;
        }
        if to_database && let Ok(mut armed) = shared.freeze_after.lock() {
            let chunk = &buffer[..n];
            if armed.is_some_and(|needle| chunk.windows(needle.len()).any(|w| w == needle)) {
                *armed = None;
                shared.triggered.store(true, Ordering::SeqCst);
                shared.frozen.store(true, Ordering::SeqCst);
                if shared.cut_instead.load(Ordering::SeqCst) {
                    // The database has the statement and carries it out; its answer never
                    // comes back: the connection dies first.
                    std::thread::sleep(Duration::from_millis(300));
                    let _ = to.shutdown(Shutdown::Both);
                    let _ = from.shutdown(Shutdown::Both);
                    shared.frozen.store(false, Ordering::SeqCst);
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}

/// `url` with its host and port replaced by the proxy's; answers it and the real
/// `host:port`.
fn through_proxy(url: &str, proxy_port: u16) -> (String, String) {
    let (scheme, rest) = url.split_once("://").expect("a URL");
    let slash = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(slash);
    let (user, host) = match authority.rsplit_once('@') {
        Some((user, host)) => (format!("{user}@"), host),
        None => (String::new(), authority),
    };
    let upstream = if host
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        host.to_owned()
    } else {
        format!("{host}:5432")
    };
    (
        format!("{scheme}://{user}127.0.0.1:{proxy_port}{path}"),
        upstream,
    )
}

// ---------------------------------------------------------------------------------------
// Error pages.

/// Every `error.*` text of a language, as the error pages may show them.
fn error_texts(lang: &str) -> Vec<String> {
    let path = format!("{}/../app/locales/{lang}.json", env!("CARGO_MANIFEST_DIR"));
    let json: serde_json::Map<String, serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("locale file"))
            .expect("locale JSON");
    json.iter()
        .filter(|(key, _)| key.starts_with("error."))
        .filter_map(|(_, value)| value.as_str())
        .filter(|text| !text.contains('{'))
        .map(str::to_owned)
        .collect()
}

/// A translated page, in `lang`.
fn translated(reply: &Reply, lang: &str) -> bool {
    let body = unescape(&reply.body);
    body.contains(&format!("<html lang=\"{lang}\""))
        && error_texts(lang).iter().any(|text| body.contains(text))
}

/// An answer (or none) and how long it took.
type Timed = (std::io::Result<Reply>, Duration);

fn describe(reply: &std::io::Result<Reply>) -> String {
    match reply {
        Ok(reply) => describe_reply(reply),
        Err(e) => format!("no answer: {e}"),
    }
}

fn describe_reply(reply: &Reply) -> String {
    let body: String = reply.body.chars().take(600).collect();
    format!("{} {:?} {body}", reply.status, reply.location())
}

// =======================================================================================
// 1. kill -9 in the middle of forgot password.

/// Point 1: the code mail is queued but not sent (the mail folder is unusable), the
/// server is killed; after the restart the mail goes out once and its code works in the
/// same browser. Point 2: the code was proven, the server is killed before the new
/// password; after the restart the new password is taken. Every mail leaves once.
#[test]
fn kill_9_mid_recovery_resumes_the_flow_and_sends_each_mail_once() {
    if !slow_tests("kill_9_mid_recovery_resumes_the_flow_and_sends_each_mail_once") {
        return;
    }
    for site in sites() {
        let engine = site.engine;
        site.create_person(LOGIN, ADDRESS);
        let db = site.db();
        // A file where the mail folder should be: the worker cannot write the message.
        std::fs::write(site.mail_dir(), "not a folder").expect("blocking file");
        let mut server = site.start();
        let mut browser = server.client();
        let (flow, _) = identify(&mut browser, LOGIN);
        choose_email_code(&mut browser, &flow);
        assert_eq!(db.flow_state(&flow).as_deref(), Some("email_code"));
        let tried = wait_until(
            "the worker to try the code mail",
            Duration::from_secs(20),
            || {
                let rows = db.outbox();
                rows.iter()
                    .any(|r| r.attempts >= 1 && r.state == "pending")
                    .then_some(rows)
            },
        );
        assert_eq!(tried.len(), 1, "{engine}: one code mail queued: {tried:?}");
        eprintln!(
            "[{engine}] point 1: code mail queued, tried {} time(s) ({:?}); kill -9",
            tried[0].attempts, tried[0].last_error
        );
        server.kill_hard();
        assert!(
            db.outbox().iter().all(|r| r.state != "sent"),
            "{engine}: nothing was sent before the kill"
        );
        std::fs::remove_file(site.mail_dir()).expect("unblock the mail folder");

        let started = Instant::now();
        let mut server = server.restart();
        // (Within a claim's life, should the kill have landed on a second try.)
        let mails = wait_until(
            "the code mail after the restart",
            Duration::from_secs(CLAIM_SECS + 60),
            || {
                let mails = eml_mails(&site.mail_dir());
                (!mails.is_empty()).then_some(mails)
            },
        );
        eprintln!(
            "[{engine}] point 1: the code mail left {:?} after the restart",
            started.elapsed()
        );
        let code = code_in(&mails[0]);
        // The same browser is where it was: the code page, and the code works.
        let page = browser.get(&format!("/forgot-password?flow={flow}"));
        assert_eq!(page.status, 200);
        assert!(
            page.body
                .contains("name=\"form[step]\" value=\"email_code\""),
            "{engine}: the code page again: {}",
            page.body
        );
        recovery_step(&mut browser, &flow, &[("form[code]", &code)]);
        assert_eq!(
            db.flow_state(&flow).as_deref(),
            Some("new_password"),
            "{engine}: the code from the mail sent after the restart works"
        );

        // Point 2: killed after the code was proven, before the new password.
        eprintln!("[{engine}] point 2: code proven; kill -9");
        server.kill_hard();
        let server = server.restart();
        recovery_step(
            &mut browser,
            &flow,
            &[
                ("form[new_password]", NEW_PASSWORD),
                ("form[new_password_confirmation]", NEW_PASSWORD),
            ],
        );
        assert_eq!(db.flow_state(&flow).as_deref(), Some("done"), "{engine}");
        let reply = sign_in(server.port, LOGIN, NEW_PASSWORD);
        assert_eq!(
            (reply.status, reply.location()),
            (303, "/account"),
            "{engine}: the new password works"
        );

        // Every queued mail (the code, the notice) leaves once, and only once.
        let rows = wait_until("every mail to be sent", Duration::from_secs(60), || {
            let rows = db.outbox();
            (rows.len() >= 2 && rows.iter().all(|r| r.state == "sent")).then_some(rows)
        });
        std::thread::sleep(Duration::from_secs(2));
        let mails = eml_mails(&site.mail_dir());
        let arrived = arrivals(&mails);
        eprintln!(
            "[{engine}] outbox: {:?}; .eml files: {}",
            rows.iter()
                .map(|r| (r.subject.as_str(), r.state.as_str(), r.attempts))
                .collect::<Vec<_>>(),
            mails.len()
        );
        assert_eq!(mails.len(), rows.len(), "{engine}: one file per message");
        for row in &rows {
            assert_eq!(
                arrived.get(&row.id()),
                Some(&1),
                "{engine}: {:?} arrived once",
                row.subject
            );
        }
        drop(server);
        drop(db);
        site.cleanup();
    }
}

unsafe extern "C" {
    fn kill(pid: i32, signal: i32) -> i32;
}

/// `kill -9` from this process, without a fork: as soon as a file appears.
fn kill_9_now(pid: u32) {
    let pid = i32::try_from(pid).expect("pid");
    // SAFETY: kill(2) with a child's pid and SIGKILL; no memory is involved.
    let _ = unsafe { kill(pid, 9) };
}

/// The worker is killed the moment the code mail's `.eml` file appears, before it can
/// mark the message sent. After the restart the message must not be written again.
#[test]
fn kill_9_as_the_mail_file_is_written_does_not_send_it_twice() {
    if !slow_tests("kill_9_as_the_mail_file_is_written_does_not_send_it_twice") {
        return;
    }
    let site = Site::new(common::sqlite());
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let mut server = site.start();
    let mut caught = None;
    for attempt in 1..=6 {
        let mut browser = server.client();
        let (flow, _) = identify(&mut browser, LOGIN);
        let page = browser.get(&format!("/forgot-password?flow={flow}"));
        let (action, fields) = form(&page.body, RECOVERY, &[("form[method]", "email_code")]);
        let known: BTreeSet<PathBuf> = eml_files(&site.mail_dir()).into_iter().collect();
        let queued_before: BTreeSet<String> = db.outbox().iter().map(OutboxLine::id).collect();
        let watcher = {
            let dir = site.mail_dir();
            let pid = server.pid();
            std::thread::spawn(move || {
                let deadline = Instant::now() + Duration::from_secs(20);
                while Instant::now() < deadline {
                    if eml_files(&dir).iter().any(|f| !known.contains(f)) {
                        kill_9_now(pid);
                        return true;
                    }
                    std::thread::yield_now();
                }
                false
            })
        };
        let _ = post(&mut browser, &action, &fields);
        let fired = watcher.join().expect("watcher");
        assert!(fired, "the code mail's file never appeared");
        server.kill_hard();
        let row = db
            .outbox()
            .into_iter()
            .find(|r| !queued_before.contains(&r.id()))
            .expect("the code mail in the outbox");
        eprintln!(
            "attempt {attempt}: killed as the file appeared; the outbox row is {:?}",
            row.state
        );
        server = server.restart();
        if row.state != "sent" {
            caught = Some(row);
            break;
        }
    }
    let Some(row) = caught else {
        eprintln!(
            "the kill never landed between the file and the 'sent' mark in 6 attempts: \
             nothing to check this time"
        );
        return;
    };
    let started = Instant::now();
    wait_until(
        "the killed worker's message to be settled",
        Duration::from_secs(CLAIM_SECS + 60),
        || {
            db.outbox()
                .into_iter()
                .find(|r| r.id() == row.id() && r.state == "sent")
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let copies = arrivals(&eml_mails(&site.mail_dir()))
        .get(&row.id())
        .copied()
        .unwrap_or(0);
    eprintln!(
        "the message was marked sent {:?} after the restart; copies written: {copies}",
        started.elapsed()
    );
    assert_eq!(
        copies, 1,
        "the message written just before the kill was written again after the restart"
    );
    drop(server);
    drop(db);
    site.cleanup();
}

/// The worker is in the middle of an SMTP session (the server accepted the connection
/// and says nothing) when the server is killed. After the restart, with a real SMTP
/// server on that port, the mail arrives once and its code works in the same browser.
#[test]
fn kill_9_during_an_smtp_session_delivers_the_mail_once_after_restart() {
    if !slow_tests("kill_9_during_an_smtp_session_delivers_the_mail_once_after_restart") {
        return;
    }
    let smtp_port = free_port();
    let mut site = Site::new(common::sqlite());
    site.extra = vec![
        ("SESAME_MAIL_TRANSPORT", "smtp".into()),
        ("SESAME_SMTP_HOST", "127.0.0.1".into()),
        ("SESAME_SMTP_PORT", smtp_port.to_string()),
        ("SESAME_SMTP_SECURITY", "none".into()),
        ("SESAME_SMTP_TIMEOUT_SECS", "30".into()),
    ];
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let silent = SilentServer::start(smtp_port);
    let mut server = site.start();
    let mut browser = server.client();
    let (flow, _) = identify(&mut browser, LOGIN);
    choose_email_code(&mut browser, &flow);
    let row = wait_until(
        "the worker to be in an SMTP session",
        Duration::from_secs(20),
        || {
            (silent.accepted() >= 1)
                .then(|| db.outbox().into_iter().find(|r| r.state == "sending"))
                .flatten()
        },
    );
    eprintln!("the worker is waiting for the SMTP greeting; kill -9");
    server.kill_hard();
    drop(silent);
    let smtp = SmtpServer::start(smtp_port, &site.dir.path().join("maildir"));
    let started = Instant::now();
    let server = server.restart();
    let mail = wait_until(
        "the mail after the restart",
        Duration::from_secs(CLAIM_SECS + 90),
        || smtp_mails(&smtp).into_iter().next(),
    );
    eprintln!(
        "delivered {:?} after the restart (a claim lasts {CLAIM_SECS} s)",
        started.elapsed()
    );
    assert_eq!(mail.message_id, row.id());
    std::thread::sleep(Duration::from_secs(3));
    let delivered = smtp_mails(&smtp);
    assert_eq!(delivered.len(), 1, "delivered once: {delivered:?}");
    let rows = db.outbox();
    assert_eq!(
        rows.iter().map(|r| r.state.as_str()).collect::<Vec<_>>(),
        ["sent"]
    );
    recovery_step(&mut browser, &flow, &[("form[code]", &code_in(&mail))]);
    assert_eq!(
        db.flow_state(&flow).as_deref(),
        Some("new_password"),
        "the code delivered after the restart works in the same browser"
    );
    smtp.stop();
    drop(server);
    drop(db);
    site.cleanup();
}

// =======================================================================================
// 2. SMTP down or silent.

/// The identify and choose posts (the latter queues the code mail) answer as fast with
/// SMTP down (nothing listening) or silent (accepts, never answers) as with SMTP up; the
/// mail goes out once a real SMTP server is back on the port.
#[test]
fn smtp_down_or_silent_does_not_slow_the_forms_and_the_mail_goes_out_when_it_returns() {
    if !slow_tests(
        "smtp_down_or_silent_does_not_slow_the_forms_and_the_mail_goes_out_when_it_returns",
    ) {
        return;
    }
    let smtp_port = free_port();
    let mut site = Site::new(common::sqlite());
    site.extra = vec![
        ("SESAME_MAIL_TRANSPORT", "smtp".into()),
        ("SESAME_SMTP_HOST", "127.0.0.1".into()),
        ("SESAME_SMTP_PORT", smtp_port.to_string()),
        ("SESAME_SMTP_SECURITY", "none".into()),
        ("SESAME_SMTP_TIMEOUT_SECS", "3".into()),
    ];
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let maildir = site.dir.path().join("maildir");
    let server = site.start();
    let mut figures = Vec::new();
    let limit = Duration::from_secs(1);

    // Each case: a new recovery, the code mail queued; then SMTP up (again) and the mail
    // must arrive.
    let mut smtp = Some(SmtpServer::start(smtp_port, &maildir));
    for case in ["up", "down", "silent"] {
        let mut silent = None;
        match case {
            "down" => {
                if let Some(up) = smtp.take() {
                    up.stop();
                }
            }
            "silent" => {
                if let Some(up) = smtp.take() {
                    up.stop();
                }
                silent = Some(SilentServer::start(smtp_port));
            }
            _ => {}
        }
        let queued_before: BTreeSet<String> = db.outbox().iter().map(OutboxLine::id).collect();
        let mut browser = server.client();
        let (flow, identify_took) = identify(&mut browser, LOGIN);
        let choose_took = choose_email_code(&mut browser, &flow);
        // A second recovery while the worker is busy with the first mail.
        let mut other = server.client();
        let (other_flow, identify_again_took) = identify(&mut other, LOGIN);
        let choose_again_took = choose_email_code(&mut other, &other_flow);
        eprintln!(
            "SMTP {case:6}: identify {identify_took:?}, choose (mail queued) {choose_took:?}; \
             again: identify {identify_again_took:?}, choose {choose_again_took:?}"
        );
        figures.push((case, identify_took, choose_took));
        for took in [
            identify_took,
            choose_took,
            identify_again_took,
            choose_again_took,
        ] {
            assert!(took < limit, "SMTP {case}: a form post took {took:?}");
        }
        let ours: Vec<String> = db
            .outbox()
            .iter()
            .map(OutboxLine::id)
            .filter(|id| !queued_before.contains(id))
            .collect();
        assert_eq!(ours.len(), 2, "two code mails queued");
        match case {
            "down" => {
                let row = wait_until("a failed SMTP attempt", Duration::from_secs(20), || {
                    db.outbox()
                        .into_iter()
                        .find(|r| ours.contains(&r.id()) && r.last_error.is_some())
                });
                eprintln!("SMTP down: the worker got {:?}", row.last_error);
            }
            "silent" => {
                let waiting = silent.as_ref().expect("silent");
                wait_until(
                    "the worker to connect to the silent server",
                    Duration::from_secs(20),
                    || (waiting.accepted() >= 1).then_some(()),
                );
                // The worker is stuck in the session: pages still answer at once.
                let mut third = server.client();
                let (_, took) = identify(&mut third, LOGIN);
                eprintln!("SMTP silent, worker in session: identify {took:?}");
                assert!(took < limit, "identify took {took:?} with the worker stuck");
                // The silent server goes away, closing its connections (a hung server
                // restarted); a_hung_smtp_session_times_out... covers one that stays hung.
            }
            _ => {}
        }
        drop(silent);
        let up = smtp.get_or_insert_with(|| SmtpServer::start(smtp_port, &maildir));
        let back = Instant::now();
        let delivered = wait_until(
            &format!("the mail of case {case} once SMTP is up"),
            Duration::from_secs(90),
            || {
                let arrived = arrivals(&smtp_mails(up));
                ours.iter()
                    .all(|id| arrived.contains_key(id))
                    .then_some(arrived)
            },
        );
        eprintln!(
            "SMTP {case:6}: both mails delivered {:?} after SMTP was up",
            back.elapsed()
        );
        for id in &ours {
            assert_eq!(delivered.get(id), Some(&1), "case {case}: delivered once");
        }
    }
    // A message the SMTP server has taken is marked sent a moment after.
    let rows = wait_until("every message marked sent", Duration::from_secs(10), || {
        let rows = db.outbox();
        rows.iter().all(|r| r.state == "sent").then_some(rows)
    });
    assert!(
        rows.iter()
            .all(|r| is_code_mail(&r.subject) && r.recipient == ADDRESS),
        "{rows:?}"
    );
    eprintln!("latencies (identify, choose): {figures:?}");
    if let Some(up) = smtp {
        up.stop();
    }
    drop(server);
    drop(db);
    site.cleanup();
}

/// An SMTP server that accepts the worker's connection and then hangs (never greets,
/// never closes) is replaced by a working one on the same port: the worker gives up the
/// hung session after `smtp.timeout_secs`, and the mail queued before and a mail queued
/// after go out.
#[test]
fn a_hung_smtp_session_times_out_and_the_mail_goes_out_through_the_next_server() {
    if !slow_tests("a_hung_smtp_session_times_out_and_the_mail_goes_out_through_the_next_server") {
        return;
    }
    let smtp_port = free_port();
    let timeout_secs = 3;
    let mut site = Site::new(common::sqlite());
    site.extra = vec![
        ("SESAME_MAIL_TRANSPORT", "smtp".into()),
        ("SESAME_SMTP_HOST", "127.0.0.1".into()),
        ("SESAME_SMTP_PORT", smtp_port.to_string()),
        ("SESAME_SMTP_SECURITY", "none".into()),
        ("SESAME_SMTP_TIMEOUT_SECS", timeout_secs.to_string()),
    ];
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let silent = SilentServer::start(smtp_port);
    let server = site.start();
    let mut browser = server.client();
    let (flow, _) = identify(&mut browser, LOGIN);
    let took = choose_email_code(&mut browser, &flow);
    eprintln!("code mail queued ({took:?}); the SMTP server accepts and hangs");
    wait_until(
        "the worker to connect to the hung server",
        Duration::from_secs(20),
        || (silent.accepted() >= 1).then_some(()),
    );
    let first = db.outbox()[0].id();
    let hung = Instant::now();
    let _still_open = silent.stop_listening();
    let smtp = SmtpServer::start(smtp_port, &site.dir.path().join("maildir"));
    // Another person's recovery, once a working server is there.
    let mut later = server.client();
    let (later_flow, _) = identify(&mut later, LOGIN);
    choose_email_code(&mut later, &later_flow);
    let bound = Duration::from_secs(timeout_secs + 30);
    let delivered = loop {
        let delivered = smtp_mails(&smtp);
        if delivered.len() >= 2 {
            eprintln!(
                "both mails delivered through the new server {:?} after the session hung",
                hung.elapsed()
            );
            break delivered;
        }
        if hung.elapsed() > bound {
            let rows = db.outbox();
            panic!(
                "{} of 2 mails delivered {:?} after the SMTP session hung (timeout \
                 {timeout_secs} s); the outbox (state, attempts, error): {:?}",
                delivered.len(),
                hung.elapsed(),
                rows.iter()
                    .map(|r| (r.state.as_str(), r.attempts, r.last_error.as_deref()))
                    .collect::<Vec<_>>()
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(delivered.len(), 2, "each once: {delivered:?}");
    let mail = delivered
        .iter()
        .find(|m| m.message_id == first)
        .expect("the mail queued before the hang");
    recovery_step(&mut browser, &flow, &[("form[code]", &code_in(mail))]);
    assert_eq!(db.flow_state(&flow).as_deref(), Some("new_password"));
    smtp.stop();
    drop(server);
    drop(db);
    site.cleanup();
}

// =======================================================================================
// 3. The database unreachable (PostgreSQL behind a proxy the test cuts).

struct ProxiedSite {
    site: Site,
    proxy: DbProxy,
}

fn proxied_postgres(name: &str) -> Option<ProxiedSite> {
    let Some(mut site) = postgres_site() else {
        eprintln!("{name}: skipped (needs SESAME_TEST_POSTGRES_URL)");
        return None;
    };
    let probe = free_port();
    let (_, upstream) = through_proxy(&site.db.url, probe);
    let proxy = DbProxy::start(&upstream);
    site.url = through_proxy(&site.db.url, proxy.port).0;
    Some(ProxiedSite { site, proxy })
}

/// Sessions of the test's database sitting inside a transaction between statements.
const IDLE_IN_TRANSACTION: &str = "SELECT COUNT(*) FROM pg_stat_activity \
     WHERE datname = current_database() AND state LIKE 'idle in transaction%'";

/// A recovery of Marie's at the new password step, in `browser`.
fn recovery_at_new_password(server: &Server, site: &Site, db: &Db) -> (Client, String) {
    let mut browser = server.client();
    let (flow, _) = identify(&mut browser, LOGIN);
    let before: BTreeSet<String> = arrivals(&eml_mails(&site.mail_dir())).into_keys().collect();
    choose_email_code(&mut browser, &flow);
    let mail = wait_until("the code mail", Duration::from_secs(30), || {
        eml_mails(&site.mail_dir())
            .into_iter()
            .find(|m| !before.contains(&m.message_id) && is_code_mail(&m.subject))
    });
    recovery_step(&mut browser, &flow, &[("form[code]", &code_in(&mail))]);
    assert_eq!(db.flow_state(&flow).as_deref(), Some("new_password"));
    (browser, flow)
}

fn notices(db: &Db) -> usize {
    db.outbox()
        .iter()
        .filter(|r| !is_code_mail(&r.subject))
        .count()
}

#[test]
fn database_cut_off_answers_503_pages_and_leaves_no_partial_writes() {
    let name = "database_cut_off_answers_503_pages_and_leaves_no_partial_writes";
    if !slow_tests(name) {
        return;
    }
    let Some(ProxiedSite { site, mut proxy }) = proxied_postgres(name) else {
        return;
    };
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let server = site.start();
    let port = server.port;

    // Before the outage: a signed-in browser, a recovery at the new password, pages open.
    let mut signed_in = server.client();
    let (reply, _) = submit(
        &mut signed_in,
        "/signin",
        "sign_in",
        &[("login", LOGIN), ("password", PASSWORD)],
    );
    assert_eq!(reply.location(), "/account");
    let (mut resetting, flow) = recovery_at_new_password(&server, &site, &db);
    let reset_page = resetting.get(&format!("/forgot-password?flow={flow}"));
    let (reset_action, reset_fields) = form(
        &reset_page.body,
        RECOVERY,
        &[
            ("form[new_password]", NEW_PASSWORD),
            ("form[new_password_confirmation]", NEW_PASSWORD),
        ],
    );
    let mut visitor = server.client();
    let signin_page = visitor.get("/signin");
    let (signin_action, signin_fields) = form(
        &signin_page.body,
        "sign_in",
        &[("login", LOGIN), ("password", PASSWORD)],
    );
    let forgot_page = visitor.get("/forgot-password");
    let (identify_action, identify_fields) =
        form(&forgot_page.body, RECOVERY, &[("form[identifier]", LOGIN)]);
    let hash_before = db.password_hash(LOGIN);
    let flows_before = db.count("SELECT COUNT(*) FROM flows");
    let sessions_before = db.count("SELECT COUNT(*) FROM sessions");
    let notices_before = notices(&db);

    proxy.cut();
    eprintln!("database cut off");
    let english = |client: &Client| {
        let mut client = client.clone();
        client
            .headers
            .push(("Accept-Language".into(), "en-CA,en;q=0.9".into()));
        client
    };
    // (what, lang, answer, must be 503: the page needs the database)
    let mut outcomes: Vec<(String, &str, std::io::Result<Reply>, Duration, bool)> = Vec::new();
    let mut record = |what: &str,
                      lang: &'static str,
                      needs_db: bool,
                      run: &mut dyn FnMut() -> std::io::Result<Reply>| {
        let started = Instant::now();
        let reply = run();
        outcomes.push((what.to_owned(), lang, reply, started.elapsed(), needs_db));
    };
    record("GET /healthz", "", true, &mut || {
        Client::new(port).try_get("/healthz")
    });
    record("GET /signin", "fr", false, &mut || {
        visitor.clone().try_get("/signin")
    });
    record("GET /signin?lang=en", "en", false, &mut || {
        visitor.clone().try_get("/signin?lang=en")
    });
    record("GET recovery page", "fr", true, &mut || {
        resetting
            .clone()
            .try_get(&format!("/forgot-password?flow={flow}"))
    });
    record("GET recovery page ?lang=en", "en", true, &mut || {
        resetting
            .clone()
            .try_get(&format!("/forgot-password?flow={flow}&lang=en"))
    });
    record("GET /account", "fr", true, &mut || {
        signed_in.clone().try_get("/account")
    });
    record("GET /account (Accept-Language en)", "en", true, &mut || {
        english(&signed_in).try_get("/account")
    });
    record("POST sign in", "fr", true, &mut || {
        post(&mut visitor.clone(), &signin_action, &signin_fields)
    });
    record("POST sign in (Accept-Language en)", "en", true, &mut || {
        post(&mut english(&visitor), &signin_action, &signin_fields)
    });
    record("POST forgot password identify", "fr", true, &mut || {
        post(&mut visitor.clone(), &identify_action, &identify_fields)
    });
    record("POST new password", "fr", true, &mut || {
        post(&mut resetting.clone(), &reset_action, &reset_fields)
    });
    record(
        "POST new password (Accept-Language en)",
        "en",
        true,
        &mut || post(&mut english(&resetting), &reset_action, &reset_fields),
    );
    let mut problems = Vec::new();
    for (what, lang, reply, took, needs_db) in &outcomes {
        eprintln!(
            "outage: {what:40} {took:>10.1?} {}",
            describe(reply).chars().take(160).collect::<String>()
        );
        let Ok(reply) = reply else {
            problems.push(format!("{what}: no answer in {took:?}"));
            continue;
        };
        if *took > Duration::from_secs(10) {
            problems.push(format!("{what}: answered after {took:?}"));
        }
        if lang.is_empty() {
            if reply.status != 503 {
                problems.push(format!("{what}: {} instead of 503", reply.status));
            }
            continue;
        }
        let acceptable = if *needs_db {
            reply.status == 503
        } else {
            [200, 503].contains(&reply.status)
        };
        if !acceptable {
            problems.push(format!(
                "{what}: status {} (503 expected{})",
                reply.status,
                if *needs_db { "" } else { " or the page itself" }
            ));
        }
        if reply.status == 503 && !translated(reply, lang) {
            problems.push(format!("{what}: the 503 page is not a {lang} error page"));
        }
        if reply.status == 200 && !reply.body.contains(&format!("<html lang=\"{lang}\"")) {
            problems.push(format!("{what}: the page is not in {lang}"));
        }
    }

    proxy.restore();
    let back = Instant::now();
    wait_until(
        "the server to see the database again",
        Duration::from_secs(30),
        || healthy(port).then_some(()),
    );
    eprintln!(
        "database back; /healthz answered 200 after {:?}",
        back.elapsed()
    );

    // Nothing was half written during the outage.
    assert_eq!(db.password_hash(LOGIN), hash_before, "password unchanged");
    assert_eq!(db.flow_state(&flow).as_deref(), Some("new_password"));
    assert_eq!(
        db.count("SELECT COUNT(*) FROM flows"),
        flows_before,
        "no flow row"
    );
    assert_eq!(
        db.count("SELECT COUNT(*) FROM sessions"),
        sessions_before,
        "sessions untouched"
    );
    assert_eq!(notices(&db), notices_before, "no notice queued");

    // Everything works again, from the same browsers.
    assert_eq!(
        signed_in.get("/account").status,
        200,
        "the session survived"
    );
    let reply = post(&mut resetting, &reset_action, &reset_fields).expect("new password");
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(db.flow_state(&flow).as_deref(), Some("done"));
    let reply = sign_in(port, LOGIN, NEW_PASSWORD);
    assert_eq!(reply.location(), "/account", "the new password works");
    let mut password = NEW_PASSWORD.to_owned();

    // The connection carrying the reset's transaction is cut right after its BEGIN, then
    // right after its COMMIT, went to the database: all of the reset or none of it, and
    // never a success page for nothing saved (the committed reset answered with an error
    // page is a_committed_reset_whose_answer_was_lost_is_not_called_nothing_saved).
    for (round, statement) in [&b"BEGIN"[..], &b"COMMIT"[..]].into_iter().enumerate() {
        let what = String::from_utf8_lossy(statement).into_owned();
        let (mut browser, flow) = recovery_at_new_password(&server, &site, &db);
        let next = format!("Printemps-Rouge-{round}-2026!");
        let page = browser.get(&format!("/forgot-password?flow={flow}"));
        let (action, fields) = form(
            &page.body,
            RECOVERY,
            &[
                ("form[new_password]", next.as_str()),
                ("form[new_password_confirmation]", next.as_str()),
            ],
        );
        let hash_before = db.password_hash(LOGIN);
        let notices_before = notices(&db);
        proxy.cut_after(statement);
        let started = Instant::now();
        let reply = post(&mut browser, &action, &fields);
        let took = started.elapsed();
        assert!(proxy.triggered(), "no {what} went to the database");
        let done = db.flow_state(&flow).as_deref() == Some("done");
        let changed = db.password_hash(LOGIN) != hash_before;
        let noticed = notices(&db) > notices_before;
        eprintln!(
            "connection cut after the reset's {what}: {took:.1?} {} -> done {done}, password \
             changed {changed}, notice queued {noticed}",
            describe(&reply).chars().take(60).collect::<String>()
        );
        assert!(
            done == changed && changed == noticed,
            "a partial reset: flow done {done}, password changed {changed}, notice {noticed}"
        );
        match &reply {
            Ok(reply) if reply.status == 303 && !done => problems.push(format!(
                "cut after {what}: 303 (success) although nothing was saved"
            )),
            Ok(reply) if ![303, 503].contains(&reply.status) => {
                problems.push(format!("cut after {what}: {}", describe_reply(reply)))
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("cut after {what}: no answer ({e})")),
        }
        if changed {
            password = next;
        }
    }

    // The cut in the middle of the reset (after hashing, around its transaction): each
    // time, either all of it happened or none of it.
    for (round, delay_ms) in [0u64, 10, 20, 30, 40, 50, 60, 75, 90, 120, 160, 250]
        .into_iter()
        .enumerate()
    {
        let (mut browser, flow) = recovery_at_new_password(&server, &site, &db);
        let next = format!("Printemps-Bleu-{round}-2026!");
        let page = browser.get(&format!("/forgot-password?flow={flow}"));
        let (action, fields) = form(
            &page.body,
            RECOVERY,
            &[
                ("form[new_password]", next.as_str()),
                ("form[new_password_confirmation]", next.as_str()),
            ],
        );
        let hash_before = db.password_hash(LOGIN);
        let notices_before = notices(&db);
        let posting = std::thread::spawn(move || post(&mut browser, &action, &fields));
        std::thread::sleep(Duration::from_millis(delay_ms));
        proxy.cut();
        let reply = posting.join().expect("post");
        proxy.restore();
        wait_until("the database again", Duration::from_secs(30), || {
            healthy(port).then_some(())
        });
        let done = db.flow_state(&flow).as_deref() == Some("done");
        let changed = db.password_hash(LOGIN) != hash_before;
        // The notice is queued in the reset's transaction.
        let noticed = notices(&db) > notices_before;
        eprintln!(
            "cut {delay_ms:>3} ms into the new password post: {} -> done {done}, password changed {changed}, notice queued {noticed}",
            describe(&reply).chars().take(60).collect::<String>()
        );
        assert!(
            done == changed && changed == noticed,
            "a partial reset: flow done {done}, password changed {changed}, notice {noticed}"
        );
        if changed {
            password = next;
        }
    }
    let reply = sign_in(port, LOGIN, &password);
    assert_eq!(
        reply.location(),
        "/account",
        "the last password taken works"
    );

    drop(server);
    drop(db);
    drop(proxy);
    site.cleanup();
    assert!(
        problems.is_empty(),
        "during the outage:\n{}",
        problems.join("\n")
    );
}

/// The database stops answering (connections open, nothing comes back): requests that
/// need it answer 503 in bounded time instead of hanging, and all is well once it answers
/// again.
#[test]
fn database_that_stops_answering_gets_503_not_a_hang() {
    let name = "database_that_stops_answering_gets_503_not_a_hang";
    if !slow_tests(name) {
        return;
    }
    let Some(ProxiedSite { site, proxy }) = proxied_postgres(name) else {
        return;
    };
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let server = site.start();
    let port = server.port;
    let mut visitor = server.client();
    let forgot_page = visitor.get("/forgot-password");
    let (identify_action, identify_fields) =
        form(&forgot_page.body, RECOVERY, &[("form[identifier]", LOGIN)]);
    let (flow, _) = identify(&mut visitor, LOGIN);
    let flows_before = db.count("SELECT COUNT(*) FROM flows");

    proxy.freeze();
    eprintln!("database frozen");
    let requests: Vec<(&str, JoinHandle<Timed>)> = vec![
        ("GET /healthz", {
            std::thread::spawn(move || {
                let started = Instant::now();
                (Client::new(port).try_get("/healthz"), started.elapsed())
            })
        }),
        ("GET recovery page", {
            let mut client = visitor.clone();
            let path = format!("/forgot-password?flow={flow}");
            std::thread::spawn(move || {
                let started = Instant::now();
                (client.try_get(&path), started.elapsed())
            })
        }),
        ("POST forgot password identify", {
            let mut client = visitor.clone();
            let (action, fields) = (identify_action.clone(), identify_fields.clone());
            std::thread::spawn(move || {
                let started = Instant::now();
                (post(&mut client, &action, &fields), started.elapsed())
            })
        }),
    ];
    let mut problems = Vec::new();
    for (what, request) in requests {
        let (reply, took) = request.join().expect("request");
        eprintln!(
            "frozen: {what:32} {took:>10.1?} {}",
            describe(&reply).chars().take(120).collect::<String>()
        );
        match reply {
            Ok(reply) if reply.status == 503 && took < Duration::from_secs(15) => {
                if what != "GET /healthz" && !translated(&reply, "fr") {
                    problems.push(format!("{what}: 503 but not a French error page"));
                }
            }
            Ok(reply) => problems.push(format!("{what}: {} after {took:?}", reply.status)),
            Err(e) => problems.push(format!("{what}: no answer after {took:?} ({e})")),
        }
    }
    proxy.thaw();
    let back = Instant::now();
    wait_until(
        "the server to answer again",
        Duration::from_secs(60),
        || healthy(port).then_some(()),
    );
    eprintln!(
        "database answering again; /healthz 200 after {:?}",
        back.elapsed()
    );
    let (again, _) = identify(&mut visitor, LOGIN);
    assert_eq!(db.flow_state(&again).as_deref(), Some("choose"));
    assert!(db.count("SELECT COUNT(*) FROM flows") > flows_before);

    drop(server);
    drop(db);
    drop(proxy);
    site.cleanup();
    assert!(
        problems.is_empty(),
        "with the database frozen:\n{}",
        problems.join("\n")
    );
}

/// The database stops answering while a reset is in flight, its transaction open on a
/// connection taken from the pool (frozen right after BEGIN, then right after COMMIT, went
/// to the database): the answer must still come in bounded time (503), the reset
/// happened entirely or not at all, and once the database answers again no pooled
/// connection is left inside the abandoned transaction (`store::begin`).
#[test]
fn database_that_stops_answering_mid_request_gets_503_not_a_hang() {
    let name = "database_that_stops_answering_mid_request_gets_503_not_a_hang";
    if !slow_tests(name) {
        return;
    }
    let Some(ProxiedSite { site, proxy }) = proxied_postgres(name) else {
        return;
    };
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let server = site.start();
    let port = server.port;
    let mut problems = Vec::new();

    // Frozen while a reset is in flight: right after its transaction's BEGIN went to the
    // database (the request holds a connection), and right after its COMMIT went.
    let mut password = PASSWORD.to_owned();
    for (round, statement) in [&b"BEGIN"[..], &b"COMMIT"[..]].into_iter().enumerate() {
        let what = String::from_utf8_lossy(statement).into_owned();
        let (mut browser, flow) = recovery_at_new_password(&server, &site, &db);
        let next = format!("Printemps-Vert-{round}-2026!");
        let page = browser.get(&format!("/forgot-password?flow={flow}"));
        let (action, fields) = form(
            &page.body,
            RECOVERY,
            &[
                ("form[new_password]", next.as_str()),
                ("form[new_password_confirmation]", next.as_str()),
            ],
        );
        let hash_before = db.password_hash(LOGIN);
        let notices_before = notices(&db);
        proxy.freeze_after(statement);
        let posting = std::thread::spawn(move || {
            let started = Instant::now();
            (post(&mut browser, &action, &fields), started.elapsed())
        });
        let started = Instant::now();
        while !posting.is_finished() && started.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let answered_frozen = posting.is_finished();
        assert!(proxy.triggered(), "no {what} went to the database");
        proxy.thaw();
        let (reply, took) = posting.join().expect("post");
        wait_until("the database again", Duration::from_secs(60), || {
            healthy(port).then_some(())
        });
        // Nothing the cut-off request began may stay open on a pooled connection: the
        // statements run on it later would hold their locks and never be committed.
        let settled = Instant::now();
        let mut left_open = db.count(IDLE_IN_TRANSACTION);
        while left_open > 0 && settled.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(50));
            left_open = db.count(IDLE_IN_TRANSACTION);
        }
        assert_eq!(
            left_open, 0,
            "frozen after the reset's {what}: connections left inside a transaction after the \
             database came back"
        );
        let done = db.flow_state(&flow).as_deref() == Some("done");
        let changed = db.password_hash(LOGIN) != hash_before;
        let noticed = notices(&db) > notices_before;
        eprintln!(
            "frozen after the reset's {what}: answered {} after {took:.1?} ({}) -> done \
             {done}, password changed {changed}, notice queued {noticed}",
            if answered_frozen {
                "while frozen"
            } else {
                "only after the thaw"
            },
            describe(&reply).chars().take(40).collect::<String>()
        );
        if !answered_frozen {
            problems.push(format!(
                "frozen after the reset's {what}: no answer in 20 s (answered {took:.1?} after \
                 the post, once the database answered again)"
            ));
        } else if reply.as_ref().is_ok_and(|r| r.status != 503) {
            problems.push(format!(
                "frozen after the reset's {what}: {}",
                describe(&reply)
            ));
        }
        assert!(
            done == changed && changed == noticed,
            "a partial reset: flow done {done}, password changed {changed}, notice {noticed}"
        );
        if changed {
            password = next;
        }
    }
    let reply = sign_in(port, LOGIN, &password);
    assert_eq!(
        reply.location(),
        "/account",
        "the last password taken works"
    );
    drop(server);
    drop(db);
    drop(proxy);
    site.cleanup();
    assert!(
        problems.is_empty(),
        "with the database frozen mid-request:\n{}",
        problems.join("\n")
    );
}

/// The reset's COMMIT reaches the database, which carries it out, but the connection dies
/// before the answer comes back: the server cannot know, and must not tell the person that
/// nothing was saved (their password did change, their sessions ended, a notice left).
#[test]
fn a_committed_reset_whose_answer_was_lost_is_not_called_nothing_saved() {
    let name = "a_committed_reset_whose_answer_was_lost_is_not_called_nothing_saved";
    if !slow_tests(name) {
        return;
    }
    let Some(ProxiedSite { site, proxy }) = proxied_postgres(name) else {
        return;
    };
    site.create_person(LOGIN, ADDRESS);
    let db = site.db();
    let server = site.start();
    let (mut browser, flow) = recovery_at_new_password(&server, &site, &db);
    let page = browser.get(&format!("/forgot-password?flow={flow}"));
    let (action, fields) = form(
        &page.body,
        RECOVERY,
        &[
            ("form[new_password]", NEW_PASSWORD),
            ("form[new_password_confirmation]", NEW_PASSWORD),
        ],
    );
    proxy.cut_after(b"COMMIT");
    let reply = post(&mut browser, &action, &fields).expect("an answer");
    assert!(proxy.triggered(), "no COMMIT went to the database");
    assert_eq!(
        db.flow_state(&flow).as_deref(),
        Some("done"),
        "the COMMIT was carried out"
    );
    eprintln!(
        "COMMIT carried out, its answer lost: {}",
        describe_reply(&reply).chars().take(400).collect::<String>()
    );
    // The page may say the service is unavailable, never that nothing was saved.
    let nothing_saved = ["nothing was saved", "rien n'a été enregistré"];
    let body = unescape(&reply.body);
    drop(server);
    drop(db);
    drop(proxy);
    site.cleanup();
    assert!(
        !nothing_saved.iter().any(|text| body.contains(text)),
        "the person is told nothing was saved, but the reset was: {}",
        describe_reply(&reply)
    );
}

// =======================================================================================
// 4. A flood of 1,000 concurrent password submissions.

fn cookie_header(reply: &Reply) -> String {
    reply
        .headers
        .iter()
        .filter(|(name, _)| name == "set-cookie")
        .filter_map(|(_, value)| value.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

fn flood(port: u16, requests: Vec<Vec<u8>>) -> (BTreeMap<String, usize>, Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let started = Instant::now();
        let tasks: Vec<_> = requests
            .into_iter()
            .map(|raw| {
                tokio::spawn(async move {
                    let exchange = async {
                        let mut stream =
                            tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
                        stream.write_all(&raw).await?;
                        let mut answer = Vec::new();
                        stream.read_to_end(&mut answer).await?;
                        Ok::<_, std::io::Error>(answer)
                    };
                    match tokio::time::timeout(Duration::from_secs(120), exchange).await {
                        Err(_) => "timeout".to_owned(),
                        Ok(Err(e)) => format!("error {:?}", e.kind()),
                        Ok(Ok(answer)) => {
                            let text = String::from_utf8_lossy(&answer);
                            let status = text
                                .lines()
                                .next()
                                .and_then(|l| l.split_whitespace().nth(1))
                                .unwrap_or("no status")
                                .to_owned();
                            let location = text
                                .lines()
                                .take_while(|l| !l.is_empty())
                                .find_map(|l| {
                                    l.to_ascii_lowercase()
                                        .starts_with("location:")
                                        .then(|| l[9..].trim().to_owned())
                                })
                                .map(|l| l.split('?').next().unwrap_or_default().to_owned())
                                .unwrap_or_default();
                            format!("{status} {location}").trim().to_owned()
                        }
                    }
                })
            })
            .collect();
        let mut counts = BTreeMap::new();
        for task in tasks {
            let outcome = task.await.unwrap_or_else(|e| format!("task {e}"));
            *counts.entry(outcome).or_insert(0) += 1;
        }
        (counts, started.elapsed())
    })
}

#[test]
fn a_flood_of_1000_sign_ins_is_answered_with_bounded_memory() {
    if !slow_tests("a_flood_of_1000_sign_ins_is_answered_with_bounded_memory") {
        return;
    }
    let mut problems = Vec::new();
    for mut site in sites() {
        let engine = site.engine;
        site.extra = vec![
            ("SESAME_THROTTLE_SIGNIN_PER_ADDRESS", "1000000".into()),
            ("SESAME_THROTTLE_SIGNIN_PER_ACCOUNT", "1000000".into()),
        ];
        site.create_person(LOGIN, ADDRESS);
        let server = site.start();
        let port = server.port;
        let page = Client::new(port).get("/signin");
        let cookies = cookie_header(&page);
        let (action, hidden) = form(&page.body, "sign_in", &[]);
        let requests: Vec<Vec<u8>> = (0..1000)
            .map(|n| {
                let (login, password) = match n % 10 {
                    0 => (LOGIN.to_owned(), PASSWORD),
                    1..=5 => (LOGIN.to_owned(), "Mauvais-mot-de-passe-1!"),
                    _ => (format!("personne{n}"), "Mauvais-mot-de-passe-1!"),
                };
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(hidden.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .append_pair("login", &login)
                    .append_pair("password", password)
                    .finish();
                format!(
                    "POST {action} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nAccept: text/html\r\n\
                     Origin: http://127.0.0.1:{port}\r\nCookie: {cookies}\r\n\
                     Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                )
                .into_bytes()
            })
            .collect();
        let peak_before = server.peak_memory_kib().unwrap_or(0);
        let (counts, took) = flood(port, requests);
        let peak = server.peak_memory_kib().expect("VmHWM");
        eprintln!(
            "[{engine}] 1,000 concurrent sign-ins in {took:.1?}: {counts:?}; peak memory \
             {} MiB (before the flood {} MiB)",
            peak / 1024,
            peak_before / 1024
        );
        let unexpected: Vec<(&String, &usize)> = counts
            .iter()
            .filter(|(outcome, _)| {
                !["200", "303", "429", "503"]
                    .iter()
                    .any(|status| outcome.split(' ').next() == Some(status))
            })
            .collect();
        std::thread::sleep(Duration::from_secs(2));
        eprintln!(
            "[{engine}] resident memory 2 s after the flood: {} MiB",
            server.memory_kib().unwrap_or(0) / 1024
        );
        if !unexpected.is_empty() {
            problems.push(format!(
                "[{engine}] answers other than 200/303/429/503: {unexpected:?}; log tail: {}",
                site.server_log()
                    .lines()
                    .rev()
                    .take(20)
                    .collect::<Vec<_>>()
                    .join("\n")
            ));
        }
        if peak >= 200 * 1024 {
            problems.push(format!("[{engine}] peak memory {} MiB", peak / 1024));
        }
        // Still serving afterwards.
        assert!(healthy(port), "[{engine}] healthy after the flood");
        let reply = sign_in(port, LOGIN, PASSWORD);
        assert_eq!(
            reply.location(),
            "/account",
            "[{engine}] a sign-in afterwards"
        );
        drop(server);
        site.cleanup();
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
