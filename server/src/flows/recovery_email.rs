//! "My account → Recovery email" (issue 4): the signed-in person asks for a new recovery
//! address with their current password; a 6-digit code goes to the new address, and the
//! address counts only once the code is typed back. Then the old address is told, and
//! codes already mailed for other flows stop working.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> enter: form refused (kept to show it)
//!     [*] --> check: password right, address valid: a code is mailed to it
//!     check --> check: wrong code (5 at most) / new code (3 mails at most)
//!     check --> done: right code: the address is saved, the old one told
//! ```
//!
//! Wrong passwords count against the person in the database, like sign-in's, so a session
//! left open does not let a stranger guess the password here.

use app::{
    api::{
        AppError,
        recovery_email::{
            EmailChangeStep, RecoveryEmailApi, RecoveryEmailOutcome, RecoveryEmailRequest,
            RecoveryEmailView,
        },
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
    policy::email::{check_email_pair, normalize_email, same_address},
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, binding, signin::current_person};
use crate::{
    error::Result,
    mail::templates::{self, AccountNotice},
    state::Sesame,
    store::{
        activation::set_recovery_email,
        audit::AuditKind,
        flows::{self, FlowRow, NewFlow},
        new_id,
        people::PersonRow,
        recovery,
        throttle::{self, Rule},
        verifications::{self, NewVerification},
    },
};

const KIND: &str = "recovery_email_change";
const PURPOSE: &str = "recovery_email";

pub struct RecoveryEmailFlow(pub Sesame);

#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    /// The new address (as typed, before a refusal; normalized once accepted).
    address: String,
    error: Option<StepError>,
    notice: Option<Msg>,
}

#[async_trait::async_trait]
impl RecoveryEmailApi for RecoveryEmailFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<RecoveryEmailView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn change(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        request: RecoveryEmailRequest,
    ) -> Result<RecoveryEmailOutcome, AppError> {
        change(&self.0, meta, flow_id, request)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }
}

/// This browser's live change for this person.
async fn bound_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    person: &PersonRow,
    flow_id: Option<&str>,
) -> Result<Option<FlowRow>> {
    let Some(flow_id) = flow_id else {
        return Ok(None);
    };
    let flow = flows::find(&sesame.store.pool, flow_id, KIND).await?;
    Ok(flow.filter(|f| {
        f.binding_hash == binding(sesame, meta)
            && f.person_id.as_deref() == Some(person.id.as_str())
            && f.expires_at > sesame.clock.now_secs()
    }))
}

fn read(flow: &FlowRow) -> FlowData {
    serde_json::from_str(&flow.data).unwrap_or_default()
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<RecoveryEmailView> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(RecoveryEmailView::default());
    };
    let config = &sesame.config.recovery;
    let current = recovery::find_by_id(&sesame.store.pool, &person.id)
        .await?
        .and_then(|p| p.recovery_email)
        .filter(|a| !a.is_empty());
    let mut view = RecoveryEmailView {
        signed_in: true,
        current,
        code_minutes: u32::try_from(config.code_valid_minutes).unwrap_or(10),
        ..Default::default()
    };
    let Some(flow) = bound_flow(sesame, meta, &person, flow_id.as_deref()).await? else {
        return Ok(view);
    };
    let Some(step) = EmailChangeStep::from_code(&flow.state) else {
        return Ok(view);
    };
    let data = read(&flow);
    if step == EmailChangeStep::Check {
        let sent =
            verifications::count_sent(&sesame.store.pool, &flow.id, PURPOSE, &data.address).await?;
        view.sends_left = u32::try_from(config.max_sends - sent).unwrap_or(0);
    }
    view.step = step;
    view.flow = Some(flow.id);
    view.address = data.address;
    view.error = data.error;
    view.notice = data.notice;
    Ok(view)
}

