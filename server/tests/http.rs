//! The router called in-process: pages, headers, language, CSRF, and the sign-in journey
//! as a browser without JavaScript performs it (form posts answered by redirects).

mod common;

use axum::body::Body;
use common::browser::{Browser, csrf, form_action, location, one_at_a_time};
use http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use sesame::{
    config::Config,
    http::{leptos_options, router},
    people::{PersonInput, create_person},
};
use tower::ServiceExt;

const PASSWORD: &str = "Vélo-rouge;Marmotte-93";

async fn portal() -> (common::TestSesame, Browser) {
    portal_with(|_| {}).await
}

/// The portal with one person, Marie Tremblay, after `configure` changed its settings.
async fn portal_with(configure: impl FnOnce(&mut Config)) -> (common::TestSesame, Browser) {
    let test = common::TestSesame::new(configure).await;
    create_person(
        &test.sesame,
        PersonInput {
            login: "mtremblay".into(),
            first_name: "Marie".into(),
            last_name: "Tremblay".into(),
            email: Some("marie@example.org".into()),
            category: "retiree".into(),
            language: "fr".into(),
            password: PASSWORD.into(),
        },
        "test",
    )
    .await
    .expect("person");
    let browser = Browser::new(router(test.sesame.clone(), leptos_options()));
    (test, browser)
}

#[tokio::test]
async fn pages_carry_strict_security_headers_and_a_nonce_for_the_hydration_script() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    // A page with an island (the bot check's solver), so it loads the client.
    let (response, html) = browser.get("/cant-sign-in").await;
    assert_eq!(response.status(), StatusCode::OK);
    let headers = response.headers();
    let csp = headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .expect("csp");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .expect("nonce in CSP");
    assert!(
        html.contains(&format!("<script type=\"module\" nonce=\"{nonce}\"")),
        "the client's loader carries the CSP nonce: {html}"
    );
    assert_eq!(headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert_eq!(headers[header::REFERRER_POLICY], "no-referrer");
    assert_eq!(headers[header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[header::CACHE_CONTROL], "no-store");
    assert!(headers.contains_key("x-request-id"));
    let device = headers[header::SET_COOKIE].to_str().expect("cookie");
    assert!(
        device.starts_with("sesame-device=")
            && device.contains("HttpOnly")
            && device.contains("SameSite=Lax")
    );
    assert!(html.contains("<html lang=\"fr\""), "French by default");
    assert!(html.contains("Université d&#x27;essai") || html.contains("Université d'essai"));
}

#[tokio::test]
async fn language_comes_from_the_url_the_cookie_or_the_browser() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (_, html) = browser.get("/?lang=en").await;
    assert!(html.contains("<html lang=\"en\""));
    assert!(html.contains("Test University"));

    let (response, _) = browser.get("/lang/en?next=/signin").await;
    assert_eq!(location(&response), "/signin");
    let (_, html) = browser.get("/signin").await;
    assert!(
        html.contains("<html lang=\"en\""),
        "the choice is kept in a cookie"
    );
    assert!(html.contains("User ID"));

    let (response, _) = browser.get("/lang/fr?next=//evil.example").await;
    assert_eq!(location(&response), "/", "never an open redirect");
    // Browsers drop the tab, which would leave `//evil.example`.
    let (response, _) = browser.get("/lang/fr?next=/%09/evil.example").await;
    assert_eq!(location(&response), "/", "no control characters");
    let (response, _) = browser
        .get("/lang/fr?next=/account/password%3Fflow%3Dabc")
        .await;
    assert_eq!(
        location(&response),
        "/account/password?flow=abc",
        "the flow kept"
    );

    let request = Request::get("/")
        .header(header::ACCEPT_LANGUAGE, "en-CA,en;q=0.8")
        .body(Body::empty())
        .expect("req");
    let (_, html) = Browser::new(browser.router.clone()).send(request).await;
    assert!(html.contains("<html lang=\"en\""));
}

