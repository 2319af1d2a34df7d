//! The body of each activation step: its explanation and its form.

use leptos::prelude::*;

use super::StepAction;
use crate::{
    api::{
        activation::{ActivationStep, ActivationView, MailboxOffer},
        portal::PortalContext,
    },
    components::{
        client::LoadClient,
        form::{Choice, StepFormBody, TextField},
        password_checklist::NewPasswordFields,
    },
    i18n::Msg,
    t, use_locale,
};

/// The field's error text when the step's refusal concerns it.
fn field_error(state: &ActivationView, field: &str) -> Option<String> {
    let locale = use_locale();
    state
        .error
        .as_ref()
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.text(locale))
}

#[component]
pub fn StepBody(
    state: ActivationView,
    flow_id: String,
    action: StepAction,
    portal: PortalContext,
) -> impl IntoView {
    let locale = use_locale();
    match state.step {
        ActivationStep::Login => view! {
            <p>{t(Msg::ActivationLoginIntro)}</p>
            <StepForm action flow_id=String::new() step=state.step submit=Msg::ActivationNext>
                <TextField
                    id="login"
                    name="form[login]"
                    label=Msg::ActivationLoginLabel
                    hint=Msg::ActivationLoginHint
                    autocomplete="username"
                    autocapitalize_off=true
                    error=field_error(&state, "login")
                    value=state.login.clone()
                />
            </StepForm>
        }
        .into_any(),
        ActivationStep::ProvisionalPassword => view! {
            <p>{locale.format(Msg::ActivationPasswordIntro, &[("login", &state.login)])}</p>
            <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                <input type="hidden" name="form[login]" autocomplete="username" value=state.login.clone()/>
                <TextField
                    id="password"
                    name="form[password]"
                    label=Msg::ActivationPasswordLabel
                    hint=Msg::ActivationPasswordHint
                    autocomplete="current-password"
                    input_type="password"
                    autocapitalize_off=true
                    error=field_error(&state, "password")
                />
            </StepForm>
            <p><a href="/activate">{t(Msg::ActivationNotYou)}</a></p>
        }
        .into_any(),
        ActivationStep::RecoveryEmail => view! {
            <p>{t(Msg::ActivationRecoveryIntro)}</p>
            <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                <TextField
                    id="email"
                    name="form[email]"
                    label=Msg::ActivationRecoveryLabel
                    hint=Msg::ActivationRecoveryHint
                    autocomplete="email"
                    input_type="email"
                    autocapitalize_off=true
                    error=field_error(&state, "email")
                    value=state.recovery_email.clone()
                />
                <TextField
                    id="email_confirmation"
                    name="form[email_confirmation]"
                    label=Msg::ActivationRecoveryConfirmLabel
                    autocomplete="email"
                    input_type="email"
                    autocapitalize_off=true
                    error=field_error(&state, "email_confirmation")
                />
            </StepForm>
        }
        .into_any(),
        ActivationStep::CheckEmail | ActivationStep::CheckForwardEmail => {
            view! { <CheckEmail state flow_id action/> }.into_any()
        }
        ActivationStep::Charter => view! {
            <p>{t(Msg::ActivationCharterIntro)}</p>
            <section class="panel charter" aria-labelledby="charter-title" tabindex="0">
                <h2 id="charter-title">
                    {locale.format(Msg::ActivationCharterHeading, &[("version", &state.charter_version)])}
                </h2>
                {state.charter_text.split("\n\n").map(|p| view! { <p>{p.to_owned()}</p> }).collect_view()}
            </section>
            <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                <Choice
                    id="accept"
                    name="form[accept]"
                    value="yes"
                    kind="checkbox"
                    label=Msg::ActivationCharterAccept
                    error=field_error(&state, "accept")
                />
            </StepForm>
        }
        .into_any(),
        ActivationStep::Directory => {
            let error = field_error(&state, "consent-yes");
            let described_by = error.is_some().then_some("consent-error");
            view! {
                <p>{locale.format(Msg::ActivationDirectoryIntro, &[("institution", portal.institution.name.get(locale))])}</p>
                <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                    <fieldset class="field choices" aria-describedby=described_by>
                        <legend class="field__label">{t(Msg::ActivationDirectoryQuestion)}</legend>
                        {error.map(|e| view! { <p class="field__error" id="consent-error">{e}</p> })}
                        <Choice id="consent-yes" name="form[consent]" value="yes" kind="radio" label=Msg::ActivationDirectoryYes/>
                        <Choice id="consent-no" name="form[consent]" value="no" kind="radio" label=Msg::ActivationDirectoryNo/>
                    </fieldset>
                    <p class="field__hint">{t(Msg::ActivationDirectoryLater)}</p>
                </StepForm>
            }
            .into_any()
        }
        ActivationStep::Mailbox => view! { <Mailbox state flow_id action/> }.into_any(),
        ActivationStep::NewPassword => {
            view! { <NewPassword state flow_id action policy=portal.password_policy/> }.into_any()
        }
        ActivationStep::Done => view! {
            <p class="lead">{t(Msg::ActivationDoneIntro)}</p>
            <p>{locale.format(Msg::ActivationDoneLogin, &[("login", &state.login)])}</p>
            <h2>{t(Msg::ActivationDoneServices)}</h2>
            <ul>{state.services.into_iter().map(|s| view! { <li>{s}</li> }).collect_view()}</ul>
            <p><a class="button" href="/signin">{t(Msg::ActivationDoneSignIn)}</a></p>
        }
        .into_any(),
        ActivationStep::Expired => view! {
            <p>{t(Msg::ActivationExpiredText)}</p>
            <p><a class="button" href="/activate">{t(Msg::ActivationStartAgain)}</a></p>
        }
        .into_any(),
    }
}