async fn change(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    request: RecoveryEmailRequest,
) -> Result<std::result::Result<RecoveryEmailOutcome, AppError>> {
    let Some(person) = current_person(sesame, meta).await? else {
        return Ok(Err(AppError::Forbidden));
    };
    let ctx = Context {
        sesame,
        meta,
        person: &person,
        now: sesame.clock.now_secs(),
    };
    let outcome = match request {
        RecoveryEmailRequest::Change {
            email,
            confirmation,
            password,
        } => ctx.request_change(&email, &confirmation, &password).await?,
        other => {
            let flow = bound_flow(sesame, meta, &person, flow_id.as_deref()).await?;
            let Some(flow) = flow.filter(|f| f.state == EmailChangeStep::Check.code()) else {
                // Expired, done, or not this browser's: the page starts over.
                return Ok(Ok(RecoveryEmailOutcome::Unchanged));
            };
            match other {
                RecoveryEmailRequest::Code { code } => ctx.check_code(&flow, &code).await?,
                RecoveryEmailRequest::Resend => ctx.send_code(&flow, read(&flow), true).await?,
                _ => {
                    flows::abandon(&sesame.store.pool, &flow.id, flows::Abandoned::Cancelled)
                        .await?;
                    RecoveryEmailOutcome::Unchanged
                }
            }
        }
    };
    Ok(Ok(outcome))
}

struct Context<'a> {
    sesame: &'a Sesame,
    meta: &'a RequestMeta,
    person: &'a PersonRow,
    now: i64,
}

