//! People as password recovery sees them: how they are found (user ID or address), what
//! they can prove themselves with, and the reset that ends everything outstanding.

use sqlx::{Any, Executor, FromRow};

use super::flows;
use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct RecoveryPerson {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub recovery_email: Option<String>,
    pub category: String,
    pub language: String,
    pub state: String,
    pub employee_number: Option<String>,
    pub date_of_birth: Option<String>,
    pub pin_hash: Option<String>,
    pub sin_hash: Option<String>,
}

impl std::fmt::Debug for RecoveryPerson {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecoveryPerson")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("category", &self.category)
            .field("state", &self.state)
            .finish_non_exhaustive()
    }
}

impl RecoveryPerson {
    /// Where a code can be mailed: the recovery address, else the institution's.
    pub fn code_address(&self) -> Option<&str> {
        self.recovery_email
            .as_deref()
            .or(self.email.as_deref())
            .filter(|a| !a.is_empty())
    }

    /// Every address known for the person, once each (notices go to all of them).
    pub fn known_addresses(&self) -> Vec<String> {
        let mut addresses: Vec<String> = Vec::new();
        for address in [self.recovery_email.as_deref(), self.email.as_deref()]
            .into_iter()
            .flatten()
        {
            let address = address.trim();
            if !address.is_empty() && !addresses.iter().any(|a| a.eq_ignore_ascii_case(address)) {
                addresses.push(address.to_owned());
            }
        }
        addresses
    }
}

const COLUMNS: &str = "id, login, first_name, last_name, email, recovery_email, category, \
    language, state, employee_number, date_of_birth, pin_hash, sin_hash";

pub async fn find_by_login<'e>(
    db: impl Executor<'e, Database = Any>,
    login: &str,
) -> Result<Option<RecoveryPerson>> {
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
) -> Result<Option<RecoveryPerson>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM people WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// The people whose institution or recovery address is `address` (lower case); at most
/// two, enough to know whether it names one person.
pub async fn find_by_address<'e>(
    db: impl Executor<'e, Database = Any>,
    address: &str,
) -> Result<Vec<RecoveryPerson>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM people WHERE LOWER(email) = $1 OR LOWER(recovery_email) = $1 \
         LIMIT 2"
    ))
    .bind(address)
    .fetch_all(db)
    .await?)
}

/// Sets the new password of an active account; false if the account is not active.
pub async fn reset_password<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET password_hash = $2, updated_at = $3 WHERE id = $1 AND state = 'active'",
    )
    .bind(id)
    .bind(password_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Replaces the password of an active person only if it is still `old_hash`: of two
/// changes racing from the same old password, exactly one wins.
pub async fn replace_password<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    old_hash: &str,
    new_hash: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET password_hash = $3, updated_at = $4 \
         WHERE id = $1 AND password_hash = $2 AND state = 'active'",
    )
    .bind(id)
    .bind(old_hash)
    .bind(new_hash)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Voids every code and link not yet used in the person's flows.
pub async fn void_verifications<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    now: i64,
) -> Result<u64> {
    let result = sqlx::query(
        "UPDATE verifications SET expires_at = $2 \
         WHERE used_at IS NULL AND expires_at > $2 \
           AND flow_id IN (SELECT id FROM flows WHERE person_id = $1)",
    )
    .bind(person_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected())
}

/// Ends the person's other open flows of this kind (a second tab, an older attempt, a
/// revoked letter's activation). Unfinished ones become `superseded`, so that the purge
/// does not count them as expired, and are counted as abandoned; finished ones only end.
pub async fn supersede_other_flows(
    db: &mut sqlx::AnyConnection,
    person_id: &str,
    kind: &str,
    keep_flow_id: &str,
    now: i64,
) -> Result<u64> {
    let finished = flows::FINISHED_STATES
        .iter()
        .map(|state| format!("'{state}'"))
        .collect::<Vec<_>>()
        .join(", ");
    let superseded = sqlx::query(&format!(
        "UPDATE flows SET state = '{}', expires_at = $4 \
         WHERE person_id = $1 AND kind = $2 AND id <> $3 AND expires_at > $4 \
           AND state NOT IN ({finished})",
        flows::SUPERSEDED
    ))
    .bind(person_id)
    .bind(kind)
    .bind(keep_flow_id)
    .bind(now)
    .execute(&mut *db)
    .await?
    .rows_affected();
    sqlx::query(
        "UPDATE flows SET expires_at = $4 \
         WHERE person_id = $1 AND kind = $2 AND id <> $3 AND expires_at > $4",
    )
    .bind(person_id)
    .bind(kind)
    .bind(keep_flow_id)
    .bind(now)
    .execute(&mut *db)
    .await?;
    crate::metrics::flows_abandoned(kind, flows::Abandoned::Superseded.as_str(), superseded);
    Ok(superseded)
}
