//! People who sign up from an invitation: created pending with their chosen password and
//! the versions of the texts they accepted, active once their address is proven.

use sqlx::{Any, Executor};

use crate::{error::Result, store::people::Category};

pub struct NewSignUp<'a> {
    pub id: &'a str,
    /// The address they were invited at, which is also their user ID.
    pub email: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub category: Category,
    pub language: &'a str,
    pub password_hash: &'a str,
    pub terms_version: &'a str,
    pub privacy_version: &'a str,
}

/// Creates the pending account; false if the user ID is taken (an account exists).
pub async fn create_pending<'e>(
    db: impl Executor<'e, Database = Any>,
    new: &NewSignUp<'_>,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO people (id, login, first_name, last_name, email, recovery_email, category, \
         language, password_hash, state, terms_version, privacy_version, terms_accepted_at, \
         created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $2, $2, $5, $6, $7, 'pending', $8, $9, $10, $10, $10)",
    )
    .bind(new.id)
    .bind(new.email)
    .bind(new.first_name)
    .bind(new.last_name)
    .bind(new.category.as_str())
    .bind(new.language)
    .bind(new.password_hash)
    .bind(new.terms_version)
    .bind(new.privacy_version)
    .bind(now)
    .execute(db)
    .await;
    match result {
        Ok(_) => Ok(true),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(false),
        Err(e) => Err(e.into()),
    }
}

/// The address is proven: the account becomes active. False if it was not pending.
pub async fn activate<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET state = 'active', activated_at = $2, updated_at = $2 \
         WHERE id = $1 AND state = 'pending' AND password_hash IS NOT NULL",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

pub async fn accept_versions<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    terms_version: &str,
    privacy_version: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE people SET terms_version = $2, privacy_version = $3, terms_accepted_at = $4, \
         updated_at = $4 WHERE id = $1",
    )
    .bind(id)
    .bind(terms_version)
    .bind(privacy_version)
    .bind(now)
    .execute(db)
    .await?;
    Ok(())
}
