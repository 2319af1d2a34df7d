//! People: the accounts Sésame serves.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor, FromRow, any::AnyRow};

use super::{
    Store, placeholders,
    statement::{Columns, Statement},
    throttle::Standing,
};
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

#[derive(Clone)]
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

    /// Reads the person's columns from a row of either path ([`Columns`]).
    fn from_columns(row: &impl Columns) -> Result<PersonRow> {
        Ok(PersonRow {
            id: row.required_text("id")?,
            login: row.required_text("login")?,
            first_name: row.required_text("first_name")?,
            last_name: row.required_text("last_name")?,
            email: row.text("email")?,
            category: row.required_text("category")?,
            language: row.required_text("language")?,
            password_hash: row.text("password_hash")?,
            state: row.required_text("state")?,
            created_at: row.required_int("created_at")?,
            updated_at: row.required_int("updated_at")?,
        })
    }
}

/// sqlx's queries read a person with the same function as the direct path.
impl FromRow<'_, AnyRow> for PersonRow {
    fn from_row(row: &AnyRow) -> sqlx::Result<PersonRow> {
        PersonRow::from_columns(row).map_err(|error| match error {
            Error::Database(error) => error,
            other => sqlx::Error::Decode(other.into()),
        })
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

/// A person found for a sign-in, with the versions of the terms of use and privacy policy
/// they accepted (`None` for people who never had to: letters and imports have their own
/// charter).
pub struct SignInRow {
    pub person: PersonRow,
    pub terms_version: Option<String>,
    pub privacy_version: Option<String>,
}

/// What a sign-in reads before its hash, in one query: the throttle's rows for
/// `throttle_keys` and the person whose login is `login`. On a SQLite file it runs here,
/// without a hand-off to another thread ([`super::direct`]): it is on every sign-in's path.
pub async fn find_for_sign_in(
    store: &Store,
    login: &str,
    throttle_keys: &[&str],
    now: i64,
) -> Result<(Standing, Option<SignInRow>)> {
    let person_columns = COLUMNS
        .split(", ")
        .map(|column| format!("p.{column}"))
        .collect::<Vec<_>>()
        .join(", ");
    // `IN ()` is not SQL everywhere.
    let throttle_rows = match throttle_keys.len() {
        0 => "1 = 0".to_owned(),
        count => format!("t.key IN ({})", placeholders(2, count)),
    };
    // One row when no key has a row, else one per key's row, the person repeated on each
    // (its columns NULL when nobody has this login).
    let mut statement = Statement::new(format!(
        "SELECT t.key AS throttle_key, t.locked_until AS throttle_locked_until, \
         {person_columns}, p.terms_version, p.privacy_version \
         FROM (SELECT CAST($1 AS TEXT) AS login) AS wanted \
         LEFT JOIN people p ON p.login = wanted.login \
         LEFT JOIN throttle t ON {throttle_rows}"
    ))
    .text(login);
    for key in throttle_keys {
        statement = statement.text(*key);
    }
    let rows = match store.direct_sqlite()? {
        Some(direct) => {
            direct.read(|conn| statement.query_direct(conn, |row| SignInRead::from_columns(row)))?
        }
        None => statement
            .fetch_all(&store.pool)
            .await?
            .iter()
            .map(SignInRead::from_columns)
            .collect::<Result<Vec<_>>>()?,
    };
    let mut standing = Standing::default();
    let mut found = None;
    for row in rows {
        if let Some((key, locked_until)) = row.throttle {
            standing.add(key, locked_until, now);
        }
        if found.is_none() {
            found = row.person;
        }
    }
    Ok((standing, found))
}

/// One row of [`find_for_sign_in`]'s query.
struct SignInRead {
    throttle: Option<(String, i64)>,
    person: Option<SignInRow>,
}

impl SignInRead {
    fn from_columns(row: &impl Columns) -> Result<SignInRead> {
        let throttle = row
            .text("throttle_key")?
            .zip(row.int("throttle_locked_until")?);
        let person = match row.text("id")? {
            Some(_) => Some(SignInRow {
                person: PersonRow::from_columns(row)?,
                terms_version: row.text("terms_version")?,
                privacy_version: row.text("privacy_version")?,
            }),
            None => None,
        };
        Ok(SignInRead { throttle, person })
    }
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

/// What an HR import needs to know of a person already there.
#[derive(Clone, Debug, FromRow)]
pub struct ImportedState {
    pub id: String,
    pub login: String,
    pub import_digest: Option<String>,
    pub pin_hash: Option<String>,
    pub sin_hash: Option<String>,
}

/// The people among `logins` who exist, with the digest of the row they were last
/// imported from.
pub async fn find_import_states(
    conn: &mut sqlx::AnyConnection,
    logins: &[&str],
) -> Result<Vec<ImportedState>> {
    let mut states = Vec::with_capacity(logins.len());
    // Short lists: sqlx's SQLite driver binds many values slowly (see `insert_imported`).
    for chunk in logins.chunks(100) {
        let sql = format!(
            "SELECT id, login, import_digest, pin_hash, sin_hash FROM people WHERE login IN ({})",
            placeholders(1, chunk.len())
        );
        // Not kept prepared: PostgreSQL would reuse a plan made while the table was
        // still empty (a sequential scan), 10 times slower once it is full.
        let mut query = sqlx::query_as(&sql).persistent(false);
        for login in chunk {
            query = query.bind(*login);
        }
        states.extend(query.fetch_all(&mut *conn).await?);
    }
    Ok(states)
}

/// A person as an HR import writes them. Secrets arrive already hashed.
pub struct ImportedPerson<'a> {
    pub id: &'a str,
    pub login: &'a str,
    pub first_name: &'a str,
    pub last_name: &'a str,
    /// `YYYY-MM-DD`.
    pub date_of_birth: &'a str,
    pub employee_number: &'a str,
    pub category: Category,
    pub language: &'a str,
    pub email: Option<&'a str>,
    pub pin_hash: Option<&'a str>,
    pub sin_hash: Option<&'a str>,
    pub import_digest: &'a str,
}

const IMPORTED_COLUMNS: usize = 15;

/// Creates imported people, pending and without a password, with multi-row inserts.
/// Returns the logins actually created: a login taken meanwhile is skipped, not
/// overwritten.
pub async fn insert_imported(
    conn: &mut sqlx::AnyConnection,
    people: &[ImportedPerson<'_>],
    now: i64,
) -> Result<Vec<String>> {
    let mut created = Vec::with_capacity(people.len());
    // A few dozen rows a statement: sqlx's SQLite driver binds in time that grows faster
    // than the number of values (measured: 40 rows are 10 times faster a row than 500).
    for chunk in people.chunks(40) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                format!(
                    "({})",
                    placeholders(i * IMPORTED_COLUMNS + 1, IMPORTED_COLUMNS)
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO people (id, login, first_name, last_name, date_of_birth, employee_number, \
             category, language, email, pin_hash, sin_hash, import_digest, state, created_at, \
             updated_at) VALUES {} ON CONFLICT (login) DO NOTHING RETURNING login",
            rows.join(", ")
        );
        let mut query = sqlx::query_scalar(&sql);
        for person in chunk {
            query = query
                .bind(person.id)
                .bind(person.login)
                .bind(person.first_name)
                .bind(person.last_name)
                .bind(person.date_of_birth)
                .bind(person.employee_number)
                .bind(person.category.as_str())
                .bind(person.language)
                .bind(person.email)
                .bind(person.pin_hash)
                .bind(person.sin_hash)
                .bind(person.import_digest)
                .bind(AccountState::Pending.as_str())
                .bind(now)
                .bind(now);
        }
        // fetch_all: a RETURNING statement read to its end releases SQLite's write lock.
        let logins: Vec<String> = query.fetch_all(&mut *conn).await?;
        created.extend(logins);
    }
    Ok(created)
}

/// Updates what the HR file says about an existing person, keyed by login. Never touches
/// the password, the state or anything activation records. False if the person is gone.
pub async fn update_imported<'e>(
    db: impl Executor<'e, Database = Any>,
    person: &ImportedPerson<'_>,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET first_name = $2, last_name = $3, date_of_birth = $4, \
         employee_number = $5, category = $6, language = $7, email = $8, pin_hash = $9, \
         sin_hash = $10, import_digest = $11, updated_at = $12 \
         WHERE login = $1",
    )
    .bind(person.login)
    .bind(person.first_name)
    .bind(person.last_name)
    .bind(person.date_of_birth)
    .bind(person.employee_number)
    .bind(person.category.as_str())
    .bind(person.language)
    .bind(person.email)
    .bind(person.pin_hash)
    .bind(person.sin_hash)
    .bind(person.import_digest)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Someone a letter may be written to.
