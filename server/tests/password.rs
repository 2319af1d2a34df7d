//! Forgot password through its contract: the category rules (a retiree with no email and
//! the PIN alone; staff and the email code), the same pages for unknown accounts, the
//! throttle across methods, what a reset ends, and the emailed link.

mod common;

use app::{
    api::{
        password::{
            PasswordRecoveryApi, PasswordRecoveryView, RecoveryInput, RecoveryMethod, RecoveryStep,
        },
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::TestSesame;
use sesame::{
    flows::password::PasswordRecoveryFlow,
    import::{ImportOptions, import_people},
    store::{audit, sessions},
};

const HR_FILE: &str =
    "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email
jgagnon,Jean-François,Gagnon,1951-04-12,E10442,retiree,fr,4827,123456,
mtremblay,Marie,Tremblay,1975-09-30,E20001,permanent-staff,en,9051,654321,marie@travail.example
";
const OLD_PASSWORD: &str = "Ancien-mot-de-passe-2024";
const NEW_PASSWORD: &str = "Nouveau-Printemps-2026!";

fn meta(device: &str) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.30".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::Fr,
        device_id: device.into(),
        session_token: None,
        secure: false,
    }
}

/// Both people imported, active with an old password; Marie has a recovery address and a
/// session open.
async fn portal() -> (TestSesame, PasswordRecoveryFlow) {
    let test = TestSesame::new(|_| {}).await;
    import_people(
        &test.sesame,
        HR_FILE.as_bytes(),
        &ImportOptions {
            skip_invalid: false,
            actor: "test",
        },
        &|_, _| {},
    )
    .await
    .expect("import");
    let hash = test.sesame.hasher.hash(OLD_PASSWORD).await.expect("hash");
    sqlx::query("UPDATE people SET state = 'active', password_hash = $1")
        .bind(hash)
        .execute(&test.sesame.store.pool)
        .await
        .expect("activate");
    sqlx::query(
        "UPDATE people SET recovery_email = 'marie@perso.example' WHERE login = 'mtremblay'",
    )
    .execute(&test.sesame.store.pool)
    .await
    .expect("recovery email");
    let marie = person_id(&test, "mtremblay").await;
    sessions::insert(
        &test.sesame.store.pool,
        &sessions::NewSession {
            id_hash: "session-hash",
            person_id: &marie,
            expires_at: test.sesame.clock.now_secs() + 3600,
            client_ip: "192.0.2.30",
            user_agent: "test",
        },
        test.sesame.clock.now_secs(),
    )
    .await
    .expect("session");
    let flow = PasswordRecoveryFlow(test.sesame.clone());
    (test, flow)
}

async fn person_id(test: &TestSesame, login: &str) -> String {
    sqlx::query_scalar("SELECT id FROM people WHERE login = $1")
        .bind(login)
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("person")
}

struct Recovery<'a> {
    flow: &'a PasswordRecoveryFlow,
    device: &'static str,
    id: Option<String>,
}

impl Recovery<'_> {
    async fn start<'a>(flow: &'a PasswordRecoveryFlow, identifier: &str) -> Recovery<'a> {
        let mut recovery = Recovery {
            flow,
            device: "browser",
            id: None,
        };
        recovery
            .send(
                RecoveryStep::Identify,
                RecoveryInput::Identify {
                    identifier: identifier.into(),
                },
            )
            .await;
        recovery
    }

    async fn send(&mut self, step: RecoveryStep, input: RecoveryInput) -> PasswordRecoveryView {
        let id = self
            .flow
            .submit(&meta(self.device), self.id.clone(), step, input)
            .await
            .expect("submit");
        self.id = Some(id);
        self.view().await
    }

    async fn view(&self) -> PasswordRecoveryView {
        self.flow
            .view(&meta(self.device), self.id.clone())
            .await
            .expect("view")
    }

    async fn choose(&mut self, method: RecoveryMethod) -> PasswordRecoveryView {
        self.send(
            RecoveryStep::Choose,
            RecoveryInput::Choose {
                method: Some(method),
            },
        )
        .await
    }

    async fn pin(&mut self, employee_number: &str, pin: &str) -> PasswordRecoveryView {
        self.send(
            RecoveryStep::Prove(RecoveryMethod::EmployeePin),
            RecoveryInput::EmployeePin {
                employee_number: employee_number.into(),
                pin: pin.into(),
            },
        )
        .await
    }

    async fn code(&mut self, code: &str) -> PasswordRecoveryView {
        self.send(
            RecoveryStep::Prove(RecoveryMethod::EmailCode),
            RecoveryInput::Code { code: code.into() },
        )
        .await
    }

    async fn new_password(&mut self, password: &str) -> PasswordRecoveryView {
        self.send(
            RecoveryStep::NewPassword,
            RecoveryInput::NewPassword {
                password: password.into(),
                confirmation: password.into(),
            },
        )
        .await
    }
}

