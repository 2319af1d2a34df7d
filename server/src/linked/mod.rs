//! Linked accounts (issue 6, "Joindre d'autres comptes"): a signed-in person links the
//! accounts they hold in other systems (`[linked_systems.<id>]` in the configuration).
//!
//! - Linking proves the account: Sésame binds to that system as the account with the
//!   password typed, then stores the link, never that password. Wrong passwords count
//!   against the person and the account (the throttle), so Sésame is no way to guess a
//!   directory password faster than the directory allows.
//! - After a password change or reset, [`push_password`] writes the new password to every
//!   linked account whose system takes it (RFC 3062, with the service account), all at
//!   once, each bounded by its system's timeout. The password is first queued sealed
//!   (`crypto::sealed`, server key); a success deletes it, a failure keeps it for
//!   [`retry_due`] (every instance runs it; rows are claimed before a try) with an
//!   exponential backoff, until it is delivered or given up. The Sésame change is
//!   committed before any of this and never undone by it.
//! - Every link, unlink and push outcome is audited, without a password.

mod ldap;

use std::time::Duration;

use futures::future::join_all;
use serde_json::json;

pub use app::api::linked::{LinkRefusal, LinkedAccount, PushOutcome, PushReport, SystemInfo};
use app::api::{portal::LocalizedText, ssr::RequestMeta};

use crate::{
    config::{Config, LinkedSystemConfig},
    crypto::sealed,
    error::Result,
    state::Sesame,
    store::{
        audit::{self, AuditEvent, AuditKind},
        linked_accounts::{self, Linked, LinkedRow, PushRow},
        new_id,
        throttle::{self, Rule},
    },
};

/// The sealing purpose of a pending password (its context: the linked account's id).
const PURPOSE: &str = "password-push";
/// The longest account name accepted, in characters.
pub const MAX_ACCOUNT_NAME: usize = 256;
/// First retry delay after a failed push; it doubles at each failure, up to the cap.
pub const RETRY_BASE_SECS: i64 = 30;
pub const RETRY_MAX_DELAY_SECS: i64 = 3600;
/// Tries before a pending password is given up (about 6 hours with the delays above).
pub const MAX_ATTEMPTS: i64 = 12;
/// How long a claim protects a try; longer than the longest timeout (60 s).
const CLAIM_SECS: i64 = 120;
/// How often `sesame serve` looks for due retries.
pub const RETRY_EVERY: Duration = Duration::from_secs(30);

/// The systems people may link, in the configuration's order (by id).
pub fn systems(config: &Config) -> Vec<SystemInfo> {
    config
        .linked_systems
        .iter()
        .map(|(id, system)| SystemInfo {
            id: id.clone(),
            name: system.name.clone(),
            push_password: system.push_password,
        })
        .collect()
}

/// A system's name; its id when it left the configuration.
fn system_name(config: &Config, system_id: &str) -> LocalizedText {
    config
        .linked_systems
        .get(system_id)
        .map(|system| system.name.clone())
        .unwrap_or_else(|| LocalizedText {
            fr: system_id.to_owned(),
            en: system_id.to_owned(),
        })
}

/// The account name as stored (trimmed), if acceptable.
fn account_name(typed: &str) -> Option<&str> {
    let name = typed.trim();
    let acceptable = !name.is_empty()
        && name.chars().count() <= MAX_ACCOUNT_NAME
        && !name.chars().any(char::is_control);
    acceptable.then_some(name)
}

/// Case-insensitive, as directories compare names: one account, one person.
fn account_key(name: &str) -> String {
    name.to_lowercase()
}

/// Audits an event; `origin` is the person's request, when one caused it (not a retry).
async fn record(
    sesame: &Sesame,
    origin: Option<&RequestMeta>,
    kind: AuditKind,
    person_id: &str,
    detail: serde_json::Value,
) {
    let client_ip = origin.map(|meta| meta.client_ip.to_string());
    let event = AuditEvent {
        kind,
        person_id: Some(person_id),
        actor_id: None,
        client_ip: client_ip.as_deref(),
        request_id: origin.map(|meta| meta.request_id.as_str()),
        detail,
    };
    // An audit row that cannot be written must not undo what was done in a directory.
    if let Err(error) = audit::record(&sesame.store.pool, event, sesame.clock.now_ms()).await {
        tracing::error!(%error, "audit of a linked account not recorded");
    }
}