#[derive(Clone, Debug, FromRow)]
pub struct LetterRecipient {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub category: String,
    pub language: String,
    pub state: String,
    pub letter_issued_at: Option<i64>,
}

const RECIPIENT_COLUMNS: &str =
    "id, login, first_name, last_name, category, language, state, letter_issued_at";

/// Pending people who never got a letter, by login.
pub async fn pending_without_letter<'e>(
    db: impl Executor<'e, Database = Any>,
) -> Result<Vec<LetterRecipient>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECIPIENT_COLUMNS} FROM people \
         WHERE state = 'pending' AND letter_issued_at IS NULL ORDER BY login"
    ))
    .fetch_all(db)
    .await?)
}

/// Pending people of one category, by login.
pub async fn pending_in_category<'e>(
    db: impl Executor<'e, Database = Any>,
    category: Category,
) -> Result<Vec<LetterRecipient>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECIPIENT_COLUMNS} FROM people \
         WHERE state = 'pending' AND category = $1 ORDER BY login"
    ))
    .bind(category.as_str())
    .fetch_all(db)
    .await?)
}

pub async fn find_recipient_by_login<'e>(
    db: impl Executor<'e, Database = Any>,
    login: &str,
) -> Result<Option<LetterRecipient>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {RECIPIENT_COLUMNS} FROM people WHERE login = $1"
    ))
    .bind(login)
    .fetch_optional(db)
    .await?)
}

/// Puts an active account back to pending, without a password, for new provisional
/// credentials (the helpdesk's letter): the person activates again. False if it was not
/// active.
pub async fn return_to_pending<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET state = 'pending', password_hash = NULL, updated_at = $2 \
         WHERE id = $1 AND state = 'active'",
    )
    .bind(id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Gives a pending person a new provisional password (replacing, so revoking, the
/// previous letter's). False if the person is no longer pending.
pub async fn issue_provisional<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    provisional_hash: &str,
    expires_at: i64,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE people SET provisional_hash = $2, provisional_expires_at = $3, \
         letter_issued_at = $4, updated_at = $4 WHERE id = $1 AND state = 'pending'",
    )
    .bind(id)
    .bind(provisional_hash)
    .bind(expires_at)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}
