//! "My account" settings: changing the password (the current one first, refusals counted,
//! a race between two tabs, other sessions ended, a notice mailed), signing in (a right
//! password forgets the wrong ones before it), the sessions page
//! (listed with this browser first, one ended, all others ended), and linking an account
//! of a real LDAP directory (`common/slapd.rs`) that then receives the changed password.

mod common;
#[path = "common/slapd.rs"]
mod slapd;

use app::{
    api::{
        account::{AccountSettingsApi, LinkAccountForm, PasswordChangeForm},
        linked::{PushOutcome, PushReport},
        portal::LocalizedText,
        signin::{SignInApi, SignInOutcome},
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::{ACCOUNT_PASSWORD, TestSesame, signed_in};
use sesame::{
    config::LinkedSystemConfig,
    flows::{account::AccountSettings, signin::SignInFlow},
    store::{people::Category, sessions},
};

const NEW_PASSWORD: &str = "Nouveau-mot-de-passe-2026";

fn meta(session: &str, device: &str, user_agent: &str) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.41".parse().expect("ip"),
        user_agent: user_agent.into(),
        locale: Locale::En,
        device_id: device.into(),
        session_token: Some(session.to_owned()),
        secure: false,
    }
}

fn form(current: &str, new: &str, confirmation: &str) -> PasswordChangeForm {
    PasswordChangeForm {
        current_password: Some(current.into()),
        new_password: Some(new.into()),
        new_password_confirmation: Some(confirmation.into()),
    }
}

async fn person_id(test: &TestSesame, login: &str) -> String {
    sqlx::query_scalar("SELECT id FROM people WHERE login = $1")
        .bind(login)
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("person")
}

/// Opens another session for the person, as another browser would.
async fn another_session(test: &TestSesame, person: &str, token: &str, user_agent: &str) {
    let now = test.sesame.clock.now_secs();
    sessions::insert(
        &test.sesame.store.pool,
        &sessions::NewSession {
            id_hash: &test.sesame.key.keyed_hash("session", token),
            person_id: person,
            expires_at: now + 3600,
            client_ip: "198.51.100.7",
            user_agent,
        },
        now,
    )
    .await
    .expect("session");
}

async fn password_matches(test: &TestSesame, login: &str, password: &str) -> bool {
    let hash: Option<String> =
        sqlx::query_scalar("SELECT password_hash FROM people WHERE login = $1")
            .bind(login)
            .fetch_one(&test.sesame.store.pool)
            .await
            .expect("hash");
    test.sesame
        .hasher
        .verify(hash.as_deref(), password)
        .await
        .expect("verify")
}

async fn audit_outcomes(test: &TestSesame, kind: &str) -> Vec<String> {
    let details: Vec<String> =
        sqlx::query_scalar("SELECT detail FROM audit_events WHERE kind = $1 ORDER BY at_ms, rowid")
            .bind(kind)
            .fetch_all(&test.sesame.store.pool)
            .await
            .expect("audit");
    details
        .iter()
        .filter_map(|d| serde_json::from_str::<serde_json::Value>(d).ok())
        .filter_map(|d| d["outcome"].as_str().map(str::to_owned))
        .collect()
}

