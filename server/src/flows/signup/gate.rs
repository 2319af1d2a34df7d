//! What the sign-up and "Can't sign in?" forms pass before any work: the bot check, and
//! a count per client address of the submissions that cost something (a password hash, a
//! mail) — generous when the browser solved the check, strict when it did not (no
//! JavaScript), so the forms work for everyone and a typo costs nothing.

use app::{
    api::{signup::BotProof, ssr::RequestMeta, step::StepError},
    i18n::Msg,
};
use serde_json::json;

use super::super::audit_request;
use crate::{
    bot_check::{self, BotRejection, BotVerdict},
    error::Result,
    state::Sesame,
    store::{
        audit::AuditKind,
        throttle::{self, Rule},
    },
};

const HOUR_SECS: i64 = 3600;

/// A submission the bot check let through, to be counted against its address once the
/// form asks for real work (a password hash, a mail).
pub(crate) struct Admission {
    key: String,
    limit: i64,
}

impl Admission {
    /// Counts the submission; the one that reaches the limit still goes through, the
    /// next ones wait.
    pub(crate) async fn count(self, sesame: &Sesame) -> Result<()> {
        let rule = Rule {
            limit: self.limit,
            window_secs: HOUR_SECS,
            lockout_secs: HOUR_SECS,
        };
        let now = sesame.clock.now_secs();
        throttle::record_failures(&sesame.store.pool, &[(&self.key, rule)], now).await?;
        Ok(())
    }
}

/// The admission when the submission may go on; otherwise the refusal to show.
pub(crate) async fn admit(
    sesame: &Sesame,
    meta: &RequestMeta,
    form: &str,
    bot: &BotProof,
) -> Result<std::result::Result<Admission, StepError>> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let config = &sesame.config.signup;
    let verdict = bot_check::verify(sesame, &bot.challenge, &bot.solution).await?;
    let unsolved = (
        format!("signup:unsolved-ip:{}", throttle::address(meta.client_ip)),
        config.unsolved_per_address_per_hour,
    );
    let (key, limit) = match verdict {
        BotVerdict::Passed => (
            format!("signup:ip:{}", throttle::address(meta.client_ip)),
            config.per_address_per_hour,
        ),
        // A page left open longer than a challenge lives (someone taking their time, or
        // using assistive technology) is treated like no JavaScript, never refused.
        BotVerdict::Missing | BotVerdict::Rejected(BotRejection::Expired) => unsolved,
        BotVerdict::Rejected(reason) => {
            // Forged or replayed: counted at once, against the strict limit.
            let (key, limit) = unsolved;
            let locked = throttle::locked_for_any(pool, &[&key], now).await?;
            if locked.is_none() {
                Admission { key, limit }.count(sesame).await?;
            }
            audit_request(
                pool,
                sesame,
                meta,
                AuditKind::BotCheckFailed,
                None,
                json!({ "form": form, "reason": format!("{reason:?}") }),
            )
            .await?;
            return Ok(Err(match locked {
                Some(seconds) => StepError::locked(Msg::SignupThrottled, None, seconds),
                None => StepError::new(Msg::BotCheckFailed, None),
            }));
        }
    };
    if let Some(seconds) = throttle::locked_for_any(pool, &[&key], now).await? {
        audit_request(
            pool,
            sesame,
            meta,
            AuditKind::BotCheckFailed,
            None,
            json!({ "form": form, "reason": "address_limit" }),
        )
        .await?;
        return Ok(Err(StepError::locked(Msg::SignupThrottled, None, seconds)));
    }
    Ok(Ok(Admission { key, limit }))
}
