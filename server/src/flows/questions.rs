//! Security questions under "My account" (seed 000): the person chooses the institution's
//! questions or writes their own and answers them; the answers are normalized (case,
//! accents, spaces) and kept only as salted argon2id hashes. The helpdesk removes them
//! with `sesame admin disable-questions` (`remove`), and the person can set them up again.

use app::{
    api::{
        AppError,
        questions::{CUSTOM_QUESTION, QuestionChoice, QuestionsApi, QuestionsForm, QuestionsView},
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
    policy::answers::{MAX_QUESTION_CHARS, check_answer, normalize_answer},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, binding, signin::current_person};
use crate::{
    config::RecoveryConfig,
    error::Result,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        flows::{self, NewFlow},
        new_id,
        questions::{self, NewAnswer, QuestionRow},
    },
};

const KIND: &str = "questions_enrolment";
/// How long the page keeps showing a refusal.
const FLOW_TTL_SECS: i64 = 15 * 60;

pub struct QuestionsFlow(pub Sesame);

/// A refusal and what was chosen, kept for the page after the redirect.
#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    error: Option<StepError>,
    chosen: Vec<String>,
    custom: Vec<String>,
}

#[async_trait::async_trait]
impl QuestionsApi for QuestionsFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<QuestionsView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn save(
        &self,
        meta: &RequestMeta,
        form: QuestionsForm,
    ) -> Result<Option<String>, AppError> {
        save(&self.0, meta, form)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }
}

/// A stored question as the person reads it, in `locale`.
pub fn question_text(config: &RecoveryConfig, row: &QuestionRow, locale: Locale) -> String {
    match (&row.question_id, &row.custom_question) {
        (_, Some(custom)) => custom.clone(),
        (Some(id), None) => config
            .questions
            .iter()
            .find(|q| &q.id == id)
            .map(|q| match locale {
                Locale::Fr => q.fr.clone(),
                Locale::En => q.en.clone(),
            })
            .unwrap_or_default(),
        (None, None) => String::new(),
    }
}

fn choices(config: &RecoveryConfig, locale: Locale) -> Vec<QuestionChoice> {
    config
        .questions
        .iter()
        .map(|q| QuestionChoice {
            id: q.id.clone(),
            text: match locale {
                Locale::Fr => q.fr.clone(),
                Locale::En => q.en.clone(),
            },
        })
        .collect()
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<QuestionsView> {
    let config = &sesame.config.recovery;
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(QuestionsView::default());
    };
    let enrolled = questions::list(&sesame.store.pool, &person.id)
        .await?
        .iter()
        .map(|row| question_text(config, row, meta.locale))
        .collect();
    let mut view = QuestionsView {
        signed_in: true,
        count: u32::try_from(config.questions_to_enrol).unwrap_or(3),
        choices: choices(config, meta.locale),
        enrolled,
        ..Default::default()
    };
    if let Some(flow_id) = flow_id {
        let flow = flows::find(&sesame.store.pool, &flow_id, KIND).await?;
        let mine = flow.filter(|f| {
            f.binding_hash == binding(sesame, meta)
                && f.person_id.as_deref() == Some(person.id.as_str())
                && f.expires_at > sesame.clock.now_secs()
        });
        if let Some(flow) = mine {
            let data: FlowData = serde_json::from_str(&flow.data).unwrap_or_default();
            view.error = data.error;
            view.chosen = data.chosen;
            view.custom = data.custom;
        }
    }
    Ok(view)
}

/// Checks the form: per question, a known choice or one's own text, each question once,
/// an answer long enough, each answer different.
fn check(config: &RecoveryConfig, form: &QuestionsForm) -> std::result::Result<(), StepError> {
    let at =
        |list: &[String], i: usize| list.get(i).map(|s| s.trim().to_owned()).unwrap_or_default();
    let mut seen_questions: Vec<String> = Vec::new();
    let mut seen_answers: Vec<String> = Vec::new();
    for i in 0..config.questions_to_enrol {
        let choice = at(&form.question, i);
        let question = if choice == CUSTOM_QUESTION {
            let custom = at(&form.custom, i);
            if custom.is_empty() || custom.chars().count() > MAX_QUESTION_CHARS {
                let field = format!("custom_{i}");
                return Err(StepError::new(Msg::QuestionsCustomRequired, Some(&field)));
            }
            normalize_answer(&custom)
        } else if config.questions.iter().any(|q| q.id == choice) {
            choice
        } else {
            let field = format!("question_{i}");
            return Err(StepError::new(Msg::QuestionsChooseRequired, Some(&field)));
        };
        if seen_questions.contains(&question) {
            let field = format!("question_{i}");
            return Err(StepError::new(Msg::QuestionsTwice, Some(&field)));
        }
        seen_questions.push(question);
        let answer = at(&form.answer, i);
        let field = format!("answer_{i}");
        if let Err(message) = check_answer(&answer) {
            return Err(StepError::new(message, Some(&field)));
        }
        let normalized = normalize_answer(&answer);
        if seen_answers.contains(&normalized) {
            return Err(StepError::new(Msg::QuestionsSameAnswer, Some(&field)));
        }
        seen_answers.push(normalized);
    }
    Ok(())
}

