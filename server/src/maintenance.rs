//! Housekeeping: the purge of expired and old rows, run by `sesame admin purge` and once
//! a day by every running server (the deletions are idempotent, so instances can overlap).

use std::time::Duration;

use crate::{
    error::Result,
    metrics,
    state::Sesame,
    store::{
        flows,
        purge::{self, Cutoffs, PurgeReport},
    },
};

const DAY_SECS: i64 = 24 * 3600;

/// Whether a flow row in this state ended for good (completed, or refused with nothing
/// left to do): such rows are not counted as expired when the purge removes them. A
/// state's meaning can depend on the kind: `identify` is a dead end (an empty identifier)
/// in password recovery but the live first step of a sign-up.
fn flow_finished(kind: &str, state: &str) -> bool {
    flows::FINISHED_STATES.contains(&state)
        || (kind == crate::flows::password::KIND && state == "identify")
}

/// Purges now, by the configured retention, and counts what went in the metrics.
pub async fn purge(sesame: &Sesame) -> Result<PurgeReport> {
    let config = &sesame.config;
    let now = sesame.clock.now_secs();
    let cutoffs = Cutoffs {
        now,
        idle_before: now - config.sessions.idle_timeout_minutes * 60,
        // Counters with a window longer than the configured one (the hourly sign-up
        // limits) are kept at least a day.
        throttle_before: now - (config.throttle.window_minutes * 60).max(DAY_SECS),
        audit_before_ms: sesame.clock.now_ms() - config.retention.audit_days * DAY_SECS * 1000,
        mail_before: now - config.retention.mail_days * DAY_SECS,
        invitations_before: now - config.retention.audit_days * DAY_SECS,
    };
    let report = purge::purge(&sesame.store.pool, &cutoffs, &flow_finished).await?;
    for (table, count) in &report.removed {
        metrics::purged(table, *count);
    }
    for (kind, count) in &report.unfinished_flows_by_kind {
        metrics::flows_expired(kind, *count);
    }
    Ok(report)
}

/// The server's daily purge: a first pass a minute after start, then every 24 hours.
pub async fn run_daily(sesame: Sesame) {
    let mut next_in = Duration::from_secs(60);
    loop {
        tokio::time::sleep(next_in).await;
        next_in = Duration::from_secs(DAY_SECS as u64);
        match purge(&sesame).await {
            Ok(report) => tracing::info!(removed = ?report.removed, "daily purge"),
            Err(error) => {
                tracing::warn!(%error, "daily purge failed; trying again in an hour");
                next_in = Duration::from_secs(3600);
            }
        }
    }
}
