//! Linked accounts and the passwords waiting to be written to them (`crate::linked`).
//! A pending password is sealed; each row is claimed with a conditional update before it
//! is tried, so several instances never try the same one at once, and a newer password
//! replaces the row (and its id) so a late outcome of an older one changes nothing.

use sqlx::{Any, AnyPool, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, Debug, FromRow)]
pub struct LinkedRow {
    pub id: String,
    pub person_id: String,
    pub system_id: String,
    pub account_name: String,
    pub linked_at: i64,
    pub last_push_at: Option<i64>,
    /// 1 set, 0 failed, `None` never tried.
    pub last_push_ok: Option<i64>,
    /// Pending passwords (0 or 1).
    pub pending: i64,
}

const LINKED_COLUMNS: &str = "l.id, l.person_id, l.system_id, l.account_name, l.linked_at, \
     l.last_push_at, l.last_push_ok, \
     (SELECT COUNT(*) FROM password_pushes p WHERE p.linked_account_id = l.id) AS pending";

/// A person's linked accounts, by system.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<Vec<LinkedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LINKED_COLUMNS} FROM linked_accounts l WHERE l.person_id = $1 ORDER BY l.system_id"
    ))
    .bind(person_id)
    .fetch_all(db)
    .await?)
}

pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<LinkedRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {LINKED_COLUMNS} FROM linked_accounts l WHERE l.id = $1"
    ))
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// Who linked this account of this system, if anyone (`account_key`: lower case).
pub async fn holder<'e>(
    db: impl Executor<'e, Database = Any>,
    system_id: &str,
    account_key: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT person_id FROM linked_accounts WHERE system_id = $1 AND account_key = $2",
    )
    .bind(system_id)
    .bind(account_key)
    .fetch_optional(db)
    .await?)
}

pub enum Linked {
    /// The link's id, and the account name it had before (a relink), if any.
    Saved {
        id: String,
        previous_key: Option<String>,
    },
    /// Another person linked this account first.
    TakenElsewhere,
}

/// Links (or relinks: the person's account on that system changes) an account.
pub async fn link(
    pool: &AnyPool,
    person_id: &str,
    system_id: &str,
    account_name: &str,
    account_key: &str,
    now: i64,
) -> Result<Linked> {
    if holder(pool, system_id, account_key)
        .await?
        .is_some_and(|holder| holder != person_id)
    {
        return Ok(Linked::TakenElsewhere);
    }
    let previous_key: Option<String> = sqlx::query_scalar(
        "SELECT account_key FROM linked_accounts WHERE person_id = $1 AND system_id = $2",
    )
    .bind(person_id)
    .bind(system_id)
    .fetch_optional(pool)
    .await?;
    // Read to the end: SQLite keeps the write lock until RETURNING is stepped through.
    let ids: Vec<String> = match sqlx::query_scalar(
        "INSERT INTO linked_accounts (id, person_id, system_id, account_name, account_key, linked_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (person_id, system_id) DO UPDATE SET account_name = excluded.account_name, \
           account_key = excluded.account_key, linked_at = excluded.linked_at \
         RETURNING id",
    )
    .bind(super::new_id())
    .bind(person_id)
    .bind(system_id)
    .bind(account_name)
    .bind(account_key)
    .bind(now)
    .fetch_all(pool)
    .await
    {
        Ok(ids) => ids,
        // Someone else linked it between the check and now.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Ok(Linked::TakenElsewhere);
        }
        Err(e) => return Err(e.into()),
    };
    let Some(id) = ids.into_iter().next() else {
        return Err(crate::error::Error::Invalid(
            "linking an account returned no row".into(),
        ));
    };
    if previous_key
        .as_deref()
        .is_some_and(|previous| previous != account_key)
    {
        // Another account now: what was pending or known for the old one is void.
        forget_pushes(pool, &id).await?;
        sqlx::query(
            "UPDATE linked_accounts SET last_push_at = NULL, last_push_ok = NULL WHERE id = $1",
        )
        .bind(&id)
        .execute(pool)
        .await?;
    }
    Ok(Linked::Saved { id, previous_key })
}