async fn save(
    sesame: &Sesame,
    meta: &RequestMeta,
    form: QuestionsForm,
) -> Result<std::result::Result<Option<String>, AppError>> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let config = &sesame.config.recovery;
    let now = sesame.clock.now_secs();
    if let Err(error) = check(config, &form) {
        let count = config.questions_to_enrol;
        let data = FlowData {
            error: Some(error),
            chosen: form.question.into_iter().take(count).collect(),
            custom: form
                .custom
                .into_iter()
                .take(count)
                .map(|c| c.chars().take(MAX_QUESTION_CHARS).collect())
                .collect(),
        };
        let id = new_id();
        flows::insert(
            &sesame.store.pool,
            &NewFlow {
                id: &id,
                kind: KIND,
                state: "refused",
                person_id: Some(&person.id),
                locale: meta.locale.code(),
                binding_hash: &binding(sesame, meta),
                expires_at: now + FLOW_TTL_SECS,
                data: &serde_json::to_string(&data)?,
            },
            now,
        )
        .await?;
        return Ok(Ok(Some(id)));
    }
    let mut answers = Vec::with_capacity(config.questions_to_enrol);
    for i in 0..config.questions_to_enrol {
        let choice = form.question.get(i).map(|s| s.trim()).unwrap_or_default();
        let question = if choice == CUSTOM_QUESTION {
            Err(form
                .custom
                .get(i)
                .map(|s| s.trim().to_owned())
                .unwrap_or_default())
        } else {
            Ok(choice.to_owned())
        };
        let answer = normalize_answer(form.answer.get(i).map(String::as_str).unwrap_or_default());
        answers.push(NewAnswer {
            question,
            answer_hash: sesame.hasher.hash(&answer).await?,
        });
    }
    let mut tx = crate::store::begin(&sesame.store.pool).await?;
    questions::replace(&mut tx, &person.id, &answers, now).await?;
    audit_request(
        &mut *tx,
        sesame,
        meta,
        AuditKind::SecurityQuestions,
        Some(&person.id),
        json!({ "outcome": "set", "count": answers.len() }),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(None))
}

/// The helpdesk's "disable the questions" (seed 000): removes them all, audited with the
/// agent and the reason. Answers how many there were.
pub async fn remove(sesame: &Sesame, person_id: &str, actor: &str, reason: &str) -> Result<u64> {
    let mut tx = crate::store::begin(&sesame.store.pool).await?;
    let removed = questions::remove_all(&mut *tx, person_id).await?;
    audit::record(
        &mut *tx,
        AuditEvent {
            kind: AuditKind::SecurityQuestions,
            person_id: Some(person_id),
            actor_id: Some(actor),
            client_ip: None,
            request_id: None,
            detail: json!({ "outcome": "disabled", "removed": removed, "reason": reason }),
        },
        sesame.clock.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(questions: &[&str], custom: &[&str], answers: &[&str]) -> QuestionsForm {
        let owned = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect();
        QuestionsForm {
            question: owned(questions),
            custom: owned(custom),
            answer: owned(answers),
        }
    }

    #[test]
    fn each_question_needs_a_choice_and_a_distinct_answer() {
        let config = RecoveryConfig::default();
        let good = form(
            &["birth-city", "first-pet", "custom"],
            &["", "", "Mon surnom au camp ?"],
            &["Rimouski", "Filou", "La Fouine"],
        );
        assert_eq!(check(&config, &good), Ok(()));
        let field = |f: QuestionsForm| check(&config, &f).err().and_then(|e| e.field);
        let missing_custom = form(
            &["birth-city", "first-pet", "custom"],
            &[],
            &["a1x", "b2y", "c3z"],
        );
        assert_eq!(field(missing_custom).as_deref(), Some("custom_2"));
        let twice = form(
            &["birth-city", "birth-city", "first-pet"],
            &[],
            &["a1x", "b2y", "c3z"],
        );
        assert_eq!(field(twice).as_deref(), Some("question_1"));
        let short = form(
            &["birth-city", "first-pet", "first-job"],
            &[],
            &["Rimouski", "Fi", "Caissier"],
        );
        assert_eq!(field(short).as_deref(), Some("answer_1"));
        let same = form(
            &["birth-city", "first-pet", "first-job"],
            &[],
            &["Rimouski", "rimouski ", "Caissier"],
        );
        assert_eq!(field(same).as_deref(), Some("answer_1"));
        let unknown = form(
            &["nope", "first-pet", "first-job"],
            &[],
            &["Rimouski", "Filou", "Caissier"],
        );
        assert_eq!(field(unknown).as_deref(), Some("question_0"));
    }
}
