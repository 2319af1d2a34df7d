//! A person's security questions and the slow hashes of their answers.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct QuestionRow {
    pub position: i64,
    /// One of the institution's questions...
    pub question_id: Option<String>,
    /// ...or one the person wrote.
    pub custom_question: Option<String>,
    pub answer_hash: String,
}

impl std::fmt::Debug for QuestionRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuestionRow")
            .field("position", &self.position)
            .field("question_id", &self.question_id)
            .finish_non_exhaustive()
    }
}

/// A question to store: the institution's (`Ok(id)`) or the person's own (`Err(text)`).
pub struct NewAnswer {
    pub question: Result<String, String>,
    pub answer_hash: String,
}

pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<Vec<QuestionRow>> {
    Ok(sqlx::query_as(
        "SELECT position, question_id, custom_question, answer_hash FROM security_answers \
         WHERE person_id = $1 ORDER BY position",
    )
    .bind(person_id)
    .fetch_all(db)
    .await?)
}

/// Replaces all of the person's questions.
pub async fn replace(
    db: &mut sqlx::AnyConnection,
    person_id: &str,
    answers: &[NewAnswer],
    now: i64,
) -> Result<()> {
    remove_all(&mut *db, person_id).await?;
    for (position, answer) in answers.iter().enumerate() {
        let (question_id, custom) = match &answer.question {
            Ok(id) => (Some(id.as_str()), None),
            Err(text) => (None, Some(text.as_str())),
        };
        sqlx::query(
            "INSERT INTO security_answers \
             (id, person_id, position, question_id, custom_question, answer_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(super::new_id())
        .bind(person_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(question_id)
        .bind(custom)
        .bind(&answer.answer_hash)
        .bind(now)
        .execute(&mut *db)
        .await?;
    }
    Ok(())
}

/// Removes the person's questions (the helpdesk's "disable the questions"); answers how
/// many there were.
pub async fn remove_all<'e>(db: impl Executor<'e, Database = Any>, person_id: &str) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM security_answers WHERE person_id = $1")
            .bind(person_id)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