/// Unlinks; its pending password goes with it. False if nothing was linked.
pub async fn unlink<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    system_id: &str,
) -> Result<bool> {
    // `password_pushes` rows go by ON DELETE CASCADE.
    let result = sqlx::query("DELETE FROM linked_accounts WHERE person_id = $1 AND system_id = $2")
        .bind(person_id)
        .bind(system_id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// The outcome of the latest password written to a linked account.
pub async fn record_push<'e>(
    db: impl Executor<'e, Database = Any>,
    linked_id: &str,
    ok: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE linked_accounts SET last_push_at = $2, last_push_ok = $3 WHERE id = $1")
        .bind(linked_id)
        .bind(now)
        .bind(i64::from(ok))
        .execute(db)
        .await?;
    Ok(())
}

/// A pending password, claimed.
#[derive(Clone, FromRow)]
pub struct PushRow {
    pub id: String,
    pub linked_account_id: String,
    pub sealed_password: String,
    /// Tries so far, this one included.
    pub attempts: i64,
}

// Sealed, but still kept out of logs.
impl std::fmt::Debug for PushRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushRow")
            .field("id", &self.id)
            .field("linked_account_id", &self.linked_account_id)
            .field("attempts", &self.attempts)
            .finish_non_exhaustive()
    }
}

/// Queues a new password for a linked account, due at once, replacing an older one. A
/// claim on the older one stands: its try ends first, then this one may start.
pub async fn queue_push<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    linked_id: &str,
    sealed_password: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO password_pushes (id, linked_account_id, sealed_password, attempts, next_attempt_at, \
           locked_until, last_error, created_at) VALUES ($1, $2, $3, 0, $4, 0, NULL, $4) \
         ON CONFLICT (linked_account_id) DO UPDATE SET id = excluded.id, \
           sealed_password = excluded.sealed_password, attempts = 0, \
           next_attempt_at = excluded.next_attempt_at, last_error = NULL, created_at = excluded.created_at",
    )
    .bind(id)
    .bind(linked_id)
    .bind(sealed_password)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Up to `limit` pending passwords due now and not claimed.
pub async fn due_pushes<'e>(
    db: impl Executor<'e, Database = Any>,
    now: i64,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM password_pushes WHERE next_attempt_at <= $1 AND locked_until <= $1 \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Claims a due pending password until `claim_until`; `None` if it is not due, claimed by
/// another try, replaced or gone.
pub async fn claim_push<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
    claim_until: i64,
) -> Result<Option<PushRow>> {
    let rows: Vec<PushRow> = sqlx::query_as(
        "UPDATE password_pushes SET locked_until = $2, attempts = attempts + 1 \
         WHERE id = $1 AND next_attempt_at <= $3 AND locked_until <= $3 \
         RETURNING id, linked_account_id, sealed_password, attempts",
    )
    .bind(id)
    .bind(claim_until)
    .bind(now)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().next())
}

/// Delivered, or given up: the sealed password goes. False if a newer one replaced it.
pub async fn delete_push<'e>(db: impl Executor<'e, Database = Any>, id: &str) -> Result<bool> {
    let result = sqlx::query("DELETE FROM password_pushes WHERE id = $1")
        .bind(id)
        .execute(db)
        .await?;
    Ok(result.rows_affected() > 0)
}

/// Failed this time: tried again at `next_attempt_at`. False if a newer one replaced it.
pub async fn push_failed<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    next_attempt_at: i64,
    error: &str,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE password_pushes SET next_attempt_at = $2, locked_until = 0, last_error = $3 WHERE id = $1",
    )
    .bind(id)
    .bind(next_attempt_at)
    .bind(error)
    .execute(db)
    .await?;
    Ok(result.rows_affected() > 0)
}

/// Ends a claim that outlived its row: the newer password that replaced it may start.
pub async fn release<'e>(db: impl Executor<'e, Database = Any>, linked_id: &str) -> Result<()> {
    sqlx::query("UPDATE password_pushes SET locked_until = 0 WHERE linked_account_id = $1")
        .bind(linked_id)
        .execute(db)
        .await?;
    Ok(())
}

/// Drops a linked account's pending password.
pub async fn forget_pushes<'e>(
    db: impl Executor<'e, Database = Any>,
    linked_id: &str,
) -> Result<()> {
    sqlx::query("DELETE FROM password_pushes WHERE linked_account_id = $1")
        .bind(linked_id)
        .execute(db)
        .await?;
    Ok(())
}