#[tokio::test]
async fn a_password_change_takes_the_current_password_and_ends_the_other_sessions() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "jroy", Category::PermanentStaff).await;
    let person = person_id(&test, "jroy").await;
    another_session(&test, &person, "token-phone", "phone").await;
    let settings = AccountSettings(test.sesame.clone());
    let m = meta(&token, "laptop", "laptop");

    let refusals = [
        (
            form("", NEW_PASSWORD, NEW_PASSWORD),
            Msg::PasswordChangeCurrentRequired,
        ),
        (
            form("wrong-password", NEW_PASSWORD, NEW_PASSWORD),
            Msg::PasswordChangeCurrentWrong,
        ),
        (
            form(ACCOUNT_PASSWORD, NEW_PASSWORD, "something else"),
            Msg::ActivationPasswordMismatch,
        ),
        (
            form(ACCOUNT_PASSWORD, "short", "short"),
            Msg::ActivationPasswordWeak,
        ),
        (
            form(ACCOUNT_PASSWORD, ACCOUNT_PASSWORD, ACCOUNT_PASSWORD),
            Msg::PasswordChangeSame,
        ),
    ];
    for (refused, message) in refusals {
        let flow = settings.change_password(&m, refused).await.expect("change");
        let view = settings.password_view(&m, flow).await.expect("view");
        assert!(!view.done, "{message:?}");
        assert_eq!(view.error.map(|e| e.message), Some(message));
    }
    assert!(password_matches(&test, "jroy", ACCOUNT_PASSWORD).await);
    assert_eq!(
        sessions::count_for(&test.sesame.store.pool, &person)
            .await
            .expect("count"),
        2
    );

    let flow = settings
        .change_password(&m, form(ACCOUNT_PASSWORD, NEW_PASSWORD, NEW_PASSWORD))
        .await
        .expect("change");
    let view = settings
        .password_view(&m, flow.clone())
        .await
        .expect("view");
    assert!(view.done, "{view:?}");
    assert_eq!(view.sessions_ended, 1);
    assert!(view.pushes.is_empty(), "no linked account");
    assert!(password_matches(&test, "jroy", NEW_PASSWORD).await);
    assert!(!password_matches(&test, "jroy", ACCOUNT_PASSWORD).await);
    // This browser stays signed in; the phone is signed out.
    assert_eq!(
        sessions::count_for(&test.sesame.store.pool, &person)
            .await
            .expect("count"),
        1
    );
    assert!(
        settings
            .sessions_view(&m)
            .await
            .expect("sessions")
            .signed_in
    );

    // Another browser cannot read this outcome.
    let elsewhere = meta(&token, "another-browser", "laptop");
    let view = settings
        .password_view(&elsewhere, flow)
        .await
        .expect("view");
    assert!(!view.done);

    let notice: Vec<String> =
        sqlx::query_scalar("SELECT text_body FROM outbox WHERE recipient = $1")
            .bind("jroy@example.org")
            .fetch_all(&test.sesame.store.pool)
            .await
            .expect("outbox");
    assert!(
        notice
            .iter()
            .any(|body| body.contains("My account") && body.contains("jroy")),
        "{notice:?}"
    );
    assert_eq!(
        audit_outcomes(&test, "password.changed").await,
        ["wrong_password", "changed"]
    );
}

#[tokio::test]
async fn wrong_current_passwords_lock_the_change_for_a_while() {
    let test = TestSesame::new(|config| config.throttle.signin_per_account = 3).await;
    let token = signed_in(&test, "mtremblay", Category::PermanentStaff).await;
    let settings = AccountSettings(test.sesame.clone());
    let m = meta(&token, "laptop", "laptop");
    let mut last = None;
    for _ in 0..4 {
        let flow = settings
            .change_password(&m, form("not-the-password", NEW_PASSWORD, NEW_PASSWORD))
            .await
            .expect("change");
        last = settings.password_view(&m, flow).await.expect("view").error;
    }
    let last = last.expect("refused");
    assert_eq!(last.message, Msg::PasswordChangeThrottled);
    assert!(last.retry_minutes.is_some());
    // Even the right password waits for the lock to pass.
    let flow = settings
        .change_password(&m, form(ACCOUNT_PASSWORD, NEW_PASSWORD, NEW_PASSWORD))
        .await
        .expect("change");
    let view = settings.password_view(&m, flow).await.expect("view");
    assert_eq!(
        view.error.map(|e| e.message),
        Some(Msg::PasswordChangeThrottled)
    );
    assert!(password_matches(&test, "mtremblay", ACCOUNT_PASSWORD).await);
}

#[tokio::test]
async fn a_sign_in_forgets_the_wrong_passwords_typed_before_it() {
    let test = TestSesame::new(|config| config.throttle.signin_per_account = 3).await;
    signed_in(&test, "mtremblay", Category::PermanentStaff).await;
    let flow = SignInFlow(test.sesame.clone());
    let m = RequestMeta {
        session_token: None,
        ..meta("", "laptop", "laptop")
    };
    let attempt = async |password: &str| {
        let outcome = flow
            .sign_in(&m, "mtremblay".into(), password.into(), None)
            .await
            .expect("sign in");
        matches!(outcome, SignInOutcome::SignedIn { .. })
    };
    // Two wrong, then the right one, three times: six wrong in all, never three in a row.
    for round in 0..3 {
        assert!(!attempt("not-the-password").await);
        assert!(!attempt("still-not-it").await);
        assert!(attempt(ACCOUNT_PASSWORD).await, "round {round}");
    }
    // Three in a row lock the account: even the right password waits.
    for _ in 0..3 {
        assert!(!attempt("not-the-password").await);
    }
    assert!(!attempt(ACCOUNT_PASSWORD).await);
}

