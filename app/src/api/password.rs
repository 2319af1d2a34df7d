//! Forgot password (seeds 000, 002, 004): identify with a user ID or an email address,
//! choose a way to prove who you are, prove it (more than once if the institution's rule
//! for your category asks for it), choose a new password. The server keeps the flow
//! (`server/src/flows/password/`); the browser holds only its id in `?flow=`. Every page is
//! the same for an unknown account and a known one: the methods offered first are the
//! institution's, not the person's, and a wrong answer never says which part was wrong.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::{AppError, linked::PushReport, step::StepError};
use crate::i18n::Msg;

/// A way to prove who you are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RecoveryMethod {
    /// The security questions chosen under "My account".
    Questions,
    /// A 6-digit code (and a link) mailed to the recovery address.
    EmailCode,
    /// A code from the authenticator app enrolled under "My account".
    Authenticator,
    /// Employee number and PIN (from the HR import).
    EmployeePin,
    /// First name, last name, date of birth, last 6 digits of the SIN (from the HR import).
    Attributes,
}

impl RecoveryMethod {
    pub const ALL: [RecoveryMethod; 5] = [
        RecoveryMethod::Questions,
        RecoveryMethod::EmailCode,
        RecoveryMethod::Authenticator,
        RecoveryMethod::EmployeePin,
        RecoveryMethod::Attributes,
    ];

    /// The name used in URLs, forms and the configuration.
    pub fn code(self) -> &'static str {
        match self {
            RecoveryMethod::Questions => "questions",
            RecoveryMethod::EmailCode => "email_code",
            RecoveryMethod::Authenticator => "totp",
            RecoveryMethod::EmployeePin => "pin",
            RecoveryMethod::Attributes => "identity",
        }
    }

    pub fn from_code(code: &str) -> Option<RecoveryMethod> {
        RecoveryMethod::ALL
            .into_iter()
            .find(|method| method.code() == code.trim())
    }

    /// Its name, as "My account" lists it.
    pub fn name(self) -> Msg {
        match self {
            RecoveryMethod::Questions => Msg::MethodsNameQuestions,
            RecoveryMethod::EmailCode => Msg::MethodsNameEmailCode,
            RecoveryMethod::Authenticator => Msg::MethodsNameTotp,
            RecoveryMethod::EmployeePin => Msg::MethodsNamePin,
            RecoveryMethod::Attributes => Msg::MethodsNameIdentity,
        }
    }

    /// How the choice page names it.
    pub fn label(self) -> Msg {
        match self {
            RecoveryMethod::Questions => Msg::RecoveryMethodQuestions,
            RecoveryMethod::EmailCode => Msg::RecoveryMethodEmailCode,
            RecoveryMethod::Authenticator => Msg::RecoveryMethodAuthenticator,
            RecoveryMethod::EmployeePin => Msg::RecoveryMethodPin,
            RecoveryMethod::Attributes => Msg::RecoveryMethodIdentity,
        }
    }
}

/// Where a password recovery stands: the page shown.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryStep {
    /// The user ID or email address.
    #[default]
    Identify,
    /// Choose a way to prove who you are.
    Choose,
    /// Prove it with this method.
    Prove(RecoveryMethod),
    /// The new password (live checklist).
    NewPassword,
    /// The password is changed; sign in with it.
    Done,
    /// No method left that can work: the helpdesk can help.
    Helpdesk,
    /// Too late: start again.
    Expired,
}

impl RecoveryStep {
    /// The flow's state, and the value of the form's `step` field.
    pub fn code(self) -> &'static str {
        match self {
            RecoveryStep::Identify => "identify",
            RecoveryStep::Choose => "choose",
            RecoveryStep::Prove(method) => method.code(),
            RecoveryStep::NewPassword => "new_password",
            RecoveryStep::Done => "done",
            RecoveryStep::Helpdesk => "helpdesk",
            RecoveryStep::Expired => "expired",
        }
    }

    pub fn from_code(code: &str) -> Option<RecoveryStep> {
        if let Some(method) = RecoveryMethod::from_code(code) {
            return Some(RecoveryStep::Prove(method));
        }
        [
            RecoveryStep::Identify,
            RecoveryStep::Choose,
            RecoveryStep::NewPassword,
            RecoveryStep::Done,
            RecoveryStep::Helpdesk,
            RecoveryStep::Expired,
        ]
        .into_iter()
        .find(|step| step.code() == code)
    }
}

/// What the forgot-password page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRecoveryView {
    pub step: RecoveryStep,
    pub error: Option<StepError>,
    /// Something done that the page confirms ("a new code was sent").
    pub notice: Option<Msg>,
    /// The user ID or address as typed.
    pub identifier: String,
    /// The methods offered on the choice page, in the institution's order.
    pub methods: Vec<RecoveryMethod>,
    /// True once one proof was accepted and the rule asks for another.
    pub another_proof: bool,
    /// Codes that can still be mailed (email code step).
    pub sends_left: u32,
    /// Minutes an emailed code stays valid.
    pub code_minutes: u32,
    /// The security questions to answer (questions step).
    pub questions: Vec<String>,
    /// What was typed (never a secret), to fill the form again after a refusal.
    pub employee_number: String,
    pub first_name: String,
    pub last_name: String,
    pub date_of_birth: String,
    /// Once done: what became of the new password on each linked account.
    pub pushes: Vec<PushReport>,
}

