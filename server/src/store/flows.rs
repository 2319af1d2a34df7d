//! Flow rows (DESIGN §2): one per self-service procedure. Transitions are conditional
//! updates on the expected state, so a replayed or concurrent step cannot apply twice.

use sqlx::{Any, Executor, FromRow};

use super::statement::Statement;
use crate::error::Result;

/// The state of a flow a newer one took the place of (see `recovery::supersede_other_flows`).
pub const SUPERSEDED: &str = "superseded";

/// States in which a flow of any kind has ended for good: completed, refused with nothing
/// left to do, or superseded. The purge does not count such rows as expired.
pub const FINISHED_STATES: &[&str] = &[
    "done", "accepted", "enrolled", "found", "shown", "refused", "helpdesk", "enter", "login",
    SUPERSEDED,
];

#[derive(Clone, FromRow)]
pub struct FlowRow {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub person_id: Option<String>,
    pub locale: String,
    pub binding_hash: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub attempts: i64,
    pub data: String,
}

impl std::fmt::Debug for FlowRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowRow")
            .field("id", &self.id)
            .field("kind", &self.kind)
            .field("state", &self.state)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

pub struct NewFlow<'a> {
    pub id: &'a str,
    pub kind: &'a str,
    pub state: &'a str,
    pub person_id: Option<&'a str>,
    pub locale: &'a str,
    pub binding_hash: &'a str,
    pub expires_at: i64,
    pub data: &'a str,
}

const COLUMNS: &str =
    "id, kind, state, person_id, locale, binding_hash, created_at, expires_at, attempts, data";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    flow: &NewFlow<'_>,
    now: i64,
) -> Result<()> {
    insert_statement(flow, now).execute(db).await?;
    crate::metrics::flow_started(flow.kind);
    Ok(())
}

/// [`insert`] as a statement, for [`crate::store::Store::write_all`] (whose caller counts
/// the flow started in the metrics once it is committed).
pub fn insert_statement(flow: &NewFlow<'_>, now: i64) -> Statement {
    Statement::new(format!(
        "INSERT INTO flows ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 0, $9)"
    ))
    .text(flow.id)
    .text(flow.kind)
    .text(flow.state)
    .opt_text(flow.person_id)
    .text(flow.locale)
    .text(flow.binding_hash)
    .int(now)
    .int(flow.expires_at)
    .text(flow.data)
}

/// The flow of this kind with this id, whatever its expiry (callers tell "expired" apart).
pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    kind: &str,
) -> Result<Option<FlowRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM flows WHERE id = $1 AND kind = $2"
    ))
    .bind(id)
    .bind(kind)
    .fetch_optional(db)
    .await?)
}

/// Moves a flow from `from_state` to `to_state` with new data; false if the flow was not
/// in `from_state` any more (a replay or a race lost) or has expired.
pub async fn transition<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    from_state: &str,
    to_state: &str,
    data: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE flows SET state = $3, data = $4, attempts = attempts + 1 \
         WHERE id = $1 AND state = $2 AND expires_at > $5",
    )
    .bind(id)
    .bind(from_state)
    .bind(to_state)
    .bind(data)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn delete_expired<'e>(db: impl Executor<'e, Database = Any>, now: i64) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM flows WHERE expires_at <= $1")
        .bind(now)
        .execute(db)
        .await?
        .rows_affected())
}

/// Like [`transition`], and also names the flow's person and sets a new expiry (the step
/// that identifies the person).
#[allow(clippy::too_many_arguments)]
pub async fn identify<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    from_state: &str,
    to_state: &str,
    person_id: &str,
    data: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE flows SET state = $3, person_id = $4, data = $5, expires_at = $6, \
         attempts = attempts + 1 WHERE id = $1 AND state = $2 AND expires_at > $7",
    )
    .bind(id)
    .bind(from_state)
    .bind(to_state)
    .bind(person_id)
    .bind(data)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// The person's unfinished flow of this kind, past its first step(s) (`not_states`), if any.
pub async fn find_open_for_person<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    kind: &str,
    not_states: &[&str],
    now: i64,
) -> Result<Vec<FlowRow>> {
    let rows: Vec<FlowRow> = sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM flows WHERE person_id = $1 AND kind = $2 AND expires_at > $3 \
         ORDER BY created_at DESC"
    ))
    .bind(person_id)
    .bind(kind)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|flow| !not_states.contains(&flow.state.as_str()))
        .collect())
}

/// Binds the flow to another browser (an emailed link opened elsewhere, or a resume).
pub async fn rebind<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    binding_hash: &str,
) -> Result<()> {
    sqlx::query("UPDATE flows SET binding_hash = $2 WHERE id = $1")
        .bind(id)
        .bind(binding_hash)
        .execute(db)
        .await?;
    Ok(())
}

/// Why an unfinished flow ended before its expiry (the `reason` of its metric).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abandoned {
    /// The person cancelled it.
    Cancelled,
    /// A newer flow took its place.
    Superseded,
}

impl Abandoned {
    pub fn as_str(self) -> &'static str {
        match self {
            Abandoned::Cancelled => "cancelled",
            Abandoned::Superseded => SUPERSEDED,
        }
    }
}

/// Removes an unfinished flow now, and counts it as abandoned.
pub async fn abandon<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    why: Abandoned,
) -> Result<()> {
    let kind: Option<String> = sqlx::query_scalar("DELETE FROM flows WHERE id = $1 RETURNING kind")
        .bind(id)
        .fetch_optional(db)
        .await?;
    if let Some(kind) = kind {
        crate::metrics::flows_abandoned(&kind, why.as_str(), 1);
    }
    Ok(())
}