impl Context<'_> {
    fn throttle_key(&self) -> String {
        format!("email-change:person:{}", self.person.id)
    }

    async fn audit<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = sqlx::Any>,
        outcome: &str,
    ) -> Result<()> {
        audit_request(
            db,
            self.sesame,
            self.meta,
            AuditKind::RecoveryEmail,
            Some(&self.person.id),
            json!({ "outcome": outcome }),
        )
        .await
    }

    /// A new flow holding a refusal of the form, so the page after the redirect shows it.
    async fn refuse_form(&self, address: &str, error: StepError) -> Result<RecoveryEmailOutcome> {
        let data = FlowData {
            address: address.chars().take(300).collect(),
            error: Some(error),
            notice: None,
        };
        let id = self.insert_flow(EmailChangeStep::Enter, &data).await?;
        Ok(RecoveryEmailOutcome::Show { flow: id })
    }

    async fn insert_flow(&self, step: EmailChangeStep, data: &FlowData) -> Result<String> {
        let id = new_id();
        flows::insert(
            &self.sesame.store.pool,
            &NewFlow {
                id: &id,
                kind: KIND,
                state: step.code(),
                person_id: Some(&self.person.id),
                locale: self.meta.locale.code(),
                binding_hash: &binding(self.sesame, self.meta),
                expires_at: self.now + self.sesame.config.recovery.flow_valid_minutes * 60,
                data: &serde_json::to_string(data)?,
            },
            self.now,
        )
        .await?;
        Ok(id)
    }

    async fn request_change(
        &self,
        email: &str,
        confirmation: &str,
        password: &str,
    ) -> Result<RecoveryEmailOutcome> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        if let Err((message, field)) = check_email_pair(email, confirmation) {
            return self
                .refuse_form(email, StepError::new(message, Some(field)))
                .await;
        }
        let address = normalize_email(email);
        let current = recovery::find_by_id(pool, &self.person.id)
            .await?
            .and_then(|p| p.recovery_email);
        if current
            .as_deref()
            .is_some_and(|c| same_address(c, &address))
        {
            let error = StepError::new(Msg::EmailChangeSame, Some("email"));
            return self.refuse_form(&address, error).await;
        }
        if password.is_empty() {
            let error = StepError::new(Msg::EmailChangePasswordRequired, Some("current_password"));
            return self.refuse_form(&address, error).await;
        }
        let key = self.throttle_key();
        if let Some(seconds) = throttle::locked_for_any(pool, &[&key], self.now).await? {
            self.audit(pool, "throttled").await?;
            let error = StepError::locked(Msg::EmailChangeThrottled, None, seconds);
            return self.refuse_form(&address, error).await;
        }
        let stored = self.person.password_hash.as_deref();
        if !sesame.hasher.verify(stored, password).await? {
            let limits = &sesame.config.throttle;
            let rule = Rule::with_limit(limits, limits.signin_per_account);
            let lock = throttle::record_failures(pool, &[(&key, rule)], self.now).await?;
            self.audit(pool, "wrong_password").await?;
            let error = match lock {
                Some(seconds) => StepError::locked(Msg::EmailChangeThrottled, None, seconds),
                None => StepError::new(Msg::EmailChangePasswordWrong, Some("current_password")),
            };
            return self.refuse_form(&address, error).await;
        }
        throttle::clear(pool, &key).await?;
        let data = FlowData {
            address,
            error: None,
            notice: None,
        };
        // The flow starts at the form's step; sending the code moves it to the check.
        let id = self.insert_flow(EmailChangeStep::Enter, &data).await?;
        let Some(flow) = flows::find(pool, &id, KIND).await? else {
            return Ok(RecoveryEmailOutcome::Unchanged);
        };
        self.send_code(&flow, data, false).await
    }

    /// Mails a new code to the flow's address (the older ones stop working).
    async fn send_code(
        &self,
        flow: &FlowRow,
        mut data: FlowData,
        resending: bool,
    ) -> Result<RecoveryEmailOutcome> {
        let sesame = self.sesame;
        let config = &sesame.config.recovery;
        let pool = &sesame.store.pool;
        let shown = RecoveryEmailOutcome::Show {
            flow: flow.id.clone(),
        };
        let sent = verifications::count_sent(pool, &flow.id, PURPOSE, &data.address).await?;
        data.error = None;
        data.notice = None;
        if sent >= config.max_sends {
            data.error = Some(StepError::new(Msg::RecoverySendLimit, Some("code")));
            let json = serde_json::to_string(&data)?;
            flows::transition(pool, &flow.id, &flow.state, &flow.state, &json, self.now).await?;
            return Ok(shown);
        }
        if resending {
            data.notice = Some(Msg::RecoveryCodeSentAgain);
        }
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let minutes = config.code_valid_minutes;
        let mut tx = crate::store::begin(pool).await?;
        verifications::replace(
            &mut tx,
            &NewVerification {
                id: &new_id(),
                flow_id: &flow.id,
                purpose: PURPOSE,
                address: &data.address,
                // No link: the code is typed on this page, signed in.
                link_hash: &sesame
                    .key
                    .keyed_hash("unused-link", &crate::crypto::tokens::random_token()),
                code_hash: &code_hash(sesame, &flow.id, &code),
                expires_at: self.now + minutes * 60,
            },
            self.now,
        )
        .await?;
        let locale = Locale::from_code(&self.person.language).unwrap_or(self.meta.locale);
        let mail =
            templates::recovery_email_code(locale, &sesame.config.institution(), &code, minutes);
        sesame
            .outbox
            .enqueue(&mut *tx, &data.address, &mail, self.now)
            .await?;
        let json = serde_json::to_string(&data)?;
        let next = EmailChangeStep::Check.code();
        if !flows::transition(&mut *tx, &flow.id, &flow.state, next, &json, self.now).await? {
            tx.rollback().await?;
            return Ok(shown);
        }
        self.audit(&mut *tx, "code_sent").await?;
        tx.commit().await?;
        sesame.outbox.wake();
        Ok(shown)
    }

    async fn check_code(&self, flow: &FlowRow, code: &str) -> Result<RecoveryEmailOutcome> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let max = sesame.config.recovery.max_code_attempts;
        let mut data = read(flow);
        data.error = None;
        data.notice = None;
        let shown = RecoveryEmailOutcome::Show {
            flow: flow.id.clone(),
        };
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        let latest = verifications::latest(pool, &flow.id, PURPOSE).await?;
        let usable = latest.filter(|v| v.usable(self.now, max));
        // The try is taken before the code is compared: of tries arriving at once, no more
        // than the allowed number are ever compared.
        let tries = match &usable {
            Some(v) if !code.is_empty() => {
                verifications::take_try(pool, &v.id, self.now, max).await?
            }
            _ => None,
        };
        let error = match (usable, tries) {
            _ if code.is_empty() => Some(StepError::new(Msg::RecoveryCodeRequired, Some("code"))),
            (None, _) => Some(StepError::new(Msg::RecoveryCodeExpired, Some("code"))),
            (Some(_), None) => {
                let mut error = StepError::new(Msg::RecoveryCodeBlocked, Some("code"));
                error.tries_left = Some(0);
                Some(error)
            }
            (Some(v), Some(tries))
                if code.len() > 12 || code_hash(sesame, &flow.id, &code) != v.code_hash =>
            {
                self.audit(pool, "wrong_code").await?;
                let left = u32::try_from(max - tries).unwrap_or(0);
                let message = if left == 0 {
                    Msg::RecoveryCodeBlocked
                } else {
                    Msg::RecoveryCodeWrong
                };
                let mut error = StepError::new(message, Some("code"));
                error.tries_left = Some(left);
                Some(error)
            }
            (Some(v), Some(_)) => {
                return self.save(flow, &data, &v.id).await;
            }
        };
        data.error = error;
        let json = serde_json::to_string(&data)?;
        flows::transition(pool, &flow.id, &flow.state, &flow.state, &json, self.now).await?;
        Ok(shown)
    }

    /// The code is right: in one transaction the code is used up, the address saved, the
    /// person's other outstanding codes voided, and the old address told.
    async fn save(
        &self,
        flow: &FlowRow,
        data: &FlowData,
        verification_id: &str,
    ) -> Result<RecoveryEmailOutcome> {
        let sesame = self.sesame;
        let max = sesame.config.recovery.max_code_attempts;
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        if !verifications::consume(&mut *tx, verification_id, self.now, max).await? {
            tx.rollback().await?;
            return Ok(RecoveryEmailOutcome::Unchanged);
        }
        let before = recovery::find_by_id(&mut *tx, &self.person.id).await?;
        let old = before
            .and_then(|p| p.recovery_email)
            .filter(|a| !a.is_empty());
        set_recovery_email(&mut *tx, &self.person.id, &data.address, self.now).await?;
        let done =
            flows::transition(&mut *tx, &flow.id, &flow.state, "done", "{}", self.now).await?;
        let voided = recovery::void_verifications(&mut *tx, &self.person.id, self.now).await?;
        audit_request(
            &mut *tx,
            sesame,
            self.meta,
            AuditKind::RecoveryEmail,
            Some(&self.person.id),
            json!({ "outcome": if old.is_some() { "changed" } else { "added" }, "codes_voided": voided }),
        )
        .await?;
        if let Some(old) = old.as_deref() {
            let locale = Locale::from_code(&self.person.language).unwrap_or(self.meta.locale);
            let mail = templates::account_notice(
                locale,
                &sesame.config.institution(),
                AccountNotice::RecoveryEmailChanged,
                &self.person.login,
                &sesame.config.sign_in_url(),
            );
            sesame
                .outbox
                .enqueue(&mut *tx, old, &mail, self.now)
                .await?;
        }
        tx.commit().await?;
        if done {
            crate::metrics::flow_completed(KIND);
        }
        if old.is_some() {
            sesame.outbox.wake();
        }
        Ok(RecoveryEmailOutcome::Saved)
    }
}

fn code_hash(sesame: &Sesame, flow_id: &str, code: &str) -> String {
    sesame
        .key
        .keyed_hash("recovery-email-code", &format!("{flow_id}:{code}"))
}