/// What a step form sends, once read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RecoveryInput {
    Identify {
        identifier: String,
    },
    Choose {
        method: Option<RecoveryMethod>,
    },
    /// Back to the choice page from a method's page.
    OtherMethod {
        method: RecoveryMethod,
    },
    EmployeePin {
        employee_number: String,
        pin: String,
    },
    Attributes {
        first_name: String,
        last_name: String,
        date_of_birth: String,
        sin_last6: String,
    },
    Code {
        code: String,
    },
    /// A code from the authenticator app.
    AuthenticatorCode {
        code: String,
    },
    /// The answers, in the order of the questions shown.
    Questions {
        answers: Vec<String>,
    },
    Resend,
    NewPassword {
        password: String,
        confirmation: String,
    },
}

impl RecoveryInput {
    /// Whether a form of `step` can send this input: a step acts only on its own form's
    /// fields, whatever a caller puts together.
    pub fn is_for(&self, step: RecoveryStep) -> bool {
        use RecoveryMethod as Method;
        match self {
            RecoveryInput::Identify { .. } => step == RecoveryStep::Identify,
            RecoveryInput::Choose { .. } => step == RecoveryStep::Choose,
            RecoveryInput::OtherMethod { method } => step == RecoveryStep::Prove(*method),
            RecoveryInput::EmployeePin { .. } => step == RecoveryStep::Prove(Method::EmployeePin),
            RecoveryInput::Attributes { .. } => step == RecoveryStep::Prove(Method::Attributes),
            RecoveryInput::Code { .. } | RecoveryInput::Resend => {
                step == RecoveryStep::Prove(Method::EmailCode)
            }
            RecoveryInput::AuthenticatorCode { .. } => {
                step == RecoveryStep::Prove(Method::Authenticator)
            }
            RecoveryInput::Questions { .. } => step == RecoveryStep::Prove(Method::Questions),
            RecoveryInput::NewPassword { .. } => step == RecoveryStep::NewPassword,
        }
    }
}

/// The fields of every step's form; each step sends the ones it has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordRecoveryForm {
    pub step: String,
    pub intent: Option<String>,
    pub identifier: Option<String>,
    pub method: Option<String>,
    pub employee_number: Option<String>,
    pub pin: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub date_of_birth: Option<String>,
    pub sin_last6: Option<String>,
    pub code: Option<String>,
    /// `form[answers][0]`, `form[answers][1]`...
    #[serde(default)]
    pub answers: Vec<String>,
    pub new_password: Option<String>,
    pub new_password_confirmation: Option<String>,
}

impl PasswordRecoveryForm {
    /// The step the form was posted from, and what the person asked for; `None` for a
    /// form no step sends.
    pub fn input(self) -> Option<(RecoveryStep, RecoveryInput)> {
        let text = |value: Option<String>| value.unwrap_or_default();
        let step = RecoveryStep::from_code(&self.step)?;
        let input = match (step, self.intent.as_deref()) {
            (RecoveryStep::Identify, _) => RecoveryInput::Identify {
                identifier: text(self.identifier),
            },
            (RecoveryStep::Choose, _) => RecoveryInput::Choose {
                method: self.method.as_deref().and_then(RecoveryMethod::from_code),
            },
            (RecoveryStep::Prove(method), Some("other_method")) => {
                RecoveryInput::OtherMethod { method }
            }
            (RecoveryStep::Prove(RecoveryMethod::EmailCode), Some("resend")) => {
                RecoveryInput::Resend
            }
            (RecoveryStep::Prove(RecoveryMethod::EmployeePin), _) => RecoveryInput::EmployeePin {
                employee_number: text(self.employee_number),
                pin: text(self.pin),
            },
            (RecoveryStep::Prove(RecoveryMethod::Attributes), _) => RecoveryInput::Attributes {
                first_name: text(self.first_name),
                last_name: text(self.last_name),
                date_of_birth: text(self.date_of_birth),
                sin_last6: text(self.sin_last6),
            },
            (RecoveryStep::Prove(RecoveryMethod::EmailCode), _) => RecoveryInput::Code {
                code: text(self.code),
            },
            (RecoveryStep::Prove(RecoveryMethod::Authenticator), _) => {
                RecoveryInput::AuthenticatorCode {
                    code: text(self.code),
                }
            }
            (RecoveryStep::Prove(RecoveryMethod::Questions), _) => RecoveryInput::Questions {
                answers: self.answers,
            },
            (RecoveryStep::NewPassword, _) => RecoveryInput::NewPassword {
                password: text(self.new_password),
                confirmation: text(self.new_password_confirmation),
            },
            (RecoveryStep::Done | RecoveryStep::Helpdesk | RecoveryStep::Expired, _) => {
                return None;
            }
        };
        Some((step, input))
    }
}

