//! Forgot password (seeds 000, 002 and 004).
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> choose: user ID or address typed (any: nothing is revealed)
//!     choose --> email_code: "code by email" (a code and a link are mailed, if there is an address)
//!     choose --> pin: employee number + PIN
//!     choose --> identity: names, date of birth, SIN digits
//!     email_code --> email_code: wrong code (5 at most) / new mail (3 at most)
//!     pin --> pin: wrong answer (throttled across methods)
//!     identity --> identity: wrong answer (throttled across methods)
//!     email_code --> choose: "another way"
//!     pin --> choose: "another way"
//!     identity --> choose: "another way"
//!     email_code --> new_password: proven, and the category's rule is met
//!     pin --> new_password: proven, and the rule is met
//!     identity --> new_password: proven, and the rule is met
//!     email_code --> choose: proven, the rule asks for another proof
//!     pin --> choose: proven, the rule asks for another proof
//!     identity --> choose: proven, the rule asks for another proof
//!     pin --> helpdesk: proven, but nothing the person has set up completes the rule
//!     new_password --> done: policy met; sessions ended, codes void, notices mailed
//! ```
//!
//! Every identifier starts a flow and gets the same choice page (the institution's
//! methods, not the person's), so the pages never tell an unknown account from a known
//! one. An unknown account's flow has no person: each proof checks a dummy hash and fails
//! like a wrong answer, and "code by email" records a code nobody receives. Failures count
//! per account (or per identifier typed) and per client address, across methods, in the
//! database. The state is the step's code (`RecoveryStep::code`); every transition is a
//! conditional update from the expected state, so a replay or a race applies once.

pub mod methods;
pub mod rules;

use std::collections::BTreeSet;