/// Links the person's `account` on `system_id`, proven with that system's `password`
/// (never stored). Linking the same system again replaces the account.
pub async fn link(
    sesame: &Sesame,
    meta: &RequestMeta,
    person_id: &str,
    system_id: &str,
    account: &str,
    password: &str,
) -> Result<std::result::Result<(), LinkRefusal>> {
    let Some(system) = sesame.config.linked_systems.get(system_id) else {
        return Ok(Err(LinkRefusal::UnknownSystem));
    };
    let Some(account) = account_name(account) else {
        return Ok(Err(LinkRefusal::InvalidAccountName));
    };
    let key = account_key(account);
    let audit =
        |outcome: &str| json!({ "system": system_id, "account": account, "outcome": outcome });
    // Refused before any bind: an empty password binds anonymously on many servers.
    if password.is_empty() {
        record(
            sesame,
            Some(meta),
            AuditKind::LinkedAccount,
            person_id,
            audit("empty_password"),
        )
        .await;
        return Ok(Err(LinkRefusal::WrongCredentials));
    }
    let pool = &sesame.store.pool;
    let person_key = format!("linked:person:{person_id}");
    let target_key = format!("linked:account:{system_id}:{key}");
    let now = sesame.clock.now_secs();
    if throttle::locked_for_any(pool, &[&person_key, &target_key], now)
        .await?
        .is_some()
    {
        record(
            sesame,
            Some(meta),
            AuditKind::LinkedAccount,
            person_id,
            audit("throttled"),
        )
        .await;
        return Ok(Err(LinkRefusal::TooManyAttempts));
    }
    let dn = ldap::user_dn(system, account);
    match ldap::check_password(system, &dn, password).await {
        Ok(()) => {}
        Err(ldap::Failure::Refused(detail)) => {
            let settings = &sesame.config.throttle;
            let rule = Rule::with_limit(settings, settings.signin_per_account);
            throttle::record_failures(
                pool,
                &[(&person_key, rule), (&target_key, rule)],
                sesame.clock.now_secs(),
            )
            .await?;
            tracing::info!(system = system_id, %detail, "link refused by the directory");
            record(
                sesame,
                Some(meta),
                AuditKind::LinkedAccount,
                person_id,
                audit("wrong_credentials"),
            )
            .await;
            return Ok(Err(LinkRefusal::WrongCredentials));
        }
        Err(failure @ ldap::Failure::Unreachable(_)) => {
            let error = failure.message();
            tracing::warn!(system = system_id, %error, "linked system unreachable");
            let mut detail = audit("unreachable");
            detail["error"] = json!(error);
            record(
                sesame,
                Some(meta),
                AuditKind::LinkedAccount,
                person_id,
                detail,
            )
            .await;
            return Ok(Err(LinkRefusal::Unreachable));
        }
    }
    let now = sesame.clock.now_secs();
    match linked_accounts::link(pool, person_id, system_id, account, &key, now).await? {
        Linked::TakenElsewhere => {
            record(
                sesame,
                Some(meta),
                AuditKind::LinkedAccount,
                person_id,
                audit("already_linked_elsewhere"),
            )
            .await;
            Ok(Err(LinkRefusal::AlreadyLinkedElsewhere))
        }
        Linked::Saved { previous_key, .. } => {
            throttle::clear(pool, &person_key).await?;
            throttle::clear(pool, &target_key).await?;
            let outcome = if previous_key.is_some() {
                "relinked"
            } else {
                "linked"
            };
            record(
                sesame,
                Some(meta),
                AuditKind::LinkedAccount,
                person_id,
                audit(outcome),
            )
            .await;
            Ok(Ok(()))
        }
    }
}

/// Unlinks the person's account on `system_id` (and drops a password waiting for it).
pub async fn unlink(
    sesame: &Sesame,
    meta: &RequestMeta,
    person_id: &str,
    system_id: &str,
) -> Result<bool> {
    let unlinked = linked_accounts::unlink(&sesame.store.pool, person_id, system_id).await?;
    if unlinked {
        record(
            sesame,
            Some(meta),
            AuditKind::LinkedAccount,
            person_id,
            json!({ "system": system_id, "outcome": "unlinked" }),
        )
        .await;
    }
    Ok(unlinked)
}

