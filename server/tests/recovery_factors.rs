//! The recovery factors a person manages under "My account": the authenticator app
//! (enrolled from its secret, confirmed by one code, used once per code in forgot password,
//! removable) and the recovery email (changed with the current password and a code sent
//! to the new address; the old address is told).

mod common;

use app::{
    api::{
        authenticator::{AuthenticatorApi, AuthenticatorOutcome, AuthenticatorRequest},
        methods::RecoveryMethodsApi,
        password::{PasswordRecoveryApi, RecoveryInput, RecoveryMethod, RecoveryStep},
        recovery_email::{
            EmailChangeStep, RecoveryEmailApi, RecoveryEmailOutcome, RecoveryEmailRequest,
        },
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::{ACCOUNT_PASSWORD, TestSesame, signed_in};
use jiff::SignedDuration;
use sesame::{
    crypto::totp,
    flows::{
        authenticator::AuthenticatorFlow, password::PasswordRecoveryFlow,
        password::methods::RecoveryMethodsOverview, recovery_email::RecoveryEmailFlow,
    },
    store::people::Category,
};

fn meta(session: Option<&str>) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.41".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::En,
        device_id: "browser".into(),
        session_token: session.map(str::to_owned),
        secure: false,
    }
}

async fn mails(test: &TestSesame) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, text_body FROM outbox ORDER BY created_at, id")
        .fetch_all(&test.sesame.store.pool)
        .await
        .expect("outbox")
}

/// The first 6-digit number in the last mail to `to` that contains `marker`.
async fn code_mailed(test: &TestSesame, to: &str, marker: &str) -> String {
    let body = mails(test)
        .await
        .into_iter()
        .rev()
        .find(|(recipient, body)| recipient == to && body.contains(marker))
        .map(|(_, body)| body)
        .unwrap_or_else(|| panic!("a mail to {to} with {marker:?}"));
    body.split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("code")
        .to_owned()
}

/// Starts forgot password for `login` and chooses `method`; answers the flow.
async fn recover(flow: &PasswordRecoveryFlow, login: &str, method: RecoveryMethod) -> String {
    let m = meta(None);
    let id = flow
        .submit(
            &m,
            None,
            RecoveryStep::Identify,
            RecoveryInput::Identify {
                identifier: login.into(),
            },
        )
        .await
        .expect("identify");
    flow.submit(
        &m,
        Some(id),
        RecoveryStep::Choose,
        RecoveryInput::Choose {
            method: Some(method),
        },
    )
    .await
    .expect("choose")
}

async fn authenticator_code(
    flow: &PasswordRecoveryFlow,
    id: &str,
    code: &str,
) -> app::api::password::PasswordRecoveryView {
    let m = meta(None);
    let id = flow
        .submit(
            &m,
            Some(id.to_owned()),
            RecoveryStep::Prove(RecoveryMethod::Authenticator),
            RecoveryInput::AuthenticatorCode { code: code.into() },
        )
        .await
        .expect("code");
    flow.view(&m, Some(id)).await.expect("view")
}

