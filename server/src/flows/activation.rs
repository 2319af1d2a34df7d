//! Activation from a letter (seed 001).
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> password: login typed (any login: nothing is revealed)
//!     password --> password: wrong login or password (throttled)
//!     password --> recovery_email: letter's login and provisional password
//!     password --> (resumed flow): the person already has an unfinished activation
//!     recovery_email --> check_email: address typed twice; link and code mailed
//!     check_email --> check_email: wrong code (5 at most) / new mail (3 at most)
//!     check_email --> recovery_email: "change the address"
//!     check_email --> charter: code typed, or link used (on any device)
//!     charter --> directory: charter accepted (version and time stored)
//!     directory --> mailbox: consent stored; the category has a mailbox or forwarding
//!     directory --> new_password: consent stored; no mailbox
//!     mailbox --> check_forward: forwarding to an address other than the recovery email
//!     mailbox --> new_password: no forwarding, or to the recovery email
//!     check_forward --> new_password: code typed, or link used
//!     check_forward --> mailbox: "change the address"
//!     new_password --> done: policy met, not the provisional one; account active
//! ```
//!
//! The flow's state is the step's code (`ActivationStep::code`). Every transition is a
//! conditional update from the expected state, in the transaction that records the step's
//! outcome on the person, so a replayed or concurrent submission cannot apply twice; a
//! form posted for another step than the current one changes nothing and shows the current
//! step. Refusals are kept in the flow's data so the page after the redirect shows them.
//! Links stay valid until 23:59 of the day they were sent, in the institution's time zone
//! (never more than 24 h); opening one (GET) changes nothing.

use app::{
    api::{
        AppError,
        activation::{
            ActivationApi, ActivationInput, ActivationStep, ActivationView, LinkState,
            MailboxOffer, StepError,
        },
        ssr::RequestMeta,
    },
    i18n::{Locale, Msg},
    policy::{
        email::{check_email_pair, looks_like_email, normalize_email, same_address},
        login::{MAX_LOGIN_LENGTH, normalize_login},
    },
};
use jiff::{Timestamp, tz::TimeZone};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, binding};
use crate::{
    error::{Error, Result},
    mail::templates::{self, AccountNotice},
    people::fold_name,
    state::Sesame,
    store::{
        activation::{self as people, ActivationPerson},
        audit::AuditKind,
        flows::{self, FlowRow, NewFlow},
        new_id,
        throttle::{self, Rule},
        verifications::{self, NewVerification},
    },
};

pub(crate) const KIND: &str = "activation";
/// How long the first two steps may take before the letter must be typed again.
const IDENTIFY_TTL_SECS: i64 = 30 * 60;
const RECOVERY: &str = "recovery";
const FORWARD: &str = "forward";

pub struct ActivationFlow(pub Sesame);

/// What the flow remembers between steps (server-only).
#[derive(Debug, Default, Serialize, Deserialize)]
struct FlowData {
    login: String,
    error: Option<StepError>,
    notice: Option<Msg>,
    /// The recovery email typed at step 3.
    recovery_email: String,
    /// Step 7's choices.
    forward: bool,
    forward_to: String,
    keep_copy: Option<bool>,
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
}

