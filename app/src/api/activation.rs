//! Activation from a letter (seed 001): ten steps, from the letter's login and provisional
//! password to an active account. The server keeps the flow (`server/src/flows/activation.rs`);
//! the browser holds only its id in `?flow=`. Every step posts the same form function,
//! named by its `step` field, and is answered by a redirect to the flow's page, so it
//! works the same with or without JavaScript.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;
pub use super::step::StepError;
use crate::i18n::Msg;

/// Where an activation stands: the step the page shows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActivationStep {
    /// 1. The login printed on the letter.
    #[default]
    Login,
    /// 2. The provisional password printed on the letter.
    ProvisionalPassword,
    /// 3. A recovery email address.
    RecoveryEmail,
    /// 4. "Check your email": the link, or the code typed here.
    CheckEmail,
    /// 5. The IT charter.
    Charter,
    /// 6. Public directory consent.
    Directory,
    /// 7. The mailbox and its forwarding (7 bis: forwarding only).
    Mailbox,
    /// 8. The forwarding address, verified like the recovery email.
    CheckForwardEmail,
    /// 9. The new password.
    NewPassword,
    /// 10. Done: the account is active.
    Done,
    /// The activation ran out of time: start again.
    Expired,
}

impl ActivationStep {
    /// The seed's step number (1 to 10), shown as "Step n of 10".
    pub fn number(self) -> Option<u8> {
        Some(match self {
            ActivationStep::Login => 1,
            ActivationStep::ProvisionalPassword => 2,
            ActivationStep::RecoveryEmail => 3,
            ActivationStep::CheckEmail => 4,
            ActivationStep::Charter => 5,
            ActivationStep::Directory => 6,
            ActivationStep::Mailbox => 7,
            ActivationStep::CheckForwardEmail => 8,
            ActivationStep::NewPassword => 9,
            ActivationStep::Done => 10,
            ActivationStep::Expired => return None,
        })
    }

    /// The value of the form's `step` field for this step.
    pub fn code(self) -> &'static str {
        match self {
            ActivationStep::Login => "login",
            ActivationStep::ProvisionalPassword => "password",
            ActivationStep::RecoveryEmail => "recovery_email",
            ActivationStep::CheckEmail => "check_email",
            ActivationStep::Charter => "charter",
            ActivationStep::Directory => "directory",
            ActivationStep::Mailbox => "mailbox",
            ActivationStep::CheckForwardEmail => "check_forward",
            ActivationStep::NewPassword => "new_password",
            ActivationStep::Done => "done",
            ActivationStep::Expired => "expired",
        }
    }

    pub fn from_code(code: &str) -> Option<ActivationStep> {
        [
            ActivationStep::Login,
            ActivationStep::ProvisionalPassword,
            ActivationStep::RecoveryEmail,
            ActivationStep::CheckEmail,
            ActivationStep::Charter,
            ActivationStep::Directory,
            ActivationStep::Mailbox,
            ActivationStep::CheckForwardEmail,
            ActivationStep::NewPassword,
            ActivationStep::Done,
            ActivationStep::Expired,
        ]
        .into_iter()
        .find(|step| step.code() == code)
    }
}

/// What the mailbox step offers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MailboxOffer {
    /// A mailbox is created; forwarding is optional, keeping a copy recommended.
    Mailbox { address: String },
    /// No mailbox: mail goes to the address given here (required).
    ForwardOnly,
}

/// What the activation page shows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationView {
    pub step: ActivationStep,
    pub error: Option<StepError>,
    /// Something done that the page confirms ("a new code was sent").
    pub notice: Option<Msg>,
    /// The login being activated (from step 2 on).
    pub login: String,
    /// The recovery email (typed, or verified).
    pub recovery_email: String,
    /// The address the last link and code were sent to (steps 4 and 8).
    pub sent_to: String,
    /// When that link and code stop working, as local time ("23:59").
    pub link_deadline: String,
    /// Mails with a new link and code that can still be sent to that address.
    pub sends_left: u32,
    /// The IT charter in the page's language, and its version.
    pub charter_text: String,
    pub charter_version: String,
    pub mailbox: Option<MailboxOffer>,
    /// Step 7's choices as last typed (or their defaults).
    pub forward: bool,
    pub forward_to: String,
    pub keep_copy: bool,
    /// The services now open (step 10), in the page's language.
    pub services: Vec<String>,
}

