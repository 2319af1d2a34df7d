//! Security questions (seed 000): set up under "My account", asked by forgot password
//! (alone for a retiree, on top of the email code for staff), decoys for everyone else, and
//! removed by the helpdesk.

mod common;

use app::{
    api::{
        methods::RecoveryMethodsApi,
        password::{
            PasswordRecoveryApi, PasswordRecoveryView, RecoveryInput, RecoveryMethod, RecoveryStep,
        },
        questions::{QuestionsApi, QuestionsForm},
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
};
use common::{TestSesame, signed_in};
use sesame::{
    flows::{password::PasswordRecoveryFlow, questions::QuestionsFlow},
    store::people::Category,
};

fn meta(session: Option<&str>) -> RequestMeta {
    RequestMeta {
        request_id: "test".into(),
        client_ip: "192.0.2.40".parse().expect("ip"),
        user_agent: "test".into(),
        locale: Locale::En,
        device_id: "browser".into(),
        session_token: session.map(str::to_owned),
        secure: false,
    }
}

fn form(questions: &[&str], custom: &[&str], answers: &[&str]) -> QuestionsForm {
    let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
    QuestionsForm {
        question: owned(questions),
        custom: owned(custom),
        answer: owned(answers),
    }
}

const RETIREE_ANSWERS: [&str; 3] = ["Rimouski", "Filou", "La Fouine"];

async fn enrol(test: &TestSesame, token: &str) {
    let flow = QuestionsFlow(test.sesame.clone());
    let saved = flow
        .save(
            &meta(Some(token)),
            form(
                &["birth-city", "first-pet", "custom"],
                &["", "", "My nickname at summer camp?"],
                &RETIREE_ANSWERS,
            ),
        )
        .await
        .expect("save");
    assert_eq!(saved, None, "saved without refusal");
}

async fn recover(
    flow: &PasswordRecoveryFlow,
    login: &str,
    method: RecoveryMethod,
) -> (Option<String>, PasswordRecoveryView) {
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
    let id = flow
        .submit(
            &m,
            Some(id),
            RecoveryStep::Choose,
            RecoveryInput::Choose {
                method: Some(method),
            },
        )
        .await
        .expect("choose");
    let view = flow.view(&m, Some(id.clone())).await.expect("view");
    (Some(id), view)
}

async fn answer(
    flow: &PasswordRecoveryFlow,
    id: Option<String>,
    answers: &[&str],
) -> PasswordRecoveryView {
    let m = meta(None);
    let id = flow
        .submit(
            &m,
            id,
            RecoveryStep::Prove(RecoveryMethod::Questions),
            RecoveryInput::Questions {
                answers: answers.iter().map(|a| (*a).to_owned()).collect(),
            },
        )
        .await
        .expect("answer");
    flow.view(&m, Some(id)).await.expect("view")
}

#[tokio::test]
async fn questions_are_set_up_shown_back_and_never_their_answers() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "jroy", Category::Retiree).await;
    let flow = QuestionsFlow(test.sesame.clone());
    // Nobody signed in: nothing to show.
    assert!(!flow.view(&meta(None), None).await.expect("view").signed_in);

    // A refusal names the field and keeps the choices, not the answers.
    let refused = flow
        .save(
            &meta(Some(&token)),
            form(
                &["birth-city", "birth-city", "first-job"],
                &[],
                &["Rimouski", "Gaspé", "Caissier"],
            ),
        )
        .await
        .expect("save")
        .expect("refused");
    let view = flow
        .view(&meta(Some(&token)), Some(refused))
        .await
        .expect("view");
    let error = view.error.expect("error");
    assert_eq!(error.message, Msg::QuestionsTwice);
    assert_eq!(error.field.as_deref(), Some("question_1"));
    assert_eq!(view.chosen, vec!["birth-city", "birth-city", "first-job"]);
    assert!(view.enrolled.is_empty());

    let overview = sesame::flows::password::methods::RecoveryMethodsOverview(test.sesame.clone());
    let before = overview.view(&meta(Some(&token))).await.expect("methods");
    assert!(before.signed_in);
    let questions_set_up = |view: &app::api::methods::RecoveryMethodsView| {
        view.methods
            .iter()
            .find(|m| m.method == RecoveryMethod::Questions)
            .map(|m| m.set_up)
    };
    assert_eq!(questions_set_up(&before), Some(false));
    // A retiree: any one method is enough (seed 000).
    assert!(
        before
            .sufficient
            .contains(&vec![RecoveryMethod::EmployeePin])
    );
    let email = before
        .methods
        .iter()
        .find(|m| m.method == RecoveryMethod::EmailCode)
        .expect("email code");
    assert_eq!(email.detail.as_deref(), Some("jroy@example.org"));

    enrol(&test, &token).await;
    let after = overview.view(&meta(Some(&token))).await.expect("methods");
    assert_eq!(questions_set_up(&after), Some(true));
    assert!(
        !overview
            .view(&meta(None))
            .await
            .expect("anonymous")
            .signed_in
    );
    let view = flow.view(&meta(Some(&token)), None).await.expect("view");
    assert_eq!(
        view.enrolled,
        vec![
            "In what city were you born?",
            "What was the name of your first pet?",
            "My nickname at summer camp?"
        ]
    );
    // The answers are stored only as slow hashes of their normalized form.
    let hashes: Vec<String> = sqlx::query_scalar("SELECT answer_hash FROM security_answers")
        .fetch_all(&test.sesame.store.pool)
        .await
        .expect("hashes");
    assert_eq!(hashes.len(), 3);
    assert!(hashes.iter().all(|h| h.starts_with("$argon2id$")));
    assert!(!hashes.iter().any(|h| h.to_lowercase().contains("rimouski")));
}