async fn mails(test: &TestSesame) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, text_body FROM outbox ORDER BY created_at, id")
        .fetch_all(&test.sesame.store.pool)
        .await
        .expect("outbox")
}

/// The 6-digit code and the link's token in the last reset mail to `to`.
async fn last_code(test: &TestSesame, to: &str) -> (String, String) {
    let body = mails(test)
        .await
        .into_iter()
        .rev()
        .find(|(recipient, body)| recipient == to && body.contains("token="))
        .map(|(_, body)| body)
        .expect("a code mail");
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

async fn password_is(test: &TestSesame, login: &str, password: &str) -> bool {
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

#[tokio::test]
async fn a_retiree_with_no_email_resets_with_the_employee_number_and_pin() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "JGagnon").await;
    let view = recovery.view().await;
    assert_eq!(view.step, RecoveryStep::Choose);
    assert_eq!(
        view.methods,
        vec![
            RecoveryMethod::Questions,
            RecoveryMethod::EmailCode,
            RecoveryMethod::Authenticator,
            RecoveryMethod::EmployeePin,
            RecoveryMethod::Attributes
        ]
    );
    let view = recovery.choose(RecoveryMethod::EmployeePin).await;
    assert_eq!(view.step, RecoveryStep::Prove(RecoveryMethod::EmployeePin));

    let view = recovery.pin("e10442", "4827").await;
    assert_eq!(view.step, RecoveryStep::NewPassword);
    assert_eq!(
        view.employee_number, "",
        "nothing typed is kept once it served"
    );

    // The policy is the authority here too.
    let view = recovery.new_password("court").await;
    let error = view.error.expect("refused");
    assert_eq!(error.message, Msg::ActivationPasswordWeak);
    assert!(!error.unmet_rules.is_empty());

    let view = recovery.new_password(NEW_PASSWORD).await;
    assert_eq!(view.step, RecoveryStep::Done);
    assert!(password_is(&test, "jgagnon", NEW_PASSWORD).await);
    assert!(!password_is(&test, "jgagnon", OLD_PASSWORD).await);
    // No address known: nothing to mail.
    assert!(mails(&test).await.is_empty());
    let events = audit::recent(&test.sesame.store.pool, None, 50)
        .await
        .expect("audit");
    assert!(
        events
            .iter()
            .any(|e| e.kind == "password_recovery" && e.detail.contains("password_reset")),
        "{events:?}"
    );
    // A finished recovery cannot be replayed.
    let view = recovery.new_password("Encore-Un-Autre-2026!").await;
    assert_eq!(view.step, RecoveryStep::Done);
    assert!(password_is(&test, "jgagnon", NEW_PASSWORD).await);
}

#[tokio::test]
async fn identity_attributes_also_prove_a_retiree() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "jgagnon").await;
    recovery.choose(RecoveryMethod::Attributes).await;
    let view = recovery
        .send(
            RecoveryStep::Prove(RecoveryMethod::Attributes),
            RecoveryInput::Attributes {
                first_name: "JEAN FRANCOIS".into(),
                last_name: "gagnon".into(),
                date_of_birth: "1951/04/12".into(),
                sin_last6: "123456".into(),
            },
        )
        .await;
    assert_eq!(view.step, RecoveryStep::NewPassword);
    drop(test);
}

#[tokio::test]
async fn staff_reset_by_email_code_which_ends_sessions_and_notifies_every_address() {
    let (test, flow) = portal().await;
    let marie = person_id(&test, "mtremblay").await;
    // Found by an address, whatever its case.
    let mut recovery = Recovery::start(&flow, "Marie@Perso.Example").await;
    let view = recovery.choose(RecoveryMethod::EmailCode).await;
    assert_eq!(view.step, RecoveryStep::Prove(RecoveryMethod::EmailCode));
    assert_eq!(view.sends_left, 2);
    assert_eq!(view.code_minutes, 10);
    let (code, _) = last_code(&test, "marie@perso.example").await;

    let wrong = if code == "000000" { "000001" } else { "000000" };
    let view = recovery.code(wrong).await;
    let error = view.error.expect("wrong code");
    assert_eq!(error.message, Msg::RecoveryCodeWrong);
    assert_eq!(error.tries_left, Some(4));

    let view = recovery.code(&code).await;
    assert_eq!(view.step, RecoveryStep::NewPassword);
    let view = recovery.new_password(NEW_PASSWORD).await;
    assert_eq!(view.step, RecoveryStep::Done);
    assert!(password_is(&test, "mtremblay", NEW_PASSWORD).await);
    assert_eq!(
        sessions::count_for(&test.sesame.store.pool, &marie)
            .await
            .expect("sessions"),
        0
    );
    // A notice to both known addresses, in Marie's language.
    let mut notices: Vec<String> = mails(&test)
        .await
        .into_iter()
        .filter(|(_, body)| body.contains("was just changed"))
        .map(|(to, _)| to)
        .collect();
    notices.sort();
    assert_eq!(
        notices,
        vec!["marie@perso.example", "marie@travail.example"]
    );
}

