//! Invitation-based registration (seed 003).
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> identify: the invitation link (opening it uses nothing up)
//!     identify --> identify: names missing / not the invited address (counted)
//!     identify --> password: names and the invited address
//!     password --> password: consent missing / weak or mismatched password / bot check
//!     password --> verify: the account is created, pending; the invitation is used up;
//!     password --> verify: a code (and a link) is mailed to the address
//!     verify --> verify: wrong code (5 at most) / new code (3 mails at most)
//!     verify --> done: right code, or the mailed link: the account is active
//! ```
//!
//! The person's user ID is the invited address. A replayed link says it was used; an
//! expired one says so; a replaced or revoked one is simply not valid.

mod gate;
pub mod help;

use app::{
    api::{
        AppError,
        signup::{
            BotProof, CantSignInForm, CantSignInView, InvitationProblem, LegalDocument, LegalText,
            SignUpApi, SignUpLinkState, SignUpRequest, SignUpStep, SignUpView,
        },
        ssr::RequestMeta,
        step::StepError,
    },
    i18n::{Locale, Msg},
    policy::email::{MAX_EMAIL_LENGTH, looks_like_email},
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{audit_request, binding};
use crate::{
    bot_check,
    crypto::tokens::random_token,
    error::Result,
    invitations::canonical_address,
    mail::templates,
    state::Sesame,
    store::{
        audit::AuditKind,
        flows::{self, FlowRow, NewFlow},
        invitations::{self, InvitationRow, InvitationState},
        new_id,
        people::Category,
        signup::{self, NewSignUp},
        throttle::{self, Rule},
        verifications::{self, NewVerification},
    },
};

pub(crate) const KIND: &str = "signup";
const PURPOSE: &str = "signup";
/// Longest name kept (longer input is refused).
const MAX_NAME_CHARS: usize = 100;

pub struct SignUpFlow(pub Sesame);

/// What a sign-up remembers between steps (server-only).
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct FlowData {
    pub(crate) invitation_id: String,
    pub(crate) issuer: String,
    pub(crate) first_name: String,
    pub(crate) last_name: String,
    /// As typed at step 2; the invited address (normalized) from step 3 on.
    pub(crate) email: String,
    /// The pending account, once created.
    pub(crate) person_id: Option<String>,
    pub(crate) error: Option<StepError>,
    pub(crate) notice: Option<Msg>,
}

impl FlowData {
    fn read(flow: &FlowRow) -> FlowData {
        serde_json::from_str(&flow.data).unwrap_or_default()
    }

    fn json(&self) -> Result<String> {
        Ok(serde_json::to_string(self)?)
    }

    fn cleared(mut self) -> FlowData {
        self.error = None;
        self.notice = None;
        self
    }
}

#[async_trait::async_trait]
impl SignUpApi for SignUpFlow {
    async fn view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        invitation: Option<String>,
    ) -> Result<SignUpView, AppError> {
        view(&self.0, meta, flow_id, invitation)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn submit(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
        request: SignUpRequest,
    ) -> Result<String, AppError> {
        submit(&self.0, meta, flow_id, request)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))?
    }

    async fn link_state(&self, token: &str) -> Result<SignUpLinkState, AppError> {
        link_state(&self.0, token)
            .await
            .map_err(|e| e.into_app_error("-"))
    }

    async fn use_link(&self, meta: &RequestMeta, token: &str) -> Result<bool, AppError> {
        use_link(&self.0, meta, token)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn cant_sign_in_view(
        &self,
        meta: &RequestMeta,
        flow_id: Option<String>,
    ) -> Result<CantSignInView, AppError> {
        help::view(&self.0, meta, flow_id)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    async fn cant_sign_in(
        &self,
        meta: &RequestMeta,
        form: CantSignInForm,
    ) -> Result<Option<String>, AppError> {
        help::request(&self.0, meta, form)
            .await
            .map_err(|e| e.into_app_error(&meta.request_id))
    }

    fn legal_text(&self, locale: Locale, document: LegalDocument) -> LegalText {
        legal_text(&self.0, locale, document)
    }
}

/// The current version of a text people consent to, split in paragraphs.
pub(crate) fn legal_text(sesame: &Sesame, locale: Locale, document: LegalDocument) -> LegalText {
    let config = &sesame.config.signup;
    let (version, text) = match (document, locale) {
        (LegalDocument::Terms, Locale::Fr) => (&config.terms_version, &config.terms_text_fr),
        (LegalDocument::Terms, Locale::En) => (&config.terms_version, &config.terms_text_en),
        (LegalDocument::Privacy, Locale::Fr) => (&config.privacy_version, &config.privacy_text_fr),
        (LegalDocument::Privacy, Locale::En) => (&config.privacy_version, &config.privacy_text_en),
    };
    LegalText {
        version: version.clone(),
        paragraphs: text
            .split("\n\n")
            .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
            .filter(|p| !p.is_empty())
            .collect(),
    }
}

/// Who invited: the issuer the operator named, else the institution, in `locale`.
pub(crate) fn issuer_name(sesame: &Sesame, locale: Locale, issuer: &str) -> String {
    match issuer.trim() {
        "" => sesame.config.institution().name.get(locale).to_owned(),
        issuer => issuer.to_owned(),
    }
}

fn token_hash(sesame: &Sesame, token: &str) -> String {
    sesame.key.keyed_hash("invitation", token.trim())
}

/// The invitation a link names, if any.
async fn invitation_by_token(sesame: &Sesame, token: &str) -> Result<Option<InvitationRow>> {
    if token.trim().is_empty() || token.len() > 200 {
        return Ok(None);
    }
    invitations::find_by_token(&sesame.store.pool, &token_hash(sesame, token)).await
}

fn problem(state: InvitationState) -> Option<InvitationProblem> {
    match state {
        InvitationState::Pending => None,
        InvitationState::Expired => Some(InvitationProblem::Expired),
        InvitationState::Used => Some(InvitationProblem::Used),
        InvitationState::Revoked | InvitationState::Replaced => Some(InvitationProblem::NotValid),
    }
}

/// This browser's live sign-up.
async fn bound_flow(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<&str>,
) -> Result<Option<FlowRow>> {
    let Some(flow_id) = flow_id else {
        return Ok(None);
    };
    let flow = flows::find(&sesame.store.pool, flow_id, KIND).await?;
    Ok(flow.filter(|f| {
        f.binding_hash == binding(sesame, meta) && f.expires_at > sesame.clock.now_secs()
    }))
}

async fn view(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    invitation: Option<String>,
) -> Result<SignUpView> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    let config = &sesame.config.signup;
    let mut view = SignUpView {
        code_minutes: u32::try_from(config.code_valid_minutes).unwrap_or(10),
        ..Default::default()
    };
    if let Some(flow) = bound_flow(sesame, meta, flow_id.as_deref()).await? {
        let step = SignUpStep::from_code(&flow.state).unwrap_or_default();
        let data = FlowData::read(&flow);
        if step == SignUpStep::Password {
            view.bot_challenge = bot_check::issue(sesame).await?;
        }
        if step == SignUpStep::Verify {
            let sent = verifications::count_sent(pool, &flow.id, PURPOSE, &data.email).await?;
            view.sends_left = u32::try_from(config.max_sends - sent).unwrap_or(0);
        }
        view.step = step;
        view.flow = Some(flow.id);
        view.issuer = issuer_name(sesame, meta.locale, &data.issuer);
        view.first_name = data.first_name;
        view.last_name = data.last_name;
        view.email = data.email;
        view.error = data.error;
        view.notice = data.notice;
        return Ok(view);
    }
    if let Some(id) = flow_id.as_deref()
        && let Some(flow) = flows::find(pool, id, KIND).await?
        && flow.binding_hash == binding(sesame, meta)
    {
        // This browser's sign-up, past its time: say so rather than "not valid".
        view.problem = Some(InvitationProblem::FlowExpired);
        return Ok(view);
    }
    let Some(token) = invitation.filter(|t| !t.trim().is_empty()) else {
        view.problem = Some(InvitationProblem::NotValid);
        return Ok(view);
    };
    match invitation_by_token(sesame, &token).await? {
        Some(found) => match problem(found.state_at(now)) {
            None => {
                view.step = SignUpStep::Identify;
                view.issuer = issuer_name(sesame, meta.locale, &found.issuer);
                view.invitation = Some(token);
            }
            Some(problem) => view.problem = Some(problem),
        },
        None => view.problem = Some(InvitationProblem::NotValid),
    }
    Ok(view)
}

