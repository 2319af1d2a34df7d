//! The activation flow (seed 001) through its contract, with a manual clock: every step,
//! every refusal, links on another device, resuming, expiry.

mod common;

use std::sync::Arc;

use app::{
    api::{
        AppError,
        activation::{
            ActivationApi, ActivationInput, ActivationStep, ActivationView, LinkState, MailboxOffer,
        },
        signin::{SignInApi, SignInOutcome},
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::TestSesame;
use sesame::{
    flows::{activation::ActivationFlow, signin::SignInFlow},
    store::people::Category,
};

const PROVISIONAL: &str = "K7QM-4PXR-WZ2D-9HTN";
const NEW_PASSWORD: &str = "Lac-Brome;Huard-2026";

fn meta(device: &str) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.10".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::Fr,
        device_id: device.into(),
        session_token: None,
        secure: false,
    }
}

struct Activation {
    test: TestSesame,
    flow: Arc<ActivationFlow>,
}

impl Activation {
    async fn new() -> Activation {
        Activation::with(|_| {}).await
    }

    async fn with(tune: impl FnOnce(&mut sesame::config::Config)) -> Activation {
        let test = TestSesame::new(|config| {
            config.activation.mailbox_pattern = "{first}.{last}@univ.example".into();
            tune(config);
        })
        .await;
        let flow = Arc::new(ActivationFlow(test.sesame.clone()));
        Activation { test, flow }
    }

    /// A pending person with a letter (provisional password valid 60 days).
    async fn person(&self, login: &str, first: &str, last: &str, category: Category) -> String {
        common::pending_with_letter(
            &self.test.sesame,
            login,
            (first, last),
            category,
            PROVISIONAL,
        )
        .await
    }

    async fn submit(&self, device: &str, flow: Option<&str>, input: ActivationInput) -> String {
        self.flow
            .submit(&meta(device), flow.map(str::to_owned), input)
            .await
            .expect("submit")
    }

    async fn view(&self, device: &str, flow: &str) -> ActivationView {
        self.flow
            .view(&meta(device), Some(flow.to_owned()))
            .await
            .expect("view")
    }

    /// Steps 1 and 2 on `device`.
    async fn identify(&self, device: &str, login: &str, password: &str) -> String {
        let flow = self
            .submit(
                device,
                None,
                ActivationInput::Login {
                    login: login.into(),
                },
            )
            .await;
        self.submit(
            device,
            Some(&flow),
            ActivationInput::ProvisionalPassword {
                password: password.into(),
            },
        )
        .await
    }

