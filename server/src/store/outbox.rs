//! Mail waiting to be sent. Written in the transaction of the step that causes it; a
//! worker on any instance claims due rows with a conditional update, so each message is
//! sent by one instance only, and a crashed instance's claim expires.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

pub struct NewMail<'a> {
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text_body: &'a str,
    pub html_body: &'a str,
}

#[derive(Clone, FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub message_id: String,
    pub created_at: i64,
    pub recipient: String,
    pub subject: String,
    pub text_body: String,
    pub html_body: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
}

// Bodies may hold codes and links: keep them out of logs.
impl std::fmt::Debug for OutboxRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutboxRow")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, message_id, created_at, recipient, subject, text_body, html_body, state, attempts, next_attempt_at, last_error";

/// How long a claim protects a message being sent before another instance may retry it.
pub const CLAIM_SECS: i64 = 120;

pub async fn enqueue<'e>(
    db: impl Executor<'e, Database = Any>,
    mail: &NewMail<'_>,
    message_id: &str,
    now: i64,
) -> Result<String> {
    let id = super::new_id();
    sqlx::query(&format!(
        "INSERT INTO outbox ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', 0, $3, NULL)"
    ))
    .bind(&id)
    .bind(message_id)
    .bind(now)
    .bind(mail.recipient)
    .bind(mail.subject)
    .bind(mail.text_body)
    .bind(mail.html_body)
    .execute(db)
    .await?;
    Ok(id)
}

/// Claims up to `limit` due messages for this worker.
pub async fn claim_due<'e, E>(db: E, now: i64, limit: i64) -> Result<Vec<OutboxRow>>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let candidates: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE (state = 'pending' AND next_attempt_at <= $1) \
         OR (state = 'sending' AND locked_until <= $1) ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut claimed = Vec::new();
    for id in candidates {
        // Read to the end (see `throttle::record_failure`): SQLite keeps the write lock
        // until a RETURNING statement is stepped to completion.
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "UPDATE outbox SET state = 'sending', locked_until = $2, attempts = attempts + 1 \
             WHERE id = $1 AND ((state = 'pending' AND next_attempt_at <= $3) OR (state = 'sending' AND locked_until <= $3)) \
             RETURNING {COLUMNS}"
        ))
        .bind(&id)
        .bind(now + CLAIM_SECS)
        .bind(now)
        .fetch_all(db)
        .await?;
        claimed.extend(rows);
    }
    Ok(claimed)
}

/// Sent: the bodies are blanked (they may hold codes), the row stays as a record.
pub async fn mark_sent<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE outbox SET state = 'sent', sent_at = $2, text_body = '', html_body = '', last_error = NULL \
         WHERE id = $1",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Failed this time: try again at `next_attempt_at`, or give up (`failed`).
pub async fn mark_failed_attempt<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    error: &str,
    next_attempt_at: Option<i64>,
) -> Result<()> {
    let (state, next) = match next_attempt_at {
        Some(at) => ("pending", at),
        None => ("failed", 0),
    };
    sqlx::query("UPDATE outbox SET state = $2, next_attempt_at = $3, locked_until = 0, last_error = $4 WHERE id = $1")
        .bind(id)
        .bind(state)
        .bind(next)
        .bind(error)
        .execute(db)
        .await?;
    Ok(())
}

/// Messages not yet sent (pending or being sent), for metrics and tests.
pub async fn depth<'e>(db: impl Executor<'e, Database = Any>) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE state IN ('pending', 'sending')")
            .fetch_one(db)
            .await?,
    )
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<OutboxRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM outbox WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}
