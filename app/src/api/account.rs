//! "My account" settings (seed 002): change the password, see and end sessions, link
//! accounts held in other systems. Each page shows a view loaded with a `GET`; each form
//! posts, then the page is shown again (a refusal travels in a short-lived flow whose id
//! is in the address, so it survives the redirect without JavaScript).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, linked::PushReport, portal::LocalizedText, step::StepError};
use crate::i18n::Msg;

/// The change-password page: the form, a refusal of it, or the change done.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeView {
    /// False when nobody is signed in (the page sends to sign-in).
    pub signed_in: bool,
    pub error: Option<StepError>,
    pub done: bool,
    /// After the change: how many other sessions were ended.
    pub sessions_ended: u32,
    /// After the change: the linked accounts the new password was written to.
    pub pushes: Vec<PushReport>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordChangeForm {
    pub current_password: Option<String>,
    pub new_password: Option<String>,
    pub new_password_confirmation: Option<String>,
}

/// One signed-in browser of the person.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionSummary {
    /// An opaque handle naming the session in the "end" form (not the cookie, nor what the
    /// database keeps).
    pub handle: String,
    pub browser: Option<String>,
    pub system: Option<String>,
    pub address: String,
    pub signed_in_minutes_ago: i64,
    pub last_seen_minutes_ago: i64,
    /// The session of this very browser.
    pub current: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionsView {
    pub signed_in: bool,
    /// This browser's session first, then the most recently seen.
    pub sessions: Vec<SessionSummary>,
}

/// A system whose accounts can be linked, and the person's account there if linked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkableSystem {
    pub id: String,
    pub name: LocalizedText,
    /// Whether a new Sésame password is also written there.
    pub receives_password: bool,
    pub linked_account: Option<String>,
    /// A new password waits to be written there (the system did not answer).
    pub push_pending: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkedAccountsView {
    pub signed_in: bool,
    pub systems: Vec<LinkableSystem>,
    /// The system a refusal concerns, and the account name typed.
    pub refused_system: Option<String>,
    pub account_typed: String,
    pub error: Option<StepError>,
    pub notice: Option<Msg>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkAccountForm {
    pub system: String,
    /// `link` (default) or `unlink`.
    pub intent: Option<String>,
    pub account: Option<String>,
    pub password: Option<String>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait AccountSettingsApi: Send + Sync {
    async fn password_view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<PasswordChangeView, AppError>;
    /// The flow holding the outcome to show.
    async fn change_password(
        &self,
        meta: &super::ssr::RequestMeta,
        form: PasswordChangeForm,
    ) -> Result<Option<String>, AppError>;
    async fn sessions_view(&self, meta: &super::ssr::RequestMeta)
    -> Result<SessionsView, AppError>;
    /// Ends one session (`Some(handle)`) or every session but this browser's (`None`).
    async fn end_sessions(
        &self,
        meta: &super::ssr::RequestMeta,
        handle: Option<String>,
    ) -> Result<u32, AppError>;
    async fn linked_view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<LinkedAccountsView, AppError>;
    /// The flow holding the outcome to show.
    async fn link(
        &self,
        meta: &super::ssr::RequestMeta,
        form: LinkAccountForm,
    ) -> Result<Option<String>, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_password_change(flow: Option<String>) -> Result<PasswordChangeView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .account
        .password_view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn change_password(csrf: String, form: PasswordChangeForm) -> Result<(), AppError> {
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = super::ssr::request_meta()?;
    let flow = super::ssr::services()?
        .account
        .change_password(&meta, form)
        .await?;
    super::ssr::redirect_to_flow("/account/password", flow);
    Ok(())
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_sessions() -> Result<SessionsView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.account.sessions_view(&meta).await
}

/// Ends the session named by `session`, or, without it, every other session.
#[server(prefix = "/api")]
pub async fn end_sessions(csrf: String, session: Option<String>) -> Result<(), AppError> {
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = super::ssr::request_meta()?;
    let ended = super::ssr::services()?
        .account
        .end_sessions(&meta, session.filter(|s| !s.is_empty()))
        .await?;
    super::ssr::redirect_to(&format!("/account/sessions?ended={ended}"));
    Ok(())
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_linked_accounts(flow: Option<String>) -> Result<LinkedAccountsView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .account
        .linked_view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn link_account(csrf: String, form: LinkAccountForm) -> Result<(), AppError> {
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = super::ssr::request_meta()?;
    let flow = super::ssr::services()?.account.link(&meta, form).await?;
    super::ssr::redirect_to_flow("/account/linked", flow);
    Ok(())
}
