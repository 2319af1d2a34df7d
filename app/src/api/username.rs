//! Forgot username (seed 000): prove who you are with the employee number and PIN, or with
//! identity attributes (first name, last name, date of birth, last 6 digits of the SIN),
//! and the user ID is shown (and mailed where an address is known). The outcome is kept in
//! a short server-side flow bound to this browser, so the page after the redirect shows it
//! with or without JavaScript; unknown people and wrong answers get the same page.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, step::StepError};

/// How the person proves who they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IdentityMethod {
    /// Employee number and PIN (from the HR import).
    #[default]
    EmployeePin,
    /// First name, last name, date of birth and the last 6 digits of the SIN.
    Attributes,
}

impl IdentityMethod {
    pub fn code(self) -> &'static str {
        match self {
            IdentityMethod::EmployeePin => "pin",
            IdentityMethod::Attributes => "identity",
        }
    }

    pub fn from_code(code: &str) -> Option<IdentityMethod> {
        match code {
            "pin" => Some(IdentityMethod::EmployeePin),
            "identity" => Some(IdentityMethod::Attributes),
            _ => None,
        }
    }
}

/// What the page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgotUsernameView {
    pub method: IdentityMethod,
    pub error: Option<StepError>,
    /// The user ID, once proven.
    pub found_login: Option<String>,
    /// The address the user ID was also mailed to (masked), if any.
    pub mailed_to: Option<String>,
    /// What was typed (never a secret), to fill the form again after a refusal.
    pub employee_number: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
}

/// The form's fields; each method sends its own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForgotUsernameForm {
    pub method: String,
    pub employee_number: Option<String>,
    pub pin: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sin_last6: Option<String>,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait UsernameRecoveryApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        method: Option<String>,
    ) -> Result<ForgotUsernameView, AppError>;
    /// Checks the proof; answers the flow that holds the outcome.
    async fn submit(
        &self,
        meta: &super::ssr::RequestMeta,
        form: ForgotUsernameForm,
    ) -> Result<String, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_forgot_username(
    flow: Option<String>,
    method: Option<String>,
) -> Result<ForgotUsernameView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .username
        .view(&meta, flow, method)
        .await
}

#[server(prefix = "/api")]
pub async fn recover_username(csrf: String, form: ForgotUsernameForm) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    match services()?.username.submit(&meta, form).await {
        Ok(flow_id) => {
            redirect_to(&format!("/forgot-username?flow={flow_id}"));
            Ok(())
        }
        Err(AppError::Busy { retry_after_secs }) => {
            set_busy(retry_after_secs);
            Err(AppError::Busy { retry_after_secs })
        }
        Err(other) => Err(other),
    }
}