    /// The link token and the code of the last mail sent to `to`.
    async fn last_mail(&self, to: &str) -> (String, String) {
        let body: String = sqlx::query_scalar(
            "SELECT text_body FROM outbox WHERE recipient = $1 ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .bind(to)
        .fetch_one(&self.test.sesame.store.pool)
        .await
        .expect("a mail");
        let token = body
            .split("token=")
            .nth(1)
            .expect("a link")
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        // The code ends its line ("… : 123456"); the link is a line of its own.
        let code = body
            .lines()
            .filter_map(|line| line.trim().rsplit(' ').next())
            .find(|word| word.len() == 6 && word.chars().all(|c| c.is_ascii_digit()))
            .expect("a code")
            .to_owned();
        (token, code)
    }

    async fn mails_to(&self, to: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE recipient = $1")
            .bind(to)
            .fetch_one(&self.test.sesame.store.pool)
            .await
            .expect("count")
    }

    async fn column(&self, id: &str, column: &str) -> Option<String> {
        sqlx::query_scalar(&format!(
            "SELECT CAST({column} AS TEXT) FROM people WHERE id = $1"
        ))
        .bind(id)
        .fetch_one(&self.test.sesame.store.pool)
        .await
        .expect("column")
    }

    /// Steps 3 and 4 with the code: the flow is then at the charter.
    async fn verify_recovery(&self, device: &str, flow: &str, email: &str) {
        self.submit(
            device,
            Some(flow),
            ActivationInput::RecoveryEmail {
                email: email.into(),
                confirmation: email.into(),
            },
        )
        .await;
        let (_, code) = self.last_mail(email).await;
        self.submit(
            device,
            Some(flow),
            ActivationInput::Code {
                step: ActivationStep::CheckEmail,
                code,
            },
        )
        .await;
        assert_eq!(self.view(device, flow).await.step, ActivationStep::Charter);
    }
}

fn error_of(view: &ActivationView) -> Option<Msg> {
    view.error.as_ref().map(|e| e.message)
}

#[tokio::test]
async fn a_permanent_staff_member_activates_with_a_mailbox_forwarded_elsewhere() {
    let a = Activation::new().await;
    let id = a
        .person(
            "mtremblay",
            "Marie-Ève",
            "Tremblay",
            Category::PermanentStaff,
        )
        .await;

    // 1-2: the letter's login and provisional password.
    let flow = a.identify("phone", "MTremblay ", PROVISIONAL).await;
    let view = a.view("phone", &flow).await;
    assert_eq!(view.step, ActivationStep::RecoveryEmail);
    assert_eq!(view.login, "mtremblay");

    // 3: the confirmation must match.
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::RecoveryEmail {
            email: "marie@perso.example".into(),
            confirmation: "mary@perso.example".into(),
        },
    )
    .await;
    let view = a.view("phone", &flow).await;
    assert_eq!(error_of(&view), Some(Msg::EmailMismatch));
    assert_eq!(
        view.recovery_email, "marie@perso.example",
        "kept for the retry"
    );
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::RecoveryEmail {
            email: "marie@perso.example".into(),
            confirmation: "Marie@Perso.example".into(),
        },
    )
    .await;
    let view = a.view("phone", &flow).await;
    assert_eq!(view.step, ActivationStep::CheckEmail);
    assert_eq!(view.sent_to, "marie@perso.example");
    assert_eq!(
        view.link_deadline, "23:59",
        "10:00 in Montréal: until 23:59"
    );
    assert_eq!(view.sends_left, 2);

    // 4: a wrong code costs a try; the right one moves on.
    let (_, code) = a.last_mail("marie@perso.example").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code: wrong.into(),
        },
    )
    .await;
    let view = a.view("phone", &flow).await;
    assert_eq!(error_of(&view), Some(Msg::ActivationCodeWrong));
    assert_eq!(view.error.as_ref().and_then(|e| e.tries_left), Some(4));
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code: format!("{} {}", &code[..3], &code[3..]),
        },
    )
    .await;
    assert_eq!(a.view("phone", &flow).await.step, ActivationStep::Charter);
    assert_eq!(
        a.column(&id, "recovery_email").await.as_deref(),
        Some("marie@perso.example")
    );

    // 5: the charter must be accepted; its version and time are stored.
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Charter { accepted: false },
    )
    .await;
    let view = a.view("phone", &flow).await;
    assert_eq!(error_of(&view), Some(Msg::ActivationCharterRequired));
    assert!(!view.charter_text.is_empty());
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Charter { accepted: true },
    )
    .await;
    assert_eq!(
        a.column(&id, "charter_version").await.as_deref(),
        Some("2024-09")
    );
    assert!(a.column(&id, "charter_accepted_at").await.is_some());

    // 6: yes or no is required, and stored.
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Directory { consent: None },
    )
    .await;
    assert_eq!(
        error_of(&a.view("phone", &flow).await),
        Some(Msg::ActivationDirectoryRequired)
    );
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Directory {
            consent: Some(true),
        },
    )
    .await;
    assert_eq!(
        a.column(&id, "directory_consent").await.as_deref(),
        Some("1")
    );

    // 7: a mailbox from the pattern; forwarding defaults to the recovery email.
    let view = a.view("phone", &flow).await;
    assert_eq!(view.step, ActivationStep::Mailbox);
    assert_eq!(
        view.mailbox,
        Some(MailboxOffer::Mailbox {
            address: "marie-eve.tremblay@univ.example".into()
        })
    );
    assert_eq!(view.forward_to, "marie@perso.example");
    assert!(view.keep_copy, "keeping a copy is the default");
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Mailbox {
            forward: true,
            forward_to: "marie@travail.example".into(),
            keep_copy: true,
        },
    )
    .await;

    // 8: a different address is verified by its own link, here opened on a desktop.
    let view = a.view("phone", &flow).await;
    assert_eq!(view.step, ActivationStep::CheckForwardEmail);
    assert_eq!(view.sent_to, "marie@travail.example");
    let (token, _) = a.last_mail("marie@travail.example").await;
    let desktop = meta("desktop");
    assert_eq!(
        a.flow
            .link_state(&desktop, token.clone())
            .await
            .expect("state"),
        LinkState::Usable
    );
    assert_eq!(
        a.flow
            .link_state(&desktop, token.clone())
            .await
            .expect("state"),
        LinkState::Usable,
        "opening the link changes nothing"
    );
    let moved = a.flow.use_link(&desktop, token.clone()).await.expect("use");
    assert_eq!(moved.as_deref(), Some(flow.as_str()));
    assert_eq!(
        a.flow.use_link(&desktop, token.clone()).await.expect("use"),
        None,
        "single use"
    );
    assert_eq!(
        a.flow.link_state(&desktop, token).await.expect("state"),
        LinkState::Expired
    );
    assert_eq!(
        a.column(&id, "forward_to").await.as_deref(),
        Some("marie@travail.example")
    );
    // The flow now continues on the desktop, and no longer on the phone.
    assert_eq!(
        a.view("desktop", &flow).await.step,
        ActivationStep::NewPassword
    );
    assert_eq!(a.view("phone", &flow).await.step, ActivationStep::Login);

    // 9: the policy, and not the provisional password.
    for (password, confirmation, expected) in [
        ("short", "short", Msg::ActivationPasswordWeak),
        (
            NEW_PASSWORD,
            "Lac-Brome;Huard-2027",
            Msg::ActivationPasswordMismatch,
        ),
        (PROVISIONAL, PROVISIONAL, Msg::ActivationPasswordWeak),
    ] {
        a.submit(
            "desktop",
            Some(&flow),
            ActivationInput::NewPassword {
                password: password.into(),
                confirmation: confirmation.into(),
            },
        )
        .await;
        let view = a.view("desktop", &flow).await;
        assert_eq!(error_of(&view), Some(expected), "{password}");
    }
    a.submit(
        "desktop",
        Some(&flow),
        ActivationInput::NewPassword {
            password: NEW_PASSWORD.into(),
            confirmation: NEW_PASSWORD.into(),
        },
    )
    .await;

    // 10: active, the services listed; the new password signs in, the letter no longer does.
    let view = a.view("desktop", &flow).await;
    assert_eq!(view.step, ActivationStep::Done);
    assert_eq!(view.login, "mtremblay");
    assert!(!view.services.is_empty());
    assert_eq!(a.column(&id, "state").await.as_deref(), Some("active"));
    assert_eq!(a.column(&id, "provisional_hash").await, None);
    // A record of it at the recovery address: the link mail, then this one.
    assert_eq!(a.mails_to("marie@perso.example").await, 2);
    let sign_in = SignInFlow(a.test.sesame.clone());
    let outcome = sign_in
        .sign_in(
            &meta("desktop"),
            "mtremblay".into(),
            NEW_PASSWORD.into(),
            None,
        )
        .await
        .expect("sign in");
    assert!(matches!(outcome, SignInOutcome::SignedIn { .. }));
    let again = a.identify("other", "mtremblay", PROVISIONAL).await;
    assert_eq!(
        error_of(&a.view("other", &again).await),
        Some(Msg::ActivationInvalidCredentials)
    );

    // Every step's outcome is in the audit log.
    let outcomes: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'activation' AND person_id = $1",
    )
    .bind(&id)
    .fetch_all(&a.test.sesame.store.pool)
    .await
    .expect("audit");
    for expected in [
        "identified",
        "recovery_mail_sent",
        "wrong_code",
        "recovery_verified",
        "charter_accepted",
        "directory_yes",
        "forward_mail_sent",
        "forward_verified",
        "activated",
    ] {
        assert!(
            outcomes.iter().any(|o| o.contains(expected)),
            "{expected} missing from {outcomes:?}"
        );
    }
}