#[tokio::test]
async fn a_reset_voids_every_other_outstanding_code() {
    let (test, flow) = portal().await;
    // An older recovery in another browser, with its code mailed.
    let mut older = Recovery::start(&flow, "mtremblay").await;
    older.device = "browser";
    older.choose(RecoveryMethod::EmailCode).await;
    let (older_code, older_token) = last_code(&test, "marie@perso.example").await;
    // Mails are read back in the order they were queued.
    test.clock.advance(jiff::SignedDuration::from_secs(1));

    let mut recovery = Recovery {
        flow: &flow,
        device: "phone",
        id: None,
    };
    recovery
        .send(
            RecoveryStep::Identify,
            RecoveryInput::Identify {
                identifier: "mtremblay".into(),
            },
        )
        .await;
    recovery.choose(RecoveryMethod::EmailCode).await;
    let (code, _) = last_code(&test, "marie@perso.example").await;
    recovery.code(&code).await;
    assert_eq!(
        recovery.new_password(NEW_PASSWORD).await.step,
        RecoveryStep::Done
    );

    // The older flow is over, its code and its link with it.
    let view = older.code(&older_code).await;
    assert_eq!(view.step, RecoveryStep::Expired);
    let link = flow
        .link_state(&meta("browser"), older_token.clone())
        .await
        .expect("link");
    assert_eq!(link, app::api::password::RecoveryLinkState::Expired);
    assert_eq!(
        flow.use_link(&meta("browser"), older_token)
            .await
            .expect("use"),
        None
    );
}

#[tokio::test]
async fn the_emailed_link_proves_the_address_on_any_device() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "mtremblay").await;
    recovery.choose(RecoveryMethod::EmailCode).await;
    let (_, token) = last_code(&test, "marie@perso.example").await;
    // Opening the page (GET) changes nothing; the button moves the flow on, in the
    // browser that used it.
    assert_eq!(
        flow.link_state(&meta("phone"), token.clone())
            .await
            .expect("state"),
        app::api::password::RecoveryLinkState::Usable
    );
    let moved = flow
        .use_link(&meta("phone"), token.clone())
        .await
        .expect("use")
        .expect("usable");
    let view = flow.view(&meta("phone"), Some(moved)).await.expect("view");
    assert_eq!(view.step, RecoveryStep::NewPassword);
    // Used once only.
    assert_eq!(
        flow.use_link(&meta("phone"), token).await.expect("again"),
        None
    );
}

#[tokio::test]
async fn staff_who_prove_the_pin_still_need_the_email_code() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "mtremblay").await;
    recovery.choose(RecoveryMethod::EmployeePin).await;
    let view = recovery.pin("E20001", "9051").await;
    assert_eq!(view.step, RecoveryStep::Choose);
    assert!(view.another_proof);
    assert_eq!(view.methods, vec![RecoveryMethod::EmailCode]);
    recovery.choose(RecoveryMethod::EmailCode).await;
    let (code, _) = last_code(&test, "marie@perso.example").await;
    assert_eq!(recovery.code(&code).await.step, RecoveryStep::NewPassword);
}

#[tokio::test]
async fn a_proof_that_cannot_be_completed_leads_to_the_helpdesk() {
    let (test, flow) = portal().await;
    // Staff with no address at all: the PIN is right, but the rule needs a code.
    sqlx::query("UPDATE people SET email = NULL, recovery_email = NULL WHERE login = 'mtremblay'")
        .execute(&test.sesame.store.pool)
        .await
        .expect("no address");
    let mut recovery = Recovery::start(&flow, "mtremblay").await;
    recovery.choose(RecoveryMethod::EmployeePin).await;
    let view = recovery.pin("E20001", "9051").await;
    assert_eq!(view.step, RecoveryStep::Helpdesk);
}

