//! Invitation-based registration (seed 003): the invitation link, name and invited
//! address, password with consent and the bot check, the emailed code, then sign-in with
//! the address. Also "Can't sign in?" and the texts people consent to.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, step::StepError};
use crate::i18n::Msg;

/// The page's step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpStep {
    /// The link is not (or no longer) usable: the page says why.
    #[default]
    Invalid,
    /// Step 2: name, first name, the invited address.
    Identify,
    /// Step 3: password, consent, bot check.
    Password,
    /// Step 4: the emailed code.
    Verify,
    /// The account is active: sign in.
    Done,
}

impl SignUpStep {
    pub const fn code(self) -> &'static str {
        match self {
            SignUpStep::Invalid => "invalid",
            SignUpStep::Identify => "identify",
            SignUpStep::Password => "password",
            SignUpStep::Verify => "verify",
            SignUpStep::Done => "done",
        }
    }

    pub fn from_code(code: &str) -> Option<SignUpStep> {
        [
            SignUpStep::Invalid,
            SignUpStep::Identify,
            SignUpStep::Password,
            SignUpStep::Verify,
            SignUpStep::Done,
        ]
        .into_iter()
        .find(|step| step.code() == code)
    }
}

/// Why an invitation link cannot be used.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum InvitationProblem {
    /// Unknown, revoked or replaced by a newer invitation.
    #[default]
    NotValid,
    Expired,
    /// An account was already created from it.
    Used,
    /// The sign-up in this browser took too long (the invitation may still work).
    FlowExpired,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpView {
    pub step: SignUpStep,
    pub flow: Option<String>,
    /// The invitation link's token, while no flow exists yet.
    pub invitation: Option<String>,
    pub problem: Option<InvitationProblem>,
    /// Who invited the person (the issuing organization).
    pub issuer: String,
    pub first_name: String,
    pub last_name: String,
    /// The address typed (step 2), or the one the code went to (step 4).
    pub email: String,
    pub error: Option<StepError>,
    pub notice: Option<Msg>,
    pub sends_left: u32,
    pub code_minutes: u32,
    /// A fresh bot-check challenge for the password step.
    pub bot_challenge: String,
}

/// Every step's fields: `form[step]`, `form[intent]`, and the step's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignUpForm {
    pub step: String,
    pub intent: Option<String>,
    pub invitation: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub new_password: Option<String>,
    pub new_password_confirmation: Option<String>,
    /// The consent checkbox (`on` when ticked).
    pub consent: Option<String>,
    pub bot_challenge: Option<String>,
    pub bot_solution: Option<String>,
    pub code: Option<String>,
}

/// The bot check's fields as posted (both empty without JavaScript).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BotProof {
    pub challenge: String,
    pub solution: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpRequest {
    Identify {
        invitation: Option<String>,
        first_name: String,
        last_name: String,
        email: String,
    },
    Password {
        password: String,
        confirmation: String,
        consent: bool,
        bot: BotProof,
    },
    Code {
        code: String,
    },
    Resend,
}

impl SignUpForm {
    pub fn request(self) -> Option<SignUpRequest> {
        let text = |value: Option<String>| value.unwrap_or_default();
        Some(
            match (SignUpStep::from_code(&self.step)?, self.intent.as_deref()) {
                (SignUpStep::Identify, _) => SignUpRequest::Identify {
                    invitation: self.invitation,
                    first_name: text(self.first_name),
                    last_name: text(self.last_name),
                    email: text(self.email),
                },
                (SignUpStep::Password, _) => SignUpRequest::Password {
                    password: text(self.new_password),
                    confirmation: text(self.new_password_confirmation),
                    consent: self.consent.is_some_and(|c| !c.is_empty()),
                    bot: BotProof {
                        challenge: text(self.bot_challenge),
                        solution: text(self.bot_solution),
                    },
                },
                (SignUpStep::Verify, Some("resend")) => SignUpRequest::Resend,
                (SignUpStep::Verify, _) => SignUpRequest::Code {
                    code: text(self.code),
                },
                (SignUpStep::Invalid | SignUpStep::Done, _) => return None,
            },
        )
    }
}