#[async_trait::async_trait]
impl ActivationApi for ActivationFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<ActivationView, AppError> {
        view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn submit(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        input: ActivationInput,
    ) -> Result<String, AppError> {
        let sesame = &self.0;
        let result = match input {
            ActivationInput::Login { login } => start(sesame, meta, &login).await,
            input => match bound_flow(sesame, meta, flow_id).await {
                Ok(Some(flow)) => step(sesame, meta, flow, input).await,
                Ok(None) => return Err(AppError::Refused(Msg::ActivationExpired)),
                Err(e) => Err(e),
            },
        };
        result.map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn link_state(&self, meta: &RequestMeta, token: String) -> Result<LinkState, AppError> {
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

/// The flow named in the URL, if it exists and belongs to this browser.
async fn bound_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<Option<FlowRow>> {
    let Some(id) = flow_id else { return Ok(None) };
    let flow = flows::find(&sesame.store.pool, &id, KIND).await?;
    Ok(flow.filter(|f| f.binding_hash == binding(sesame, meta)))
}

// ---- the page ----------------------------------------------------------------------

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
) -> Result<ActivationView> {
    let Some(flow) = bound_flow(sesame, meta, flow_id).await? else {
        return Ok(ActivationView::default());
    };
    let step = ActivationStep::from_code(&flow.state).unwrap_or(ActivationStep::Expired);
    let now = sesame.clock.now_secs();
    if step != ActivationStep::Done && flow.expires_at <= now {
        return Ok(ActivationView {
            step: ActivationStep::Expired,
            ..Default::default()
        });
    }
    let data = FlowData::read(&flow);
    let config = &sesame.config.activation;
    let locale = meta.locale;
    let mut view = ActivationView {
        step,
        login: data.login.clone(),
        recovery_email: data.recovery_email.clone(),
        forward: data.forward,
        forward_to: if data.forward_to.is_empty() {
            data.recovery_email.clone()
        } else {
            data.forward_to.clone()
        },
        keep_copy: data.keep_copy.unwrap_or(true),
        error: data.error,
        notice: data.notice,
        ..Default::default()
    };
    let pool = &sesame.store.pool;
    let person = match &flow.person_id {
        Some(id) => people::find_by_id(pool, id).await?,
        None => None,
    };
    match step {
        ActivationStep::CheckEmail | ActivationStep::CheckForwardEmail => {
            let purpose = purpose_of(step);
            if let Some(latest) = verifications::latest(pool, &flow.id, purpose).await? {
                let sent =
                    verifications::count_sent(pool, &flow.id, purpose, &latest.address).await?;
                view.sends_left = u32::try_from(config.max_sends_per_address - sent).unwrap_or(0);
                view.link_deadline = local_time(sesame, latest.expires_at - 1);
                view.sent_to = latest.address;
            }
        }
        ActivationStep::Charter => {
            view.charter_version = config.charter_version.clone();
            view.charter_text = match locale {
                Locale::Fr => config.charter_text_fr.clone(),
                Locale::En => config.charter_text_en.clone(),
            };
        }
        ActivationStep::Mailbox => {
            view.mailbox = person.as_ref().and_then(|p| mailbox_offer(sesame, p));
        }
        ActivationStep::Done => {
            view.services = match locale {
                Locale::Fr => config.services_fr.clone(),
                Locale::En => config.services_en.clone(),
            };
            if let Some(person) = &person {
                view.login = person.login.clone();
            }
        }
        _ => {}
    }
    Ok(view)
}

fn mailbox_offer(sesame: &Sesame, person: &ActivationPerson) -> Option<MailboxOffer> {
    let config = &sesame.config.activation;
    if config.mailbox_categories.contains(&person.category) {
        return Some(MailboxOffer::Mailbox {
            address: person.mailbox_address.clone().unwrap_or_default(),
        });
    }
    config
        .forward_required_categories
        .contains(&person.category)
        .then_some(MailboxOffer::ForwardOnly)
}

/// A time as the institution's clock shows it ("23:59").
fn local_time(sesame: &Sesame, at: i64) -> String {
    let tz = institution_zone(sesame);
    Timestamp::from_second(at)
        .map(|ts| ts.to_zoned(tz).strftime("%H:%M").to_string())
        .unwrap_or_default()
}

fn institution_zone(sesame: &Sesame) -> TimeZone {
    TimeZone::get(&sesame.config.institution.time_zone).unwrap_or(TimeZone::UTC)
}

/// When a link sent at `now` stops working: the end of that day (23:59:59) in `tz`,
/// and never more than 24 hours later (a day that gains an hour at a DST change).
pub fn link_expiry(now: Timestamp, tz: &TimeZone) -> Timestamp {
    let day_later = now.as_second() + 24 * 3600;
    let end_of_day = now
        .to_zoned(tz.clone())
        .date()
        .at(23, 59, 59, 0)
        .to_zoned(tz.clone())
        // One second past 23:59:59: the first instant the link no longer works.
        .map(|end| end.timestamp().as_second() + 1)
        .unwrap_or(day_later);
    Timestamp::from_second(end_of_day.min(day_later)).unwrap_or(now)
}

// ---- steps -------------------------------------------------------------------------

/// Step 1: any login starts a flow, so the page cannot tell whether it exists.
async fn start(sesame: &Sesame, meta: &RequestMeta, login: &str) -> Result<String> {
    let login: String = normalize_login(login)
        .chars()
        .take(MAX_LOGIN_LENGTH)
        .collect();
    let now = sesame.clock.now_secs();
    let id = new_id();
    let mut data = FlowData {
        login: login.clone(),
        ..Default::default()
    };
    let state = if login.is_empty() {
        data.error = Some(StepError::new(Msg::ActivationLoginRequired, Some("login")));
        // Stays at step 1: a flow that only carries the message.
        ActivationStep::Login
    } else {
        ActivationStep::ProvisionalPassword
    };
    flows::insert(
        &sesame.store.pool,
        &NewFlow {
            id: &id,
            kind: KIND,
            state: state.code(),
            person_id: None,
            locale: meta.locale.code(),
            binding_hash: &binding(sesame, meta),
            expires_at: now + IDENTIFY_TTL_SECS,
            data: &data.json()?,
        },
        now,
    )
    .await?;
    Ok(id)
}

async fn step(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow: FlowRow,
    input: ActivationInput,
) -> Result<String> {
    let now = sesame.clock.now_secs();
    let Some(current) = ActivationStep::from_code(&flow.state) else {
        return Ok(flow.id);
    };
    if flow.expires_at <= now || current == ActivationStep::Done {
        return Ok(flow.id);
    }
    let data = FlowData::read(&flow).cleared();
    let wanted = match &input {
        ActivationInput::Login { .. } => ActivationStep::Login,
        ActivationInput::ProvisionalPassword { .. } => ActivationStep::ProvisionalPassword,
        ActivationInput::RecoveryEmail { .. } => ActivationStep::RecoveryEmail,
        ActivationInput::Code { step, .. }
        | ActivationInput::Resend { step }
        | ActivationInput::ChangeEmail { step } => *step,
        ActivationInput::Charter { .. } => ActivationStep::Charter,
        ActivationInput::Directory { .. } => ActivationStep::Directory,
        ActivationInput::Mailbox { .. } => ActivationStep::Mailbox,
        ActivationInput::NewPassword { .. } => ActivationStep::NewPassword,
    };
    if wanted != current {
        // Another step's form (back button, a second tab, a replay): nothing changes,
        // the current step is shown.
        return Ok(flow.id);
    }
    let person = match &flow.person_id {
        Some(id) => people::find_by_id(&sesame.store.pool, id).await?,
        None => None,
    };
    let ctx = StepContext {
        sesame,
        meta,
        flow: &flow,
        now,
    };
    match (input, person) {
        (ActivationInput::ProvisionalPassword { password }, _) => {
            ctx.provisional_password(data, &password).await
        }
        (
            ActivationInput::RecoveryEmail {
                email,
                confirmation,
            },
            Some(person),
        ) => {
            ctx.recovery_email(data, &person, &email, &confirmation)
                .await
        }
        (ActivationInput::Code { step, code }, Some(person)) => {
            ctx.code(data, &person, step, &code).await
        }
        (ActivationInput::Resend { step }, Some(_)) => ctx.resend(data, step).await,
        (ActivationInput::ChangeEmail { step }, Some(person)) => {
            ctx.change_email(data, &person, step).await
        }
        (ActivationInput::Charter { accepted }, Some(person)) => {
            ctx.charter(data, &person, accepted).await
        }
        (ActivationInput::Directory { consent }, Some(person)) => {
            ctx.directory(data, &person, consent).await
        }
        (
            ActivationInput::Mailbox {
                forward,
                forward_to,
                keep_copy,
            },
            Some(person),
        ) => {
            ctx.mailbox(data, &person, forward, &forward_to, keep_copy)
                .await
        }
        (
            ActivationInput::NewPassword {
                password,
                confirmation,
            },
            Some(person),
        ) => {
            ctx.new_password(data, &person, &password, &confirmation)
                .await
        }
        // Past step 2 a flow always names its person; anything else is stale.
        _ => Ok(flow.id.clone()),
    }
}

struct StepContext<'a> {
    sesame: &'a Sesame,
    meta: &'a RequestMeta,
    flow: &'a FlowRow,
    now: i64,
}

impl StepContext<'_> {
    fn current(&self) -> &str {
        &self.flow.state
    }