/// A step's form: its fields inside the flow's hidden fields and its button.
#[component]
fn StepForm(
    action: StepAction,
    flow_id: String,
    step: ActivationStep,
    submit: Msg,
    #[prop(optional)] children: Option<Children>,
    #[prop(optional)] intent: Option<&'static str>,
    #[prop(optional)] secondary: bool,
) -> impl IntoView {
    view! {
        <ActionForm action attr:class="form" attr:novalidate="">
            <StepFormBody flow_id step=step.code() submit intent secondary>
                {children.map(|children| children())}
            </StepFormBody>
        </ActionForm>
    }
}

/// Steps 4 and 8: the mail was sent; follow its link, or type its code here.
#[component]
fn CheckEmail(state: ActivationView, flow_id: String, action: StepAction) -> impl IntoView {
    let locale = use_locale();
    let step = state.step;
    let (intro, change) = match step {
        ActivationStep::CheckEmail => (Msg::ActivationCheckEmailIntro, Msg::ActivationChangeEmail),
        _ => (
            Msg::ActivationCheckForwardIntro,
            Msg::ActivationChangeForward,
        ),
    };
    let sends_left = state.sends_left;
    let code_error = field_error(&state, "code");
    let resend_error = field_error(&state, "resend");
    view! {
        <p>{locale.format(intro, &[("email", &state.sent_to)])}</p>
        <p>{locale.format(Msg::ActivationLinkDeadline, &[("time", &state.link_deadline)])}</p>
        <StepForm action flow_id=flow_id.clone() step submit=Msg::ActivationNext>
            <TextField
                id="code"
                name="form[code]"
                label=Msg::ActivationCodeLabel
                hint=Msg::ActivationCodeHint
                autocomplete="one-time-code"
                input_type="text"
                inputmode="numeric"
                autocapitalize_off=true
                error=code_error
            />
        </StepForm>
        <h2>{t(Msg::ActivationNoMailTitle)}</h2>
        <p>{t(Msg::ActivationNoMailText)}</p>
        {resend_error.map(|e| view! { <p class="field__error" id="resend">{e}</p> })}
        {(sends_left > 0).then(|| view! {
            <StepForm action flow_id=flow_id.clone() step intent="resend" submit=Msg::ActivationResend secondary=true>
                <p class="field__hint">{locale.format(Msg::ActivationSendsLeft, &[("count", &sends_left.to_string())])}</p>
            </StepForm>
        })}
        <StepForm action flow_id step intent="change_email" submit=change secondary=true/>
    }
}

/// Step 7 (a mailbox, forwarding optional) and 7 bis (forwarding required).
#[component]
fn Mailbox(state: ActivationView, flow_id: String, action: StepAction) -> impl IntoView {
    let locale = use_locale();
    let forward_error = field_error(&state, "forward_to");
    match state.mailbox.clone() {
        Some(MailboxOffer::Mailbox { address }) => view! {
            <p>{locale.format(Msg::ActivationMailboxIntro, &[("address", &address)])}</p>
            <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                <Choice
                    id="forward"
                    name="form[forward]"
                    value="yes"
                    kind="checkbox"
                    label=Msg::ActivationForwardChoice
                    checked=state.forward
                />
                <TextField
                    id="forward_to"
                    name="form[forward_to]"
                    label=Msg::ActivationForwardLabel
                    hint=Msg::ActivationForwardHint
                    autocomplete="email"
                    input_type="email"
                    autocapitalize_off=true
                    required=false
                    error=forward_error
                    value=state.forward_to.clone()
                />
                <Choice
                    id="keep_copy"
                    name="form[keep_copy]"
                    value="yes"
                    kind="checkbox"
                    label=Msg::ActivationKeepCopy
                    hint=Msg::ActivationKeepCopyHint
                    checked=state.keep_copy
                />
            </StepForm>
        }
        .into_any(),
        _ => view! {
            <p>{t(Msg::ActivationForwardOnlyIntro)}</p>
            <StepForm action flow_id step=state.step submit=Msg::ActivationNext>
                <TextField
                    id="forward_to"
                    name="form[forward_to]"
                    label=Msg::ActivationForwardLabel
                    hint=Msg::ActivationForwardHint
                    autocomplete="email"
                    input_type="email"
                    autocapitalize_off=true
                    error=forward_error
                    value=state.forward_to.clone()
                />
            </StepForm>
        }
        .into_any(),
    }
}

/// Step 9, with the policy's checklist ticking live as the person types.
#[component]
fn NewPassword(
    state: ActivationView,
    flow_id: String,
    action: StepAction,
    policy: crate::policy::PasswordPolicy,
) -> impl IntoView {
    let error = field_error(&state, "new_password");
    let confirm_error = field_error(&state, "new_password_confirmation");
    view! {
        <LoadClient/>
        <p>{t(Msg::ActivationNewPasswordIntro)}</p>
        <StepForm action flow_id step=state.step submit=Msg::ActivationFinish>
            <input type="hidden" name="form[login]" autocomplete="username" value=state.login.clone()/>
            <NewPasswordFields policy error confirm_error/>
        </StepForm>
    }
}