async fn submit(
    sesame: &Sesame,
    meta: &RequestMeta,
    flow_id: Option<String>,
    request: SignUpRequest,
) -> Result<std::result::Result<String, AppError>> {
    let flow = bound_flow(sesame, meta, flow_id.as_deref()).await?;
    let now = sesame.clock.now_secs();
    if let SignUpRequest::Identify {
        invitation,
        first_name,
        last_name,
        email,
    } = &request
    {
        let flow = flow.filter(|f| f.state == SignUpStep::Identify.code());
        // A link's first form, or a refused one shown again.
        let found = match (&flow, invitation) {
            (Some(flow), _) => {
                invitations::find(&sesame.store.pool, &FlowData::read(flow).invitation_id).await?
            }
            (None, Some(token)) => invitation_by_token(sesame, token).await?,
            (None, None) => None,
        };
        let Some(found) = found.filter(|i| i.state_at(now) == InvitationState::Pending) else {
            return Ok(Err(AppError::Forbidden));
        };
        let ctx = Context { sesame, meta, now };
        let id = ctx
            .identify(flow.as_ref(), &found, first_name, last_name, email)
            .await?;
        return Ok(Ok(id));
    }
    let Some(flow) = flow else {
        return Ok(Err(AppError::Forbidden));
    };
    let expected = match &request {
        SignUpRequest::Identify { .. } => SignUpStep::Identify,
        SignUpRequest::Password { .. } => SignUpStep::Password,
        SignUpRequest::Code { .. } | SignUpRequest::Resend => SignUpStep::Verify,
    };
    if flow.state != expected.code() {
        // Another step's form (back button, second tab, replay): nothing changes.
        return Ok(Ok(flow.id));
    }
    let ctx = Context { sesame, meta, now };
    let data = FlowData::read(&flow).cleared();
    let id = match request {
        SignUpRequest::Identify { .. } => flow.id.clone(),
        SignUpRequest::Password {
            password,
            confirmation,
            consent,
            bot,
        } => {
            ctx.password(&flow, data, &password, &confirmation, consent, &bot)
                .await?
        }
        SignUpRequest::Code { code } => ctx.code(&flow, data, &code).await?,
        SignUpRequest::Resend => {
            ctx.send_code(&flow, data, true).await?;
            flow.id.clone()
        }
    };
    Ok(Ok(id))
}

