//! Roles (issue 6): who may use the helpdesk console. `admin` implies `helpdesk`.

use sqlx::{Any, Executor};

use crate::error::Result;

/// A role a person can hold, in rising order of power.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// A helpdesk agent: the console under `/helpdesk`.
    Helpdesk,
    /// An administrator: everything an agent may do, and more to come.
    Admin,
}

impl Role {
    pub const ALL: [Role; 2] = [Role::Helpdesk, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Helpdesk => "helpdesk",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == text.trim().to_ascii_lowercase())
    }
}

/// Grants a role; false if the person already had it.
pub async fn grant<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    role: Role,
    granted_by: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "INSERT INTO person_roles (person_id, role, granted_at, granted_by) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (person_id, role) DO NOTHING",
    )
    .bind(person_id)
    .bind(role.as_str())
    .bind(now)
    .bind(granted_by)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Revokes a role; false if the person did not have it.
pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
    role: Role,
) -> Result<bool> {
    let result = sqlx::query("DELETE FROM person_roles WHERE person_id = $1 AND role = $2")
        .bind(person_id)
        .bind(role.as_str())
        .execute(db)
        .await?;
    Ok(result.rows_affected() == 1)
}

/// The person's roles.
pub async fn of<'e>(db: impl Executor<'e, Database = Any>, person_id: &str) -> Result<Vec<Role>> {
    let names: Vec<String> =
        sqlx::query_scalar("SELECT role FROM person_roles WHERE person_id = $1 ORDER BY role")
            .bind(person_id)
            .fetch_all(db)
            .await?;
    Ok(names.iter().filter_map(|n| Role::parse(n)).collect())
}

/// Whether the person may use the helpdesk console (an agent, or an administrator).
pub async fn is_agent<'e>(db: impl Executor<'e, Database = Any>, person_id: &str) -> Result<bool> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM person_roles WHERE person_id = $1 AND role IN ('helpdesk', 'admin')",
    )
    .bind(person_id)
    .fetch_one(db)
    .await?;
    Ok(count > 0)
}

/// The person's most powerful role, if any (agents act only on people below their own).
pub async fn highest<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<Option<Role>> {
    Ok(of(db, person_id).await?.into_iter().max())
}
