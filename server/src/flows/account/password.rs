//! Change password: the current password, then the new one (the policy of
//! `app::policy`, as the page's live checklist shows it) and its confirmation.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> refused: current password wrong (counted) / new one weak or mismatched
//!     [*] --> done: the password changes, other sessions end, codes die, the person is
//!     done --> [*]: told by mail; linked accounts receive it
//! ```
//!
//! The change is conditional on the password hash read at the start, so of two changes
//! racing from two tabs exactly one wins. Writing the new password to linked accounts
//! comes after the commit: a directory that fails never undoes the change here.

use app::{
    api::{
        AppError,
        account::{PasswordChangeForm, PasswordChangeView},
        linked::PushReport,
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::Request;
use crate::{
    error::Result,
    flows::{audit_request, password::KIND as PASSWORD_RECOVERY_KIND},
    linked,
    mail::templates::{self, AccountNotice},
    state::Sesame,
    store::{
        audit::AuditKind,
        recovery, sessions,
        throttle::{self, Rule},
    },
};

const KIND: &str = "password_change";

/// What the page shows after the form.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Outcome {
    error: Option<StepError>,
    sessions_ended: u32,
    pushes: Vec<PushReport>,
}

pub(super) async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<PasswordChangeView> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(PasswordChangeView::default());
    };
    let mut view = PasswordChangeView {
        signed_in: true,
        ..Default::default()
    };
    if let Some(outcome) = request.outcome::<Outcome>(KIND, flow_id.as_deref()).await? {
        view.done = outcome.error.is_none();
        view.error = outcome.error;
        view.sessions_ended = outcome.sessions_ended;
        view.pushes = outcome.pushes;
    }
    Ok(view)
}

pub(super) async fn change(
    sesame: &Sesame,
    meta: &RequestMeta,
    form: PasswordChangeForm,
) -> Result<std::result::Result<Option<String>, AppError>> {
    let Some(request) = Request::signed_in(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let outcome = match request.change(form).await? {
        Ok(outcome) => outcome,
        Err(error) => Outcome {
            error: Some(error),
            ..Default::default()
        },
    };
    Ok(Ok(Some(request.keep_outcome(KIND, &outcome).await?)))
}

impl Request<'_> {
    fn password_throttle_key(&self) -> String {
        format!("password-change:person:{}", self.person.id)
    }

    async fn audit_password<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = sqlx::Any>,
        detail: serde_json::Value,
    ) -> Result<()> {
        audit_request(
            db,
            self.sesame,
            self.meta,
            AuditKind::PasswordChanged,
            Some(&self.person.id),
            detail,
        )
        .await
    }

    /// The change, or the refusal to show.
    async fn change(
        &self,
        form: PasswordChangeForm,
    ) -> Result<std::result::Result<Outcome, StepError>> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let current = form.current_password.unwrap_or_default();
        let new = form.new_password.unwrap_or_default();
        let confirmation = form.new_password_confirmation.unwrap_or_default();
        if current.is_empty() {
            return Ok(Err(StepError::new(
                Msg::PasswordChangeCurrentRequired,
                Some("current_password"),
            )));
        }
        let key = self.password_throttle_key();
        if let Some(seconds) = throttle::locked_for_any(pool, &[&key], self.now).await? {
            self.audit_password(pool, json!({ "outcome": "throttled" }))
                .await?;
            return Ok(Err(StepError::locked(
                Msg::PasswordChangeThrottled,
                None,
                seconds,
            )));
        }
        let Some(old_hash) = self.person.password_hash.clone() else {
            return Ok(Err(StepError::new(
                Msg::PasswordChangeCurrentWrong,
                Some("current_password"),
            )));
        };
        if !sesame.hasher.verify(Some(&old_hash), &current).await? {
            let limits = &sesame.config.throttle;
            let rule = Rule::with_limit(limits, limits.signin_per_account);
            let lock = throttle::record_failures(pool, &[(&key, rule)], self.now).await?;
            self.audit_password(pool, json!({ "outcome": "wrong_password" }))
                .await?;
            return Ok(Err(match lock {
                Some(seconds) => StepError::locked(Msg::PasswordChangeThrottled, None, seconds),
                None => StepError::new(Msg::PasswordChangeCurrentWrong, Some("current_password")),
            }));
        }
        throttle::clear(pool, &key).await?;
        if new.is_empty() {
            return Ok(Err(StepError::new(
                Msg::ActivationPasswordWeak,
                Some("new_password"),
            )));
        }
        if new != confirmation {
            return Ok(Err(StepError::new(
                Msg::ActivationPasswordMismatch,
                Some("new_password_confirmation"),
            )));
        }
        if new == current {
            return Ok(Err(StepError::new(
                Msg::PasswordChangeSame,
                Some("new_password"),
            )));
        }
        let Some(contact) = recovery::find_by_id(pool, &self.person.id).await? else {
            return Ok(Err(StepError::new(Msg::ErrorGeneric, None)));
        };
        let addresses = contact.known_addresses();
        let mut personal = vec![
            self.person.login.as_str(),
            self.person.first_name.as_str(),
            self.person.last_name.as_str(),
        ];
        personal.extend(addresses.iter().map(String::as_str));
        let unmet = sesame.config.password.violations(&new, &personal);
        if !unmet.is_empty() {
            let mut error = StepError::new(Msg::ActivationPasswordWeak, Some("new_password"));
            error.unmet_rules = unmet;
            return Ok(Err(error));
        }
        let new_hash = sesame.hasher.hash(&new).await?;
        let this_session = self.this_session();
        let mut tx = crate::store::begin(pool).await?;
        if !recovery::replace_password(&mut *tx, &self.person.id, &old_hash, &new_hash, self.now)
            .await?
        {
            // Another change won the race (or the account was disabled meanwhile).
            tx.rollback().await?;
            return Ok(Err(StepError::new(
                Msg::PasswordChangeCurrentWrong,
                Some("current_password"),
            )));
        }
        let sessions_ended =
            sessions::delete_others_for(&mut *tx, &self.person.id, &this_session).await?;
        let codes_voided =
            recovery::void_verifications(&mut *tx, &self.person.id, self.now).await?;
        recovery::supersede_other_flows(
            &mut tx,
            &self.person.id,
            PASSWORD_RECOVERY_KIND,
            "",
            self.now,
        )
        .await?;
        self.audit_password(
            &mut *tx,
            json!({
                "outcome": "changed",
                "sessions_ended": sessions_ended,
                "codes_voided": codes_voided,
            }),
        )
        .await?;
        let locale = Locale::from_code(&self.person.language).unwrap_or(self.meta.locale);
        let mail = templates::account_notice(
            locale,
            &sesame.config.institution(),
            AccountNotice::PasswordChangedInAccount,
            &self.person.login,
            &sesame.config.sign_in_url(),
        );
        for address in &addresses {
            sesame
                .outbox
                .enqueue(&mut *tx, address, &mail, self.now)
                .await?;
        }
        tx.commit().await?;
        crate::metrics::flow_completed(KIND);
        if !addresses.is_empty() {
            sesame.outbox.wake();
        }
        // Committed: the change stands even if the linked accounts cannot be reached now.
        let pushes = match linked::push_password(sesame, &self.person.id, &new).await {
            Ok(pushes) => pushes,
            Err(error) => {
                tracing::error!(%error, "linked accounts not updated after a password change");
                Vec::new()
            }
        };
        Ok(Ok(Outcome {
            error: None,
            sessions_ended: u32::try_from(sessions_ended).unwrap_or(u32::MAX),
            pushes,
        }))
    }
}
