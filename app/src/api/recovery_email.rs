//! "My account → Recovery email": add or change the address that receives codes. The new
//! address counts only once a 6-digit code mailed to it is typed back; asking for the
//! change takes the current password again; the old address is told.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, step::StepError};
use crate::i18n::Msg;

/// The page's step: the form, or the code sent to the new address.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum EmailChangeStep {
    #[default]
    Enter,
    Check,
}

impl EmailChangeStep {
    pub const fn code(self) -> &'static str {
        match self {
            EmailChangeStep::Enter => "enter",
            EmailChangeStep::Check => "check",
        }
    }

    pub fn from_code(code: &str) -> Option<EmailChangeStep> {
        [EmailChangeStep::Enter, EmailChangeStep::Check]
            .into_iter()
            .find(|step| step.code() == code)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryEmailView {
    /// False when nobody is signed in (the page sends to sign-in).
    pub signed_in: bool,
    /// The recovery address now, if any.
    pub current: Option<String>,
    pub step: EmailChangeStep,
    /// The flow of a change in progress (or of a refusal to show).
    pub flow: Option<String>,
    /// The address typed (to fill the form again, or the one the code went to).
    pub address: String,
    pub error: Option<StepError>,
    pub notice: Option<Msg>,
    pub sends_left: u32,
    pub code_minutes: u32,
}

/// Every step's fields: `form[step]`, `form[intent]`, and the step's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryEmailForm {
    pub step: String,
    pub intent: Option<String>,
    pub email: Option<String>,
    pub email_confirmation: Option<String>,
    pub current_password: Option<String>,
    pub code: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryEmailRequest {
    Change {
        email: String,
        confirmation: String,
        password: String,
    },
    Code {
        code: String,
    },
    Resend,
    Cancel,
}

impl RecoveryEmailForm {
    pub fn request(self) -> Option<RecoveryEmailRequest> {
        let text = |value: Option<String>| value.unwrap_or_default();
        let step = EmailChangeStep::from_code(&self.step)?;
        Some(match (step, self.intent.as_deref()) {
            (_, Some("cancel")) => RecoveryEmailRequest::Cancel,
            (EmailChangeStep::Check, Some("resend")) => RecoveryEmailRequest::Resend,
            (EmailChangeStep::Check, _) => RecoveryEmailRequest::Code {
                code: text(self.code),
            },
            (EmailChangeStep::Enter, _) => RecoveryEmailRequest::Change {
                email: text(self.email),
                confirmation: text(self.email_confirmation),
                password: text(self.current_password),
            },
        })
    }
}

/// Where the page goes after a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryEmailOutcome {
    /// The flow to show (a code to type, or a refusal).
    Show {
        flow: String,
    },
    Saved,
    Unchanged,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait RecoveryEmailApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<RecoveryEmailView, AppError>;
    async fn change(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        request: RecoveryEmailRequest,
    ) -> Result<RecoveryEmailOutcome, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_recovery_email(flow: Option<String>) -> Result<RecoveryEmailView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .recovery_email
        .view(&meta, flow)
        .await
}

#[server(prefix = "/api")]
pub async fn change_recovery_email(
    csrf: String,
    flow: Option<String>,
    form: RecoveryEmailForm,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let page = "/account/email";
    let Some(request) = form.request() else {
        redirect_to(page);
        return Ok(());
    };
    match services()?
        .recovery_email
        .change(&meta, flow, request)
        .await?
    {
        RecoveryEmailOutcome::Show { flow } => redirect_to(&format!("{page}?flow={flow}")),
        RecoveryEmailOutcome::Saved => redirect_to(&format!("{page}?saved=1")),
        RecoveryEmailOutcome::Unchanged => redirect_to(page),
    }
    Ok(())
}