    /// Moves the flow from its current step to `next` in `tx`; false if it was no longer
    /// at that step (a replay, or a race lost).
    async fn advance(
        &self,
        tx: &mut sqlx::AnyConnection,
        next: ActivationStep,
        data: &FlowData,
    ) -> Result<bool> {
        flows::transition(
            tx,
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
        person_id: Option<&str>,
        outcome: &str,
    ) -> Result<()> {
        audit_request(
            db,
            self.sesame,
            self.meta,
            AuditKind::Activation,
            person_id,
            json!({ "flow": self.flow.id, "step": self.current(), "outcome": outcome }),
        )
        .await
    }

    /// Step 2. Unknown logins, active accounts and wrong passwords all get the same
    /// answer after the same argon2 work.
    async fn provisional_password(&self, data: FlowData, password: &str) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let limits = &sesame.config.throttle;
        let login_key = format!(
            "activation:login:{}",
            sesame.key.keyed_hash("throttle", &data.login)
        );
        let ip_key = format!("activation:ip:{}", throttle::address(self.meta.client_ip));
        let locked = throttle::locked_for_any(pool, &[&login_key, &ip_key], self.now).await?;
        if let Some(seconds) = locked {
            self.audit(pool, None, "throttled").await?;
            return self.refuse(data, throttled(seconds)).await;
        }
        let person = people::find_by_login(pool, &data.login).await?;
        let candidate = person
            .as_ref()
            .filter(|p| p.state == "pending" && p.provisional_hash.is_some());
        let stored = candidate.and_then(|p| p.provisional_hash.as_deref());
        // Typed from paper: case, spaces and dashes do not matter.
        let typed = crate::letters::canonical_provisional(password);
        let verified = sesame.hasher.verify(stored, &typed).await?;
        let Some(person) = candidate.filter(|_| verified) else {
            let lock = throttle::record_failures(
                pool,
                &[
                    (
                        &login_key,
                        Rule::with_limit(limits, limits.signin_per_account),
                    ),
                    (&ip_key, Rule::with_limit(limits, limits.signin_per_address)),
                ],
                self.now,
            )
            .await?;
            self.audit(pool, person.as_ref().map(|p| p.id.as_str()), "refused")
                .await?;
            let error = match lock {
                Some(seconds) => throttled(seconds),
                None => StepError::new(Msg::ActivationInvalidCredentials, Some("password")),
            };
            return self.refuse(data, error).await;
        };
        throttle::clear(pool, &login_key).await?;
        if person
            .provisional_expires_at
            .is_some_and(|expires| expires <= self.now)
        {
            // The right password, too late: only its owner learns this.
            self.audit(pool, Some(&person.id), "letter_expired").await?;
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationLetterExpired, Some("password")),
                )
                .await;
        }

        let binding_hash = binding(sesame, self.meta);
        let mut tx = crate::store::begin(pool).await?;
        // An unfinished activation of this person resumes where it was, in this browser.
        let open = flows::find_open_for_person(
            &mut *tx,
            &person.id,
            KIND,
            &[
                ActivationStep::ProvisionalPassword.code(),
                ActivationStep::Done.code(),
            ],
            self.now,
        )
        .await?;
        if let Some(resumed) = open.into_iter().find(|f| f.id != self.flow.id) {
            flows::rebind(&mut *tx, &resumed.id, &binding_hash).await?;
            flows::abandon(&mut *tx, &self.flow.id, flows::Abandoned::Superseded).await?;
            self.audit(&mut *tx, Some(&person.id), "resumed").await?;
            tx.commit().await?;
            return Ok(resumed.id);
        }
        let data = FlowData {
            recovery_email: person.recovery_email.clone().unwrap_or_default(),
            ..data
        };
        let moved = flows::identify(
            &mut *tx,
            &self.flow.id,
            self.current(),
            ActivationStep::RecoveryEmail.code(),
            &person.id,
            &data.json()?,
            self.now + sesame.config.activation.flow_valid_days * 86_400,
            self.now,
        )
        .await?;
        if moved {
            self.audit(&mut *tx, Some(&person.id), "identified").await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    /// Step 3.
    async fn recovery_email(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        email: &str,
        confirmation: &str,
    ) -> Result<String> {
        let mut data = FlowData {
            recovery_email: email.trim().chars().take(300).collect(),
            ..data
        };
        if let Err((message, field)) = check_email_pair(email, confirmation) {
            return self
                .refuse(data, StepError::new(message, Some(field)))
                .await;
        }
        let address = normalize_email(email);
        data.recovery_email = address.clone();
        self.send_verification(data, person, RECOVERY, &address, ActivationStep::CheckEmail)
            .await
    }

    /// Mails a link and a code to `address` and moves the flow to `next` (or keeps it at
    /// the check step for a resend).
    async fn send_verification(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        purpose: &str,
        address: &str,
        next: ActivationStep,
    ) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let config = &sesame.config.activation;
        let sent = verifications::count_sent(pool, &self.flow.id, purpose, address).await?;
        if sent >= config.max_sends_per_address {
            self.audit(pool, Some(&person.id), "send_limit").await?;
            let field = if purpose == RECOVERY {
                "email"
            } else {
                "forward_to"
            };
            let field = if self.current() == next.code() {
                "resend"
            } else {
                field
            };
            return self
                .refuse(data, StepError::new(Msg::ActivationSendLimit, Some(field)))
                .await;
        }
        let token = crate::crypto::tokens::random_token();
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let expires_at = link_expiry(sesame.clock.now(), &institution_zone(sesame)).as_second();
        let locale = self.meta.locale;
        let link = format!(
            "{}/activate/link?token={token}",
            sesame.config.public_base()
        );
        let mail = templates::activation_link(
            locale,
            &sesame.config.institution(),
            purpose == FORWARD,
            &link,
            &code,
            &local_time(sesame, expires_at - 1),
        );
        let mut data = data;
        if self.current() == next.code() {
            data.notice = Some(Msg::ActivationMailSentAgain);
        }
        let mut tx = crate::store::begin(pool).await?;
        verifications::replace(
            &mut tx,
            &NewVerification {
                id: &new_id(),
                flow_id: &self.flow.id,
                purpose,
                address,
                link_hash: &sesame.key.keyed_hash("activation-link", &token),
                code_hash: &code_hash(sesame, &self.flow.id, purpose, &code),
                expires_at,
            },
            self.now,
        )
        .await?;
        sesame
            .outbox
            .enqueue(&mut *tx, address, &mail, self.now)
            .await?;
        let moved = self.advance(&mut tx, next, &data).await?;
        if !moved {
            // Lost a race with another submission of this step: send nothing.
            tx.rollback().await?;
            return Ok(self.flow.id.clone());
        }
        self.audit(&mut *tx, Some(&person.id), &format!("{purpose}_mail_sent"))
            .await?;
        tx.commit().await?;
        sesame.outbox.wake();
        Ok(self.flow.id.clone())
    }

    async fn resend(&self, data: FlowData, step: ActivationStep) -> Result<String> {
        let pool = &self.sesame.store.pool;
        let Some(person) = self.person().await? else {
            return Ok(self.flow.id.clone());
        };
        let purpose = purpose_of(step);
        let address = match purpose {
            RECOVERY => data.recovery_email.clone(),
            _ => data.forward_to.clone(),
        };
        if verifications::latest(pool, &self.flow.id, purpose)
            .await?
            .is_none()
        {
            return Ok(self.flow.id.clone());
        }
        self.send_verification(data, &person, purpose, &address, step)
            .await
    }

    async fn person(&self) -> Result<Option<ActivationPerson>> {
        match &self.flow.person_id {
            Some(id) => people::find_by_id(&self.sesame.store.pool, id).await,
            None => Ok(None),
        }
    }

    async fn change_email(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        step: ActivationStep,
    ) -> Result<String> {
        let back = match step {
            ActivationStep::CheckEmail => ActivationStep::RecoveryEmail,
            _ => ActivationStep::Mailbox,
        };
        let pool = &self.sesame.store.pool;
        let mut tx = crate::store::begin(pool).await?;
        if self.advance(&mut tx, back, &data).await? {
            self.audit(&mut *tx, Some(&person.id), "change_address")
                .await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    /// Steps 4 and 8: the code typed instead of following the link.
    async fn code(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        step: ActivationStep,
        code: &str,
    ) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let max = sesame.config.activation.max_code_attempts;
        let purpose = purpose_of(step);
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.is_empty() {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationCodeRequired, Some("code")),
                )
                .await;
        }
        let latest = verifications::latest(pool, &self.flow.id, purpose).await?;
        let Some(verification) = latest.filter(|v| v.usable(self.now, max)) else {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationCodeExpired, Some("code")),
                )
                .await;
        };
        // The try is taken before the code is compared: of tries arriving at once, no more
        // than the allowed number are ever compared.
        let Some(tries) = verifications::take_try(pool, &verification.id, self.now, max).await?
        else {
            let mut error = StepError::new(Msg::ActivationCodeBlocked, Some("code"));
            error.tries_left = Some(0);
            return self.refuse(data, error).await;
        };
        let matches = code.len() <= 12
            && code_hash(sesame, &self.flow.id, purpose, &code) == verification.code_hash;
        if !matches {
            self.audit(pool, Some(&person.id), "wrong_code").await?;
            let left = u32::try_from(max - tries).unwrap_or(0);
            let mut error = if left == 0 {
                StepError::new(Msg::ActivationCodeBlocked, Some("code"))
            } else {
                StepError::new(Msg::ActivationCodeWrong, Some("code"))
            };
            error.tries_left = Some(left);
            return self.refuse(data, error).await;
        }
        self.verified(data, person, &verification.id, purpose, None)
            .await
            .map(|moved| moved.unwrap_or_else(|| self.flow.id.clone()))
    }

    /// The address is proven (code or link): records it and moves on. `rebind` binds the
    /// flow to the browser that used the link. `None` if the verification was already used.
    async fn verified(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        verification_id: &str,
        purpose: &str,
        rebind: Option<&str>,
    ) -> Result<Option<String>> {
        let sesame = self.sesame;
        let max = sesame.config.activation.max_code_attempts;
        let data = data.cleared();
        let next = match purpose {
            RECOVERY => ActivationStep::Charter,
            _ => ActivationStep::NewPassword,
        };
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        if !verifications::consume(&mut *tx, verification_id, self.now, max).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        match purpose {
            RECOVERY => {
                people::set_recovery_email(&mut *tx, &person.id, &data.recovery_email, self.now)
                    .await?
            }
            _ => {
                people::set_forwarding(
                    &mut *tx,
                    &person.id,
                    Some(&data.forward_to),
                    data.keep_copy.unwrap_or(true),
                    self.now,
                )
                .await?
            }
        }
        if !self.advance(&mut tx, next, &data).await? {
            tx.rollback().await?;
            return Ok(None);
        }
        if let Some(binding_hash) = rebind {
            flows::rebind(&mut *tx, &self.flow.id, binding_hash).await?;
        }
        self.audit(&mut *tx, Some(&person.id), &format!("{purpose}_verified"))
            .await?;
        tx.commit().await?;
        Ok(Some(self.flow.id.clone()))
    }

    /// Step 5.
    async fn charter(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        accepted: bool,
    ) -> Result<String> {
        if !accepted {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationCharterRequired, Some("accept")),
                )
                .await;
        }
        let version = &self.sesame.config.activation.charter_version;
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if self
            .advance(&mut tx, ActivationStep::Directory, &data)
            .await?
        {
            people::accept_charter(&mut *tx, &person.id, version, self.now).await?;
            self.audit(
                &mut *tx,
                Some(&person.id),
                &format!("charter_accepted:{version}"),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    /// Step 6. A mailbox is assigned here, so step 7 can show its address.
    async fn directory(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        consent: Option<bool>,
    ) -> Result<String> {
        let Some(consent) = consent else {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationDirectoryRequired, Some("consent-yes")),
                )
                .await;
        };
        let offer = mailbox_offer(self.sesame, person);
        if matches!(offer, Some(MailboxOffer::Mailbox { .. })) && person.mailbox_address.is_none() {
            assign_mailbox(self.sesame, person, self.now).await?;
        }
        let next = match offer {
            Some(_) => ActivationStep::Mailbox,
            None => ActivationStep::NewPassword,
        };
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if self.advance(&mut tx, next, &data).await? {
            people::set_directory_consent(&mut *tx, &person.id, consent, self.now).await?;
            let outcome = if consent {
                "directory_yes"
            } else {
                "directory_no"
            };
            self.audit(&mut *tx, Some(&person.id), outcome).await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    /// Steps 7 and 7 bis.
    async fn mailbox(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        forward: bool,
        forward_to: &str,
        keep_copy: bool,
    ) -> Result<String> {
        let offer = mailbox_offer(self.sesame, person);
        let forward = forward || matches!(offer, Some(MailboxOffer::ForwardOnly));
        let mut data = FlowData {
            forward,
            forward_to: forward_to.trim().chars().take(300).collect(),
            keep_copy: Some(keep_copy || matches!(offer, Some(MailboxOffer::ForwardOnly))),
            ..data
        };
        if forward {
            let address = normalize_email(forward_to);
            if forward_to.trim().is_empty() {
                return self
                    .refuse(
                        data,
                        StepError::new(Msg::ActivationForwardRequired, Some("forward_to")),
                    )
                    .await;
            }
            if !looks_like_email(&address) {
                return self
                    .refuse(data, StepError::new(Msg::EmailInvalid, Some("forward_to")))
                    .await;
            }
            data.forward_to = address.clone();
            if !same_address(&address, &data.recovery_email) {
                return self
                    .send_verification(
                        data,
                        person,
                        FORWARD,
                        &address,
                        ActivationStep::CheckForwardEmail,
                    )
                    .await;
            }
        }
        let mut tx = crate::store::begin(&self.sesame.store.pool).await?;
        if self
            .advance(&mut tx, ActivationStep::NewPassword, &data)
            .await?
        {
            let target = forward.then_some(data.forward_to.as_str());
            people::set_forwarding(
                &mut *tx,
                &person.id,
                target,
                data.keep_copy.unwrap_or(true),
                self.now,
            )
            .await?;
            let outcome = if forward {
                "forward_to_recovery_email"
            } else {
                "no_forward"
            };
            self.audit(&mut *tx, Some(&person.id), outcome).await?;
        }
        tx.commit().await?;
        Ok(self.flow.id.clone())
    }

    /// Step 9, then 10: the account becomes active.
    async fn new_password(
        &self,
        data: FlowData,
        person: &ActivationPerson,
        password: &str,
        confirmation: &str,
    ) -> Result<String> {
        let sesame = self.sesame;
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
        let personal = [
            person.login.as_str(),
            person.first_name.as_str(),
            person.last_name.as_str(),
            data.recovery_email.as_str(),
        ];
        let unmet = sesame.config.password.violations(password, &personal);
        if !unmet.is_empty() {
            let mut error = StepError::new(Msg::ActivationPasswordWeak, Some("new_password"));
            error.unmet_rules = unmet;
            return self.refuse(data, error).await;
        }
        if sesame
            .hasher
            .verify(
                person.provisional_hash.as_deref(),
                &crate::letters::canonical_provisional(password),
            )
            .await?
        {
            return self
                .refuse(
                    data,
                    StepError::new(Msg::ActivationPasswordReused, Some("new_password")),
                )
                .await;
        }
        let hash = sesame.hasher.hash(password).await?;
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        let moved = self.advance(&mut tx, ActivationStep::Done, &data).await?;
        if moved {
            if !people::activate(&mut *tx, &person.id, &hash, self.now).await? {
                tx.rollback().await?;
                return Err(Error::Invalid(
                    "activation of an account that is not pending".into(),
                ));
            }
            self.audit(&mut *tx, Some(&person.id), "activated").await?;
            // A record of the activation at the recovery address (a stranger's activation
            // would not go unnoticed), in the person's language.
            if !data.recovery_email.is_empty() {
                let locale = Locale::from_code(&person.language).unwrap_or(self.meta.locale);
                let mail = templates::account_notice(
                    locale,
                    &sesame.config.institution(),
                    AccountNotice::Activated,
                    &person.login,
                    &sesame.config.sign_in_url(),
                );
                sesame
                    .outbox
                    .enqueue(&mut *tx, &data.recovery_email, &mail, self.now)
                    .await?;
            }
        }
        tx.commit().await?;
        if moved {
            crate::metrics::flow_completed(KIND);
            sesame.outbox.wake();
        }
        Ok(self.flow.id.clone())
    }
}

fn throttled(seconds: i64) -> StepError {
    StepError::locked(Msg::ActivationThrottled, Some("password"), seconds)
}

fn purpose_of(step: ActivationStep) -> &'static str {
    match step {
        ActivationStep::CheckForwardEmail => FORWARD,
        _ => RECOVERY,
    }
}

