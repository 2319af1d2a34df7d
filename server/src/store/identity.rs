//! People as the knowledge-based proofs see them: the employee number, the date of birth,
//! the names, and the slow hashes of the PIN and SIN digits.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

#[derive(Clone, FromRow)]
pub struct IdentityRecord {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub language: String,
    pub state: String,
    pub pin_hash: Option<String>,
    pub sin_hash: Option<String>,
    pub email: Option<String>,
    pub recovery_email: Option<String>,
}

impl std::fmt::Debug for IdentityRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityRecord")
            .field("id", &self.id)
            .field("login", &self.login)
            .finish_non_exhaustive()
    }
}

const COLUMNS: &str = "id, login, first_name, last_name, language, state, pin_hash, sin_hash, \
    email, recovery_email";

/// At most this many people share a date of birth in one lookup (the names decide).
const MAX_SAME_BIRTHDAY: i64 = 500;

pub async fn find_by_employee_number<'e>(
    db: impl Executor<'e, Database = Any>,
    employee_number: &str,
) -> Result<Vec<IdentityRecord>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM people WHERE employee_number = $1 AND state <> 'disabled'"
    ))
    .bind(employee_number)
    .fetch_all(db)
    .await?)
}

pub async fn find_by_date_of_birth<'e>(
    db: impl Executor<'e, Database = Any>,
    date_of_birth: &str,
) -> Result<Vec<IdentityRecord>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM people WHERE date_of_birth = $1 AND state <> 'disabled' LIMIT $2"
    ))
    .bind(date_of_birth)
    .bind(MAX_SAME_BIRTHDAY)
    .fetch_all(db)
    .await?)
}
