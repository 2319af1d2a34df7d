//! Invitations (seed 003): one pending invitation per address at a time; a new one
//! replaces the old, using one is a conditional update (a link works once), and the
//! people they create are remembered so "Can't sign in?" knows who signed up.

use sqlx::{Any, Executor, FromRow};

use crate::error::Result;

/// Where an invitation stands. `Expired` is not stored: it is a pending one past its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvitationState {
    Pending,
    Expired,
    Used,
    Revoked,
    Replaced,
}

impl InvitationState {
    pub fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Expired => "expired",
            InvitationState::Used => "used",
            InvitationState::Revoked => "revoked",
            InvitationState::Replaced => "replaced",
        }
    }
}

#[derive(Clone, FromRow)]
pub struct InvitationRow {
    pub id: String,
    pub email: String,
    pub issuer: String,
    pub language: String,
    pub state: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub person_id: Option<String>,
    pub actor: String,
}

impl std::fmt::Debug for InvitationRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InvitationRow")
            .field("id", &self.id)
            .field("state", &self.state)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

impl InvitationRow {
    /// The state as of `now` (a pending invitation past its time is expired).
    pub fn state_at(&self, now: i64) -> InvitationState {
        match self.state.as_str() {
            "pending" if self.expires_at <= now => InvitationState::Expired,
            "pending" => InvitationState::Pending,
            "used" => InvitationState::Used,
            "revoked" => InvitationState::Revoked,
            _ => InvitationState::Replaced,
        }
    }
}

pub struct NewInvitation<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub issuer: &'a str,
    pub language: &'a str,
    pub token_hash: &'a str,
    pub expires_at: i64,
    pub actor: &'a str,
}

const COLUMNS: &str =
    "id, email, issuer, language, state, created_at, expires_at, used_at, person_id, actor";

/// Records an invitation; the address's live ones are replaced (their links stop
/// working). Answers how many were replaced.
pub async fn insert(
    db: &mut sqlx::AnyConnection,
    new: &NewInvitation<'_>,
    now: i64,
) -> Result<u64> {
    // Expired ones stay listed as expired.
    let replaced = sqlx::query(
        "UPDATE invitations SET state = 'replaced' \
         WHERE email = $1 AND state = 'pending' AND expires_at > $2",
    )
    .bind(new.email)
    .bind(now)
    .execute(&mut *db)
    .await?
    .rows_affected();
    sqlx::query(
        "INSERT INTO invitations (id, email, issuer, language, token_hash, state, created_at, expires_at, actor) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7, $8)",
    )
    .bind(new.id)
    .bind(new.email)
    .bind(new.issuer)
    .bind(new.language)
    .bind(new.token_hash)
    .bind(now)
    .bind(new.expires_at)
    .bind(new.actor)
    .execute(&mut *db)
    .await?;
    Ok(replaced)
}

pub async fn find_by_token<'e>(
    db: impl Executor<'e, Database = Any>,
    token_hash: &str,
) -> Result<Option<InvitationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE token_hash = $1"
    ))
    .bind(token_hash)
    .fetch_optional(db)
    .await?)
}

pub async fn find<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<InvitationRow>> {
    Ok(
        sqlx::query_as(&format!("SELECT {COLUMNS} FROM invitations WHERE id = $1"))
            .bind(id)
            .fetch_optional(db)
            .await?,
    )
}

/// The invitation an account was created from, if any.
pub async fn for_person<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: &str,
) -> Result<Option<InvitationRow>> {
    Ok(sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM invitations WHERE person_id = $1 ORDER BY used_at DESC LIMIT 1"
    ))
    .bind(person_id)
    .fetch_optional(db)
    .await?)
}

/// Uses the invitation for `person_id`; false if it was no longer pending or had expired
/// (a replayed link, or a race lost).
pub async fn mark_used<'e>(
    db: impl Executor<'e, Database = Any>,
    id: &str,
    person_id: &str,
    now: i64,
) -> Result<bool> {
    let result = sqlx::query(
        "UPDATE invitations SET state = 'used', used_at = $3, person_id = $2 \
         WHERE id = $1 AND state = 'pending' AND expires_at > $3",
    )
    .bind(id)
    .bind(person_id)
    .bind(now)
    .execute(db)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// Cancels the address's live invitations; answers how many.
pub async fn revoke<'e>(
    db: impl Executor<'e, Database = Any>,
    email: &str,
    now: i64,
) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE invitations SET state = 'revoked' \
         WHERE email = $1 AND state = 'pending' AND expires_at > $2",
    )
    .bind(email)
    .bind(now)
    .execute(db)
    .await?
    .rows_affected())
}

/// Every invitation (or an address's), newest first.
pub async fn list<'e>(
    db: impl Executor<'e, Database = Any>,
    email: Option<&str>,
) -> Result<Vec<InvitationRow>> {
    let rows =
        match email {
            Some(email) => sqlx::query_as(&format!(
                "SELECT {COLUMNS} FROM invitations WHERE email = $1 ORDER BY created_at DESC, id"
            ))
            .bind(email)
            .fetch_all(db)
            .await?,
            None => {
                sqlx::query_as(&format!(
                    "SELECT {COLUMNS} FROM invitations ORDER BY created_at DESC, id"
                ))
                .fetch_all(db)
                .await?
            }
        };
    Ok(rows)
}