/// The person's linked accounts, by system id.
pub async fn list(sesame: &Sesame, person_id: &str) -> Result<Vec<LinkedAccount>> {
    let rows = linked_accounts::list(&sesame.store.pool, person_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| LinkedAccount {
            system_name: system_name(&sesame.config, &row.system_id),
            push_password: sesame
                .config
                .linked_systems
                .get(&row.system_id)
                .is_some_and(|system| system.push_password),
            system_id: row.system_id,
            account_name: row.account_name,
            linked_at: row.linked_at,
            last_push_at: row.last_push_at,
            last_push_ok: row.last_push_ok.map(|ok| ok != 0),
            push_pending: row.pending > 0,
        })
        .collect())
}

/// Writes the person's new password to each linked account whose system takes it, all at
/// once, now. Call it once the Sésame change is committed. A directory failure is no
/// error: that account's outcome is `WillRetry` and the password waits, sealed, for
/// [`retry_due`]. Errs only when the database does.
pub async fn push_password(
    sesame: &Sesame,
    person_id: &str,
    new_password: &str,
) -> Result<Vec<PushReport>> {
    let rows = linked_accounts::list(&sesame.store.pool, person_id).await?;
    let tries = rows.iter().filter_map(|row| {
        // A system no longer configured is left alone.
        let system = sesame.config.linked_systems.get(&row.system_id)?;
        Some(async move {
            let outcome = if system.push_password {
                push_now(sesame, row, system, new_password).await?
            } else {
                PushOutcome::NotSupported
            };
            Ok::<_, crate::error::Error>(PushReport {
                system_id: row.system_id.clone(),
                system_name: system.name.clone(),
                outcome,
            })
        })
    });
    join_all(tries).await.into_iter().collect()
}

/// Queues the password sealed (so nothing is lost whatever happens next), then tries it.
async fn push_now(
    sesame: &Sesame,
    row: &LinkedRow,
    system: &LinkedSystemConfig,
    new_password: &str,
) -> Result<PushOutcome> {
    let pool = &sesame.store.pool;
    let sealed = sealed::seal(&sesame.key, PURPOSE, &row.id, new_password.as_bytes())?;
    let push_id = new_id();
    let now = sesame.clock.now_secs();
    linked_accounts::queue_push(pool, &push_id, &row.id, &sealed, now).await?;
    let Some(claimed) = linked_accounts::claim_push(pool, &push_id, now, now + CLAIM_SECS).await?
    else {
        // An older password is being tried right now: this one follows it.
        return Ok(PushOutcome::WillRetry);
    };
    let dn = ldap::user_dn(system, &row.account_name);
    let result = ldap::set_password(system, &dn, new_password).await;
    finish(sesame, row, &claimed, result).await
}

/// Records a try's outcome: delivered (the sealed password goes), or another try later,
/// or given up after [`MAX_ATTEMPTS`].
async fn finish(
    sesame: &Sesame,
    row: &LinkedRow,
    claimed: &PushRow,
    result: std::result::Result<(), ldap::Failure>,
) -> Result<PushOutcome> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let mut detail = json!({
        "system": row.system_id,
        "account": row.account_name,
        "attempts": claimed.attempts,
    });
    let outcome = match result {
        Ok(()) => {
            if linked_accounts::delete_push(pool, &claimed.id).await? {
                linked_accounts::record_push(pool, &row.id, true, now).await?;
            } else {
                // A newer password replaced this one meanwhile: it may go now.
                linked_accounts::release(pool, &row.id).await?;
            }
            detail["outcome"] = json!("updated");
            PushOutcome::Updated
        }
        Err(failure) => {
            let error = failure.message();
            tracing::warn!(system = %row.system_id, attempts = claimed.attempts, %error, "password not set on a linked account");
            detail["error"] = json!(error);
            if claimed.attempts >= MAX_ATTEMPTS {
                linked_accounts::delete_push(pool, &claimed.id).await?;
                detail["outcome"] = json!("given_up");
            } else {
                let next = now + retry_delay(claimed.attempts);
                if !linked_accounts::push_failed(pool, &claimed.id, next, &error).await? {
                    linked_accounts::release(pool, &row.id).await?;
                }
                detail["outcome"] = json!("will_retry");
                detail["next_attempt_at"] = json!(next);
            }
            linked_accounts::record_push(pool, &row.id, false, now).await?;
            PushOutcome::WillRetry
        }
    };
    record(
        sesame,
        None,
        AuditKind::PasswordPush,
        &row.person_id,
        detail,
    )
    .await;
    Ok(outcome)
}

