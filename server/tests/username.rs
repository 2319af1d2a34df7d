//! Forgot username (seed 000) through its contract: employee number + PIN, identity
//! attributes, the same answer for unknown people and wrong answers, the throttle.

mod common;

use app::{
    api::{
        ssr::RequestMeta,
        username::{ForgotUsernameForm, ForgotUsernameView, UsernameRecoveryApi},
    },
    i18n::{Locale, Msg},
};
use common::TestSesame;
use sesame::{
    flows::username::UsernameRecoveryFlow,
    import::{ImportOptions, import_people},
};

const HR_FILE: &str =
    "login,first_name,last_name,date_of_birth,employee_number,category,language,pin,sin_last6,email
jgagnon,Jean-François,Gagnon,1951-04-12,E10442,retiree,fr,4827,123456,
mtremblay,Marie,Tremblay,1975-09-30,E20001,permanent-staff,en,9051,654321,marie@travail.example
";

fn meta(device: &str) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.20".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::Fr,
        device_id: device.into(),
        session_token: None,
        secure: false,
    }
}

async fn portal() -> (TestSesame, UsernameRecoveryFlow) {
    let test = TestSesame::new(|_| {}).await;
    let report = import_people(
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
    assert_eq!(report.created, 2);
    let flow = UsernameRecoveryFlow(test.sesame.clone());
    (test, flow)
}

fn by_pin(employee_number: &str, pin: &str) -> ForgotUsernameForm {
    ForgotUsernameForm {
        method: "pin".into(),
        employee_number: Some(employee_number.into()),
        pin: Some(pin.into()),
        ..Default::default()
    }
}

fn by_identity(first: &str, last: &str, born: &str, sin: &str) -> ForgotUsernameForm {
    ForgotUsernameForm {
        method: "identity".into(),
        first_name: Some(first.into()),
        last_name: Some(last.into()),
        date_of_birth: Some(born.into()),
        sin_last6: Some(sin.into()),
        ..Default::default()
    }
}

async fn outcome(flow: &UsernameRecoveryFlow, form: ForgotUsernameForm) -> ForgotUsernameView {
    let id = flow.submit(&meta("d"), form).await.expect("submit");
    flow.view(&meta("d"), Some(id), None).await.expect("view")
}

async fn mails(test: &TestSesame) -> Vec<(String, String)> {
    sqlx::query_as("SELECT recipient, text_body FROM outbox ORDER BY created_at")
        .fetch_all(&test.sesame.store.pool)
        .await
        .expect("outbox")
}

#[tokio::test]
async fn the_employee_number_and_pin_show_the_user_id_and_mail_it_where_known() {
    let (test, flow) = portal().await;
    // A retiree with no email (seed 000): shown, nothing mailed.
    let view = outcome(&flow, by_pin(" E10442 ", "4827")).await;
    assert_eq!(view.found_login.as_deref(), Some("jgagnon"));
    assert_eq!(view.mailed_to, None);
    assert!(mails(&test).await.is_empty());

    // Someone with an address: shown, and mailed in their language.
    let view = outcome(&flow, by_pin("E20001", "9051")).await;
    assert_eq!(view.found_login.as_deref(), Some("mtremblay"));
    assert_eq!(view.mailed_to.as_deref(), Some("m••••@travail.example"));
    let sent = mails(&test).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, "marie@travail.example");
    assert!(sent[0].1.contains("Here it is: mtremblay"), "{}", sent[0].1);
}

#[tokio::test]
async fn identity_attributes_match_whatever_the_case_accents_and_spacing() {
    let (_test, flow) = portal().await;
    let view = outcome(
        &flow,
        by_identity("jean francois", "GAGNON", "1951/04/12", "123 456"),
    )
    .await;
    assert_eq!(view.found_login.as_deref(), Some("jgagnon"));

    for wrong in [
        by_identity("Jean", "Gagnon", "1951-04-12", "123456"),
        by_identity("Jean-François", "Gagnon", "1951-04-13", "123456"),
        by_identity("Jean-François", "Gagnon", "1951-04-12", "123457"),
    ] {
        let view = outcome(&flow, wrong).await;
        assert_eq!(view.found_login, None);
        assert_eq!(view.error.map(|e| e.message), Some(Msg::UsernameNotFound));
    }
}

#[tokio::test]
async fn unknown_people_and_wrong_answers_get_the_same_page() {
    let (test, flow) = portal().await;
    let unknown = outcome(&flow, by_pin("E99999", "4827")).await;
    let wrong = outcome(&flow, by_pin("E10442", "4828")).await;
    assert_eq!(unknown.error, wrong.error);
    assert_eq!(unknown.found_login, None);
    assert_eq!(wrong.error.map(|e| e.message), Some(Msg::UsernameNotFound));
    assert!(mails(&test).await.is_empty());

    // A missing field is named, before anything is looked up.
    let view = outcome(&flow, by_pin("E10442", "")).await;
    let error = view.error.expect("error");
    assert_eq!(error.message, Msg::UsernameFieldRequired);
    assert_eq!(error.field.as_deref(), Some("pin"));
    assert_eq!(view.employee_number, "E10442", "kept for the retry");

    // Another browser with the URL sees a fresh form.
    let id = flow
        .submit(&meta("d"), by_pin("E10442", "4827"))
        .await
        .expect("submit");
    let elsewhere = flow
        .view(&meta("other"), Some(id), None)
        .await
        .expect("view");
    assert_eq!(elsewhere.found_login, None);
}

#[tokio::test]
async fn wrong_answers_pause_the_identifier_for_a_while() {
    let (test, flow) = portal().await;
    for _ in 0..5 {
        outcome(&flow, by_pin("E10442", "0000")).await;
    }
    // Paused: even the right PIN waits, and says how long.
    let view = outcome(&flow, by_pin("E10442", "4827")).await;
    assert_eq!(view.found_login, None);
    let error = view.error.expect("error");
    assert_eq!(error.message, Msg::UsernameThrottled);
    assert_eq!(error.retry_minutes, Some(15));
    // Another identifier is not paused.
    let view = outcome(&flow, by_pin("E20001", "9051")).await;
    assert_eq!(view.found_login.as_deref(), Some("mtremblay"));
    // The pause ends by itself.
    test.clock.advance(jiff::SignedDuration::from_mins(16));
    let view = outcome(&flow, by_pin("E10442", "4827")).await;
    assert_eq!(view.found_login.as_deref(), Some("jgagnon"));
}