/// What the activation link from a mail leads to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignUpLinkState {
    /// The link works: a button activates the account.
    Usable,
    /// Used, expired or replaced.
    #[default]
    NotValid,
    /// The account is active now.
    Activated,
}

/// "Can't sign in?": the page before and after (the same in every case).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CantSignInView {
    pub sent: bool,
    /// The address typed, after a refusal.
    pub email: String,
    pub error: Option<StepError>,
    pub bot_challenge: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CantSignInForm {
    pub email: Option<String>,
    pub bot_challenge: Option<String>,
    pub bot_solution: Option<String>,
}

/// Which text people consent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LegalDocument {
    Terms,
    Privacy,
}

/// A text people consent to, in the page's language.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegalText {
    pub version: String,
    pub paragraphs: Vec<String>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SignUpApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        invitation: Option<String>,
    ) -> Result<SignUpView, AppError>;
    /// Answers the flow to show next.
    async fn submit(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        request: SignUpRequest,
    ) -> Result<String, AppError>;
    async fn link_state(&self, token: &str) -> Result<SignUpLinkState, AppError>;
    /// Activates the account the link names; answers whether it did.
    async fn use_link(&self, meta: &super::ssr::RequestMeta, token: &str)
    -> Result<bool, AppError>;
    async fn cant_sign_in_view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<CantSignInView, AppError>;
    /// Answers the flow holding a refusal to show, or `None`: the "sent" page.
    async fn cant_sign_in(
        &self,
        meta: &super::ssr::RequestMeta,
        form: CantSignInForm,
    ) -> Result<Option<String>, AppError>;
    fn legal_text(&self, locale: crate::i18n::Locale, document: LegalDocument) -> LegalText;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_sign_up(
    flow: Option<String>,
    invitation: Option<String>,
) -> Result<SignUpView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .sign_up
        .view(&meta, flow, invitation)
        .await
}

#[server(prefix = "/api")]
pub async fn submit_sign_up(
    csrf: String,
    flow: Option<String>,
    form: SignUpForm,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let invitation = form.invitation.clone();
    let Some(request) = form.request() else {
        redirect_to("/signup");
        return Ok(());
    };
    match services()?.sign_up.submit(&meta, flow, request).await {
        Ok(flow) => {
            redirect_to(&format!("/signup?flow={flow}"));
            Ok(())
        }
        Err(AppError::Busy { retry_after_secs }) => {
            set_busy(retry_after_secs);
            Err(AppError::Busy { retry_after_secs })
        }
        Err(AppError::Forbidden) => {
            // No usable flow and no invitation: back to the link's page.
            let query =
                invitation.map(|t| format!("?invitation={}", super::activation::clean_token(&t)));
            redirect_to(&format!("/signup{}", query.unwrap_or_default()));
            Ok(())
        }
        Err(other) => Err(other),
    }
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_sign_up_link(token: String) -> Result<SignUpLinkState, AppError> {
    super::ssr::services()?.sign_up.link_state(&token).await
}

#[server(prefix = "/api")]
pub async fn use_sign_up_link(csrf: String, token: String) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let activated = services()?.sign_up.use_link(&meta, &token).await?;
    if activated {
        redirect_to("/signup/link?activated=1");
    } else {
        redirect_to(&format!(
            "/signup/link?token={}",
            super::activation::clean_token(&token)
        ));
    }
    Ok(())
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_cant_sign_in(flow: Option<String>) -> Result<CantSignInView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .sign_up
        .cant_sign_in_view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn request_sign_in_help(csrf: String, form: CantSignInForm) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    match services()?.sign_up.cant_sign_in(&meta, form).await? {
        Some(flow) => redirect_to(&format!("/cant-sign-in?flow={flow}")),
        None => redirect_to("/cant-sign-in?sent=1"),
    }
    Ok(())
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_legal_text(document: LegalDocument) -> Result<LegalText, AppError> {
    let meta = super::ssr::request_meta()?;
    Ok(super::ssr::services()?
        .sign_up
        .legal_text(meta.locale, document))
}