use app::{
    api::{
        AppError,
        linked::PushReport,
        password::{
            PasswordRecoveryApi, PasswordRecoveryView, RecoveryInput, RecoveryLinkState,
            RecoveryMethod, RecoveryStep,
        },
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
    policy::{
        answers::normalize_answer,
        email::{looks_like_email, normalize_email},
        login::{MAX_LOGIN_LENGTH, normalize_login},
    },
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{
    audit_request, binding,
    knowledge::{dummy_hash, field, parse_date, same_employee_number},
};
use crate::{
    crypto::{
        attributes::{AttributeKind, verify_attribute},
        totp,
    },
    error::{Error, Result},
    linked,
    mail::templates::{self, AccountNotice},
    people::same_name,
    state::Sesame,
    store::{
        audit::AuditKind,
        authenticators,
        flows::{self, FlowRow, NewFlow},
        new_id,
        questions::{self, QuestionRow},
        recovery::{self, RecoveryPerson},
        sessions,
        throttle::{self, Rule},
        verifications::{self, NewVerification},
    },
};

pub(crate) const KIND: &str = "password_recovery";
/// The verifications' purpose: a code (and link) that proves the recovery address.
const PURPOSE: &str = "reset";

pub struct PasswordRecoveryFlow(pub Sesame);

/// What the flow remembers between steps (server-only).
#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    /// The user ID or address as typed.
    identifier: String,
    error: Option<StepError>,
    notice: Option<Msg>,
    /// The throttle key for this account, or for what was typed when no account matches.
    account_key: String,
    /// Methods proven so far.
    proven: Vec<RecoveryMethod>,
    /// What the choice page offers now.
    offered: Vec<RecoveryMethod>,
    /// Mails with a code this flow has sent (or pretended to, for an unknown account).
    codes_sent: i64,
    /// What was typed (never a secret), to fill the form again after a refusal.
    employee_number: String,
    first_name: String,
    last_name: String,
    date_of_birth: String,
    /// Once done: what became of the new password on each linked account.
    #[serde(default)]
    pushes: Vec<PushReport>,
}

impl FlowData {
    fn read(flow: &FlowRow) -> FlowData {
        serde_json::from_str(&flow.data).unwrap_or_default()
    }

    fn json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    /// The data to store with the next step: no message carried over.
    fn cleared(mut self) -> FlowData {
        self.error = None;
        self.notice = None;
        self
    }

    /// Forgets what was typed once it has served.
    fn forget_typed(&mut self) {
        self.employee_number.clear();
        self.first_name.clear();
        self.last_name.clear();
        self.date_of_birth.clear();
    }
}

#[async_trait::async_trait]
impl PasswordRecoveryApi for PasswordRecoveryFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<PasswordRecoveryView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn submit(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        step: RecoveryStep,
        input: RecoveryInput,
    ) -> Result<String, AppError> {
        submit(&self.0, meta, flow_id, step, input)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn link_state(
        &self,
        meta: &RequestMeta,
        token: String,
    ) -> Result<RecoveryLinkState, AppError> {
        link_state(&self.0, &token)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn use_link(
        &self,
        meta: &RequestMeta,
        token: String,
    ) -> Result<Option<String>, AppError> {
        use_link(&self.0, meta, &token)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }
}

/// The methods the choice page offers everyone, in the institution's order.
pub(crate) fn offered_methods(sesame: &Sesame) -> Vec<RecoveryMethod> {
    sesame
        .config
        .recovery
        .methods
        .iter()
        .filter_map(|code| RecoveryMethod::from_code(code))
        .collect()
}

/// What the person set up under "My account".
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Enrolled {
    pub questions: bool,
    pub authenticator: bool,
}

impl Enrolled {
    pub(crate) async fn read(db: &mut sqlx::AnyConnection, person_id: &str) -> Result<Enrolled> {
        Ok(Enrolled {
            questions: !questions::list(&mut *db, person_id).await?.is_empty(),
            authenticator: authenticators::find(&mut *db, person_id).await?.is_some(),
        })
    }
}

/// What the person has that a proof can be checked against.
pub(crate) fn available_methods(
    person: &RecoveryPerson,
    enrolled: Enrolled,
) -> BTreeSet<RecoveryMethod> {
    let mut available = BTreeSet::new();
    if enrolled.questions {
        available.insert(RecoveryMethod::Questions);
    }
    if enrolled.authenticator {
        available.insert(RecoveryMethod::Authenticator);
    }
    if person.code_address().is_some() {
        available.insert(RecoveryMethod::EmailCode);
    }
    if person.pin_hash.is_some() && person.employee_number.is_some() {
        available.insert(RecoveryMethod::EmployeePin);
    }
    if person.sin_hash.is_some() && person.date_of_birth.is_some() {
        available.insert(RecoveryMethod::Attributes);
    }
    available
}

/// The flow, if it exists, is this kind and belongs to this browser.
async fn bound_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<&str>,
) -> Result<Option<FlowRow>> {
    let Some(flow_id) = flow_id else {
        return Ok(None);
    };
    let flow = flows::find(&sesame.store.pool, flow_id, KIND).await?;
    Ok(flow.filter(|flow| flow.binding_hash == binding(sesame, meta)))
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<PasswordRecoveryView> {
    let config = &sesame.config.recovery;
    let code_minutes = u32::try_from(config.code_valid_minutes).unwrap_or(10);
    let Some(flow) = bound_flow(sesame, meta, flow_id.as_deref()).await? else {
        return Ok(PasswordRecoveryView {
            code_minutes,
            ..Default::default()
        });
    };
    let step = RecoveryStep::from_code(&flow.state).unwrap_or_default();
    let step = if flow.expires_at <= sesame.clock.now_secs() && step != RecoveryStep::Done {
        RecoveryStep::Expired
    } else {
        step
    };
    let data = FlowData::read(&flow);
    let questions = if step == RecoveryStep::Prove(RecoveryMethod::Questions) {
        asked_questions(sesame, flow.person_id.as_deref(), &data.account_key)
            .await?
            .into_iter()
            .map(|asked| asked.text(sesame, meta.locale))
            .collect()
    } else {
        Vec::new()
    };
    Ok(PasswordRecoveryView {
        step,
        questions,
        error: data.error,
        notice: data.notice,
        identifier: data.identifier,
        methods: data.offered,
        another_proof: !data.proven.is_empty(),
        sends_left: u32::try_from(config.max_sends - data.codes_sent).unwrap_or(0),
        code_minutes,
        employee_number: data.employee_number,
        first_name: data.first_name,
        last_name: data.last_name,
        date_of_birth: data.date_of_birth,
        pushes: data.pushes,
    })
}

async fn submit(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    step: RecoveryStep,
    input: RecoveryInput,
) -> Result<String> {
    if let RecoveryInput::Identify { identifier } = &input {
        return start(sesame, meta, identifier).await;
    }
    let Some(flow) = bound_flow(sesame, meta, flow_id.as_deref()).await? else {
        // No flow of this browser: start again from the first page.
        return start(sesame, meta, "").await;
    };
    let now = sesame.clock.now_secs();
    if flow.expires_at <= now || flow.state != step.code() || !input.is_for(step) {
        // Expired, or another step's form (back button, second tab, replay), or fields no
        // form of this step sends: nothing changes, the current page is shown.
        return Ok(flow.id);
    }
    // An account disabled since the recovery began proves nothing any more.
    let person = match &flow.person_id {
        Some(id) => recovery::find_by_id(&sesame.store.pool, id)
            .await?
            .filter(|p| p.state == "active"),
        None => None,
    };
    let data = FlowData::read(&flow).cleared();
    let ctx = StepContext {
        sesame,
        meta,
        flow: &flow,
        person: person.as_ref(),
        now,
    };
    match input {
        RecoveryInput::Identify { .. } => Ok(flow.id.clone()),
        RecoveryInput::Choose { method } => ctx.choose(data, method).await,
        RecoveryInput::OtherMethod { .. } => ctx.other_method(data).await,
        RecoveryInput::EmployeePin {
            employee_number,
            pin,
        } => ctx.employee_pin(data, &employee_number, &pin).await,
        RecoveryInput::Attributes {
            first_name,
            last_name,
            date_of_birth,
            sin_last6,
        } => {
            ctx.attributes(data, &first_name, &last_name, &date_of_birth, &sin_last6)
                .await
        }
        RecoveryInput::Code { code } => ctx.code(data, &code).await,
        RecoveryInput::AuthenticatorCode { code } => ctx.authenticator(data, &code).await,
        RecoveryInput::Questions { answers } => ctx.questions(data, &answers).await,
        RecoveryInput::Resend => ctx.send_code(data).await,
        RecoveryInput::NewPassword {
            password,
            confirmation,
        } => ctx.new_password(data, &password, &confirmation).await,
    }
}

/// The first page: any identifier starts a flow at the choice page.
async fn start(sesame: &Sesame, meta: &RequestMeta, identifier: &str) -> Result<String> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let typed: String = identifier.trim().chars().take(300).collect();
    let mut data = FlowData {
        identifier: typed.clone(),
        ..Default::default()
    };
    let (state, person) = if typed.is_empty() {
        data.error = Some(StepError::new(
            Msg::RecoveryIdentifierRequired,
            Some("identifier"),
        ));
        (RecoveryStep::Identify, None)
    } else {
        let (lookup, person) = if typed.contains('@') {
            let address = normalize_email(&typed);
            // People who signed up from an invitation have their address as user ID.
            let by_login = if looks_like_email(&address) {
                recovery::find_by_login(pool, &address.to_lowercase()).await?
            } else {
                None
            };
            let mut found = match by_login {
                Some(person) => vec![person],
                None if looks_like_email(&address) => {
                    recovery::find_by_address(pool, &address.to_lowercase()).await?
                }
                None => Vec::new(),
            };
            // An address two people share names nobody in particular.
            let person = if found.len() == 1 { found.pop() } else { None };
            (format!("address:{}", address.to_lowercase()), person)
        } else {
            let login: String = normalize_login(&typed)
                .chars()
                .take(MAX_LOGIN_LENGTH)
                .collect();
            let person = recovery::find_by_login(pool, &login).await?;
            (format!("login:{login}"), person)
        };
        // Only an active account can be recovered; the others look unknown.
        let person = person.filter(|p| p.state == "active");
        let counted = match &person {
            Some(person) => format!("person:{}", person.id),
            None => lookup,
        };
        data.account_key = format!(
            "recovery:account:{}",
            sesame.key.keyed_hash("throttle", &counted)
        );
        data.offered = offered_methods(sesame);
        (RecoveryStep::Choose, person)
    };
    let id = new_id();
    let mut tx = crate::store::begin(pool).await?;
    flows::insert(
        &mut *tx,
        &NewFlow {
            id: &id,
            kind: KIND,
            state: state.code(),
            person_id: person.as_ref().map(|p| p.id.as_str()),
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + sesame.config.recovery.flow_valid_minutes * 60,
            data: &data.json()?,
        },
        now,
    )
    .await?;
    if state == RecoveryStep::Choose {
        audit_request(
            &mut *tx,
            sesame,
            meta,
            AuditKind::PasswordRecovery,
            person.as_ref().map(|p| p.id.as_str()),
            json!({ "flow": id, "step": "identify", "outcome": if person.is_some() { "started" } else { "started_unknown" } }),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// "Can't sign in?" for an active account: a forgot-password flow for `login`, with its
/// code and link mailed at once (the link works on any device). False if the account is
/// not active or has no address.
pub(crate) async fn mail_reset(sesame: &Sesame, meta: &RequestMeta, login: &str) -> Result<bool> {
    let pool = &sesame.store.pool;
    let id = start(sesame, meta, login).await?;
    let Some(flow) = flows::find(pool, &id, KIND).await? else {
        return Ok(false);
    };
    let person = match &flow.person_id {
        Some(id) => recovery::find_by_id(pool, id).await?,
        None => None,
    };
    let Some(person) = person.filter(|p| p.state == "active" && p.code_address().is_some()) else {
        return Ok(false);
    };
    let ctx = StepContext {
        sesame,
        meta,
        flow: &flow,
        person: Some(&person),
        now: sesame.clock.now_secs(),
    };
    ctx.send_code(FlowData::read(&flow).cleared()).await?;
    Ok(true)
}

struct StepContext<'a> {
    sesame: &'a Sesame,
    meta: &'a RequestMeta,
    flow: &'a FlowRow,
    /// `None` for an unknown (or not active) account: every proof fails.
    person: Option<&'a RecoveryPerson>,
    now: i64,
}

impl StepContext<'_> {
    fn current(&self) -> &str {
        &self.flow.state
    }

    fn person_id(&self) -> Option<&str> {
        self.person.map(|p| p.id.as_str())
    }

    /// Moves the flow from its current step to `next` in `db`; false if it was no longer
    /// at that step (a replay, or a race lost).
    async fn advance<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = sqlx::Any>,
        next: RecoveryStep,
        data: &FlowData,
    ) -> Result<bool> {
        flows::transition(
            db,
            &self.flow.id,
            self.current(),
            next.code(),
            &data.json()?,
            self.now,
        )
        .await
    }

    /// Keeps the flow at its step with a message to show.
    async fn refuse(&self, mut data: FlowData, error: StepError) -> Result<String> {
        data.error = Some(error);
        let state = self.current().to_owned();
        flows::transition(
            &self.sesame.store.pool,
            &self.flow.id,
            &state,
            &state,
            &data.json()?,
            self.now,
        )
        .await?;
        Ok(self.flow.id.clone())
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
            AuditKind::PasswordRecovery,
            self.person_id(),
            json!({ "flow": self.flow.id, "step": self.current(), "outcome": outcome }),
        )
        .await
    }

    fn ip_key(&self) -> String {
        format!("recovery:ip:{}", throttle::address(self.meta.client_ip))
    }

    /// Seconds left on a lock of this account or this address.
    async fn locked(&self, data: &FlowData) -> Result<Option<i64>> {
        let ip_key = self.ip_key();
        throttle::locked_for_any(
            &self.sesame.store.pool,
            &[&data.account_key, &ip_key],
            self.now,
        )
        .await
    }

    /// Counts a failure for this account and this address, whatever the method; the
    /// pause's length if this one starts it.
    async fn count_failure(&self, data: &FlowData) -> Result<Option<i64>> {
        let limits = &self.sesame.config.throttle;
        let ip_key = self.ip_key();
        throttle::record_failures(
            &self.sesame.store.pool,
            &[
                (
                    &data.account_key,
                    Rule::with_limit(limits, limits.recovery_per_identifier),
                ),
                (
                    &ip_key,
                    Rule::with_limit(limits, limits.recovery_per_address),
                ),
            ],
            self.now,
        )
        .await
    }

    /// A wrong answer, whatever the method: counted, audited, and the same message.
    async fn wrong_answer(&self, data: FlowData, field: &str) -> Result<String> {
        let lock = self.count_failure(&data).await?;
        self.audit(&self.sesame.store.pool, "refused").await?;
        let error = match lock {
            Some(seconds) => throttled(seconds),
            None => StepError::new(Msg::RecoveryNotMatched, Some(field)),
        };
        self.refuse(data, error).await
    }

    async fn choose(&self, mut data: FlowData, method: Option<RecoveryMethod>) -> Result<String> {
        let Some(method) = method.filter(|m| data.offered.contains(m)) else {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::RecoveryChooseRequired, Some("method")),
                )
                .await;
        };
        if method == RecoveryMethod::EmailCode {
            data.codes_sent = 0;
            return self.send_code(data).await;
        }
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if self
            .advance(&mut *tx, RecoveryStep::Prove(method), &data)
            .await?
        {
            self.audit(&mut *tx, &format!("chose:{}", method.code()))
                .await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    async fn other_method(&self, data: FlowData) -> Result<String> {
        self.advance(&self.sesame.store.pool, RecoveryStep::Choose, &data)
            .await?;
        Ok(self.flow.id.clone())
    }

    /// Mails a code and a link to the person's address (none for an unknown account,
    /// whose page is the same) and shows the code page.
    async fn send_code(&self, mut data: FlowData) -> Result<String> {
        let sesame = self.sesame;
        let config = &sesame.config.recovery;
        if data.codes_sent >= config.max_sends {
            self.audit(&sesame.store.pool, "send_limit").await?;
            return self
                .refuse(data, StepError::new(Msg::RecoverySendLimit, Some("resend")))
                .await;
        }
        let resending = self.current() == RecoveryStep::Prove(RecoveryMethod::EmailCode).code();
        data.codes_sent += 1;
        if resending {
            data.notice = Some(Msg::RecoveryCodeSentAgain);
        }
        let token = crate::crypto::tokens::random_token();
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let minutes = config.code_valid_minutes;
        let address = self.person.and_then(RecoveryPerson::code_address);
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        verifications::replace(
            &mut tx,
            &NewVerification {
                id: &new_id(),
                flow_id: &self.flow.id,
                purpose: PURPOSE,
                address: address.unwrap_or_default(),
                link_hash: &sesame.key.keyed_hash("recovery-link", &token),
                code_hash: &code_hash(sesame, &self.flow.id, &code),
                expires_at: self.now + minutes * 60,
            },
            self.now,
        )
        .await?;
        if let (Some(person), Some(address)) = (self.person, address) {
            let locale = Locale::from_code(&person.language).unwrap_or(self.meta.locale);
            let link = format!(
                "{}/forgot-password/link?token={token}",
                sesame.config.public_base()
            );
            let mail = templates::password_reset_code(
                locale,
                &sesame.config.institution(),
                &link,
                &code,
                minutes,
            );
            sesame
                .outbox
                .enqueue(&mut *tx, address, &mail, self.now)
                .await?;
        }
        let next = RecoveryStep::Prove(RecoveryMethod::EmailCode);
        if !self.advance(&mut *tx, next, &data).await? {
            // Lost a race with another submission of this step: send nothing.
            tx.rollback().await?;
            return Ok(self.flow.id.clone());
        }
        self.audit(&mut *tx, "code_sent").await?;
        tx.commit().await?;
        if address.is_some() {
            sesame.outbox.wake();
        }
        Ok(self.flow.id.clone())
    }

    /// The code typed from the mail.
    async fn code(&self, data: FlowData, code: &str) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let max = sesame.config.recovery.max_code_attempts;
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.is_empty() {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::RecoveryCodeRequired, Some("code")),
                )
                .await;
        }
        if let Some(seconds) = self.locked(&data).await? {
            self.audit(pool, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let latest = verifications::latest(pool, &self.flow.id, PURPOSE).await?;
        let Some(verification) = latest.filter(|v| v.usable(self.now, max)) else {
            return self
                .refuse(data, StepError::new(Msg::RecoveryCodeExpired, Some("code")))
                .await;
        };
        // The try is taken before the code is compared: of tries arriving at once, no more
        // than the allowed number are ever compared.
        let Some(tries) = verifications::take_try(pool, &verification.id, self.now, max).await?
        else {
            let mut error = StepError::new(Msg::RecoveryCodeBlocked, Some("code"));
            error.tries_left = Some(0);
            return self.refuse(data, error).await;
        };
        let matches = self.person.is_some()
            && code.len() <= 12
            && code_hash(sesame, &self.flow.id, &code) == verification.code_hash;
        if !matches {
            let left = u32::try_from(max - tries).unwrap_or(0);
            let lock = self.count_failure(&data).await?;
            self.audit(pool, "wrong_code").await?;
            let mut error = match (lock, left) {
                (Some(seconds), _) => throttled(seconds),
                (None, 0) => StepError::new(Msg::RecoveryCodeBlocked, Some("code")),
                (None, _) => StepError::new(Msg::RecoveryCodeWrong, Some("code")),
            };
            error.tries_left = Some(left);
            return self.refuse(data, error).await;
        }
        match self.code_proven(data, &verification.id, None).await? {
            Some(id) => Ok(id),
            None => {
                let data = FlowData::read(self.flow).cleared();
                self.refuse(data, StepError::new(Msg::RecoveryCodeExpired, Some("code")))
                    .await
            }
        }
    }

    /// The code (typed, or its link followed) is used up and the proof recorded, in one
    /// transaction: of two concurrent uses, one wins. `None` if it was already used.
    async fn code_proven(
        &self,
        data: FlowData,
        verification_id: &str,
        rebind: Option<&str>,
    ) -> Result<Option<String>> {
        let max = self.sesame.config.recovery.max_code_attempts;
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if !verifications::consume(&mut *tx, verification_id, self.now, max).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        if let Some(binding_hash) = rebind {
            flows::rebind(&mut *tx, &self.flow.id, binding_hash).await?;
        }
        if !self
            .record_proof(&mut tx, data, RecoveryMethod::EmailCode)
            .await?
        {
            tx.rollback().await?;
            return Ok(None);
        }
        tx.commit().await?;
        Ok(Some(self.flow.id.clone()))
    }

    /// A proof accepted: what the category's rule asks next. False if the flow was no
    /// longer at this step.
    async fn record_proof(
        &self,
        tx: &mut sqlx::AnyConnection,
        mut data: FlowData,
        method: RecoveryMethod,
    ) -> Result<bool> {
        let Some(person) = self.person else {
            return Ok(false);
        };
        if !data.proven.contains(&method) {
            data.proven.push(method);
        }
        data.forget_typed();
        let config = &self.sesame.config.recovery;
        let proven: BTreeSet<RecoveryMethod> = data.proven.iter().copied().collect();
        let enrolled = Enrolled::read(&mut *tx, &person.id).await?;
        let next = rules::next(
            rules::rule_for(config, &person.category),
            &available_methods(person, enrolled),
            &proven,
            &offered_methods(self.sesame),
        );
        let (step, outcome) = match next {
            rules::Next::NewPassword => (RecoveryStep::NewPassword, "proven"),
            rules::Next::Prove(methods) => {
                data.offered = methods;
                (RecoveryStep::Choose, "proven_more_needed")
            }
            rules::Next::Helpdesk => (RecoveryStep::Helpdesk, "proven_no_way_on"),
        };
        if !self.advance(&mut *tx, step, &data).await? {
            return Ok(false);
        }
        self.audit(&mut *tx, &format!("{outcome}:{}", method.code()))
            .await?;
        Ok(true)
    }

    /// Accepts a knowledge proof that checked out (PIN, identity attributes).
    async fn knowledge_proven(&self, data: FlowData, method: RecoveryMethod) -> Result<String> {
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if self.record_proof(&mut tx, data, method).await? {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(self.flow.id.clone())
    }

    async fn employee_pin(
        &self,
        mut data: FlowData,
        employee_number: &str,
        pin: &str,
    ) -> Result<String> {
        data.employee_number = field(employee_number);
        let pin = field(pin);
        if data.employee_number.is_empty() {
            return self.missing(data, "employee_number").await;
        }
        if pin.is_empty() {
            return self.missing(data, "pin").await;
        }
        if let Some(seconds) = self.locked(&data).await? {
            self.audit(&self.sesame.store.pool, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let stored = self
            .person
            .filter(|p| same_employee_number(p.employee_number.as_deref(), &data.employee_number))
            .and_then(|p| p.pin_hash.clone());
        if self.verify(AttributeKind::Pin, stored, pin).await? {
            self.knowledge_proven(data, RecoveryMethod::EmployeePin)
                .await
        } else {
            self.wrong_answer(data, "employee_number").await
        }
    }

    async fn attributes(
        &self,
        mut data: FlowData,
        first_name: &str,
        last_name: &str,
        date_of_birth: &str,
        sin_last6: &str,
    ) -> Result<String> {
        data.first_name = field(first_name);
        data.last_name = field(last_name);
        data.date_of_birth = field(date_of_birth);
        let sin = field(sin_last6);
        if data.first_name.is_empty() {
            return self.missing(data, "first_name").await;
        }
        if data.last_name.is_empty() {
            return self.missing(data, "last_name").await;
        }
        let Some(date) = parse_date(&data.date_of_birth) else {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::UsernameDateInvalid, Some("date_of_birth")),
                )
                .await;
        };
        if sin.is_empty() {
            return self.missing(data, "sin_last6").await;
        }
        if let Some(seconds) = self.locked(&data).await? {
            self.audit(&self.sesame.store.pool, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let stored = self
            .person
            .filter(|p| {
                same_name(&p.first_name, &data.first_name)
                    && same_name(&p.last_name, &data.last_name)
                    && p.date_of_birth.as_deref() == Some(date.to_string().as_str())
            })
            .and_then(|p| p.sin_hash.clone());
        if self.verify(AttributeKind::SinLast6, stored, sin).await? {
            self.knowledge_proven(data, RecoveryMethod::Attributes)
                .await
        } else {
            self.wrong_answer(data, "first_name").await
        }
    }

    /// The security questions: every answer must match (the person never learns which
    /// did not). An account without questions, or unknown, answers decoy questions that
    /// never match, after the same work.
    async fn questions(&self, data: FlowData, answers: &[String]) -> Result<String> {
        let sesame = self.sesame;
        if let Some(seconds) = self.locked(&data).await? {
            self.audit(&sesame.store.pool, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let asked = asked_questions(sesame, self.person_id(), &data.account_key).await?;
        if let Some(blank) = (0..asked.len()).find(|i| {
            answers
                .get(*i)
                .is_none_or(|answer| normalize_answer(answer).is_empty())
        }) {
            return self.missing(data, &format!("answer_{blank}")).await;
        }
        let mut all_match = !asked.is_empty();
        for (question, answer) in asked.iter().zip(answers) {
            let stored = match question {
                AskedQuestion::Enrolled(row) => Some(row.answer_hash.as_str()),
                AskedQuestion::Decoy(_) => None,
            };
            // Every answer is checked, so the time does not tell which one failed.
            let matches = sesame
                .hasher
                .verify(stored, &normalize_answer(answer))
                .await?;
            all_match &= matches && stored.is_some();
        }
        if all_match {
            self.knowledge_proven(data, RecoveryMethod::Questions).await
        } else {
            self.wrong_answer(data, "answer_0").await
        }
    }

    /// A code from the enrolled authenticator app: it must match a step near now that no
    /// earlier code used. An unknown account, or one without an app, is checked against a
    /// throwaway secret and fails like a wrong code.
    async fn authenticator(&self, data: FlowData, code: &str) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.is_empty() {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::RecoveryCodeRequired, Some("code")),
                )
                .await;
        }
        if let Some(seconds) = self.locked(&data).await? {
            self.audit(pool, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let enrolled = match self.person {
            Some(person) => authenticators::find(pool, &person.id).await?,
            None => None,
        };
        let secret = match &enrolled {
            Some(row) => super::authenticator::open_secret(sesame, row)?,
            None => totp::new_secret(),
        };
        let step = totp::matching_step(&secret, &code, self.now)?;
        let (Some(row), Some(step)) = (enrolled, step) else {
            return self.wrong_answer(data, "code").await;
        };
        let mut tx = crate::store::begin(pool).await?;
        // A code works once: a replay (or a concurrent use) of the same step fails.
        if !authenticators::use_step(&mut *tx, &row.person_id, step).await? {
            tx.rollback().await?;
            return self.wrong_answer(data, "code").await;
        }
        if self
            .record_proof(&mut tx, data, RecoveryMethod::Authenticator)
            .await?
        {
            tx.commit().await?;
        } else {
            tx.rollback().await?;
        }
        Ok(self.flow.id.clone())
    }

    async fn missing(&self, data: FlowData, field: &str) -> Result<String> {
        self.refuse(
            data,
            StepError::new(Msg::UsernameFieldRequired, Some(field)),
        )
        .await
    }

    /// Checks `typed` against `stored` off the async threads; against a dummy hash when
    /// there is nothing to check, so every answer costs the same.
    async fn verify(
        &self,
        kind: AttributeKind,
        stored: Option<String>,
        typed: String,
    ) -> Result<bool> {
        let dummy = dummy_hash(self.sesame, kind).to_owned();
        let key = self.sesame.key.clone();
        tokio::task::spawn_blocking(move || {
            let matches = verify_attribute(&key, kind, &typed, stored.as_deref().unwrap_or(&dummy));
            matches && stored.is_some()
        })
        .await
        .map_err(|e| Error::Hashing(e.to_string()))
    }

    /// The new password: the account's password changes, every session ends, every
    /// outstanding code and link dies, and every known address is told.
    async fn new_password(
        &self,
        data: FlowData,
        password: &str,
        confirmation: &str,
    ) -> Result<String> {
        let sesame = self.sesame;
        let Some(person) = self.person else {
            return Ok(self.flow.id.clone());
        };
        if password != confirmation {
            return self
                .refuse(
                    data,
                    StepError::new(
                        Msg::ActivationPasswordMismatch,
                        Some("new_password_confirmation"),
                    ),
                )
                .await;
        }
        let addresses = person.known_addresses();
        let mut personal = vec![
            person.login.as_str(),
            person.first_name.as_str(),
            person.last_name.as_str(),
        ];
        personal.extend(addresses.iter().map(String::as_str));
        let unmet = sesame.config.password.violations(password, &personal);
        if !unmet.is_empty() {
            let mut error = StepError::new(Msg::ActivationPasswordWeak, Some("new_password"));
            error.unmet_rules = unmet;
            return self.refuse(data, error).await;
        }
        let hash = sesame.hasher.hash(password).await?;
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        if !self.advance(&mut *tx, RecoveryStep::Done, &data).await? {
            tx.rollback().await?;
            return Ok(self.flow.id.clone());
        }
        if !recovery::reset_password(&mut *tx, &person.id, &hash, self.now).await? {
            tx.rollback().await?;
            return Err(Error::Invalid(
                "password reset of an account that is not active".into(),
            ));
        }
        let sessions_ended = sessions::delete_all_for(&mut *tx, &person.id).await?;
        let codes_voided = recovery::void_verifications(&mut *tx, &person.id, self.now).await?;
        recovery::supersede_other_flows(&mut tx, &person.id, KIND, &self.flow.id, self.now).await?;
        throttle::clear(&mut *tx, &data.account_key).await?;
        audit_request(
            &mut *tx,
            sesame,
            self.meta,
            AuditKind::PasswordRecovery,
            Some(&person.id),
            json!({
                "flow": self.flow.id,
                "step": self.current(),
                "outcome": "password_reset",
                "proven": data.proven.iter().map(|m| m.code()).collect::<Vec<_>>(),
                "sessions_ended": sessions_ended,
                "codes_voided": codes_voided,
            }),
        )
        .await?;
        let locale = Locale::from_code(&person.language).unwrap_or(self.meta.locale);
        let mail = templates::account_notice(
            locale,
            &sesame.config.institution(),
            AccountNotice::PasswordChanged,
            &person.login,
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
        // Committed: the linked accounts follow, and the done page says how it went.
        match linked::push_password(sesame, &person.id, password).await {
            Ok(pushes) if !pushes.is_empty() => {
                let done = RecoveryStep::Done.code();
                let data = FlowData { pushes, ..data };
                flows::transition(
                    &sesame.store.pool,
                    &self.flow.id,
                    done,
                    done,
                    &data.json()?,
                    sesame.clock.now_secs(),
                )
                .await?;
            }
            Ok(_) => {}
            // The reset stands; what failed is queued or will be pushed at the next change.
            Err(error) => tracing::error!(%error, "linked accounts not updated after a reset"),
        }
        Ok(self.flow.id.clone())
    }
}

/// A question forgot password asks: one the person set up, or a decoy shown to an account
/// without questions (or unknown), so the page looks the same.
enum AskedQuestion {
    Enrolled(QuestionRow),
    Decoy(usize),
}

impl AskedQuestion {
    fn text(&self, sesame: &Sesame, locale: Locale) -> String {
        let config = &sesame.config.recovery;
        match self {
            AskedQuestion::Enrolled(row) => super::questions::question_text(config, row, locale),
            AskedQuestion::Decoy(index) => config
                .questions
                .get(*index)
                .map(|q| match locale {
                    Locale::Fr => q.fr.clone(),
                    Locale::En => q.en.clone(),
                })
                .unwrap_or_default(),
        }
    }
}

/// The questions to ask: the person's (the first `questions_asked`, or all), else decoys
/// picked from the institution's list by the account's throttle key, the same each time.
async fn asked_questions(
    sesame: &Sesame,
    person_id: Option<&str>,
    account_key: &str,
) -> Result<Vec<AskedQuestion>> {
    let config = &sesame.config.recovery;
    let enrolled = match person_id {
        Some(id) => questions::list(&sesame.store.pool, id).await?,
        None => Vec::new(),
    };
    let limit = |count: usize| match config.questions_asked {
        0 => count,
        asked => asked.min(count),
    };
    if !enrolled.is_empty() {
        let count = limit(enrolled.len());
        return Ok(enrolled
            .into_iter()
            .take(count)
            .map(AskedQuestion::Enrolled)
            .collect());
    }
    let available = config.questions.len();
    let seed = sesame.key.keyed_hash("decoy-questions", account_key);
    let mut picked: Vec<usize> = Vec::new();
    for byte in seed.bytes().cycle().take(256) {
        let index = usize::from(byte) % available.max(1);
        if !picked.contains(&index) {
            picked.push(index);
        }
        if picked.len() == limit(config.questions_to_enrol).min(available) {
            break;
        }
    }
    Ok(picked.into_iter().map(AskedQuestion::Decoy).collect())
}

fn throttled(seconds: i64) -> StepError {
    StepError::locked(Msg::RecoveryThrottled, None, seconds)
}

fn code_hash(sesame: &Sesame, flow_id: &str, code: &str) -> String {
    sesame
        .key
        .keyed_hash("recovery-code", &format!("{flow_id}:{code}"))
}

// ---- emailed links -----------------------------------------------------------------

async fn link_state(sesame: &Sesame, token: &str) -> Result<RecoveryLinkState> {
    let hash = sesame.key.keyed_hash("recovery-link", token);
    let now = sesame.clock.now_secs();
    let max = sesame.config.recovery.max_code_attempts;
    let verification = verifications::find_by_link(&sesame.store.pool, &hash).await?;
    Ok(match verification {
        Some(v) if v.usable(now, max) && v.purpose == PURPOSE => RecoveryLinkState::Usable,
        _ => RecoveryLinkState::Expired,
    })
}

async fn use_link(sesame: &Sesame, meta: &RequestMeta, token: &str) -> Result<Option<String>> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let max = sesame.config.recovery.max_code_attempts;
    let hash = sesame.key.keyed_hash("recovery-link", token);
    let Some(verification) = verifications::find_by_link(pool, &hash).await? else {
        return Ok(None);
    };
    if !verification.usable(now, max) || verification.purpose != PURPOSE {
        return Ok(None);
    }
    let Some(flow) = flows::find(pool, &verification.flow_id, KIND).await? else {
        return Ok(None);
    };
    let at_code_step = flow.state == RecoveryStep::Prove(RecoveryMethod::EmailCode).code();
    if !at_code_step || flow.expires_at <= now {
        return Ok(None);
    }
    let person = match &flow.person_id {
        Some(id) => recovery::find_by_id(pool, id)
            .await?
            .filter(|p| p.state == "active"),
        None => None,
    };
    if person.is_none() {
        return Ok(None);
    }
    let ctx = StepContext {
        sesame,
        meta,
        flow: &flow,
        person: person.as_ref(),
        now,
    };
    let data = FlowData::read(&flow).cleared();
    let binding_hash = binding(sesame, meta);
    ctx.code_proven(data, &verification.id, Some(&binding_hash))
        .await
}
