//! What activation reads and records on a person: the letter's provisional password and
//! the choices made at each step (recovery email, charter, directory, mailbox).

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct ActivationPerson {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub category: String,
    pub language: String,
    pub state: String,
    pub provisional_hash: Option<String>,
    pub provisional_expires_at: Option<i64>,
    pub recovery_email: Option<String>,
    pub mailbox_address: Option<String>,
}

impl std::fmt::Debug for ActivationPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ActivationPerson")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, login, first_name, last_name, category, language, state, \
    provisional_hash, provisional_expires_at, recovery_email, mailbox_address";

pub async fn find_by_login<'e>(
    db: impl Executor<'e, Database = Any>,
    login: &str,
) -> Result<Option<ActivationPerson>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM people WHERE login = $1"))
            .bind(login)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn find_by_id<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<ActivationPerson>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM people WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_recovery_email<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    email: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE people SET recovery_email = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(email)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn accept_charter<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    version: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE people SET charter_version = $2, charter_accepted_at = $3, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(version)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_directory_consent<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    consent: bool,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE people SET directory_consent = $2, directory_consent_at = $3, updated_at = $3 \
         WHERE id = $1",
    )
    .bind(id)
    .bind(i64::from(consent))
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}

/// Whether another person already has this mailbox address.
pub async fn mailbox_taken<'e>(
    db: impl Executor<'e, Database = Any>,
    address: &str,
    person_id: &str,
) -> Result<bool> {
    let count: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM people WHERE mailbox_address = $1 AND id <> $2")
            .bind(address)
            .bind(person_id)
            .fetch_one(db)
            .await?;
    Ok(count > 0)
}

/// Gives the person this mailbox address; false if someone got it first (the unique
/// index decides between concurrent activations).
pub async fn claim_mailbox<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    address: &str,
    now: i64,
) -> Result<bool> {
    let result =
        sqlx::query("UPDATE people SET mailbox_address = $2, updated_at = $3 WHERE id = $1")
            .bind(person_id)
            .bind(address)
            .bind(now)
            .execute(db)
            .await;
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn set_forwarding<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    forward_to: Option<&str>,
    keep_copy: bool,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE people SET forward_to = $2, keep_copy = $3, updated_at = $4 WHERE id = $1")
        .bind(id)
        .bind(forward_to)
        .bind(i64::from(keep_copy))
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

/// The last step: the new password replaces the provisional one and the account becomes
/// active. False if the account was no longer pending (a replay or a race lost).
pub async fn activate<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET password_hash = $2, state = 'active', provisional_hash = NULL, \
         provisional_expires_at = NULL, activated_at = $3, updated_at = $3 \
         WHERE id = $1 AND state = 'pending' AND provisional_hash IS NOT NULL",
    )
    .bind(id)
    .bind(password_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