#[tokio::test]
async fn temporary_staff_must_forward_and_other_categories_skip_the_mailbox() {
    let a = Activation::new().await;
    let temp = a
        .person("jgagnon", "Jean", "Gagnon", Category::TemporaryStaff)
        .await;
    let flow = a.identify("d1", "jgagnon", PROVISIONAL).await;
    a.verify_recovery("d1", &flow, "jean@perso.example").await;
    a.submit(
        "d1",
        Some(&flow),
        ActivationInput::Charter { accepted: true },
    )
    .await;
    a.submit(
        "d1",
        Some(&flow),
        ActivationInput::Directory {
            consent: Some(false),
        },
    )
    .await;
    let view = a.view("d1", &flow).await;
    assert_eq!(view.mailbox, Some(MailboxOffer::ForwardOnly));
    a.submit(
        "d1",
        Some(&flow),
        ActivationInput::Mailbox {
            forward: false,
            forward_to: String::new(),
            keep_copy: false,
        },
    )
    .await;
    assert_eq!(
        error_of(&a.view("d1", &flow).await),
        Some(Msg::ActivationForwardRequired)
    );
    // The recovery email is already verified: no second mail, straight to step 9.
    a.submit(
        "d1",
        Some(&flow),
        ActivationInput::Mailbox {
            forward: false,
            forward_to: "JEAN@perso.example".into(),
            keep_copy: false,
        },
    )
    .await;
    assert_eq!(a.view("d1", &flow).await.step, ActivationStep::NewPassword);
    assert_eq!(a.mails_to("jean@perso.example").await, 1);
    assert_eq!(a.column(&temp, "mailbox_address").await, None);
    assert_eq!(
        a.column(&temp, "directory_consent").await.as_deref(),
        Some("0")
    );

    let retiree = a.person("lroy", "Lucie", "Roy", Category::Retiree).await;
    let flow = a.identify("d2", "lroy", PROVISIONAL).await;
    a.verify_recovery("d2", &flow, "lucie@perso.example").await;
    a.submit(
        "d2",
        Some(&flow),
        ActivationInput::Charter { accepted: true },
    )
    .await;
    a.submit(
        "d2",
        Some(&flow),
        ActivationInput::Directory {
            consent: Some(true),
        },
    )
    .await;
    assert_eq!(a.view("d2", &flow).await.step, ActivationStep::NewPassword);
    assert_eq!(a.column(&retiree, "mailbox_address").await, None);
}

