//! The audit trail: what happened, to whom, by whom, from where. Never a secret: `detail`
//! holds outcome names and ids only.

use std::sync::atomic::{AtomicU64, Ordering};

use serde_json::Value;
use sqlx::{Any, Executor, FromRow};

use super::statement::Statement;
use crate::error::Result;

/// Declares the audited kinds with their stored codes, and the list of them all.
macro_rules! audit_kinds {
    ($( $(#[$doc:meta])* $variant:ident => $code:literal, )*) => {
        /// Kinds of audited events. The page names each by the message `audit.<code>`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum AuditKind {
            $( $(#[$doc])* $variant, )*
        }

        impl AuditKind {
            pub const ALL: &[AuditKind] = &[$(AuditKind::$variant),*];

            /// The code stored in `audit_events.kind`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(AuditKind::$variant => $code,)*
                }
            }
        }
    };
}

audit_kinds! {
    SignInSucceeded => "sign_in.succeeded",
    SignInFailed => "sign_in.failed",
    SignInThrottled => "sign_in.throttled",
    SignedOut => "sign_out",
    PersonCreated => "person.created",
    /// Created by an HR import (`sesame admin import`).
    PersonImported => "person.imported",
    /// Updated by an HR import.
    PersonUpdated => "person.updated",
    /// A letter with a new provisional password was issued (`sesame admin letters`).
    LetterIssued => "letter.issued",
    TestMailQueued => "mail.test_queued",
    /// One activation step's outcome (`detail.step`, `detail.outcome`).
    Activation => "activation",
    /// A forgot-username attempt (`detail.method`, `detail.outcome`).
    UsernameRecovery => "username_recovery",
    /// One forgot-password step's outcome (`detail.step`, `detail.outcome`).
    PasswordRecovery => "password_recovery",
    /// A password change under "My account" (`detail.outcome`).
    PasswordChanged => "password.changed",
    /// Sessions ended by their owner under "My account" (`detail.ended`).
    SessionsEndedByOwner => "sessions.ended",
    /// Security questions set up by their owner, or removed by the helpdesk.
    SecurityQuestions => "security_questions",
    /// An authenticator app enrolled or removed by its owner (`detail.outcome`).
    Authenticator => "authenticator",
    /// A recovery email change, step by step (`detail.outcome`).
    RecoveryEmail => "recovery_email",
    /// An invitation sent, replaced or revoked by an operator (`detail.outcome`).
    Invitation => "invitation",
    /// One sign-up step's outcome (`detail.step`, `detail.outcome`).
    SignUp => "sign_up",
    /// "Can't sign in?": what was sent (`detail.outcome`), never shown to the person.
    SignInHelp => "sign_in_help",
    /// A form refused by the bot check or the per-address limit (`detail.reason`).
    BotCheckFailed => "bot_check.failed",
    /// New versions of the terms of use and privacy policy accepted at sign-in.
    TermsAccepted => "terms.accepted",
    /// An account of another system linked or unlinked (`detail.system`, `detail.outcome`).
    LinkedAccount => "linked_account",
    /// A new password written to a linked account, or not (`detail.system`, `detail.outcome`).
    PasswordPush => "password_push",
    /// A role granted to a person by an operator (`detail.role`).
    RoleGranted => "role.granted",
    /// A role revoked by an operator (`detail.role`).
    RoleRevoked => "role.revoked",
    /// A helpdesk agent cleared a person's lockouts (`detail.reason`).
    Unlocked => "helpdesk.unlocked",
    /// A helpdesk agent ended all of a person's sessions (`detail.reason`).
    SessionsEnded => "helpdesk.sessions_ended",
}

pub struct AuditEvent<'a> {
    pub kind: AuditKind,
    pub person_id: Option<&'a str>,
    /// Who acted, when not the person themselves (an operator, an agent).
    pub actor_id: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub detail: Value,
}

#[derive(Clone, Debug, FromRow)]
pub struct AuditRow {
    pub id: String,
    pub at_ms: i64,
    pub kind: String,
    pub person_id: Option<String>,
    pub actor_id: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub detail: String,
}

/// An event's id: a counter of this process, then random bits. Events that share a
/// millisecond (every row of a batch does) then sort as they were written, so the trail
/// reads newest first within it too; the random half keeps ids unique across instances.
fn new_event_id() -> String {
    static WRITTEN: AtomicU64 = AtomicU64::new(0);
    let sequence = WRITTEN.fetch_add(1, Ordering::Relaxed);
    format!("{sequence:016x}{}", crate::crypto::tokens::random_hex(8))
}

pub async fn record<'e>(
    db: impl Executor<'e, Database = Any>,
    event: AuditEvent<'_>,
    now_ms: i64,
) -> Result<()> {
    record_statement(event, now_ms).execute(db).await?;
    Ok(())
}

/// [`record`] as a statement, for [`crate::store::Store::write_all`].
pub fn record_statement(event: AuditEvent<'_>, now_ms: i64) -> Statement {
    Statement::new(
        "INSERT INTO audit_events (id, at_ms, kind, person_id, actor_id, client_ip, request_id, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .text(new_event_id())
    .int(now_ms)
    .text(event.kind.as_str())
    .opt_text(event.person_id)
    .opt_text(event.actor_id)
    .opt_text(event.client_ip)
    .opt_text(event.request_id)
    .text(event.detail.to_string())
}

/// Records many events with a few multi-row inserts (batch jobs: an import, letters).
pub async fn record_many(
    conn: &mut sqlx::AnyConnection,
    events: &[AuditEvent<'_>],
    now_ms: i64,
) -> Result<()> {
    // A few dozen rows a statement: sqlx's SQLite driver binds in time that grows faster
    // than the number of values.
    for chunk in events.chunks(64) {
        let rows: Vec<String> = (0..chunk.len())
            .map(|i| {
                let n = i * 8;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3,
                    n + 4,
                    n + 5,
                    n + 6,
                    n + 7,
                    n + 8
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO audit_events (id, at_ms, kind, person_id, actor_id, client_ip, request_id, detail) \
             VALUES {}",
            rows.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for event in chunk {
            query = query
                .bind(new_event_id())
                .bind(now_ms)
                .bind(event.kind.as_str())
                .bind(event.person_id)
                .bind(event.actor_id)
                .bind(event.client_ip)
                .bind(event.request_id)
                .bind(event.detail.to_string());
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The newest events, newest first (all people when `person_id` is `None`); events of one
/// millisecond come last written first.
pub async fn recent<'e>(
    db: impl Executor<'e, Database = Any>,
    person_id: Option<&str>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let columns = "id, at_ms, kind, person_id, actor_id, client_ip, request_id, detail";
    let rows = match person_id {
        Some(person_id) => {
            sqlx::query_as(&format!(
                "SELECT {columns} FROM audit_events WHERE person_id = $1 ORDER BY at_ms DESC, id DESC LIMIT $2"
            ))
            .bind(person_id)
            .bind(limit)
            .fetch_all(db)
            .await?
        }
        None => {
            sqlx::query_as(&format!("SELECT {columns} FROM audit_events ORDER BY at_ms DESC, id DESC LIMIT $1"))
                .bind(limit)
                .fetch_all(db)
                .await?
        }
    };
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use app::i18n::Msg;

    use super::AuditKind;

    #[test]
    fn every_kind_is_named_in_the_locales() {
        for kind in AuditKind::ALL {
            let key = format!("audit.{}", kind.as_str());
            assert!(
                Msg::from_key(&key).is_some(),
                "{key} is missing from app/locales"
            );
        }
    }
}