pub(crate) struct Context<'a> {
    pub(crate) sesame: &'a Sesame,
    pub(crate) meta: &'a RequestMeta,
    pub(crate) now: i64,
}

impl Context<'_> {
    async fn audit<'e>(
        &self,
        db: impl sqlx::Executor<'e, Database = sqlx::Any>,
        person_id: Option<&str>,
        detail: serde_json::Value,
    ) -> Result<()> {
        audit_request(
            db,
            self.sesame,
            self.meta,
            AuditKind::SignUp,
            person_id,
            detail,
        )
        .await
    }

    /// Keeps the flow at its step with a message to show.
    async fn refuse(&self, flow: &FlowRow, mut data: FlowData, error: StepError) -> Result<String> {
        data.error = Some(error);
        let pool = &self.sesame.store.pool;
        flows::transition(
            pool,
            &flow.id,
            &flow.state,
            &flow.state,
            &data.json()?,
            self.now,
        )
        .await?;
        Ok(flow.id.clone())
    }

    pub(crate) async fn insert_flow(
        &self,
        db: impl sqlx::Executor<'_, Database = sqlx::Any>,
        step: SignUpStep,
        person_id: Option<&str>,
        data: &FlowData,
    ) -> Result<String> {
        let id = new_id();
        flows::insert(
            db,
            &NewFlow {
                id: &id,
                kind: KIND,
                state: step.code(),
                person_id,
                locale: self.meta.locale.code(),
                binding_hash: &binding(self.sesame, self.meta),
                expires_at: self.now + self.sesame.config.signup.flow_valid_minutes * 60,
                data: &data.json()?,
            },
            self.now,
        )
        .await?;
        Ok(id)
    }

    /// Step 2: the names and the address the invitation was sent to.
    async fn identify(
        &self,
        flow: Option<&FlowRow>,
        invitation: &InvitationRow,
        first_name: &str,
        last_name: &str,
        email: &str,
    ) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let clean = |text: &str| text.split_whitespace().collect::<Vec<_>>().join(" ");
        let mut data = FlowData {
            invitation_id: invitation.id.clone(),
            issuer: invitation.issuer.clone(),
            first_name: clean(first_name).chars().take(MAX_NAME_CHARS + 1).collect(),
            last_name: clean(last_name).chars().take(MAX_NAME_CHARS + 1).collect(),
            email: email.trim().chars().take(MAX_EMAIL_LENGTH + 1).collect(),
            ..Default::default()
        };
        let refusal = if data.last_name.is_empty() {
            Some(StepError::new(
                Msg::SignupLastNameRequired,
                Some("last_name"),
            ))
        } else if data.first_name.is_empty() {
            Some(StepError::new(
                Msg::SignupFirstNameRequired,
                Some("first_name"),
            ))
        } else if data.last_name.chars().count() > MAX_NAME_CHARS {
            Some(StepError::new(Msg::SignupNameTooLong, Some("last_name")))
        } else if data.first_name.chars().count() > MAX_NAME_CHARS {
            Some(StepError::new(Msg::SignupNameTooLong, Some("first_name")))
        } else if data.email.is_empty() {
            Some(StepError::new(Msg::EmailRequired, Some("email")))
        } else if !looks_like_email(&data.email) {
            Some(StepError::new(Msg::EmailInvalid, Some("email")))
        } else {
            None
        };
        let invitation_key = format!("signup:invitation:{}", invitation.id);
        let ip_key = format!(
            "signup:mismatch-ip:{}",
            throttle::address(self.meta.client_ip)
        );
        let refusal = match refusal {
            Some(refusal) => Some(refusal),
            None => {
                if let Some(seconds) =
                    throttle::locked_for_any(pool, &[&invitation_key, &ip_key], self.now).await?
                {
                    Some(StepError::locked(Msg::SignupThrottled, None, seconds))
                } else if canonical_address(&data.email) != invitation.email {
                    let limits = &sesame.config.throttle;
                    let keys = [
                        (
                            invitation_key.as_str(),
                            Rule::with_limit(limits, limits.recovery_per_identifier),
                        ),
                        (
                            ip_key.as_str(),
                            Rule::with_limit(limits, limits.recovery_per_address),
                        ),
                    ];
                    let lock = throttle::record_failures(pool, &keys, self.now).await?;
                    self.audit(
                        pool,
                        None,
                        json!({ "invitation": invitation.id, "step": "identify", "outcome": "address_mismatch" }),
                    )
                    .await?;
                    Some(match lock {
                        Some(seconds) => StepError::locked(Msg::SignupThrottled, None, seconds),
                        None => StepError::new(Msg::SignupAddressMismatch, Some("email")),
                    })
                } else {
                    None
                }
            }
        };
        if let Some(error) = refusal {
            return match flow {
                Some(flow) => self.refuse(flow, data, error).await,
                None => {
                    data.error = Some(error);
                    self.insert_flow(pool, SignUpStep::Identify, None, &data)
                        .await
                }
            };
        }
        throttle::clear(pool, &invitation_key).await?;
        data.email = invitation.email.clone();
        let next = SignUpStep::Password.code();
        match flow {
            Some(flow) => {
                flows::transition(pool, &flow.id, &flow.state, next, &data.json()?, self.now)
                    .await?;
                Ok(flow.id.clone())
            }
            None => {
                self.insert_flow(pool, SignUpStep::Password, None, &data)
                    .await
            }
        }
    }

    /// Step 3: the password, the consent and the bot check; the account is created
    /// pending and the code mailed.
    async fn password(
        &self,
        flow: &FlowRow,
        data: FlowData,
        password: &str,
        confirmation: &str,
        consent: bool,
        bot: &BotProof,
    ) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        if data.person_id.is_some() {
            // The account exists (mailing the code failed after it was created): only the
            // code is left to send.
            self.send_code(flow, data, false).await?;
            return Ok(flow.id.clone());
        }
        let admission = match gate::admit(sesame, self.meta, "signup", bot).await? {
            Ok(admission) => admission,
            Err(error) => return self.refuse(flow, data, error).await,
        };
        if password.is_empty() {
            let error = StepError::new(Msg::SignupPasswordRequired, Some("new_password"));
            return self.refuse(flow, data, error).await;
        }
        if password != confirmation {
            let error = StepError::new(
                Msg::ActivationPasswordMismatch,
                Some("new_password_confirmation"),
            );
            return self.refuse(flow, data, error).await;
        }
        let personal = [
            data.first_name.as_str(),
            data.last_name.as_str(),
            data.email.as_str(),
        ];
        let unmet = sesame.config.password.violations(password, &personal);
        if !unmet.is_empty() {
            let mut error = StepError::new(Msg::ActivationPasswordWeak, Some("new_password"));
            error.unmet_rules = unmet;
            return self.refuse(flow, data, error).await;
        }
        if !consent {
            let error = StepError::new(Msg::SignupConsentRequired, Some("consent"));
            return self.refuse(flow, data, error).await;
        }
        admission.count(sesame).await?;
        let hash = sesame.hasher.hash(password).await?;
        let person_id = new_id();
        let login = data.email.to_lowercase();
        let category =
            Category::parse(&sesame.config.signup.category).unwrap_or(Category::External);
        let mut tx = crate::store::begin(pool).await?;
        let created = signup::create_pending(
            &mut *tx,
            &NewSignUp {
                id: &person_id,
                email: &login,
                first_name: &data.first_name,
                last_name: &data.last_name,
                category,
                // The language they signed up in.
                language: self.meta.locale.code(),
                password_hash: &hash,
                terms_version: &sesame.config.signup.terms_version,
                privacy_version: &sesame.config.signup.privacy_version,
            },
            self.now,
        )
        .await?;
        if !created {
            tx.rollback().await?;
            let error = StepError::new(Msg::SignupAccountExists, None);
            return self.refuse(flow, data, error).await;
        }
        if !invitations::mark_used(&mut *tx, &data.invitation_id, &person_id, self.now).await? {
            // Used meanwhile (another tab), revoked or expired.
            tx.rollback().await?;
            let error = StepError::new(Msg::SignupInvitationGone, None);
            return self.refuse(flow, data, error).await;
        }
        let mut data = data;
        data.person_id = Some(person_id.clone());
        if !flows::transition(
            &mut *tx,
            &flow.id,
            &flow.state,
            &flow.state,
            &data.json()?,
            self.now,
        )
        .await?
        {
            // The flow expired or moved on while the password was hashed: nothing is kept.
            tx.rollback().await?;
            return Ok(flow.id.clone());
        }
        self.audit(
            &mut *tx,
            Some(&person_id),
            json!({
                "flow": flow.id,
                "invitation": data.invitation_id,
                "step": "password",
                "outcome": "account_created",
                "terms_version": sesame.config.signup.terms_version,
                "privacy_version": sesame.config.signup.privacy_version,
            }),
        )
        .await?;
        tx.commit().await?;
        let Some(flow) = flows::find(pool, &flow.id, KIND).await? else {
            return Ok(flow.id.clone());
        };
        self.send_code(&flow, data, false).await?;
        Ok(flow.id)
    }

    /// Mails a new code and link to the flow's address (older ones stop working) and
    /// moves the flow to the code step.
    pub(crate) async fn send_code(
        &self,
        flow: &FlowRow,
        data: FlowData,
        resending: bool,
    ) -> Result<()> {
        self.send_proof(flow, data, resending, true).await
    }

    /// Like [`Context::send_code`]; `with_code: false` for a mail whose code no page will
    /// ask for ("Can't sign in?"): it then offers only the link.
    pub(crate) async fn send_proof(
        &self,
        flow: &FlowRow,
        mut data: FlowData,
        resending: bool,
        with_code: bool,
    ) -> Result<()> {
        let sesame = self.sesame;
        let config = &sesame.config.signup;
        let pool = &sesame.store.pool;
        let sent = verifications::count_sent(pool, &flow.id, PURPOSE, &data.email).await?;
        if sent >= config.max_sends {
            let error = StepError::new(Msg::RecoverySendLimit, Some("code"));
            self.refuse(flow, data, error).await?;
            return Ok(());
        }
        if resending {
            data.notice = Some(Msg::RecoveryCodeSentAgain);
        }
        let token = random_token();
        let code = format!("{:06}", rand::rng().random_range(0..1_000_000u32));
        let minutes = config.code_valid_minutes;
        let mut tx = crate::store::begin(pool).await?;
        verifications::replace(
            &mut tx,
            &NewVerification {
                id: &new_id(),
                flow_id: &flow.id,
                purpose: PURPOSE,
                address: &data.email,
                link_hash: &sesame.key.keyed_hash("signup-link", &token),
                code_hash: &code_hash(sesame, &flow.id, &code),
                expires_at: self.now + minutes * 60,
            },
            self.now,
        )
        .await?;
        let locale = Locale::from_code(&flow.locale).unwrap_or(self.meta.locale);
        let link = format!("{}/signup/link?token={token}", sesame.config.public_base());
        let institution = sesame.config.institution();
        let mail = if with_code {
            templates::sign_up_code(locale, &institution, &link, &code, minutes)
        } else {
            templates::sign_up_link(locale, &institution, &link, minutes)
        };
        sesame
            .outbox
            .enqueue(&mut *tx, &data.email, &mail, self.now)
            .await?;
        let next = SignUpStep::Verify.code();
        if !flows::transition(
            &mut *tx,
            &flow.id,
            &flow.state,
            next,
            &data.json()?,
            self.now,
        )
        .await?
        {
            tx.rollback().await?;
            return Ok(());
        }
        self.audit(
            &mut *tx,
            data.person_id.as_deref(),
            json!({ "flow": flow.id, "step": "verify", "outcome": "code_sent" }),
        )
        .await?;
        tx.commit().await?;
        sesame.outbox.wake();
        Ok(())
    }

    /// Step 4: the code typed from the mail.
    async fn code(&self, flow: &FlowRow, data: FlowData, code: &str) -> Result<String> {
        let sesame = self.sesame;
        let pool = &sesame.store.pool;
        let max = sesame.config.signup.max_code_attempts;
        let code: String = code
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .collect();
        if code.is_empty() {
            let error = StepError::new(Msg::RecoveryCodeRequired, Some("code"));
            return self.refuse(flow, data, error).await;
        }
        let latest = verifications::latest(pool, &flow.id, PURPOSE).await?;
        let Some(verification) = latest.filter(|v| v.usable(self.now, max)) else {
            let error = StepError::new(Msg::RecoveryCodeExpired, Some("code"));
            return self.refuse(flow, data, error).await;
        };
        // The try is taken before the code is compared: of tries arriving at once, no more
        // than the allowed number are ever compared.
        let Some(tries) = verifications::take_try(pool, &verification.id, self.now, max).await?
        else {
            let mut error = StepError::new(Msg::RecoveryCodeBlocked, Some("code"));
            error.tries_left = Some(0);
            return self.refuse(flow, data, error).await;
        };
        if code.len() > 12 || code_hash(sesame, &flow.id, &code) != verification.code_hash {
            let left = u32::try_from(max - tries).unwrap_or(0);
            self.audit(
                pool,
                data.person_id.as_deref(),
                json!({ "flow": flow.id, "step": "verify", "outcome": "wrong_code" }),
            )
            .await?;
            let message = if left == 0 {
                Msg::RecoveryCodeBlocked
            } else {
                Msg::RecoveryCodeWrong
            };
            let mut error = StepError::new(message, Some("code"));
            error.tries_left = Some(left);
            return self.refuse(flow, data, error).await;
        }
        if !self.activate(flow, &data, &verification.id).await? {
            let error = StepError::new(Msg::RecoveryCodeExpired, Some("code"));
            return self.refuse(flow, data, error).await;
        }
        Ok(flow.id.clone())
    }

    /// The address is proven (code or link): in one transaction the code is used up, the
    /// account activated and the flow done. False if the code was already used.
    async fn activate(
        &self,
        flow: &FlowRow,
        data: &FlowData,
        verification_id: &str,
    ) -> Result<bool> {
        let sesame = self.sesame;
        let max = sesame.config.signup.max_code_attempts;
        let Some(person_id) = data.person_id.as_deref() else {
            return Ok(false);
        };
        let mut tx = crate::store::begin(&sesame.store.pool).await?;
        if !verifications::consume(&mut *tx, verification_id, self.now, max).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        let activated = signup::activate(&mut *tx, person_id, self.now).await?;
        // The flow's state is not checked: the link works after the page's flow expired.
        let done = FlowData {
            email: data.email.clone(),
            person_id: data.person_id.clone(),
            ..Default::default()
        };
        let moved = flows::transition(
            &mut *tx,
            &flow.id,
            &flow.state,
            SignUpStep::Done.code(),
            &done.json()?,
            self.now,
        )
        .await?;
        self.audit(
            &mut *tx,
            Some(person_id),
            json!({ "flow": flow.id, "step": "verify", "outcome": if activated { "activated" } else { "already_active" } }),
        )
        .await?;
        tx.commit().await?;
        if moved {
            crate::metrics::flow_completed(KIND);
        }
        Ok(true)
    }
}