#[tokio::test]
async fn unknown_logins_and_wrong_passwords_get_the_same_answer_then_a_lockout() {
    let a = Activation::new().await;
    a.person("mtremblay", "Marie", "Tremblay", Category::Student)
        .await;
    let unknown = a.identify("d", "personne", PROVISIONAL).await;
    let wrong = a.identify("d", "mtremblay", "AAAA-BBBB-CCCC-DDDD").await;
    let (unknown, wrong) = (a.view("d", &unknown).await, a.view("d", &wrong).await);
    assert_eq!(unknown.step, ActivationStep::ProvisionalPassword);
    assert_eq!(unknown.error, wrong.error);
    assert_eq!(error_of(&wrong), Some(Msg::ActivationInvalidCredentials));

    for _ in 0..4 {
        a.identify("d", "mtremblay", "AAAA-BBBB-CCCC-DDDD").await;
    }
    // Locked: even the right password waits.
    let locked = a.identify("d", "mtremblay", PROVISIONAL).await;
    let view = a.view("d", &locked).await;
    assert_eq!(error_of(&view), Some(Msg::ActivationThrottled));
    assert_eq!(view.error.and_then(|e| e.retry_minutes), Some(15));
    // The lock ends by itself.
    a.test.clock.advance(jiff::SignedDuration::from_mins(16));
    // Typed from paper: case, spaces and dashes do not matter.
    let flow = a.identify("d", "mtremblay", "k7qm 4pxr wz2d9htn").await;
    assert_eq!(a.view("d", &flow).await.step, ActivationStep::RecoveryEmail);
}

#[tokio::test]
async fn steps_cannot_be_skipped_or_replayed_and_flows_stay_in_their_browser() {
    let a = Activation::new().await;
    let id = a
        .person("mtremblay", "Marie", "Tremblay", Category::Student)
        .await;
    let flow = a.identify("d", "mtremblay", PROVISIONAL).await;
    // A later step's form changes nothing.
    for input in [
        ActivationInput::Charter { accepted: true },
        ActivationInput::NewPassword {
            password: NEW_PASSWORD.into(),
            confirmation: NEW_PASSWORD.into(),
        },
    ] {
        a.submit("d", Some(&flow), input).await;
        assert_eq!(a.view("d", &flow).await.step, ActivationStep::RecoveryEmail);
    }
    assert_eq!(a.column(&id, "charter_version").await, None);
    assert_eq!(a.column(&id, "state").await.as_deref(), Some("pending"));

    // Another browser with the URL sees a fresh start, and cannot act on the flow.
    assert_eq!(a.view("intruder", &flow).await.step, ActivationStep::Login);
    let refused = a
        .flow
        .submit(
            &meta("intruder"),
            Some(flow.clone()),
            ActivationInput::RecoveryEmail {
                email: "x@evil.example".into(),
                confirmation: "x@evil.example".into(),
            },
        )
        .await;
    assert_eq!(refused, Err(AppError::Refused(Msg::ActivationExpired)));

    // A code already used cannot be used again.
    a.verify_recovery("d", &flow, "marie@perso.example").await;
    let (token, code) = a.last_mail("marie@perso.example").await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code,
        },
    )
    .await;
    assert_eq!(a.view("d", &flow).await.step, ActivationStep::Charter);
    assert_eq!(a.flow.use_link(&meta("d"), token).await.expect("use"), None);
}

