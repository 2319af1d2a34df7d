//! Failure counters in the database, so every instance sees the same counts. A key names
//! what is counted (`signin:login:<login>`, `signin:ip:<address>`, see [`address`]). Past
//! the limit within the window, the key is locked for a while; the lock always ends by
//! itself.

use std::net::{IpAddr, Ipv6Addr};

use sqlx::{Any, AnyPool, Executor};

use super::statement::Statement;
use crate::{config::ThrottleConfig, error::Result};

#[derive(Clone, Copy, Debug)]
pub struct Rule {
    pub limit: i64,
    pub window_secs: i64,
    pub lockout_secs: i64,
}

impl Rule {
    /// `limit` failures within the configured window, then the configured lockout.
    pub fn with_limit(settings: &ThrottleConfig, limit: i64) -> Rule {
        Rule {
            limit,
            window_secs: settings.window_minutes * 60,
            lockout_secs: settings.lockout_minutes * 60,
        }
    }
}

/// The network a per-address limit counts, as it appears in a key: an IPv4 address as
/// is, an IPv6 address as its /64. One IPv6 subscriber is handed a whole /64 and can use
/// any address in it, so counting single addresses would give them endless fresh tries.
pub fn address(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

/// What the throttle holds for some keys, read in one query before an attempt.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Standing {
    /// Seconds left on the longest lock among the keys, if any is locked.
    pub locked_secs: Option<i64>,
    /// The keys with failures counted and no lock: what a success has to forget
    /// ([`clear`]); a success need not write anything for the others.
    pub counting: Vec<String>,
}

impl Standing {
    pub fn is_counting(&self, key: &str) -> bool {
        self.counting.iter().any(|counted| counted == key)
    }

    /// Takes in one key's row (`locked_until`: 0 while failures are only counted).
    pub(crate) fn add(&mut self, key: String, locked_until: i64, now: i64) {
        if locked_until > now {
            crate::metrics::throttle_hit(&key);
            self.locked_secs = self.locked_secs.max(Some(locked_until - now));
        } else if locked_until == 0 {
            self.counting.push(key);
        }
    }
}

/// The locks and counts of `keys`: the check before an attempt, so each locked key counts
/// as a throttle hit in the metrics. One query for all the keys: a sign-in asks this
/// before its hash, and every query is a round trip.
pub async fn standing<'e>(
    db: impl Executor<'e, Database = Any>,
    keys: &[&str],
    now: i64,
) -> Result<Standing> {
    if keys.is_empty() {
        return Ok(Standing::default());
    }
    let sql = format!(
        "SELECT key, locked_until FROM throttle WHERE key IN ({})",
        super::placeholders(1, keys.len())
    );
    let mut query = sqlx::query_as::<_, (String, i64)>(&sql);
    for key in keys {
        query = query.bind(*key);
    }
    let mut standing = Standing::default();
    for (key, locked_until) in query.fetch_all(db).await? {
        standing.add(key, locked_until, now);
    }
    Ok(standing)
}

/// Seconds left on the longest lock among `keys`, if any is locked (see [`standing`]).
pub async fn locked_for_any<'e>(
    db: impl Executor<'e, Database = Any>,
    keys: &[&str],
    now: i64,
) -> Result<Option<i64>> {
    Ok(standing(db, keys, now).await?.locked_secs)
}

/// Counts one failure on every key; answers the lock's length if one of them locks.
pub async fn record_failures(
    pool: &AnyPool,
    keys: &[(&str, Rule)],
    now: i64,
) -> Result<Option<i64>> {
    let mut lock = None;
    for (key, rule) in keys {
        lock = lock.max(record_failure(pool, key, *rule, now).await?);
    }
    Ok(lock)
}

/// Seconds left on the key's lock, if it is locked.
pub async fn locked_for<'e>(
    db: impl Executor<'e, Database = Any>,
    key: &str,
    now: i64,
) -> Result<Option<i64>> {
    let locked_until: Option<i64> =
        sqlx::query_scalar("SELECT locked_until FROM throttle WHERE key = $1")
            .bind(key)
            .fetch_optional(db)
            .await?;
    Ok(locked_until
        .filter(|until| *until > now)
        .map(|until| until - now))
}

/// Counts one failure; answers the lock's length in seconds if this failure locks the key.
pub async fn record_failure<'e, E>(db: E, key: &str, rule: Rule, now: i64) -> Result<Option<i64>>
where
    E: Executor<'e, Database = Any> + Copy,
{
    // `fetch_all`, not `fetch_one`: SQLite commits an autocommit statement only when it is
    // stepped to the end, and a half-read RETURNING statement keeps the write lock.
    let failures: Vec<i64> = sqlx::query_scalar(
        "INSERT INTO throttle (key, window_start, failures, locked_until) VALUES ($1, $2, 1, 0) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN throttle.window_start <= $3 THEN 1 ELSE throttle.failures + 1 END, \
           window_start = CASE WHEN throttle.window_start <= $3 THEN $2 ELSE throttle.window_start END \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(now - rule.window_secs)
    .fetch_all(db)
    .await?;
    if failures.first().copied().unwrap_or(0) < rule.limit {
        return Ok(None);
    }
    // Locked: the count starts again when the lock ends.
    sqlx::query(
        "UPDATE throttle SET locked_until = $2, failures = 0, window_start = $3 WHERE key = $1",
    )
    .bind(key)
    .bind(now + rule.lockout_secs)
    .bind(now + rule.lockout_secs)
    .execute(db)
    .await?;
    Ok(Some(rule.lockout_secs))
}

/// Forgets a key's failures (after a success).
pub async fn clear<'e>(db: impl Executor<'e, Database = Any>, key: &str) -> Result<()> {
    clear_statement(key).execute(db).await?;
    Ok(())
}

/// [`clear`] as a statement, for [`crate::store::Store::write_all`].
pub fn clear_statement(key: &str) -> Statement {
    Statement::new("DELETE FROM throttle WHERE key = $1 AND locked_until = 0").text(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("a literal address")
    }

    #[test]
    fn an_ipv4_address_is_counted_alone() {
        assert_eq!(address(ip("198.51.100.7")), "198.51.100.7");
        assert_ne!(address(ip("198.51.100.7")), address(ip("198.51.100.8")));
    }

    #[test]
    fn an_ipv6_address_is_counted_with_its_slash_64() {
        let one = address(ip("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
        assert_eq!(one, "2001:db8:1:2::/64");
        assert_eq!(one, address(ip("2001:db8:1:2::1")));
        assert_ne!(one, address(ip("2001:db8:1:3::1")));
    }

    #[test]
    fn an_ipv4_mapped_address_is_counted_as_ipv4() {
        assert_eq!(address(ip("::ffff:198.51.100.7")), "198.51.100.7");
    }
}