/// What a step form sends, once read: one variant per thing a person can do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ActivationInput {
    Login {
        login: String,
    },
    ProvisionalPassword {
        password: String,
    },
    RecoveryEmail {
        email: String,
        confirmation: String,
    },
    /// Steps 4 and 8: the code from the mail.
    Code {
        step: ActivationStep,
        code: String,
    },
    /// Steps 4 and 8: send a new link and code.
    Resend {
        step: ActivationStep,
    },
    /// Steps 4 and 8: the address was mistyped; go back to the step that asked for it.
    ChangeEmail {
        step: ActivationStep,
    },
    Charter {
        accepted: bool,
    },
    Directory {
        consent: Option<bool>,
    },
    Mailbox {
        forward: bool,
        forward_to: String,
        keep_copy: bool,
    },
    NewPassword {
        password: String,
        confirmation: String,
    },
}

/// The fields of every step's form; each step sends the ones it has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivationForm {
    pub step: String,
    pub intent: Option<String>,
    pub login: Option<String>,
    pub password: Option<String>,
    pub email: Option<String>,
    pub email_confirmation: Option<String>,
    pub code: Option<String>,
    pub accept: Option<String>,
    pub consent: Option<String>,
    pub forward: Option<String>,
    pub forward_to: Option<String>,
    pub keep_copy: Option<String>,
    pub new_password: Option<String>,
    pub new_password_confirmation: Option<String>,
}

impl ActivationForm {
    /// What the person asked for; `None` for a form no step sends.
    pub fn input(self) -> Option<ActivationInput> {
        let text = |value: Option<String>| value.unwrap_or_default();
        let checked = |value: &Option<String>| value.as_deref().is_some_and(|v| !v.is_empty());
        let step = ActivationStep::from_code(&self.step)?;
        Some(match (step, self.intent.as_deref()) {
            (ActivationStep::Login, _) => ActivationInput::Login {
                login: text(self.login),
            },
            (ActivationStep::ProvisionalPassword, _) => ActivationInput::ProvisionalPassword {
                password: text(self.password),
            },
            (ActivationStep::RecoveryEmail, _) => ActivationInput::RecoveryEmail {
                email: text(self.email),
                confirmation: text(self.email_confirmation),
            },
            (ActivationStep::CheckEmail | ActivationStep::CheckForwardEmail, Some("resend")) => {
                ActivationInput::Resend { step }
            }
            (
                ActivationStep::CheckEmail | ActivationStep::CheckForwardEmail,
                Some("change_email"),
            ) => ActivationInput::ChangeEmail { step },
            (ActivationStep::CheckEmail | ActivationStep::CheckForwardEmail, _) => {
                ActivationInput::Code {
                    step,
                    code: text(self.code),
                }
            }
            (ActivationStep::Charter, _) => ActivationInput::Charter {
                accepted: checked(&self.accept),
            },
            (ActivationStep::Directory, _) => ActivationInput::Directory {
                consent: match self.consent.as_deref() {
                    Some("yes") => Some(true),
                    Some("no") => Some(false),
                    _ => None,
                },
            },
            (ActivationStep::Mailbox, _) => ActivationInput::Mailbox {
                forward: checked(&self.forward),
                forward_to: text(self.forward_to),
                keep_copy: checked(&self.keep_copy),
            },
            (ActivationStep::NewPassword, _) => ActivationInput::NewPassword {
                password: text(self.new_password),
                confirmation: text(self.new_password_confirmation),
            },
            (ActivationStep::Done | ActivationStep::Expired, _) => return None,
        })
    }
}

