//! What the helpdesk console reads and clears (issue 6): people found by user ID, name,
//! employee number or address, and the failure counters that lock a person out.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

/// A person in a list of search results.
#[derive(Clone, Debug, FromRow)]
pub struct FoundPerson {
    pub id: String,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub category: String,
    pub state: String,
}

/// `text` for a `LIKE ... ESCAPE '\'` pattern: its own `%`, `_` and `\` match literally.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// People whose user ID starts with `query`, whose name contains it, whose employee
/// number or address (institutional or recovery) is it; at most `limit`, by user ID.
/// The employee number and the addresses are stored in clear (only PINs and SIN digits
/// are hashed), so they are compared directly, ignoring case.
pub async fn search<'e>(
    db: impl Executor<'e, Database = Any>,
    query: &str,
    limit: i64,
) -> Result<Vec<FoundPerson>> {
    // Both sides lowered by the database itself: SQLite's LOWER() leaves accented capitals
    // as they are, so lowering only the query in Rust would miss "Émilie" typed as such.
    let typed = query.trim();
    let literal = like_literal(typed);
    Ok(sqlx::query_as(
        "SELECT id, login, first_name, last_name, category, state FROM people \
         WHERE LOWER(login) LIKE LOWER($1) ESCAPE '\\' \
            OR LOWER(first_name || ' ' || last_name) LIKE LOWER($2) ESCAPE '\\' \
            OR LOWER(last_name || ' ' || first_name) LIKE LOWER($2) ESCAPE '\\' \
            OR UPPER(employee_number) = $3 \
            OR LOWER(email) = LOWER($4) OR LOWER(recovery_email) = LOWER($4) \
         ORDER BY login LIMIT $5",
    )
    .bind(format!("{literal}%"))
    .bind(format!("%{literal}%"))
    .bind(typed.to_uppercase())
    .bind(typed)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Removes these failure counters, locked or not; answers how many there were.
pub async fn clear_throttle<'e, E>(db: E, keys: &[String]) -> Result<u64>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut removed = 0;
    for key in keys {
        removed += sqlx::query("DELETE FROM throttle WHERE key = $1")
            .bind(key)
            .execute(db)
            .await?
            .rows_affected();
    }
    Ok(removed)
}

/// Of these counters, how many lock now.
pub async fn count_locked<'e, E>(db: E, keys: &[String], now: i64) -> Result<u64>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let mut locked = 0;
    for key in keys {
        if super::throttle::locked_for(db, key, now).await?.is_some() {
            locked += 1;
        }
    }
    Ok(locked)
}