#[tokio::test]
async fn an_authenticator_app_is_enrolled_used_once_per_code_and_removed() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "mroy", Category::PermanentStaff).await;
    let me = meta(Some(&token));
    let enrolment = AuthenticatorFlow(test.sesame.clone());
    assert!(
        !enrolment
            .view(&meta(None), None)
            .await
            .expect("view")
            .signed_in
    );
    let before = enrolment.view(&me, None).await.expect("view");
    assert!(before.signed_in && !before.enrolled && before.setup.is_none());

    let AuthenticatorOutcome::Setup { flow } = enrolment
        .change(&me, None, AuthenticatorRequest::Start)
        .await
        .expect("start")
    else {
        panic!("a setup to show");
    };
    let setup = enrolment
        .view(&me, Some(flow.clone()))
        .await
        .expect("view")
        .setup
        .expect("setup");
    assert_eq!(setup.account, "mroy");
    assert!(setup.qr_svg.starts_with("<svg"), "{}", setup.qr_svg);
    // Another browser does not see this enrolment.
    let mut elsewhere = meta(Some(&token));
    elsewhere.device_id = "another browser".into();
    let other = enrolment
        .view(&elsewhere, Some(flow.clone()))
        .await
        .expect("view");
    assert!(other.setup.is_none());

    let secret = totp_rs::Secret::Encoded(setup.secret.replace(' ', ""))
        .to_bytes()
        .expect("base32");
    let now = test.sesame.clock.now_secs();
    let wrong = if totp::code_at(&secret, now).expect("code") == "000000" {
        "111111"
    } else {
        "000000"
    };
    let refused = enrolment
        .change(
            &me,
            Some(flow.clone()),
            AuthenticatorRequest::Confirm { code: wrong.into() },
        )
        .await
        .expect("confirm");
    assert_eq!(refused, AuthenticatorOutcome::Setup { flow: flow.clone() });
    let view = enrolment.view(&me, Some(flow.clone())).await.expect("view");
    assert_eq!(
        view.error.map(|e| e.message),
        Some(Msg::AuthenticatorCodeWrong)
    );
    assert!(!view.enrolled);

    let enrol_code = totp::code_at(&secret, now).expect("code");
    let confirmed = enrolment
        .change(
            &me,
            Some(flow.clone()),
            AuthenticatorRequest::Confirm {
                code: format!("{} {}", &enrol_code[..3], &enrol_code[3..]),
            },
        )
        .await
        .expect("confirm");
    assert_eq!(confirmed, AuthenticatorOutcome::Enrolled);
    let view = enrolment.view(&me, Some(flow.clone())).await.expect("view");
    assert!(
        view.enrolled && view.setup.is_none(),
        "the enrolment is over"
    );
    // The secret is sealed at rest.
    let sealed: String = sqlx::query_scalar("SELECT secret_sealed FROM authenticators")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("row");
    assert!(!sealed.contains(&setup.secret.replace(' ', "")));
    assert!(
        mails(&test)
            .await
            .iter()
            .any(|(to, body)| to == "mroy@example.org"
                && body.contains("authenticator app was just set up")),
        "the person is told"
    );
    let overview = RecoveryMethodsOverview(test.sesame.clone());
    let totp_set_up = |view: &app::api::methods::RecoveryMethodsView| {
        view.methods
            .iter()
            .find(|m| m.method == RecoveryMethod::Authenticator)
            .map(|m| m.set_up)
    };
    assert_eq!(
        totp_set_up(&overview.view(&me).await.expect("methods")),
        Some(true)
    );

    // Forgot password: staff may use the app instead of the email code.
    let recovery = PasswordRecoveryFlow(test.sesame.clone());
    let id = recover(&recovery, "mroy", RecoveryMethod::Authenticator).await;
    let view = recovery
        .view(&meta(None), Some(id.clone()))
        .await
        .expect("view");
    assert_eq!(
        view.step,
        RecoveryStep::Prove(RecoveryMethod::Authenticator)
    );
    // The code that confirmed the enrolment was used: it does not work twice.
    let view = authenticator_code(&recovery, &id, &enrol_code).await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
    test.clock.advance(SignedDuration::from_secs(30));
    let fresh = totp::code_at(&secret, test.sesame.clock.now_secs()).expect("code");
    let view = authenticator_code(&recovery, &id, &fresh).await;
    assert_eq!(view.step, RecoveryStep::NewPassword);
    // The same code in another recovery is a replay.
    let again = recover(&recovery, "mroy", RecoveryMethod::Authenticator).await;
    let view = authenticator_code(&recovery, &again, &fresh).await;
    assert_eq!(
        view.step,
        RecoveryStep::Prove(RecoveryMethod::Authenticator)
    );
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
    // An unknown account gets the same page and the same answer.
    let unknown = recover(&recovery, "nobody", RecoveryMethod::Authenticator).await;
    let view = authenticator_code(&recovery, &unknown, &fresh).await;
    assert_eq!(
        view.step,
        RecoveryStep::Prove(RecoveryMethod::Authenticator)
    );
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));

    let removed = enrolment
        .change(&me, None, AuthenticatorRequest::Remove)
        .await
        .expect("remove");
    assert_eq!(removed, AuthenticatorOutcome::Removed);
    assert!(!enrolment.view(&me, None).await.expect("view").enrolled);
    assert_eq!(
        totp_set_up(&overview.view(&me).await.expect("methods")),
        Some(false)
    );
    assert!(
        mails(&test)
            .await
            .iter()
            .any(|(to, body)| to == "mroy@example.org" && body.contains("was just removed"))
    );
    let audited: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE kind = 'authenticator'")
            .fetch_one(&test.sesame.store.pool)
            .await
            .expect("audit");
    assert_eq!(audited, 2);
    // Without an app, a right-looking code proves nothing.
    test.clock.advance(SignedDuration::from_secs(30));
    let later = totp::code_at(&secret, test.sesame.clock.now_secs()).expect("code");
    let id = recover(&recovery, "mroy", RecoveryMethod::Authenticator).await;
    let view = authenticator_code(&recovery, &id, &later).await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
}

