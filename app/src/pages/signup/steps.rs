//! The body of each sign-up step.

use leptos::prelude::*;

use super::StepAction;
use crate::{
    api::{
        portal::PortalContext,
        signup::{InvitationProblem, SignUpStep, SignUpView},
    },
    components::{
        bot_check::BotCheck,
        client::LoadClient,
        form::{Choice, StepFormBody, TextField},
        password_checklist::NewPasswordFields,
    },
    i18n::Msg,
    t, use_locale,
};

/// The field's error text when the refusal concerns it.
fn field_error(state: &SignUpView, field: &str) -> Option<String> {
    let locale = use_locale();
    state
        .error
        .as_ref()
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.text(locale))
}

#[component]
pub fn StepBody(state: SignUpView, action: StepAction, portal: PortalContext) -> impl IntoView {
    let locale = use_locale();
    let flow_id = state.flow.clone().unwrap_or_default();
    let step = state.step.code();
    match state.step {
        SignUpStep::Invalid => {
            let text = match state.problem {
                Some(InvitationProblem::Expired) => Msg::SignupExpiredText,
                Some(InvitationProblem::Used) => Msg::SignupUsedText,
                Some(InvitationProblem::FlowExpired) => Msg::SignupFlowExpiredText,
                _ => Msg::SignupInvalidText,
            };
            view! {
                <p>{t(text)}</p>
                <ul class="links">
                    <li><a href="/signin">{t(Msg::SignupSignIn)}</a></li>
                    <li><a href="/cant-sign-in">{t(Msg::SigninCantSignIn)}</a></li>
                </ul>
            }
            .into_any()
        }
        SignUpStep::Identify => view! {
            <p class="lead">{locale.format(Msg::SignupIntro, &[("issuer", &state.issuer)])}</p>
            <p>{t(Msg::SignupIdentifyIntro)}</p>
            <ActionForm action attr:class="form" attr:novalidate="">
                <StepFormBody flow_id step submit=Msg::SignupNext>
                    {state.invitation.clone().map(|token| view! {
                        <input type="hidden" name="form[invitation]" value=token/>
                    })}
                    <TextField
                        id="last_name"
                        name="form[last_name]"
                        label=Msg::SignupLastNameLabel
                        autocomplete="family-name"
                        error=field_error(&state, "last_name")
                        value=state.last_name.clone()
                    />
                    <TextField
                        id="first_name"
                        name="form[first_name]"
                        label=Msg::SignupFirstNameLabel
                        autocomplete="given-name"
                        error=field_error(&state, "first_name")
                        value=state.first_name.clone()
                    />
                    <TextField
                        id="email"
                        name="form[email]"
                        label=Msg::SignupEmailLabel
                        hint=Msg::SignupEmailHint
                        input_type="email"
                        autocomplete="email"
                        autocapitalize_off=true
                        error=field_error(&state, "email")
                        value=state.email.clone()
                    />
                </StepFormBody>
            </ActionForm>
        }
        .into_any(),
        SignUpStep::Password => view! {
            <LoadClient/>
            <p>{t(Msg::SignupPasswordIntro)}</p>
            <ActionForm action attr:class="form" attr:novalidate="">
                <StepFormBody flow_id step submit=Msg::SignupNext>
                    // Lets password managers save the address with the new password.
                    <input type="hidden" name="form[email]" autocomplete="username" value=state.email.clone()/>
                    <NewPasswordFields
                        policy=portal.password_policy
                        error=field_error(&state, "new_password")
                        confirm_error=field_error(&state, "new_password_confirmation")
                    />
                    <p>
                        {t(Msg::SignupReadTexts)}" "
                        <a href="/terms" target="_blank" rel="noopener">{t(Msg::LegalTermsTitle)}</a>
                        " · "
                        <a href="/privacy" target="_blank" rel="noopener">{t(Msg::LegalPrivacyTitle)}</a>
                    </p>
                    <Choice
                        id="consent"
                        name="form[consent]"
                        value="on"
                        kind="checkbox"
                        label=Msg::SignupConsentLabel
                        error=field_error(&state, "consent")
                    />
                    <BotCheck challenge=state.bot_challenge.clone()/>
                </StepFormBody>
            </ActionForm>
        }
        .into_any(),
        SignUpStep::Verify => {
            let sends_left = state.sends_left;
            let resend_flow = flow_id.clone();
            view! {
                <p>
                    {locale.format(
                        Msg::SignupVerifyIntro,
                        &[("email", &state.email), ("minutes", &state.code_minutes.to_string())],
                    )}
                </p>
                <ActionForm action attr:class="form" attr:novalidate="">
                    <StepFormBody flow_id step submit=Msg::SignupActivate>
                        <TextField
                            id="code"
                            name="form[code]"
                            label=Msg::RecoveryCodeLabel
                            hint=Msg::RecoveryCodeHint
                            autocomplete="one-time-code"
                            inputmode="numeric"
                            autocapitalize_off=true
                            error=field_error(&state, "code")
                        />
                    </StepFormBody>
                </ActionForm>
                <h2>{t(Msg::SignupNoMailTitle)}</h2>
                <p>{t(Msg::SignupNoMailText)}</p>
                {(sends_left > 0).then(|| view! {
                    <ActionForm action attr:class="form" attr:novalidate="">
                        <StepFormBody flow_id=resend_flow.clone() step intent=Some("resend") submit=Msg::RecoveryResend secondary=true>
                            <p class="field__hint">
                                {locale.format(Msg::RecoverySendsLeft, &[("count", &sends_left.to_string())])}
                            </p>
                        </StepFormBody>
                    </ActionForm>
                })}
            }
            .into_any()
        }
        SignUpStep::Done => view! {
            <p class="lead">{locale.format(Msg::SignupDoneText, &[("email", &state.email)])}</p>
            <p><a class="button" href="/signin">{t(Msg::SignupSignIn)}</a></p>
        }
        .into_any(),
    }
}
