//! "My account → Authenticator app": enrol an app (RFC 6238) from a QR code the server
//! draws, or from its secret typed by hand, confirmed by one of its codes; or remove it.
//! The secret shown while enrolling lives in a short flow bound to this browser.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, step::StepError};

/// An enrolment in progress: what the app needs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorSetup {
    pub flow: String,
    /// The QR code, an inline SVG drawn by the server (hidden from screen readers: the
    /// secret below says the same).
    pub qr_svg: String,
    /// The secret in base32, in groups of four, to type into the app by hand.
    pub secret: String,
    /// The names the app will show.
    pub issuer: String,
    pub account: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorView {
    /// False when nobody is signed in (the page sends to sign-in).
    pub signed_in: bool,
    /// An app is enrolled.
    pub enrolled: bool,
    pub setup: Option<AuthenticatorSetup>,
    pub error: Option<StepError>,
}

/// What the person asks for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthenticatorRequest {
    /// Show a new secret and its QR code.
    Start,
    /// The code the app shows, which proves it holds the secret.
    Confirm {
        code: String,
    },
    Cancel,
    Remove,
}

/// The form: `form[intent]` (`start`, `confirm`, `cancel`, `remove`) and `form[code]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthenticatorForm {
    pub intent: String,
    pub code: Option<String>,
}

impl AuthenticatorForm {
    pub fn request(self) -> Option<AuthenticatorRequest> {
        Some(match self.intent.as_str() {
            "start" => AuthenticatorRequest::Start,
            "confirm" => AuthenticatorRequest::Confirm {
                code: self.code.unwrap_or_default(),
            },
            "cancel" => AuthenticatorRequest::Cancel,
            "remove" => AuthenticatorRequest::Remove,
            _ => return None,
        })
    }
}

/// Where the page goes after a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthenticatorOutcome {
    /// The enrolment (new, or refused) to show.
    Setup {
        flow: String,
    },
    Enrolled,
    Removed,
    Unchanged,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AuthenticatorApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<AuthenticatorView, AppError>;
    async fn change(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        request: AuthenticatorRequest,
    ) -> Result<AuthenticatorOutcome, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_authenticator(flow: Option<String>) -> Result<AuthenticatorView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .authenticator
        .view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn change_authenticator(
    csrf: String,
    flow: Option<String>,
    form: AuthenticatorForm,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let page = "/account/authenticator";
    let Some(request) = form.request() else {
        redirect_to(page);
        return Ok(());
    };
    let outcome = services()?
        .authenticator
        .change(&meta, flow, request)
        .await?;
    match outcome {
        AuthenticatorOutcome::Setup { flow } => redirect_to(&format!("{page}?flow={flow}")),
        AuthenticatorOutcome::Enrolled => redirect_to(&format!("{page}?saved=1")),
        AuthenticatorOutcome::Removed => redirect_to(&format!("{page}?removed=1")),
        AuthenticatorOutcome::Unchanged => redirect_to(page),
    }
    Ok(())
}