#[tokio::test]
async fn five_wrong_codes_block_the_code_and_a_new_mail_replaces_it() {
    let a = Activation::new().await;
    a.person("mtremblay", "Marie", "Tremblay", Category::Student)
        .await;
    let flow = a.identify("d", "mtremblay", PROVISIONAL).await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::RecoveryEmail {
            email: "marie@perso.example".into(),
            confirmation: "marie@perso.example".into(),
        },
    )
    .await;
    let (first_token, code) = a.last_mail("marie@perso.example").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        a.submit(
            "d",
            Some(&flow),
            ActivationInput::Code {
                step: ActivationStep::CheckEmail,
                code: wrong.into(),
            },
        )
        .await;
    }
    assert_eq!(
        error_of(&a.view("d", &flow).await),
        Some(Msg::ActivationCodeBlocked)
    );
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code: code.clone(),
        },
    )
    .await;
    let view = a.view("d", &flow).await;
    assert_eq!(
        view.step,
        ActivationStep::CheckEmail,
        "blocked, even the right code"
    );
    assert_eq!(error_of(&view), Some(Msg::ActivationCodeExpired));

    // A new mail: its code works, the old link does not.
    // (A second apart, so "the last mail" is well defined.)
    a.test.clock.advance(jiff::SignedDuration::from_secs(1));
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Resend {
            step: ActivationStep::CheckEmail,
        },
    )
    .await;
    let view = a.view("d", &flow).await;
    assert_eq!(view.notice, Some(Msg::ActivationMailSentAgain));
    assert_eq!(view.sends_left, 1);
    assert_eq!(
        a.flow
            .link_state(&meta("d"), first_token)
            .await
            .expect("state"),
        LinkState::Expired
    );
    // (A second apart, so "the last mail" is well defined.)
    a.test.clock.advance(jiff::SignedDuration::from_secs(1));
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Resend {
            step: ActivationStep::CheckEmail,
        },
    )
    .await;
    // (A second apart, so "the last mail" is well defined.)
    a.test.clock.advance(jiff::SignedDuration::from_secs(1));
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Resend {
            step: ActivationStep::CheckEmail,
        },
    )
    .await;
    assert_eq!(
        error_of(&a.view("d", &flow).await),
        Some(Msg::ActivationSendLimit)
    );
    assert_eq!(a.mails_to("marie@perso.example").await, 3);
    let (_, code) = a.last_mail("marie@perso.example").await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code,
        },
    )
    .await;
    assert_eq!(a.view("d", &flow).await.step, ActivationStep::Charter);
}

