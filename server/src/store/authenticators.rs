//! People's authenticator apps: the sealed secret and the last step a code was used for.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct AuthenticatorRow {
    pub person_id: String,
    pub secret_sealed: String,
    pub last_step: i64,
    pub created_at: i64,
}

impl std::fmt::Debug for AuthenticatorRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthenticatorRow")
            .field("person_id", &self.person_id)
            .field("last_step", &self.last_step)
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<Option<AuthenticatorRow>> {
    Ok(sqlx::query_as(
        "SELECT person_id, secret_sealed, last_step, created_at FROM authenticators \
         WHERE person_id = $1",
    )
    .bind(person_id)
    .fetch_optional(db)
    .await?)
}

/// Enrols an app, replacing any earlier one. `used_step` is the step of the code that
/// confirmed it, which cannot be used again.
pub async fn replace(
    db: &mut sqlx::AnyConnection,
    person_id: &str,
    secret_sealed: &str,
    used_step: i64,
    now: i64,
) -> Result<()> {
    remove(&mut *db, person_id).await?;
    sqlx::query(
        "INSERT INTO authenticators (person_id, secret_sealed, last_step, created_at) \
         VALUES ($1, $2, $3, $4)",
    )
    .bind(person_id)
    .bind(secret_sealed)
    .bind(used_step)
    .bind(now)
    .execute(&mut *db)
    .await?;
    Ok(())
}

/// Uses a code of `step`: true once, for the first use of a step later than any used
/// before (a conditional update, so two concurrent uses cannot both succeed).
pub async fn use_step<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    step: i64,
) -> Result<bool> {
    let updated = sqlx::query(
        "UPDATE authenticators SET last_step = $2 WHERE person_id = $1 AND last_step < $2",
    )
    .bind(person_id)
    .bind(step)
    .execute(db)
    .await?
    .rows_affected();
    Ok(updated == 1)
}

/// Removes the person's app; true if there was one.
pub async fn remove<'e>(db: impl Executor<'e, Database = Any>, person_id: &str) -> Result<bool> {
    Ok(
        sqlx::query("DELETE FROM authenticators WHERE person_id = $1")
            .bind(person_id)
            .execute(db)
            .await?
            .rows_affected()
            == 1,
    )
}