fn code_hash(sesame: &Sesame, flow_id: &str, code: &str) -> String {
    sesame
        .key
        .keyed_hash("signup-code", &format!("{flow_id}:{code}"))
}

/// The verification a mailed link names, if it can still be used.
async fn usable_link(
    sesame: &Sesame,
    token: &str,
) -> Result<Option<(verifications::VerificationRow, FlowRow)>> {
    let pool = &sesame.store.pool;
    let now = sesame.clock.now_secs();
    if token.is_empty() || token.len() > 200 {
        return Ok(None);
    }
    let hash = sesame.key.keyed_hash("signup-link", token);
    let Some(verification) = verifications::find_by_link(pool, &hash).await? else {
        return Ok(None);
    };
    if verification.purpose != PURPOSE
        || !verification.usable(now, sesame.config.signup.max_code_attempts)
    {
        return Ok(None);
    }
    let flow = flows::find(pool, &verification.flow_id, KIND).await?;
    Ok(flow
        .filter(|f| f.state == SignUpStep::Verify.code())
        .map(|f| (verification, f)))
}

async fn link_state(sesame: &Sesame, token: &str) -> Result<SignUpLinkState> {
    Ok(match usable_link(sesame, token).await? {
        Some(_) => SignUpLinkState::Usable,
        None => SignUpLinkState::NotValid,
    })
}

async fn use_link(sesame: &Sesame, meta: &RequestMeta, token: &str) -> Result<bool> {
    let Some((verification, flow)) = usable_link(sesame, token).await? else {
        return Ok(false);
    };
    let ctx = Context {
        sesame,
        meta,
        now: sesame.clock.now_secs(),
    };
    ctx.activate(&flow, &FlowData::read(&flow), &verification.id)
        .await
}
