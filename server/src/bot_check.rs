//! The bot check (DESIGN §4): a proof of work the browser solves without the person doing
//! anything, instead of a third-party CAPTCHA. The server signs a challenge into the page
//! ([`issue`]) and checks the solution sent with the form ([`verify`]); the token format
//! and the work itself are in [`app::pow`], shared with the browser.
//!
//! Issuing writes nothing (crawlers and page views cost no row). Accepting a solution
//! writes the challenge's nonce, which makes it single use, and those rows of the last
//! minute are the load that raises the difficulty: every instance reads the same count.

use app::pow;
use subtle::ConstantTimeEq;

use crate::{config::BotCheckConfig, crypto::tokens::random_hex, error::Result, state::Sesame};

/// The keyed-hash purpose of challenge signatures.
const PURPOSE: &str = "bot-check";
/// Solved challenges counted as the current load: those of the last minute.
const LOAD_WINDOW_SECS: i64 = 60;
/// Spent rows outlive their challenge this long, so an instance whose clock is a little
/// behind cannot accept again a challenge another instance already forgot.
const PRUNE_GRACE_SECS: i64 = 300;
/// Longer than any token [`issue`] makes (about 120 characters): not worth hashing.
const MAX_CHALLENGE_LEN: usize = 256;

/// What a form's bot check fields prove.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotVerdict {
    /// A fresh challenge of ours, solved, now spent.
    Passed,
    /// No solution (no JavaScript, or sent before the browser finished): the caller
    /// applies its stricter limits.
    Missing,
    Rejected(BotRejection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BotRejection {
    /// Not a challenge this server signed (or altered: difficulty, expiry).
    Forged,
    Expired,
    /// Already used once.
    Replayed,
    /// Not a solution at the challenge's difficulty.
    WrongSolution,
}

/// A fresh signed challenge for a form, at the current difficulty.
pub async fn issue(sesame: &Sesame) -> Result<String> {
    let difficulty = current_difficulty(sesame).await?;
    let expires_at = sesame.clock.now_secs() + sesame.config.bot_check.valid_minutes * 60;
    let signed_part = format!(
        "{}.{difficulty}.{expires_at}.{}",
        pow::VERSION,
        random_hex(16)
    );
    let signature = sesame.key.keyed_hash(PURPOSE, &signed_part);
    Ok(format!("{signed_part}.{signature}"))
}

/// The difficulty [`issue`] uses now: the configured one, raised under load.
pub async fn current_difficulty(sesame: &Sesame) -> Result<u32> {
    let since = sesame.clock.now_secs() - LOAD_WINDOW_SECS;
    let solved: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM bot_check_spent WHERE spent_at > $1")
            .bind(since)
            .fetch_one(&sesame.store.pool)
            .await?;
    Ok(raised_difficulty(&sesame.config.bot_check, solved))
}

/// The configured difficulty plus one bit each time `solved_last_minute` doubles past the
/// threshold, at most `max_difficulty`.
pub fn raised_difficulty(config: &BotCheckConfig, solved_last_minute: i64) -> u32 {
    let mut difficulty = config.difficulty;
    if config.raise_above_per_minute <= 0 {
        return difficulty;
    }
    let mut threshold = config.raise_above_per_minute;
    while solved_last_minute > threshold && difficulty < config.max_difficulty {
        difficulty += 1;
        threshold = threshold.saturating_mul(2);
    }
    difficulty
}

/// Checks a form's `bot_challenge` and `bot_solution` and, if they pass, spends the
/// challenge: of concurrent submissions of one solution, exactly one passes.
pub async fn verify(sesame: &Sesame, challenge: &str, solution: &str) -> Result<BotVerdict> {
    use BotRejection::*;
    let reject = |why| Ok(BotVerdict::Rejected(why));
    let (challenge, solution) = (challenge.trim(), solution.trim());
    // Without JavaScript the challenge is in the page but nothing solved it.
    if solution.is_empty() {
        return Ok(BotVerdict::Missing);
    }
    if challenge.len() > MAX_CHALLENGE_LEN {
        return reject(Forged);
    }
    let Some(parsed) = pow::parse(challenge) else {
        return reject(Forged);
    };
    let expected = sesame.key.keyed_hash(PURPOSE, parsed.signed_part);
    if !bool::from(expected.as_bytes().ct_eq(parsed.signature.as_bytes())) {
        return reject(Forged);
    }
    let now = sesame.clock.now_secs();
    if now >= parsed.expires_at {
        return reject(Expired);
    }
    let solved = solution.bytes().all(|b| b.is_ascii_digit())
        && solution
            .parse::<u64>()
            .is_ok_and(|n| pow::is_solution(challenge, n, parsed.difficulty));
    if !solved {
        return reject(WrongSolution);
    }
    // The spend is this one statement: the primary key lets a single insert through.
    let spent = sqlx::query(
        "INSERT INTO bot_check_spent (nonce, spent_at, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (nonce) DO NOTHING",
    )
    .bind(parsed.nonce)
    .bind(now)
    .bind(parsed.expires_at)
    .execute(&sesame.store.pool)
    .await?
    .rows_affected();
    if spent == 0 {
        return reject(Replayed);
    }
    // Now and then (one pass in 16), forget challenges long expired.
    if rand::random::<u8>() < 16 {
        prune(sesame, now).await;
    }
    Ok(BotVerdict::Passed)
}

/// Deletes the spent challenges that expired a while ago. Housekeeping: a failure is only
/// logged, it must not turn a passed check into an error.
pub async fn prune(sesame: &Sesame, now: i64) {
    let result = sqlx::query("DELETE FROM bot_check_spent WHERE expires_at < $1")
        .bind(now - PRUNE_GRACE_SECS)
        .execute(&sesame.store.pool)
        .await;
    if let Err(error) = result {
        tracing::warn!(%error, "bot check: pruning spent challenges failed");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_difficulty_rises_one_bit_per_doubling_up_to_the_cap() {
        let config = BotCheckConfig {
            difficulty: 18,
            valid_minutes: 10,
            raise_above_per_minute: 100,
            max_difficulty: 21,
        };
        let at = |solved| raised_difficulty(&config, solved);
        assert_eq!(at(0), 18);
        assert_eq!(at(100), 18);
        assert_eq!(at(101), 19);
        assert_eq!(at(200), 19);
        assert_eq!(at(201), 20);
        assert_eq!(at(400), 20);
        assert_eq!(at(401), 21);
        assert_eq!(at(i64::MAX), 21);
        let never = BotCheckConfig {
            raise_above_per_minute: 0,
            ..config
        };
        assert_eq!(raised_difficulty(&never, 1_000_000), 18);
    }
}