#[tokio::test]
async fn a_retiree_resets_with_the_answers_whatever_their_case_and_accents() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "jroy", Category::Retiree).await;
    enrol(&test, &token).await;
    let flow = PasswordRecoveryFlow(test.sesame.clone());

    let (id, view) = recover(&flow, "jroy", RecoveryMethod::Questions).await;
    assert_eq!(view.step, RecoveryStep::Prove(RecoveryMethod::Questions));
    assert_eq!(view.questions.len(), 3);
    assert_eq!(view.questions[2], "My nickname at summer camp?");
    // One wrong answer: refused, without saying which.
    let view = answer(&flow, id.clone(), &["Rimouski", "Filou", "La Belette"]).await;
    assert_eq!(view.error.map(|e| e.message), Some(Msg::RecoveryNotMatched));
    let view = answer(&flow, id, &["RIMOUSKI ", "filou", "la-fouine"]).await;
    assert_eq!(view.step, RecoveryStep::NewPassword);
}

#[tokio::test]
async fn staff_with_questions_answer_them_on_top_of_the_email_code() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "mroy", Category::PermanentStaff).await;
    enrol(&test, &token).await;
    let flow = PasswordRecoveryFlow(test.sesame.clone());
    let (id, _) = recover(&flow, "mroy", RecoveryMethod::Questions).await;
    let view = answer(&flow, id, &RETIREE_ANSWERS).await;
    // The questions alone are not enough for staff: the code is still needed.
    assert_eq!(view.step, RecoveryStep::Choose);
    assert!(view.another_proof);
    assert_eq!(view.methods, vec![RecoveryMethod::EmailCode]);
}

#[tokio::test]
async fn accounts_without_questions_and_unknown_ones_get_decoys_that_never_match() {
    let test = TestSesame::new(|_| {}).await;
    signed_in(&test, "jroy", Category::Retiree).await;
    let flow = PasswordRecoveryFlow(test.sesame.clone());
    let (known, known_view) = recover(&flow, "jroy", RecoveryMethod::Questions).await;
    let (unknown, unknown_view) = recover(&flow, "nobody", RecoveryMethod::Questions).await;
    assert_eq!(known_view.questions.len(), 3);
    assert_eq!(unknown_view.questions.len(), 3);
    // The same decoys each time for the same account.
    let (_, again) = recover(&flow, "nobody", RecoveryMethod::Questions).await;
    assert_eq!(again.questions, unknown_view.questions);
    let refused = answer(&flow, known, &["a1b", "c2d", "e3f"]).await;
    let refused_unknown = answer(&flow, unknown, &["a1b", "c2d", "e3f"]).await;
    assert_eq!(refused.error, refused_unknown.error);
    assert_eq!(
        refused.error.map(|e| e.message),
        Some(Msg::RecoveryNotMatched)
    );
}

#[tokio::test]
async fn once_the_helpdesk_removes_them_the_questions_are_no_longer_asked() {
    let test = TestSesame::new(|_| {}).await;
    let token = signed_in(&test, "mroy", Category::PermanentStaff).await;
    enrol(&test, &token).await;
    let person: String = sqlx::query_scalar("SELECT id FROM people WHERE login = 'mroy'")
        .fetch_one(&test.sesame.store.pool)
        .await
        .expect("person");
    let removed = sesame::flows::questions::remove(&test.sesame, &person, "agent", "forgotten")
        .await
        .expect("remove");
    assert_eq!(removed, 3);
    // Staff without questions: the email code alone is enough again.
    let flow = PasswordRecoveryFlow(test.sesame.clone());
    let (id, _) = recover(&flow, "mroy", RecoveryMethod::EmailCode).await;
    let body: String = sqlx::query_scalar(
        "SELECT text_body FROM outbox WHERE recipient = 'mroy@example.org' ORDER BY created_at DESC",
    )
    .fetch_one(&test.sesame.store.pool)
    .await
    .expect("code mail");
    let code = body
        .split(|c: char| !c.is_ascii_digit())
        .find(|part| part.len() == 6)
        .expect("code")
        .to_owned();
    let m = meta(None);
    let id = flow
        .submit(
            &m,
            id,
            RecoveryStep::Prove(RecoveryMethod::EmailCode),
            RecoveryInput::Code { code },
        )
        .await
        .expect("code");
    let view = flow.view(&m, Some(id)).await.expect("view");
    assert_eq!(view.step, RecoveryStep::NewPassword);
}
