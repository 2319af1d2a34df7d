//! Removal of rows that no longer serve: expired flows (their codes go with them), spent
//! codes, ended sessions, spent bot-check challenges, ended throttle counters, and old
//! records (audit events, sent mail, dead invitations) past their retention.
//!
//! Every statement is an idempotent `DELETE`, so several instances purging at once only
//! repeat each other's work; `RETURNING` makes each count the rows it removed itself.

use std::collections::BTreeMap;

use sqlx::AnyPool;

use crate::error::Result;

/// Expired flows and codes stay this long after their expiry, so a tab left open still
/// reads "this link expired" rather than "unknown link".
pub const EXPIRED_GRACE_SECS: i64 = 24 * 3600;

/// What to remove, as absolute cut-offs (Unix seconds, or milliseconds for the audit).
pub struct Cutoffs {
    pub now: i64,
    /// Sessions idle since before this are ended, whatever their absolute expiry.
    pub idle_before: i64,
    /// Throttle counters whose window started before this (and that are not locked).
    pub throttle_before: i64,
    pub audit_before_ms: i64,
    pub mail_before: i64,
    pub invitations_before: i64,
}

/// Rows removed, by table; expired unfinished flows also by kind.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub removed: BTreeMap<&'static str, u64>,
    pub unfinished_flows_by_kind: BTreeMap<String, u64>,
}

impl PurgeReport {
    pub fn total(&self) -> u64 {
        self.removed.values().sum()
    }
}

/// Runs every deletion; `finished(kind, state)` tells the flow rows that were completed or
/// refused for good, which do not count as expired unfinished flows.
pub async fn purge(
    pool: &AnyPool,
    cutoffs: &Cutoffs,
    finished: &(dyn Fn(&str, &str) -> bool + Sync),
) -> Result<PurgeReport> {
    let mut report = PurgeReport::default();
    let expired_before = cutoffs.now - EXPIRED_GRACE_SECS;

    let flows: Vec<(String, String)> =
        sqlx::query_as("DELETE FROM flows WHERE expires_at <= $1 RETURNING kind, state")
            .bind(expired_before)
            .fetch_all(pool)
            .await?;
    report.removed.insert("flows", flows.len() as u64);
    for (kind, state) in flows {
        if !finished(&kind, &state) {
            *report.unfinished_flows_by_kind.entry(kind).or_default() += 1;
        }
    }

    // (table, statement, the cut-offs it binds)
    let steps: [(&'static str, &str, &[i64]); 7] = [
        (
            "verifications",
            "DELETE FROM verifications WHERE expires_at <= $1 OR used_at <= $1",
            &[expired_before],
        ),
        (
            "sessions",
            "DELETE FROM sessions WHERE expires_at <= $1 OR last_seen_at <= $2",
            &[cutoffs.now, cutoffs.idle_before],
        ),
        (
            "bot_check_spent",
            "DELETE FROM bot_check_spent WHERE expires_at <= $1",
            &[cutoffs.now],
        ),
        (
            "throttle",
            "DELETE FROM throttle WHERE window_start <= $1 AND locked_until <= $2",
            &[cutoffs.throttle_before, cutoffs.now],
        ),
        (
            "outbox",
            "DELETE FROM outbox WHERE state IN ('sent', 'failed') AND created_at <= $1",
            &[cutoffs.mail_before],
        ),
        (
            "audit_events",
            "DELETE FROM audit_events WHERE at_ms < $1",
            &[cutoffs.audit_before_ms],
        ),
        (
            "invitations",
            "DELETE FROM invitations WHERE state <> 'used' AND expires_at <= $1",
            &[cutoffs.invitations_before],
        ),
    ];
    for (table, sql, binds) in steps {
        let mut statement = sqlx::query(sql);
        for bind in binds {
            statement = statement.bind(*bind);
        }
        let removed = statement.execute(pool).await?.rows_affected();
        report.removed.insert(table, removed);
    }
    Ok(report)
}
