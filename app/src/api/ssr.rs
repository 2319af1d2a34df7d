//! What server functions need from the server: the request's facts (set by the HTTP
//! middleware) and the services implementing each flow (provided as context).

use std::{net::IpAddr, sync::Arc};

use http::{HeaderValue, StatusCode, header};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use super::{
    AppError, account::AccountSettingsApi, activation::ActivationApi,
    authenticator::AuthenticatorApi, methods::RecoveryMethodsApi, password::PasswordRecoveryApi,
    portal::PortalApi, questions::QuestionsApi, recovery_email::RecoveryEmailApi,
    signin::SignInApi, signup::SignUpApi, username::UsernameRecoveryApi,
};
use crate::i18n::Locale;

/// Facts about the current request, put in the request's extensions by the middleware.
#[derive(Clone, Debug)]
pub struct RequestMeta {
    pub request_id: String,
    pub client_ip: IpAddr,
    pub user_agent: String,
    pub locale: Locale,
    /// The random id of this browser (cookie), which flows and CSRF tokens are bound to.
    pub device_id: String,
    /// The session cookie's value, if any (not yet checked).
    pub session_token: Option<String>,
    /// Whether cookies must be `Secure` and `__Host-` prefixed (served over HTTPS).
    pub secure: bool,
}

/// The flows' implementations, provided to every server function and page render.
#[derive(Clone)]
pub struct Services {
    pub portal: Arc<dyn PortalApi>,
    pub sign_in: Arc<dyn SignInApi>,
    pub activation: Arc<dyn ActivationApi>,
    pub username: Arc<dyn UsernameRecoveryApi>,
    pub password: Arc<dyn PasswordRecoveryApi>,
    pub questions: Arc<dyn QuestionsApi>,
    pub methods: Arc<dyn RecoveryMethodsApi>,
    pub authenticator: Arc<dyn AuthenticatorApi>,
    pub recovery_email: Arc<dyn RecoveryEmailApi>,
    pub sign_up: Arc<dyn SignUpApi>,
    pub helpdesk: Arc<dyn super::helpdesk::HelpdeskApi>,
    pub account: Arc<dyn AccountSettingsApi>,
}

pub fn services() -> Result<Services, AppError> {
    use_context::<Services>().ok_or_else(|| internal("services missing from context"))
}

pub fn request_meta() -> Result<RequestMeta, AppError> {
    use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<RequestMeta>().cloned())
        .ok_or_else(|| internal("request meta missing"))
}

fn internal(what: &str) -> AppError {
    leptos::logging::error!("{what}");
    AppError::Internal {
        request_id: String::from("-"),
    }
}

/// Sends the response as a redirect to `path` (303 for a plain form post, as the pages
/// send; Leptos' redirect header for a call from script).
pub fn redirect_to(path: &str) {
    leptos_axum::redirect(path);
    if let Some(response) = use_context::<ResponseOptions>()
        && response
            .0
            .read()
            .is_ok_and(|parts| parts.status == Some(StatusCode::FOUND))
    {
        response.set_status(StatusCode::SEE_OTHER);
    }
}

/// Redirects to `page`, showing `flow`'s outcome when there is one.
pub fn redirect_to_flow(page: &str, flow: Option<String>) {
    match flow {
        Some(flow) => redirect_to(&format!("{page}?flow={flow}")),
        None => redirect_to(page),
    }
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(value: &str) {
    if let (Some(response), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        response.append_header(header::SET_COOKIE, value);
    }
}

/// Marks the response as "too busy" with a `Retry-After` header.
pub fn set_busy(retry_after_secs: u32) {
    if let Some(response) = use_context::<ResponseOptions>() {
        response.set_status(StatusCode::SERVICE_UNAVAILABLE);
        response.insert_header(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    }
}
