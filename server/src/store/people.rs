//! People: the accounts Sésame serves.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, FromRow};

use crate::error::{Error, Result};

/// Kinds of people; the institution's rules (recovery methods, mailbox) depend on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Category {
    PermanentStaff,
    TemporaryStaff,
    Retiree,
    Student,
    External,
}

impl Category {
    pub const ALL: [Category; 5] = [
        Category::PermanentStaff,
        Category::TemporaryStaff,
        Category::Retiree,
        Category::Student,
        Category::External,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::PermanentStaff => "permanent-staff",
            Category::TemporaryStaff => "temporary-staff",
            Category::Retiree => "retiree",
            Category::Student => "student",
            Category::External => "external",
        }
    }

    pub fn parse(text: &str) -> Option<Category> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str() == text.trim())
    }
}

/// Where an account stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountState {
    /// Created, not yet activated by its owner.
    Pending,
    Active,
    Disabled,
}

impl AccountState {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountState::Pending => "pending",
            AccountState::Active => "active",
            AccountState::Disabled => "disabled",
        }
    }

    pub fn parse(text: &str) -> Option<AccountState> {
        match text {
            "pending" => Some(AccountState::Pending),
            "active" => Some(AccountState::Active),
            "disabled" => Some(AccountState::Disabled),
            _ => None,
        }
    }
}

#[derive(Clone, FromRow)]
pub struct PersonRow {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub category: String,
    pub language: String,
    pub password_hash: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
}

impl std::fmt::Debug for PersonRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PersonRow")
            .field("id", &self.id)
            .field("login", &self.login)
            .field("category", &self.category)
            .field("state", &self.state)
            .field(
                "password_hash",
                &self.password_hash.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

impl PersonRow {
    pub fn state(&self) -> Option<AccountState> {
        AccountState::parse(&self.state)
    }
}

/// A person to create.
pub struct NewPerson<'a> {
    pub id: &'a str,
    pub login: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    pub email: Option<&'a str>,
    pub category: Category,
    pub language: &'a str,
    pub password_hash: Option<&'a str>,
    pub state: AccountState,
}

const COLUMNS: &str = "id, login, first_name, last_name, email, category, language, password_hash, state, created_at, updated_at";

pub async fn insert<'e>(
    db: impl Executor<'e, Database = Any>,
    person: &NewPerson<'_>,
    now: i64,
) -> Result<()> {
    let result = sqlx::query(&format!(
        "INSERT INTO people ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)"
    ))
    .bind(person.id)
    .bind(person.login)
    .bind(person.first_name)
    .bind(person.last_name)
    .bind(person.email)
    .bind(person.category.as_str())
    .bind(person.language)
    .bind(person.password_hash)
    .bind(person.state.as_str())
    .bind(now)
    .execute(db)
    .await;
    match result {
        Ok(_) => Ok(()),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(Error::Invalid(format!(
            "login {:?} is already taken",
            person.login
        ))),
        Err(e) => Err(e.into()),
    }
}

pub async fn find_by_login<'e>(
    db: impl Executor<'e, Database = Any>,
    login: &str,
) -> Result<Option<PersonRow>> {
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
) -> Result<Option<PersonRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM people WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

pub async fn set_password_hash<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    password_hash: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE people SET password_hash = $2, updated_at = $3 WHERE id = $1")
        .bind(id)
        .bind(password_hash)
        .bind(now)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn count<'e>(db: impl Executor<'e, Database = Any>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM people")
        .fetch_one(db)
        .await?)
}
