//! Sign-in sessions. Only a keyed hash of the cookie value is stored, so a database dump
//! does not let anyone sign in.

use sqlx::{Any, Executor, FromRow};

use super::statement::Statement;
use crate::error::Result;

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id_hash: String,
    pub person_id: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
    pub client_ip: String,
    pub user_agent: String,
}

pub struct NewSession<'a> {
    pub id_hash: &'a str,
    pub person_id: &'a str,
    pub expires_at: i64,
    pub client_ip: &'a str,
    pub user_agent: &'a str,
}

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    session: &NewSession<'_>,
    now: i64,
) -> Result<()> {
    insert_statement(session, now).execute(db).await?;
    Ok(())
}

/// [`insert`] as a statement, for [`crate::store::Store::write_all`].
pub fn insert_statement(session: &NewSession<'_>, now: i64) -> Statement {
    Statement::new(
        "INSERT INTO sessions (id_hash, person_id, created_at, last_seen_at, expires_at, client_ip, user_agent) \
         VALUES ($1, $2, $3, $3, $4, $5, $6)",
    )
    .text(session.id_hash)
    .text(session.person_id)
    .int(now)
    .int(session.expires_at)
    .text(session.client_ip)
    .text(session.user_agent)
}

/// The live session with this hash: not expired, not idle for longer than `idle_secs`.
/// Touches `last_seen_at` (at most once a minute, to spare writes).
pub async fn find_live<'e, E>(
    db: E,
    id_hash: &str,
    now: i64,
    idle_secs: i64,
) -> Result<Option<SessionRow>>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let row: Option<SessionRow> = sqlx::query_as(
        "SELECT id_hash, person_id, created_at, last_seen_at, expires_at, client_ip, user_agent \
         FROM sessions WHERE id_hash = $1 AND expires_at > $2 AND last_seen_at > $3",
    )
    .bind(id_hash)
    .bind(now)
    .bind(now - idle_secs)
    .fetch_optional(db)
    .await?;
    if let Some(row) = &row
        && now - row.last_seen_at >= 60
    {
        sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE id_hash = $1")
            .bind(id_hash)
            .bind(now)
            .execute(db)
            .await?;
    }
    Ok(row)
}

pub async fn delete<'e>(db: impl Executor<'e, Database = Any>, id_hash: &str) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?
        .rows_affected()
        > 0)
}

/// Ends every session of a person (after a password change or reset).
pub async fn delete_all_for<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM sessions WHERE person_id = $1")
        .bind(person_id)
        .execute(db)
        .await?
        .rows_affected())
}

pub async fn count_for<'e>(db: impl Executor<'e, Database = Any>, person_id: &str) -> Result<i64> {
    Ok(
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE person_id = $1")
            .bind(person_id)
            .fetch_one(db)
            .await?,
    )
}

/// The person's live sessions, most recently seen first.
pub async fn list_live_for<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    now: i64,
    idle_secs: i64,
) -> Result<Vec<SessionRow>> {
    Ok(sqlx::query_as(
        "SELECT id_hash, person_id, created_at, last_seen_at, expires_at, client_ip, user_agent \
         FROM sessions WHERE person_id = $1 AND expires_at > $2 AND last_seen_at > $3 \
         ORDER BY last_seen_at DESC, created_at DESC",
    )
    .bind(person_id)
    .bind(now)
    .bind(now - idle_secs)
    .fetch_all(db)
    .await?)
}

/// How many live sessions the person has: not expired, not idle longer than `idle_secs`.
pub async fn count_live_for<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    now: i64,
    idle_secs: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions \
             WHERE person_id = $1 AND expires_at > $2 AND last_seen_at > $3",
    )
    .bind(person_id)
    .bind(now)
    .bind(now - idle_secs)
    .fetch_one(db)
    .await?)
}

/// Ends every session of a person but one (after a change made from that session).
pub async fn delete_others_for<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    keep_id_hash: &str,
) -> Result<u64> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE person_id = $1 AND id_hash <> $2")
            .bind(person_id)
            .bind(keep_id_hash)
            .execute(db)
            .await?
            .rows_affected(),
    )
}