#[tokio::test]
async fn links_end_at_midnight_and_a_closed_tab_resumes_with_the_letter() {
    let a = Activation::new().await;
    a.person("mtremblay", "Marie", "Tremblay", Category::Student)
        .await;
    let flow = a.identify("phone", "mtremblay", PROVISIONAL).await;
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::RecoveryEmail {
            email: "marie@perso.example".into(),
            confirmation: "marie@perso.example".into(),
        },
    )
    .await;
    let (token, code) = a.last_mail("marie@perso.example").await;

    // 10:00 in Montréal; at 23:59 the link still works, at midnight it does not.
    a.test
        .clock
        .advance(jiff::SignedDuration::from_secs(13 * 3600 + 59 * 60));
    assert_eq!(
        a.flow
            .link_state(&meta("pc"), token.clone())
            .await
            .expect("state"),
        LinkState::Usable
    );
    a.test.clock.advance(jiff::SignedDuration::from_mins(1));
    assert_eq!(
        a.flow
            .link_state(&meta("pc"), token.clone())
            .await
            .expect("state"),
        LinkState::Expired
    );
    assert_eq!(
        a.flow.use_link(&meta("pc"), token).await.expect("use"),
        None
    );
    a.submit(
        "phone",
        Some(&flow),
        ActivationInput::Code {
            step: ActivationStep::CheckEmail,
            code,
        },
    )
    .await;
    assert_eq!(
        error_of(&a.view("phone", &flow).await),
        Some(Msg::ActivationCodeExpired)
    );

    // The tab is closed; the next day, the letter again on a desktop resumes at step 4,
    // where a new mail can be sent.
    let resumed = a.identify("desktop", "mtremblay", PROVISIONAL).await;
    assert_eq!(resumed, flow, "the same activation");
    let view = a.view("desktop", &resumed).await;
    assert_eq!(view.step, ActivationStep::CheckEmail);
    a.submit(
        "desktop",
        Some(&resumed),
        ActivationInput::Resend {
            step: ActivationStep::CheckEmail,
        },
    )
    .await;
    let (token, _) = a.last_mail("marie@perso.example").await;
    assert_eq!(
        a.flow.use_link(&meta("desktop"), token).await.expect("use"),
        Some(flow.clone())
    );

    // After the flow's own lifetime (14 days), it says it has expired.
    a.test
        .clock
        .advance(jiff::SignedDuration::from_hours(15 * 24));
    assert_eq!(a.view("desktop", &flow).await.step, ActivationStep::Expired);
}

#[tokio::test]
async fn an_expired_letter_says_so_to_its_owner_only() {
    let a = Activation::new().await;
    a.person("mtremblay", "Marie", "Tremblay", Category::Student)
        .await;
    a.test
        .clock
        .advance(jiff::SignedDuration::from_hours(61 * 24));
    let flow = a.identify("d", "mtremblay", PROVISIONAL).await;
    assert_eq!(
        error_of(&a.view("d", &flow).await),
        Some(Msg::ActivationLetterExpired)
    );
    let flow = a.identify("d", "mtremblay", "AAAA-BBBB-CCCC-DDDD").await;
    assert_eq!(
        error_of(&a.view("d", &flow).await),
        Some(Msg::ActivationInvalidCredentials)
    );
}

#[tokio::test]
async fn the_provisional_password_cannot_become_the_new_one() {
    // A policy the letter's password would meet (no lower case required).
    let a = Activation::with(|config| config.password.require_lower = false).await;
    a.person("lroy", "Lucie", "Roy", Category::Retiree).await;
    let flow = a.identify("d", "lroy", PROVISIONAL).await;
    a.verify_recovery("d", &flow, "lucie@perso.example").await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Charter { accepted: true },
    )
    .await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::Directory {
            consent: Some(false),
        },
    )
    .await;
    a.submit(
        "d",
        Some(&flow),
        ActivationInput::NewPassword {
            password: PROVISIONAL.into(),
            confirmation: PROVISIONAL.into(),
        },
    )
    .await;
    let view = a.view("d", &flow).await;
    assert_eq!(view.step, ActivationStep::NewPassword);
    assert_eq!(error_of(&view), Some(Msg::ActivationPasswordReused));
}

#[tokio::test]
async fn a_new_letter_ends_an_activation_begun_with_the_previous_one() {
    let a = Activation::new().await;
    a.person("pgagne", "Pierre", "Gagné", Category::PermanentStaff)
        .await;
    // Someone holding the old letter is past the provisional password...
    let flow = a.identify("thief", "pgagne", PROVISIONAL).await;
    let before = a.view("thief", &flow).await;
    assert_eq!(before.error, None);
    // ...when the helpdesk or the operator prints a new letter for its owner.
    let out = a.test.dir.path().join("letters.html");
    sesame::letters::issue_letters(
        &a.test.sesame,
        &sesame::letters::LetterSelection::Login("pgagne".into()),
        &out,
        "cli:test",
        &|_, _| {},
    )
    .await
    .expect("letter");
    let now = a.test.sesame.clock.now_secs();
    let expires_at: i64 = sqlx::query_scalar("SELECT expires_at FROM flows WHERE id = $1")
        .bind(&flow)
        .fetch_one(&a.test.sesame.store.pool)
        .await
        .expect("flow");
    assert!(expires_at <= now, "the old letter's activation is over");
    let after = a.view("thief", &flow).await;
    assert_ne!(after.step, before.step, "{after:?}");
}
