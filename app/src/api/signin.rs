//! Sign in and sign out. A refused sign-in is kept server-side in a short `signin` flow
//! (the login typed, the message to show), so the page after the redirect shows it with
//! or without JavaScript, and the password never travels back.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;
use crate::i18n::Msg;

/// What the sign-in page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInView {
    /// The login typed last time, to fill the field again.
    pub login: String,
    pub error: Option<Msg>,
    /// Minutes to wait, when the error is a lockout.
    pub retry_minutes: Option<u32>,
}

#[cfg(feature = "ssr")]
pub enum SignInOutcome {
    /// Signed in: the `Set-Cookie` value of the new session.
    SignedIn { session_cookie: String },
    /// Refused: the flow that remembers why.
    Refused { flow_id: String },
    /// The password is right, but new versions of the terms of use or privacy policy
    /// must be accepted first: the flow that holds the pending sign-in.
    TermsRequired { flow_id: String },
}

/// The terms step of a sign-in (the texts changed since the person accepted them).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignInTermsView {
    /// False when the flow is unknown, expired or another browser's: sign in again.
    pub pending: bool,
    pub terms_version: String,
    pub privacy_version: String,
    pub error: Option<Msg>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait SignInApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<SignInView, AppError>;
    async fn sign_in(
        &self,
        meta: &super::ssr::RequestMeta,
        login: String,
        password: String,
        flow_id: Option<String>,
    ) -> Result<SignInOutcome, AppError>;
    async fn terms_view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<SignInTermsView, AppError>;
    /// Accepts the new versions and opens the session; `None` if the flow is gone.
    async fn accept_terms(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: String,
        consent: bool,
    ) -> Result<Option<SignInOutcome>, AppError>;
    /// Ends the session; answers the `Set-Cookie` value that clears the cookie.
    async fn sign_out(&self, meta: &super::ssr::RequestMeta) -> Result<String, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_sign_in(flow: Option<String>) -> Result<SignInView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.sign_in.view(&meta, flow).await
}

#[server(prefix = "/api")]
pub async fn sign_in(
    csrf: String,
    login: String,
    password: String,
    flow: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let outcome = services()?
        .sign_in
        .sign_in(&meta, login, password, flow)
        .await;
    match outcome {
        Ok(SignInOutcome::SignedIn { session_cookie }) => {
            set_cookie(&session_cookie);
            redirect_to("/account");
            Ok(())
        }
        Ok(SignInOutcome::Refused { flow_id }) => {
            redirect_to(&format!("/signin?flow={flow_id}"));
            Ok(())
        }
        Ok(SignInOutcome::TermsRequired { flow_id }) => {
            redirect_to(&format!("/signin/terms?flow={flow_id}"));
            Ok(())
        }
        Err(AppError::Busy { retry_after_secs }) => {
            set_busy(retry_after_secs);
            Err(AppError::Busy { retry_after_secs })
        }
        Err(other) => Err(other),
    }
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_sign_in_terms(flow: Option<String>) -> Result<SignInTermsView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .sign_in
        .terms_view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn accept_sign_in_terms(
    csrf: String,
    flow: String,
    consent: Option<String>,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let consent = consent.is_some_and(|c| !c.is_empty());
    match services()?
        .sign_in
        .accept_terms(&meta, flow, consent)
        .await?
    {
        Some(SignInOutcome::SignedIn { session_cookie }) => {
            set_cookie(&session_cookie);
            redirect_to("/account");
        }
        Some(SignInOutcome::TermsRequired { flow_id }) => {
            redirect_to(&format!("/signin/terms?flow={flow_id}"));
        }
        Some(SignInOutcome::Refused { flow_id }) => {
            redirect_to(&format!("/signin?flow={flow_id}"));
        }
        None => redirect_to("/signin"),
    }
    Ok(())
}

#[server(prefix = "/api")]
pub async fn sign_out(csrf: String) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let clear_cookie = services()?.sign_in.sign_out(&meta).await?;
    set_cookie(&clear_cookie);
    redirect_to("/?signed_out=1");
    Ok(())
}