fn code_hash(sesame: &Sesame, flow_id: &str, purpose: &str, code: &str) -> String {
    sesame
        .key
        .keyed_hash("activation-code", &format!("{flow_id}:{purpose}:{code}"))
}

/// Gives the person the first free address the pattern makes (`name`, `name2`...).
async fn assign_mailbox(sesame: &Sesame, person: &ActivationPerson, now: i64) -> Result<()> {
    let pool = &sesame.store.pool;
    let base = mailbox_address(&sesame.config.activation.mailbox_pattern, person);
    let Some((local, domain)) = base.split_once('@') else {
        return Err(Error::Invalid(format!("mailbox pattern gives {base:?}")));
    };
    for n in 1..=999 {
        let candidate = match n {
            1 => base.clone(),
            n => format!("{local}{n}@{domain}"),
        };
        if people::mailbox_taken(pool, &candidate, &person.id).await? {
            continue;
        }
        if people::claim_mailbox(pool, &person.id, &candidate, now).await? {
            return Ok(());
        }
    }
    Err(Error::Invalid(format!(
        "no free mailbox address for {base}"
    )))
}

/// The pattern filled with the person's names, folded to lower-case ASCII.
pub fn mailbox_address(pattern: &str, person: &ActivationPerson) -> String {
    pattern
        .replace("{first}", &fold_name(&person.first_name))
        .replace("{last}", &fold_name(&person.last_name))
        .replace("{login}", &fold_name(&person.login))
}

