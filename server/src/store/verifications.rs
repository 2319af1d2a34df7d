//! Addresses being verified inside a flow: an emailed link and a 6-digit code, stored as
//! keyed hashes. Using one is a conditional update, so two concurrent uses cannot both
//! succeed; a newer mail replaces the older ones; wrong codes are counted.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct VerificationRow {
    pub id: String,
    pub flow_id: String,
    pub purpose: String,
    pub address: String,
    pub link_hash: String,
    pub code_hash: String,
    pub failures: i64,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

impl std::fmt::Debug for VerificationRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerificationRow")
            .field("id", &self.id)
            .field("flow_id", &self.flow_id)
            .field("purpose", &self.purpose)
            .field("expires_at", &self.expires_at)
            .field("used_at", &self.used_at)
            .finish_non_exhaustive()
    }
}

impl VerificationRow {
    pub fn usable(&self, now: i64, max_failures: i64) -> bool {
        self.used_at.is_none() && self.expires_at > now && self.failures < max_failures
    }
}

pub struct NewVerification<'a> {
    pub id: &'a str,
    pub flow_id: &'a str,
    pub purpose: &'a str,
    pub address: &'a str,
    pub link_hash: &'a str,
    pub code_hash: &'a str,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, flow_id, purpose, address, link_hash, code_hash, failures, created_at, expires_at, used_at";

/// Records a new link and code; the flow's earlier ones for the same purpose stop working.
pub async fn replace(
    db: &mut sqlx::AnyConnection,
    new: &NewVerification<'_>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE verifications SET expires_at = $3 \
         WHERE flow_id = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > $3",
    )
    .bind(new.flow_id)
    .bind(new.purpose)
    .bind(now)
    .execute(&mut *db)
    .await?;
    sqlx::query(&format!(
        "INSERT INTO verifications ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, 0, $7, $8, NULL)"
    ))
    .bind(new.id)
    .bind(new.flow_id)
    .bind(new.purpose)
    .bind(new.address)
    .bind(new.link_hash)
    .bind(new.code_hash)
    .bind(now)
    .bind(new.expires_at)
    .execute(db)
    .await?;
    Ok(())
}

/// How many mails this flow has sent to `address` for `purpose`.
pub async fn count_sent<'e>(
    db: impl Executor<'e, Database = Any>,
    flow_id: &str,
    purpose: &str,
    address: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM verifications WHERE flow_id = $1 AND purpose = $2 AND address = $3",
    )
    .bind(flow_id)
    .bind(purpose)
    .bind(address)
    .fetch_one(db)
    .await?)
}

/// The flow's newest verification for `purpose`, usable or not.
pub async fn latest<'e>(
    db: impl Executor<'e, Database = Any>,
    flow_id: &str,
    purpose: &str,
) -> Result<Option<VerificationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM verifications WHERE flow_id = $1 AND purpose = $2 \
         ORDER BY created_at DESC, expires_at DESC LIMIT 1"
    ))
    .bind(flow_id)
    .bind(purpose)
    .fetch_optional(db)
    .await?)
}

pub async fn find_by_link<'e>(
    db: impl Executor<'e, Database = Any>,
    link_hash: &str,
) -> Result<Option<VerificationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM verifications WHERE link_hash = $1"
    ))
    .bind(link_hash)
    .fetch_optional(db)
    .await?)
}

/// Uses the verification up; false if it was already used, expired or blocked (a race
/// lost, or a replay). A code typed has taken its try first ([`take_try`]): that try may
/// be the last one allowed, hence `failures <= max`; a link is checked with
/// [`VerificationRow::usable`] before.
pub async fn consume<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
    max_failures: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE verifications SET used_at = $2 \
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND failures <= $3",
    )
    .bind(id)
    .bind(now)
    .bind(max_failures)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Takes one of the code's tries before the typed code is compared, so that tries
/// arriving at once are each counted before any is compared and no more than
/// `max_failures` are ever compared. Answers the tries taken so far, this one included,
/// or `None` when the code cannot be tried any more (used, expired or out of tries).
pub async fn take_try(
    db: impl Executor<'_, Database = Any>,
    id: &str,
    now: i64,
    max_failures: i64,
) -> Result<Option<i64>> {
    // `fetch_all`: SQLite keeps the write lock until a RETURNING statement is read through.
    let taken: Vec<i64> = sqlx::query_scalar(
        "UPDATE verifications SET failures = failures + 1 \
         WHERE id = $1 AND used_at IS NULL AND expires_at > $2 AND failures < $3 \
         RETURNING failures",
    )
    .bind(id)
    .bind(now)
    .bind(max_failures)
    .fetch_all(db)
    .await?;
    Ok(taken.first().copied())
}