#[tokio::test]
async fn of_two_changes_racing_from_two_tabs_exactly_one_wins() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "lgagnon", Category::PermanentStaff).await;
    let settings = AccountSettings(test.sesame.clone());
    let passwords = ["Premier-onglet-gagne-2026", "Second-onglet-gagne-2026"];
    let attempts = passwords.map(|new| {
        let settings = AccountSettings(test.sesame.clone());
        let m = meta(&token, "laptop", "laptop");
        tokio::spawn(async move {
            let flow = settings
                .change_password(&m, form(ACCOUNT_PASSWORD, new, new))
                .await
                .expect("change");
            settings.password_view(&m, flow).await.expect("view").done
        })
    });
    let mut done = 0;
    for attempt in attempts {
        done += usize::from(attempt.await.expect("join"));
    }
    assert_eq!(done, 1);
    let mut matching = 0;
    for password in passwords {
        matching += usize::from(password_matches(&test, "lgagnon", password).await);
    }
    assert_eq!(matching, 1);
    drop(settings);
}

#[tokio::test]
async fn sessions_are_listed_and_ended_one_at_a_time_or_all_but_this_one() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "acote", Category::PermanentStaff).await;
    let person = person_id(&test, "acote").await;
    let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0";
    let iphone = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
    test.clock.advance(jiff::SignedDuration::from_mins(5));
    another_session(&test, &person, "token-firefox", firefox).await;
    another_session(&test, &person, "token-iphone", iphone).await;
    // Someone else's session is never listed nor ended from here.
    let other = signed_in(&test, "autre", Category::PermanentStaff).await;
    let settings = AccountSettings(test.sesame.clone());
    let m = meta(&token, "laptop", "laptop");

    let view = settings.sessions_view(&m).await.expect("sessions");
    assert_eq!(view.sessions.len(), 3);
    assert!(view.sessions[0].current, "this browser first");
    // Seen now (this very request), signed in five minutes ago.
    assert_eq!(view.sessions[0].last_seen_minutes_ago, 0);
    assert_eq!(view.sessions[0].signed_in_minutes_ago, 5);
    let phone = view
        .sessions
        .iter()
        .find(|s| s.system.as_deref() == Some("iOS"))
        .expect("the iPhone");
    assert_eq!(phone.browser.as_deref(), Some("Safari"));
    assert_eq!(phone.address, "198.51.100.7");
    assert!(view.sessions.iter().all(|s| !s.handle.contains("token")));

    let other_view = settings
        .sessions_view(&meta(&other, "other", "other"))
        .await
        .expect("sessions");
    let foreign = other_view.sessions[0].handle.clone();
    assert_eq!(
        settings.end_sessions(&m, Some(foreign)).await.expect("end"),
        0
    );

    assert_eq!(
        settings
            .end_sessions(&m, Some(phone.handle.clone()))
            .await
            .expect("end"),
        1
    );
    // Ending it again (a second click) does nothing.
    assert_eq!(
        settings
            .end_sessions(&m, Some(phone.handle.clone()))
            .await
            .expect("end"),
        0
    );
    assert_eq!(
        settings
            .sessions_view(&m)
            .await
            .expect("sessions")
            .sessions
            .len(),
        2
    );

    assert_eq!(settings.end_sessions(&m, None).await.expect("end"), 1);
    let view = settings.sessions_view(&m).await.expect("sessions");
    assert_eq!(view.sessions.len(), 1);
    assert!(view.sessions[0].current);
    assert_eq!(
        sessions::count_for(&test.sesame.store.pool, &person)
            .await
            .expect("count"),
        1
    );
    assert_eq!(
        settings
            .sessions_view(&meta(&other, "other", "other"))
            .await
            .expect("sessions")
            .sessions
            .len(),
        1
    );

    // Signed out: nothing to see, and ending is refused.
    let signed_out = meta("no-such-session", "laptop", "laptop");
    assert!(
        !settings
            .sessions_view(&signed_out)
            .await
            .expect("view")
            .signed_in
    );
    assert!(settings.end_sessions(&signed_out, None).await.is_err());
}