// ---- emailed links -----------------------------------------------------------------

async fn link_state(sesame: &Sesame, token: &str) -> Result<LinkState> {
    let hash = sesame.key.keyed_hash("activation-link", token);
    let now = sesame.clock.now_secs();
    let max = sesame.config.activation.max_code_attempts;
    let verification = verifications::find_by_link(&sesame.store.pool, &hash).await?;
    Ok(match verification {
        Some(v) if v.usable(now, max) => LinkState::Usable,
        _ => LinkState::Expired,
    })
}

async fn use_link(sesame: &Sesame, meta: &RequestMeta, token: &str) -> Result<Option<String>> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let max = sesame.config.activation.max_code_attempts;
    let hash = sesame.key.keyed_hash("activation-link", token);
    let Some(verification) = verifications::find_by_link(pool, &hash).await? else {
        return Ok(None);
    };
    if !verification.usable(now, max) {
        return Ok(None);
    }
    let Some(flow) = flows::find(pool, &verification.flow_id, KIND).await? else {
        return Ok(None);
    };
    let expected = match verification.purpose.as_str() {
        RECOVERY => ActivationStep::CheckEmail,
        _ => ActivationStep::CheckForwardEmail,
    };
    if flow.state != expected.code() || flow.expires_at <= now {
        return Ok(None);
    }
    let Some(person) = (match &flow.person_id {
        Some(id) => people::find_by_id(pool, id).await?,
        None => None,
    }) else {
        return Ok(None);
    };
    let data = FlowData::read(&flow);
    let ctx = StepContext {
        sesame,
        meta,
        flow: &flow,
        now,
    };
    let binding_hash = binding(sesame, meta);
    ctx.verified(
        data,
        &person,
        &verification.id,
        &verification.purpose,
        Some(&binding_hash),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().expect("timestamp")
    }

    #[test]
    fn links_last_until_the_end_of_the_local_day() {
        let montreal = TimeZone::get("America/Montreal").expect("zone");
        // 10:00 in Montréal (UTC-5 in November) -> 23:59:59 local, 04:59:59 UTC next day.
        let expiry = link_expiry(at("2026-11-22T15:00:00Z"), &montreal);
        assert_eq!(expiry, at("2026-11-23T05:00:00Z"));
        // 23:30 local: half an hour left, not a day.
        let expiry = link_expiry(at("2026-11-23T04:30:00Z"), &montreal);
        assert_eq!(expiry, at("2026-11-23T05:00:00Z"));
    }

    #[test]
    fn links_follow_daylight_saving_changes() {
        let montreal = TimeZone::get("America/Montreal").expect("zone");
        // 8 March 2026, clocks go forward at 02:00: the day has 23 hours, and its end
        // is at 03:59:59 UTC (UTC-4), not 04:59:59.
        let expiry = link_expiry(at("2026-03-08T06:00:00Z"), &montreal);
        assert_eq!(expiry, at("2026-03-09T04:00:00Z"));
        // 1 November 2026, clocks go back at 02:00: 00:30 local (UTC-4) on a 25-hour day;
        // the end of the day is more than 24 h away, so 24 h it is.
        let start = at("2026-11-01T04:30:00Z");
        let expiry = link_expiry(start, &montreal);
        assert_eq!(expiry, at("2026-11-02T04:30:00Z"));
        // Later that day, the end of the day (UTC-5) comes first.
        let expiry = link_expiry(at("2026-11-01T15:00:00Z"), &montreal);
        assert_eq!(expiry, at("2026-11-02T05:00:00Z"));
    }

    #[test]
    fn mailbox_addresses_are_folded_to_ascii() {
        let person = ActivationPerson {
            id: "p".into(),
            login: "mtremblay".into(),
            first_name: "Marie-Ève".into(),
            last_name: "Côté D'Anjou".into(),
            category: "permanent-staff".into(),
            language: "fr".into(),
            state: "pending".into(),
            provisional_hash: None,
            provisional_expires_at: None,
            recovery_email: None,
            mailbox_address: None,
        };
        assert_eq!(
            mailbox_address("{first}.{last}@univ.example", &person),
            "marie-eve.cote-d-anjou@univ.example"
        );
        assert_eq!(
            mailbox_address("{login}@x.example", &person),
            "mtremblay@x.example"
        );
    }
}