/// Seconds before the next try after `attempts` failed ones: 30 s, 1 min, 2 min... 1 h.
fn retry_delay(attempts: i64) -> i64 {
    let exponent = u32::try_from(attempts.saturating_sub(1))
        .unwrap_or(0)
        .min(16);
    RETRY_BASE_SECS
        .saturating_mul(1 << exponent)
        .min(RETRY_MAX_DELAY_SECS)
}

/// Tries every pending password that is due; answers how many were delivered.
pub async fn retry_due(sesame: &Sesame) -> Result<usize> {
    const BATCH: i64 = 50;
    let pool = &sesame.store.pool;
    let mut delivered = 0;
    loop {
        let now = sesame.clock.now_secs();
        let due = linked_accounts::due_pushes(pool, now, BATCH).await?;
        let mut claimed = Vec::new();
        for id in &due {
            // Another instance may have claimed it since the query: then it is not ours.
            if let Some(row) = linked_accounts::claim_push(pool, id, now, now + CLAIM_SECS).await? {
                claimed.push(row);
            }
        }
        let outcomes = join_all(claimed.iter().map(|row| retry_one(sesame, row))).await;
        for outcome in outcomes {
            if outcome? == Some(PushOutcome::Updated) {
                delivered += 1;
            }
        }
        // Failures are due later, so a full batch means there may be more due now.
        if (due.len() as i64) < BATCH {
            return Ok(delivered);
        }
    }
}

async fn retry_one(sesame: &Sesame, claimed: &PushRow) -> Result<Option<PushOutcome>> {
    let pool = &sesame.store.pool;
    let Some(row) = linked_accounts::find_by_id(pool, &claimed.linked_account_id).await? else {
        // Unlinked meanwhile (the pending password went with it).
        return Ok(None);
    };
    let system = sesame
        .config
        .linked_systems
        .get(&row.system_id)
        .filter(|system| system.push_password);
    let password = sealed::open(&sesame.key, PURPOSE, &row.id, &claimed.sealed_password)
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    let (Some(system), Some(password)) = (system, password) else {
        // The system left the configuration (or stopped taking passwords), or the server
        // key changed: this password can never be delivered.
        linked_accounts::delete_push(pool, &claimed.id).await?;
        linked_accounts::record_push(pool, &row.id, false, sesame.clock.now_secs()).await?;
        record(
            sesame,
            None,
            AuditKind::PasswordPush,
            &row.person_id,
            json!({
                "system": row.system_id,
                "account": row.account_name,
                "attempts": claimed.attempts,
                "outcome": "given_up",
                "error": "system not configured for passwords, or the password cannot be opened",
            }),
        )
        .await;
        return Ok(None);
    };
    let dn = ldap::user_dn(system, &row.account_name);
    let result = ldap::set_password(system, &dn, &password).await;
    finish(sesame, &row, claimed, result).await.map(Some)
}

/// Runs forever in `sesame serve`: delivers due retries every [`RETRY_EVERY`].
pub async fn run_retries(sesame: Sesame) {
    loop {
        match retry_due(&sesame).await {
            Ok(0) => {}
            Ok(delivered) => tracing::info!(delivered, "linked account passwords delivered"),
            Err(error) => tracing::warn!(%error, "linked account retries failed"),
        }
        tokio::time::sleep(RETRY_EVERY).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_names_are_trimmed_and_bounded() {
        assert_eq!(account_name("  jroy "), Some("jroy"));
        assert_eq!(account_name("   "), None);
        assert_eq!(account_name("a\u{0}b"), None);
        assert_eq!(
            account_name(&"é".repeat(MAX_ACCOUNT_NAME)),
            Some(&*"é".repeat(256))
        );
        assert_eq!(account_name(&"a".repeat(MAX_ACCOUNT_NAME + 1)), None);
    }

    #[test]
    fn retries_back_off_up_to_an_hour() {
        assert_eq!(retry_delay(1), 30);
        assert_eq!(retry_delay(2), 60);
        assert_eq!(retry_delay(3), 120);
        assert_eq!(retry_delay(8), 3600);
        assert_eq!(retry_delay(40), 3600);
    }
}