fn link_form(intent: Option<&str>, account: &str, password: &str) -> LinkAccountForm {
    LinkAccountForm {
        system: "corp".into(),
        intent: intent.map(str::to_owned),
        account: Some(account.into()),
        password: Some(password.into()),
    }
}

#[tokio::test]
async fn a_directory_account_is_linked_from_the_page_and_receives_the_changed_password() {
    let Some(directory) = slapd::Slapd::start().await else {
        return;
    };
    let url = directory.url();
    let test = TestSesame::new(|config| {
        let corp = LinkedSystemConfig {
            kind: "ldap".into(),
            name: LocalizedText {
                fr: "Annuaire".into(),
                en: "Directory".into(),
            },
            url,
            user_dn: slapd::USER_DN.into(),
            push_password: true,
            service_dn: slapd::SERVICE_DN.into(),
            service_password: slapd::SERVICE_PASSWORD.into(),
            timeout_secs: 2,
            ..LinkedSystemConfig::default()
        };
        config.linked_systems.insert("corp".into(), corp);
    })
    .await;
    let token = signed_in(&test, "jroy", Category::PermanentStaff).await;
    let settings = AccountSettings(test.sesame.clone());
    let m = meta(&token, "laptop", "laptop");
    let (alice, alice_password) = slapd::ALICE;

    let view = settings.linked_view(&m, None).await.expect("view");
    assert_eq!(view.systems.len(), 1);
    assert_eq!(view.systems[0].linked_account, None);
    assert!(view.systems[0].receives_password);

    let refusals = [
        (
            link_form(None, "", "x"),
            Msg::LinkedAccountRequired,
            "account-corp",
        ),
        (
            link_form(None, alice, ""),
            Msg::LinkedPasswordRequired,
            "password-corp",
        ),
        (
            link_form(None, alice, "not-hers"),
            Msg::LinkedWrongCredentials,
            "password-corp",
        ),
    ];
    for (form, message, field) in refusals {
        let flow = settings.link(&m, form).await.expect("link");
        let view = settings.linked_view(&m, flow).await.expect("view");
        let error = view.error.expect("refused");
        assert_eq!(
            (error.message, error.field.as_deref()),
            (message, Some(field))
        );
        assert_eq!(view.refused_system.as_deref(), Some("corp"));
        assert_eq!(view.systems[0].linked_account, None);
    }

    let flow = settings
        .link(&m, link_form(None, &format!(" {alice} "), alice_password))
        .await
        .expect("link");
    let view = settings.linked_view(&m, flow).await.expect("view");
    assert_eq!(view.error, None);
    assert_eq!(view.notice, Some(Msg::LinkedAdded));
    assert_eq!(view.systems[0].linked_account.as_deref(), Some(alice));

    let flow = settings
        .change_password(&m, form(ACCOUNT_PASSWORD, NEW_PASSWORD, NEW_PASSWORD))
        .await
        .expect("change");
    let view = settings.password_view(&m, flow).await.expect("view");
    assert!(view.done);
    assert_eq!(
        view.pushes,
        [PushReport {
            system_id: "corp".into(),
            system_name: LocalizedText {
                fr: "Annuaire".into(),
                en: "Directory".into(),
            },
            outcome: PushOutcome::Updated,
        }]
    );
    let dn = slapd::Slapd::user_dn(alice);
    assert!(directory.can_bind(&dn, NEW_PASSWORD).await);
    assert!(!directory.can_bind(&dn, alice_password).await);

    let flow = settings
        .link(&m, link_form(Some("unlink"), "", ""))
        .await
        .expect("unlink");
    let view = settings.linked_view(&m, flow).await.expect("view");
    assert_eq!(view.notice, Some(Msg::LinkedRemoved));
    assert_eq!(view.systems[0].linked_account, None);
}