#[tokio::test]
async fn unknown_and_known_accounts_get_the_same_pages() {
    let (test, flow) = portal().await;
    let mut known = Recovery::start(&flow, "mtremblay").await;
    let mut unknown = Recovery::start(&flow, "personne").await;
    let same = |a: PasswordRecoveryView, b: PasswordRecoveryView| {
        let strip = |v: PasswordRecoveryView| PasswordRecoveryView {
            identifier: String::new(),
            ..v
        };
        assert_eq!(strip(a), strip(b));
    };
    same(known.view().await, unknown.view().await);
    same(
        known.choose(RecoveryMethod::EmailCode).await,
        unknown.choose(RecoveryMethod::EmailCode).await,
    );
    // Only the real account got a mail.
    assert_eq!(mails(&test).await.len(), 1);
    same(known.code("111111").await, unknown.code("111111").await);
    same(
        known
            .send(
                RecoveryStep::Prove(RecoveryMethod::EmailCode),
                RecoveryInput::OtherMethod {
                    method: RecoveryMethod::EmailCode,
                },
            )
            .await,
        unknown
            .send(
                RecoveryStep::Prove(RecoveryMethod::EmailCode),
                RecoveryInput::OtherMethod {
                    method: RecoveryMethod::EmailCode,
                },
            )
            .await,
    );
    known.choose(RecoveryMethod::EmployeePin).await;
    unknown.choose(RecoveryMethod::EmployeePin).await;
    let refused = known.pin("E20001", "0000").await;
    same(refused.clone(), unknown.pin("E20001", "9051").await);
    assert_eq!(
        refused.error.map(|e| e.message),
        Some(Msg::RecoveryNotMatched)
    );
    // A pending account looks unknown too.
    sqlx::query("UPDATE people SET state = 'pending' WHERE login = 'jgagnon'")
        .execute(&test.sesame.store.pool)
        .await
        .expect("pending");
    let mut pending = Recovery::start(&flow, "jgagnon").await;
    pending.choose(RecoveryMethod::EmployeePin).await;
    let view = pending.pin("E10442", "4827").await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
    // An account disabled after the recovery began proves nothing any more.
    let mut later = Recovery::start(&flow, "mtremblay").await;
    later.choose(RecoveryMethod::EmployeePin).await;
    sqlx::query("UPDATE people SET state = 'disabled' WHERE login = 'mtremblay'")
        .execute(&test.sesame.store.pool)
        .await
        .expect("disabled");
    let view = later.pin("E20001", "9051").await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
}

#[tokio::test]
async fn failures_count_across_methods_and_the_pause_ends_by_itself() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "jgagnon").await;
    recovery.choose(RecoveryMethod::EmployeePin).await;
    for _ in 0..3 {
        recovery.pin("E10442", "0000").await;
    }
    recovery
        .send(
            RecoveryStep::Prove(RecoveryMethod::EmployeePin),
            RecoveryInput::OtherMethod {
                method: RecoveryMethod::EmployeePin,
            },
        )
        .await;
    recovery.choose(RecoveryMethod::Attributes).await;
    let wrong_identity = RecoveryInput::Attributes {
        first_name: "Jean-François".into(),
        last_name: "Gagnon".into(),
        date_of_birth: "1951-04-12".into(),
        sin_last6: "000000".into(),
    };
    let step = RecoveryStep::Prove(RecoveryMethod::Attributes);
    recovery.send(step, wrong_identity.clone()).await;
    // The fifth failure, on another method, pauses the account.
    let view = recovery.send(step, wrong_identity).await;
    let error = view.error.expect("paused");
    assert_eq!(error.message, Msg::RecoveryThrottled);
    assert_eq!(error.retry_minutes, Some(15));
    // Even the right answer waits, in a new recovery too.
    let right_identity = RecoveryInput::Attributes {
        first_name: "Jean-François".into(),
        last_name: "Gagnon".into(),
        date_of_birth: "1951-04-12".into(),
        sin_last6: "123456".into(),
    };
    let view = recovery.send(step, right_identity.clone()).await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryThrottled));
    test.clock.advance(jiff::SignedDuration::from_mins(16));
    let view = recovery.send(step, right_identity.clone()).await;
    // The flow itself lasts 30 minutes: still there after the 15-minute pause.
    assert_eq!(view.step, RecoveryStep::NewPassword);
}

#[tokio::test]
async fn twenty_concurrent_submissions_of_one_code_prove_it_once() {
    let (test, flow) = portal().await;
    let mut recovery = Recovery::start(&flow, "mtremblay").await;
    recovery.choose(RecoveryMethod::EmailCode).await;
    let (code, _) = last_code(&test, "marie@perso.example").await;
    let id = recovery.id.clone();
    let browser = meta("browser");
    let submissions = (0..20).map(|_| {
        flow.submit(
            &browser,
            id.clone(),
            RecoveryStep::Prove(RecoveryMethod::EmailCode),
            RecoveryInput::Code { code: code.clone() },
        )
    });
    for outcome in futures::future::join_all(submissions).await {
        outcome.expect("each submission is answered");
    }
    assert_eq!(recovery.view().await.step, RecoveryStep::NewPassword);
    let proofs: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE kind = 'password_recovery' \
         AND detail LIKE '%proven:email_code%'",
    )
    .fetch_one(&test.sesame.store.pool)
    .await
    .expect("count");
    assert_eq!(proofs, 1);
}