#[tokio::test]
async fn health_answers_when_the_database_does() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (response, body) = browser.get("/healthz").await;
    assert_eq!((response.status(), body.as_str()), (StatusCode::OK, "ok\n"));
    let (response, _) = browser.get("/dev/mailbox").await;
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "no demo mailbox outside demo mode"
    );
}

#[tokio::test]
async fn sign_in_without_javascript_then_sign_out() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");

    let (response, _) = browser
        .post_form(
            &action,
            &[
                ("csrf", &token),
                ("login", "MTremblay "),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/account");
    let session = response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("sesame-session="))
        .expect("session cookie")
        .to_owned();
    assert!(
        session.contains("HttpOnly")
            && session.contains("SameSite=Lax")
            && !session.contains("Max-Age")
    );

    let (response, html) = browser.get("/account").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(html.contains("Marie Tremblay"), "{html}");
    assert!(
        html.contains("Avis d&#x27;utilisation autorisée")
            || html.contains("Avis d'utilisation autorisée")
    );

    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("count");
    assert_eq!(stored, 1);
    let token_in_cookie = session.split(['=', ';']).nth(1).expect("value");
    let raw: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE id_hash = $1")
        .bind(token_in_cookie)
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("count");
    assert_eq!(raw, 0, "the session id is stored hashed, never as sent");

    let sign_out = form_action(&html, "sign_out");
    let (response, _) = browser.post_form(&sign_out, &[("csrf", &token)]).await;
    assert_eq!(location(&response), "/?signed_out=1");
    let (response, _) = browser.get("/account").await;
    assert_eq!(
        location(&response),
        "/signin",
        "signed out: the account page sends to sign-in"
    );
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM audit_events ORDER BY at_ms, kind")
            .fetch_all(&test.sesame.store.pool)
            .await
            .expect("audit");
    assert!(
        kinds.contains(&"sign_in.succeeded".to_owned()) && kinds.contains(&"sign_out".to_owned()),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_login_get_the_same_answer() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");

    let mut pages = Vec::new();
    for login in ["mtremblay", "nobody1"] {
        let started = std::time::Instant::now();
        let (response, _) = browser
            .post_form(
                &action,
                &[
                    ("csrf", &token),
                    ("login", login),
                    ("password", "Wrong-password-123"),
                ],
            )
            .await;
        let elapsed = started.elapsed();
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{login}");
        let next = location(&response);
        assert!(next.starts_with("/signin?flow="), "{next}");
        let (_, page) = browser.get(&next).await;
        assert!(
            page.contains("Le code d&#x27;utilisateur ou le mot de passe est incorrect.")
                || page.contains("Le code d'utilisateur ou le mot de passe est incorrect.")
        );
        // Both paths run one argon2 verification: neither answers in a fraction of the other's time.
        assert!(
            elapsed.as_millis() > 5,
            "{login} answered in {elapsed:?}: no hash was computed"
        );
        let flow = next.trim_start_matches("/signin?flow=");
        pages.push(page.replace(flow, "FLOW").replace(login, "LOGIN"));
    }
    let strip = |page: &str| {
        // Nonces and resource ids differ per response; compare the visible main region.
        let start = page.find("<main").unwrap_or(0);
        let end = page.find("</main>").unwrap_or(page.len());
        page[start..end].to_owned()
    };
    assert_eq!(strip(&pages[0]), strip(&pages[1]));
}

#[tokio::test]
async fn another_browser_cannot_read_a_sign_in_flow() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let (response, _) = browser
        .post_form(
            &form_action(&html, "sign_in"),
            &[
                ("csrf", &csrf(&html)),
                ("login", "mtremblay"),
                ("password", "nope-nope-nope"),
            ],
        )
        .await;
    let next = location(&response);
    let mut stranger = Browser::new(router(test.sesame.clone(), leptos_options()));
    let (_, page) = stranger.get(&next).await;
    assert!(
        !page.contains("mtremblay"),
        "the typed login leaked to another browser"
    );
    assert!(!page.contains("error-summary"));
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_login() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    let mut last = String::new();
    for _ in 0..5 {
        let (response, _) = browser
            .post_form(
                &action,
                &[
                    ("csrf", &token),
                    ("login", "mtremblay"),
                    ("password", "Wrong-password-123"),
                ],
            )
            .await;
        last = location(&response);
    }
    let (_, page) = browser.get(&last).await;
    assert!(
        page.contains("Trop de tentatives. Réessayez dans 15 minute(s)"),
        "{page}"
    );
    // Locked: even the right password is refused until the lock ends.
    let (response, _) = browser
        .post_form(
            &action,
            &[
                ("csrf", &token),
                ("login", "mtremblay"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert!(location(&response).starts_with("/signin?flow="));
}

#[tokio::test]
async fn failures_per_address_count_an_ipv6_client_by_its_slash_64() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal_with(|config| {
        config.client_ip_header = "x-forwarded-for".into();
        config.throttle.signin_per_address = 3;
    })
    .await;
    let (_, html) = browser.get("/signin").await;
    let (token, action) = (csrf(&html), form_action(&html, "sign_in"));
    // Where a sign-in from `from` leads.
    async fn sign_in(
        browser: &mut Browser,
        form: (&str, &str),
        login: &str,
        password: &str,
        from: &str,
    ) -> String {
        let (token, action) = form;
        let fields = [("csrf", token), ("login", login), ("password", password)];
        let headers = [("x-forwarded-for", from)];
        location(&browser.post_form_with(action, &fields, &headers).await.0)
    }
    let form = (token.as_str(), action.as_str());
    // Three wrong passwords, for three user IDs, from three addresses of one /64.
    for (n, login) in ["nobody1", "nobody2", "nobody3"].into_iter().enumerate() {
        let from = format!("2001:db8:1:2::{}", n + 1);
        sign_in(&mut browser, form, login, "Wrong-password-123", &from).await;
    }
    // A fourth address of the same /64 is paused, even with the right password…
    let refused = sign_in(
        &mut browser,
        form,
        "mtremblay",
        PASSWORD,
        "2001:db8:1:2:ffff::9",
    )
    .await;
    assert!(refused.starts_with("/signin?flow="), "{refused}");
    // …and another /64 is not.
    let signed_in = sign_in(&mut browser, form, "mtremblay", PASSWORD, "2001:db8:1:3::1").await;
    assert!(
        !signed_in.is_empty() && !signed_in.starts_with("/signin"),
        "{signed_in}"
    );
}

#[tokio::test]
async fn state_changes_need_the_csrf_token_and_our_origin() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let action = form_action(&html, "sign_in");

    let (response, page) = browser
        .post_form(&action, &[("login", "mtremblay"), ("password", PASSWORD)])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(
        page.contains("Cette page a expiré"),
        "a translated page, not a raw error: {page}"
    );

    let (response, _) = browser
        .post_form(
            &action,
            &[
                ("csrf", "forged"),
                ("login", "mtremblay"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let body = format!("csrf={}&login=mtremblay&password=x", csrf(&html));
    let request = Request::post(&action)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::HOST, "127.0.0.1:3000")
        .header(header::ORIGIN, "https://evil.example")
        .header(header::COOKIE, browser.cookie_header())
        .body(Body::from(body))
        .expect("request");
    let (response, _) = browser.send(request).await;
    assert_eq!(
        response.status(),
        StatusCode::FORBIDDEN,
        "cross-site posts are refused"
    );
}

#[tokio::test]
async fn oversized_bodies_are_refused_early() {
    let _one_at_a_time = one_at_a_time().await;
    let (_test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let big = "x".repeat(1024 * 1024);
    let (response, _) = browser
        .post_form(
            &form_action(&html, "sign_in"),
            &[("csrf", &csrf(&html)), ("login", "a"), ("password", &big)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn a_flood_of_sign_ins_gets_503_with_retry_after_instead_of_piling_up() {
    let _one_at_a_time = one_at_a_time().await;
    let test = common::TestSesame::new(|config| {
        config.hashing.hash_concurrency = 1;
        config.hashing.hash_queue_timeout_ms = 1;
        config.throttle.signin_per_address = 10_000;
    })
    .await;
    let mut browser = Browser::new(router(test.sesame.clone(), leptos_options()));
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    let requests: Vec<_> = (0..12)
        .map(|n| {
            let router = browser.router.clone();
            let body = form_urlencoded::Serializer::new(String::new())
                .extend_pairs([
                    ("csrf", token.as_str()),
                    ("login", &format!("user{n}")),
                    ("password", "x"),
                ])
                .finish();
            let request = Request::post(&action)
                .header(header::ACCEPT, "text/html")
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(header::COOKIE, browser.cookie_header())
                .body(Body::from(body))
                .expect("request");
            tokio::spawn(async move { router.oneshot(request).await.expect("response") })
        })
        .collect();
    let mut statuses = Vec::new();
    let mut busy_page = None;
    for request in requests {
        let response = request.await.expect("join");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            assert!(
                response.headers().contains_key(header::RETRY_AFTER),
                "503 without Retry-After"
            );
            let bytes = response
                .into_body()
                .collect()
                .await
                .expect("body")
                .to_bytes();
            busy_page = Some(String::from_utf8_lossy(&bytes).into_owned());
            statuses.push(503);
        } else {
            statuses.push(response.status().as_u16());
        }
    }
    assert!(
        statuses.iter().all(|s| [303, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses.contains(&303) && statuses.contains(&503),
        "{statuses:?}"
    );
    let page = busy_page.expect("a busy page");
    assert!(
        page.contains("Le service est très sollicité"),
        "a translated page: {page}"
    );
}

#[tokio::test]
async fn activation_steps_work_as_plain_form_posts_and_links_wait_for_a_button() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    common::pending_with_letter(
        &test.sesame,
        "lpelletier",
        ("Luc", "Pelletier"),
        sesame::store::people::Category::Student,
        "K7QM-4PXR-WZ2D-9HTN",
    )
    .await;

    let (_, html) = browser.get("/activate").await;
    assert!(html.contains("Étape 1 sur 10"), "{html}");
    assert!(html.contains("autocomplete=\"username\""));
    let token = csrf(&html);
    let action = form_action(&html, "submit_activation");
    let (response, _) = browser
        .post_form(
            &action,
            &[
                ("csrf", &token),
                ("form[step]", "login"),
                ("form[login]", "lpelletier"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = location(&response);
    assert!(page.starts_with("/activate?flow="), "{page}");
    let flow = page.trim_start_matches("/activate?flow=").to_owned();

    let (_, html) = browser.get(&page).await;
    assert!(html.contains("Votre mot de passe provisoire"), "{html}");
    assert!(html.contains("autocomplete=\"current-password\""));
    for (fields, expected) in [
        (
            vec![
                ("form[step]", "password"),
                ("form[password]", "K7QM-4PXR-WZ2D-9HTN"),
            ],
            "Votre adresse courriel de secours",
        ),
        (
            vec![
                ("form[step]", "recovery_email"),
                ("form[email]", "luc@perso.example"),
                ("form[email_confirmation]", "luc@perso.example"),
            ],
            "Consultez vos courriels",
        ),
    ] {
        let mut fields = fields;
        fields.push(("csrf", &token));
        fields.push(("flow", &flow));
        let (response, _) = browser.post_form(&action, &fields).await;
        assert_eq!(location(&response), page);
        let (_, html) = browser.get(&page).await;
        assert!(html.contains(expected), "{expected}: {html}");
    }

    // The mailed link: opening it twice shows a button and uses nothing up.
    let body: String =
        sqlx::query_scalar("SELECT text_body FROM outbox WHERE recipient = 'luc@perso.example'")
            .fetch_one(&test.sesame.store.pool)
            .await
            .expect("mail");
    let link = body
        .lines()
        .find(|line| line.contains("/activate/link?token="))
        .expect("link");
    assert!(
        link.starts_with("http://127.0.0.1:3000/activate/link?token="),
        "{link}"
    );
    let path = link.trim_start_matches("http://127.0.0.1:3000");
    let link_token = path.trim_start_matches("/activate/link?token=");
    for _ in 0..2 {
        let (response, html) = browser.get(path).await;
        assert_eq!(response.status(), StatusCode::OK);
        assert!(html.contains("Confirmer et continuer"), "{html}");
    }
    let (_, html) = browser.get(path).await;
    let use_link = form_action(&html, "use_activation_link");
    let (response, _) = browser
        .post_form(&use_link, &[("csrf", &token), ("token", link_token)])
        .await;
    assert_eq!(location(&response), page);
    let (_, html) = browser.get(&page).await;
    assert!(html.contains("La charte informatique"), "{html}");
    // Used: the link now explains itself.
    let (_, html) = browser.get(path).await;
    assert!(html.contains("Ce lien ne fonctionne plus"), "{html}");
}

/// Signs `mtremblay` in as a browser without JavaScript does.
async fn sign_in(browser: &mut Browser) -> String {
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    let fields = [
        ("csrf", token.as_str()),
        ("login", "mtremblay"),
        ("password", PASSWORD),
    ];
    let (response, _) = browser.post_form(&action, &fields).await;
    assert_eq!(location(&response), "/account");
    token
}

/// The text of the element with this id, up to its closing tag.
fn element_text<'a>(html: &'a str, id: &str) -> &'a str {
    let marker = format!("id=\"{id}\"");
    let at = html.find(&marker).unwrap_or_else(|| panic!("no #{id}"));
    let start = at + html[at..].find('>').expect("end of the tag") + 1;
    let end = html[start..].find('<').expect("closing tag");
    &html[start..start + end]
}

#[tokio::test]
async fn an_authenticator_app_is_enrolled_with_plain_form_posts() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    let token = sign_in(&mut browser).await;
    let (response, html) = browser.get("/account/authenticator").await;
    assert_eq!(response.status(), StatusCode::OK);
    let action = form_action(&html, "change_authenticator");
    let start = [("csrf", token.as_str()), ("form[intent]", "start")];
    let (response, _) = browser.post_form(&action, &start).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let setup_page = location(&response);
    let flow = setup_page
        .strip_prefix("/account/authenticator?flow=")
        .expect("the setup page")
        .to_owned();
    let (_, html) = browser.get(&setup_page).await;
    assert!(html.contains("role=\"img\""), "the QR code is named");
    assert!(
        html.contains("<svg aria-hidden=\"true\""),
        "drawn by the server"
    );
    let key = element_text(&html, "authenticator-secret").replace(' ', "");
    let secret = totp_rs::Secret::Encoded(key).to_bytes().expect("base32");
    let code = sesame::crypto::totp::code_at(&secret, test.sesame.clock.now_secs()).expect("code");
    let confirm = [
        ("csrf", token.as_str()),
        ("flow", flow.as_str()),
        ("form[intent]", "confirm"),
        ("form[code]", code.as_str()),
    ];
    let (response, _) = browser.post_form(&action, &confirm).await;
    assert_eq!(location(&response), "/account/authenticator?saved=1");
    let (_, html) = browser.get("/account/authenticator?saved=1").await;
    assert!(html.contains("role=\"status\""), "{html}");
    let enrolled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM authenticators")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("count");
    assert_eq!(enrolled, 1);
    // Without the CSRF token, removing it is refused.
    let (response, _) = browser
        .post_form(&action, &[("form[intent]", "remove")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let remove = [("csrf", token.as_str()), ("form[intent]", "remove")];
    let (response, _) = browser.post_form(&action, &remove).await;
    assert_eq!(location(&response), "/account/authenticator?removed=1");
}

#[tokio::test]
async fn the_recovery_email_changes_with_plain_form_posts() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    let token = sign_in(&mut browser).await;
    let (_, html) = browser.get("/account/email").await;
    assert!(html.contains("autocomplete=\"current-password\""));
    let action = form_action(&html, "change_recovery_email");
    let request = [
        ("csrf", token.as_str()),
        ("form[step]", "enter"),
        ("form[email]", "marie@perso.example"),
        ("form[email_confirmation]", "marie@perso.example"),
        ("form[current_password]", PASSWORD),
    ];
    let (response, _) = browser.post_form(&action, &request).await;
    let check_page = location(&response);
    let flow = check_page
        .strip_prefix("/account/email?flow=")
        .expect("the code page")
        .to_owned();
    let (_, html) = browser.get(&check_page).await;
    assert!(html.contains("autocomplete=\"one-time-code\""));
    let body: String = sqlx::query_scalar("SELECT text_body FROM outbox WHERE recipient = $1")
        .bind("marie@perso.example")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("the code mail");
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("code")
        .to_owned();
    let confirm = [
        ("csrf", token.as_str()),
        ("flow", flow.as_str()),
        ("form[step]", "check"),
        ("form[code]", code.as_str()),
    ];
    let (response, _) = browser.post_form(&action, &confirm).await;
    assert_eq!(location(&response), "/account/email?saved=1");
    let (_, html) = browser.get("/account/email?saved=1").await;
    assert!(html.contains("marie@perso.example"), "{html}");
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or(0.0)
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_flows_for_this_host_or_the_token_only() {
    let _one_at_a_time = one_at_a_time().await;
    let test = common::TestSesame::new(|config| {
        config.client_ip_header = "x-forwarded-for".into();
        config.metrics.token = "scrape-token".into();
    })
    .await;
    let mut browser = Browser::new(router(test.sesame.clone(), leptos_options()));
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    browser
        .post_form(
            &action,
            &[
                ("csrf", &token),
                ("login", "nobody"),
                ("password", PASSWORD),
            ],
        )
        .await;

    let (response, text) = browser.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK, "loopback reads them");
    assert!(
        response.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap_or("")
            .starts_with("text/plain; version=0.0.4")
    );
    assert!(
        metric(
            &text,
            r#"sesame_http_requests_total{route="/signin",method="GET",status="200"}"#
        ) >= 1.0,
        "requests are labelled by route pattern: {text}"
    );
    assert!(
        text.contains(r#"sesame_http_request_duration_seconds_bucket{route="/signin",le="+Inf"}"#)
    );
    assert!(text.contains("\nsesame_mail_outbox_depth 0\n"), "{text}");
    assert!(text.contains("\nsesame_password_hash_queue_depth 0\n"));
    assert!(text.contains("# TYPE sesame_flows_started_total counter"));
    assert!(text.contains("# TYPE sesame_throttle_hits_total counter"));

    let from = |who: &str, authorization: Option<&str>| {
        let mut request = Request::get("/metrics").header("x-forwarded-for", who);
        if let Some(value) = authorization {
            request = request.header(header::AUTHORIZATION, value);
        }
        request.body(Body::empty()).expect("request")
    };
    let (response, body) = browser.send(from("203.0.113.7", None)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND, "{body}");
    let (response, _) = browser
        .send(from("203.0.113.7", Some("Bearer wrong")))
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (response, body) = browser
        .send(from("203.0.113.7", Some("Bearer scrape-token")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(body.contains("sesame_http_requests_total"));
}

#[tokio::test]
async fn a_database_out_of_reach_gets_a_translated_503_page_with_the_request_id() {
    let _one_at_a_time = one_at_a_time().await;
    let (test, mut browser) = portal().await;
    let (_, html) = browser.get("/signin").await;
    let token = csrf(&html);
    let action = form_action(&html, "sign_in");
    test.sesame.store.pool.close().await;

    let (response, page) = browser
        .post_form(
            &action,
            &[
                ("csrf", &token),
                ("login", "mtremblay"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(response.headers().contains_key(header::RETRY_AFTER));
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    assert!(
        page.contains(&request_id),
        "the page names the request: {page}"
    );
    assert!(
        page.contains("momentanément indisponible"),
        "in the page's language: {page}"
    );

    let (response, page) = browser.get("/forgot-password?flow=abc&lang=en").await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{page}");
    assert!(page.contains("temporarily unavailable"), "{page}");
}