async fn request(
    flow: &RecoveryEmailFlow,
    me: &RequestMeta,
    email: &str,
    confirmation: &str,
    password: &str,
) -> app::api::recovery_email::RecoveryEmailView {
    let outcome = flow
        .change(
            me,
            None,
            RecoveryEmailRequest::Change {
                email: email.into(),
                confirmation: confirmation.into(),
                password: password.into(),
            },
        )
        .await
        .expect("change");
    let RecoveryEmailOutcome::Show { flow: id } = outcome else {
        panic!("a page to show, not {outcome:?}");
    };
    flow.view(me, Some(id)).await.expect("view")
}

async fn type_code(
    flow: &RecoveryEmailFlow,
    me: &RequestMeta,
    id: &str,
    code: &str,
) -> RecoveryEmailOutcome {
    flow.change(
        me,
        Some(id.to_owned()),
        RecoveryEmailRequest::Code { code: code.into() },
    )
    .await
    .expect("code")
}

async fn recovery_email(test: &TestSesame, login: &str) -> Option<String> {
    sqlx::query_scalar("SELECT recovery_email FROM people WHERE login = $1")
        .bind(login)
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("person")
}

#[tokio::test]
async fn the_recovery_email_changes_with_the_password_and_a_code_and_the_old_one_is_told() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "jroy", Category::PermanentStaff).await;
    let me = meta(Some(&token));
    let flow = RecoveryEmailFlow(test.sesame.clone());
    assert!(!flow.view(&meta(None), None).await.expect("view").signed_in);
    let view = flow.view(&me, None).await.expect("view");
    assert_eq!((view.current, view.step), (None, EmailChangeStep::Enter));

    let view = request(
        &flow,
        &me,
        "new@example.net",
        "nwe@example.net",
        ACCOUNT_PASSWORD,
    )
    .await;
    let error = view.error.expect("refused");
    assert_eq!(
        (error.message, error.field.as_deref()),
        (Msg::EmailMismatch, Some("email_confirmation"))
    );
    assert_eq!(view.address, "new@example.net", "the form is filled again");
    let view = request(&flow, &me, "new@example.net", "new@example.net", "not it").await;
    let error = view.error.expect("refused");
    assert_eq!(error.message, Msg::EmailChangePasswordWrong);
    assert!(
        !mails(&test)
            .await
            .iter()
            .any(|(to, _)| to == "new@example.net"),
        "nothing is sent without the password"
    );

    let view = request(
        &flow,
        &me,
        " New@Example.NET",
        "new@example.net",
        ACCOUNT_PASSWORD,
    )
    .await;
    assert_eq!(view.step, EmailChangeStep::Check);
    assert_eq!(view.address, "New@example.net");
    let id = view.flow.expect("flow");
    let code = code_mailed(&test, "New@example.net", "receive the codes").await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let outcome = type_code(&flow, &me, &id, wrong).await;
    assert_eq!(outcome, RecoveryEmailOutcome::Show { flow: id.clone() });
    let view = flow.view(&me, Some(id.clone())).await.expect("view");
    let error = view.error.expect("wrong code");
    assert_eq!(
        (error.message, error.tries_left),
        (Msg::RecoveryCodeWrong, Some(4))
    );
    assert_eq!(
        recovery_email(&test, "jroy").await,
        None,
        "not before the code"
    );
    assert_eq!(
        type_code(&flow, &me, &id, &code).await,
        RecoveryEmailOutcome::Saved
    );
    assert_eq!(
        recovery_email(&test, "jroy").await.as_deref(),
        Some("New@example.net")
    );
    // The code is used up.
    assert_eq!(
        type_code(&flow, &me, &id, &code).await,
        RecoveryEmailOutcome::Unchanged
    );

    // A reset code mailed to the current address stops working once it is replaced.
    let recovery = PasswordRecoveryFlow(test.sesame.clone());
    let reset = recover(&recovery, "jroy", RecoveryMethod::EmailCode).await;
    let reset_code = code_mailed(&test, "New@example.net", "token=").await;

    let view = request(
        &flow,
        &me,
        "other@example.com",
        "other@example.com",
        ACCOUNT_PASSWORD,
    )
    .await;
    let same = request(
        &flow,
        &me,
        "new@EXAMPLE.net",
        "new@example.net",
        ACCOUNT_PASSWORD,
    )
    .await;
    assert_eq!(same.error.map(|e| e.message), Some(Msg::EmailChangeSame));
    let id = view.flow.expect("flow");
    let code = code_mailed(&test, "other@example.com", "receive the codes").await;
    assert_eq!(
        type_code(&flow, &me, &id, &code).await,
        RecoveryEmailOutcome::Saved
    );
    assert!(
        mails(&test)
            .await
            .iter()
            .any(|(to, body)| to == "New@example.net" && body.contains("was just replaced")),
        "the old address is told"
    );
    let view = flow.view(&me, None).await.expect("view");
    assert_eq!(view.current.as_deref(), Some("other@example.com"));
    let m = meta(None);
    let reset = recovery
        .submit(
            &m,
            Some(reset),
            RecoveryStep::Prove(RecoveryMethod::EmailCode),
            RecoveryInput::Code { code: reset_code },
        )
        .await
        .expect("code");
    let view = recovery.view(&m, Some(reset)).await.expect("view");
    assert_eq!(
        view.error.map(|e| e.message),
        Some(Msg::RecoveryCodeExpired)
    );

    let audited: Vec<String> = sqlx::query_scalar(
        "SELECT detail FROM audit_events WHERE kind = 'recovery_email' ORDER BY at_ms, id",
    )
    .fetch_all(&test.sesame.store.pool)
    .await
    .expect("audit");
    assert!(audited.iter().any(|d| d.contains("wrong_password")));
    assert!(audited.iter().any(|d| d.contains("\"added\"")));
    assert!(audited.iter().any(|d| d.contains("\"changed\"")));
}

#[tokio::test]
async fn wrong_passwords_pause_the_email_change() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "lroy", Category::PermanentStaff).await;
    let me = meta(Some(&token));
    let flow = RecoveryEmailFlow(test.sesame.clone());
    let mut messages = Vec::new();
    for _ in 0..6 {
        let view = request(&flow, &me, "new@example.net", "new@example.net", "guess").await;
        messages.push(view.error.expect("refused").message);
    }
    assert_eq!(messages[0], Msg::EmailChangePasswordWrong);
    assert_eq!(messages.last(), Some(&Msg::EmailChangeThrottled));
    // Even the right password waits for the pause to end.
    let view = request(
        &flow,
        &me,
        "new@example.net",
        "new@example.net",
        ACCOUNT_PASSWORD,
    )
    .await;
    assert_eq!(
        view.error.map(|e| e.message),
        Some(Msg::EmailChangeThrottled)
    );
    // The pause ends by itself (15 minutes by default); the session is still open.
    test.clock.advance(SignedDuration::from_mins(16));
    let view = request(
        &flow,
        &me,
        "new@example.net",
        "new@example.net",
        ACCOUNT_PASSWORD,
    )
    .await;
    assert_eq!(view.step, EmailChangeStep::Check);
}