/// What the page behind an emailed link shows (a GET never uses the link up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum RecoveryLinkState {
    /// Valid: a button confirms, on this device.
    #[default]
    Usable,
    /// Too late, already used, or replaced by a newer mail.
    Expired,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PasswordRecoveryApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<PasswordRecoveryView, AppError>;
    /// Applies one step; answers the id of the flow to show next.
    async fn submit(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        step: RecoveryStep,
        input: RecoveryInput,
    ) -> Result<String, AppError>;
    async fn link_state(
        &self,
        meta: &super::ssr::RequestMeta,
        token: String,
    ) -> Result<RecoveryLinkState, AppError>;
    /// Uses an emailed link: the code is proven, the flow moves on and is bound to this
    /// browser. Answers the flow's id, or `None` when the link can no longer be used.
    async fn use_link(
        &self,
        meta: &super::ssr::RequestMeta,
        token: String,
    ) -> Result<Option<String>, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_password_recovery(
    flow: Option<String>,
) -> Result<PasswordRecoveryView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.password.view(&meta, flow).await
}

#[server(prefix = "/api")]
pub async fn submit_password_recovery(
    csrf: String,
    flow: Option<String>,
    form: PasswordRecoveryForm,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let Some((step, input)) = form.input() else {
        return Err(AppError::Refused(Msg::ErrorGeneric));
    };
    match services()?.password.submit(&meta, flow, step, input).await {
        Ok(flow_id) => {
            redirect_to(&format!("/forgot-password?flow={flow_id}"));
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
pub async fn load_recovery_link(token: String) -> Result<RecoveryLinkState, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .password
        .link_state(&meta, token)
        .await
}

#[server(prefix = "/api")]
pub async fn use_recovery_link(csrf: String, token: String) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    match services()?.password.use_link(&meta, token.clone()).await? {
        Some(flow_id) => redirect_to(&format!("/forgot-password?flow={flow_id}")),
        None => redirect_to(&format!(
            "/forgot-password/link?token={}",
            super::activation::clean_token(&token)
        )),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_codes_round_trip() {
        for method in RecoveryMethod::ALL {
            assert_eq!(RecoveryMethod::from_code(method.code()), Some(method));
            let step = RecoveryStep::Prove(method);
            assert_eq!(RecoveryStep::from_code(step.code()), Some(step));
        }
        for step in [
            RecoveryStep::Identify,
            RecoveryStep::Choose,
            RecoveryStep::NewPassword,
            RecoveryStep::Done,
            RecoveryStep::Helpdesk,
            RecoveryStep::Expired,
        ] {
            assert_eq!(RecoveryStep::from_code(step.code()), Some(step));
        }
    }

    #[test]
    fn every_form_sends_an_input_of_its_own_step_and_no_other() {
        let codes = ["identify", "choose", "new_password"]
            .into_iter()
            .chain(RecoveryMethod::ALL.map(RecoveryMethod::code));
        for code in codes {
            for intent in [None, Some("resend"), Some("other_method")] {
                let form = PasswordRecoveryForm {
                    step: code.into(),
                    intent: intent.map(str::to_owned),
                    ..Default::default()
                };
                let (step, input) = form.input().expect("a step's form");
                assert!(input.is_for(step), "{code} {intent:?}");
            }
        }
        let new_password = RecoveryInput::NewPassword {
            password: "x".into(),
            confirmation: "x".into(),
        };
        assert!(!new_password.is_for(RecoveryStep::Choose));
        assert!(!new_password.is_for(RecoveryStep::Prove(RecoveryMethod::EmailCode)));
    }

    #[test]
    fn forms_read_as_the_step_they_name() {
        let form = |step: &str, intent: Option<&str>| PasswordRecoveryForm {
            step: step.into(),
            intent: intent.map(str::to_owned),
            code: Some("123456".into()),
            ..Default::default()
        };
        assert_eq!(
            form("email_code", None).input(),
            Some((
                RecoveryStep::Prove(RecoveryMethod::EmailCode),
                RecoveryInput::Code {
                    code: "123456".into()
                }
            ))
        );
        assert_eq!(
            form("email_code", Some("resend")).input().map(|(_, i)| i),
            Some(RecoveryInput::Resend)
        );
        assert_eq!(
            form("pin", Some("other_method")).input().map(|(_, i)| i),
            Some(RecoveryInput::OtherMethod {
                method: RecoveryMethod::EmployeePin
            })
        );
        assert_eq!(form("done", None).input(), None);
        assert_eq!(form("nonsense", None).input(), None);
    }
}