/// What the page behind an emailed link shows (a GET never uses the link up).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum LinkState {
    /// Valid: a button continues the activation, on this device.
    #[default]
    Usable,
    /// Too late, already used, or replaced by a newer mail: start again.
    Expired,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait ActivationApi: Send + Sync {
    async fn view(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
    ) -> Result<ActivationView, AppError>;
    /// Applies one step; answers the id of the flow to show next.
    async fn submit(
        &self,
        meta: &super::ssr::RequestMeta,
        flow_id: Option<String>,
        input: ActivationInput,
    ) -> Result<String, AppError>;
    async fn link_state(
        &self,
        meta: &super::ssr::RequestMeta,
        token: String,
    ) -> Result<LinkState, AppError>;
    /// Uses an emailed link: moves its flow on and binds it to this browser. Answers the
    /// flow's id, or `None` when the link can no longer be used.
    async fn use_link(
        &self,
        meta: &super::ssr::RequestMeta,
        token: String,
    ) -> Result<Option<String>, AppError>;
}

#[server(input = server_fn::codec::GetUrl, prefix = "/api")]
pub async fn load_activation(flow: Option<String>) -> Result<ActivationView, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?.activation.view(&meta, flow).await
}

#[server(prefix = "/api")]
pub async fn submit_activation(
    csrf: String,
    flow: Option<String>,
    form: ActivationForm,
) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    let Some(input) = form.input() else {
        return Err(AppError::Refused(Msg::ErrorGeneric));
    };
    let outcome = services()?.activation.submit(&meta, flow, input).await;
    match outcome {
        Ok(flow_id) => {
            redirect_to(&format!("/activate?flow={flow_id}"));
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
pub async fn load_activation_link(token: String) -> Result<LinkState, AppError> {
    let meta = super::ssr::request_meta()?;
    super::ssr::services()?
        .activation
        .link_state(&meta, token)
        .await
}

#[server(prefix = "/api")]
pub async fn use_activation_link(csrf: String, token: String) -> Result<(), AppError> {
    use super::ssr::*;
    let _ = csrf; // checked by the CSRF middleware before this runs
    let meta = request_meta()?;
    match services()?
        .activation
        .use_link(&meta, token.clone())
        .await?
    {
        Some(flow_id) => redirect_to(&format!("/activate?flow={flow_id}")),
        None => redirect_to(&format!("/activate/link?token={}", clean_token(&token))),
    }
    Ok(())
}

/// Tokens are hex; anything else is dropped rather than echoed into a URL.
#[cfg(feature = "ssr")]
pub(crate) fn clean_token(token: &str) -> String {
    token
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .take(128)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(step: &str) -> ActivationForm {
        ActivationForm {
            step: step.into(),
            ..Default::default()
        }
    }

    #[test]
    fn every_step_code_round_trips() {
        for number in 1..=10u8 {
            let step = [
                ActivationStep::Login,
                ActivationStep::ProvisionalPassword,
                ActivationStep::RecoveryEmail,
                ActivationStep::CheckEmail,
                ActivationStep::Charter,
                ActivationStep::Directory,
                ActivationStep::Mailbox,
                ActivationStep::CheckForwardEmail,
                ActivationStep::NewPassword,
                ActivationStep::Done,
            ][usize::from(number - 1)];
            assert_eq!(step.number(), Some(number));
            assert_eq!(ActivationStep::from_code(step.code()), Some(step));
        }
    }

    #[test]
    fn forms_read_as_the_step_they_name() {
        let mut charter = form("charter");
        assert_eq!(
            charter.clone().input(),
            Some(ActivationInput::Charter { accepted: false })
        );
        charter.accept = Some("yes".into());
        assert_eq!(
            charter.input(),
            Some(ActivationInput::Charter { accepted: true })
        );
        let mut resend = form("check_email");
        resend.intent = Some("resend".into());
        assert_eq!(
            resend.input(),
            Some(ActivationInput::Resend {
                step: ActivationStep::CheckEmail
            })
        );
        let mut directory = form("directory");
        directory.consent = Some("no".into());
        assert_eq!(
            directory.input(),
            Some(ActivationInput::Directory {
                consent: Some(false)
            })
        );
        assert_eq!(form("done").input(), None);
        assert_eq!(form("nonsense").input(), None);
    }
}
