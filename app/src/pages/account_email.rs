//! "My account → Recovery email": the address that receives codes, and the form that adds
//! or changes it (the current password, then a code sent to the new address).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::recovery_email::{
        ChangeRecoveryEmail, EmailChangeStep, RecoveryEmailView, load_recovery_email,
    },
    components::{
        error_summary::{ErrorSummary, Problem, step_problems},
        form::{StepFormBody, TextField},
    },
    i18n::Msg,
    t, use_locale,
};

type ChangeAction = ServerAction<ChangeRecoveryEmail>;

const FIELD_IDS: &[&str] = &["email", "email_confirmation", "current_password", "code"];

#[component]
pub fn AccountEmailPage() -> impl IntoView {
    let locale = use_locale();
    let action = ChangeAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let saved = move || query.read().get("saved").is_some();
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_recovery_email(flow),
    );
    view! {
        <Title text=t(Msg::EmailChangeTitle)/>
        <h1 tabindex="-1">{t(Msg::EmailChangeTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.signed_in {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let error = state.error.clone();
                let problems = move || -> Option<Vec<Problem>> {
                    step_problems(locale, None, error.as_ref(), FIELD_IDS)
                };
                let just_saved = saved() && state.flow.is_none();
                view! {
                    {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
                    {just_saved.then(|| view! {
                        <p class="notice notice--success" role="status">{t(Msg::EmailChangeSaved)}</p>
                    })}
                    {state.notice.map(|msg| view! {
                        <p class="notice" role="status">{t(msg)}</p>
                    })}
                    <Current current=state.current.clone()/>
                    <Step state action/>
                    <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[component]
fn Current(current: Option<String>) -> impl IntoView {
    let locale = use_locale();
    match current {
        Some(address) => {
            view! { <p>{locale.format(Msg::EmailChangeCurrent, &[("email", &address)])}</p> }
                .into_any()
        }
        None => view! { <p>{t(Msg::EmailChangeNone)}</p> }.into_any(),
    }
}

/// The field's error text when the refusal concerns it.
fn field_error(state: &RecoveryEmailView, field: &str) -> Option<String> {
    let locale = use_locale();
    state
        .error
        .as_ref()
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.text(locale))
}

#[component]
fn Step(state: RecoveryEmailView, action: ChangeAction) -> impl IntoView {
    let locale = use_locale();
    let flow_id = state.flow.clone().unwrap_or_default();
    match state.step {
        EmailChangeStep::Enter => view! {
            <p>{t(Msg::EmailChangeIntro)}</p>
            <ActionForm action attr:class="form" attr:novalidate="">
                <StepFormBody flow_id=String::new() step=EmailChangeStep::Enter.code() submit=Msg::EmailChangeSend>
                    <TextField
                        id="email"
                        name="form[email]"
                        label=Msg::EmailChangeNewLabel
                        input_type="email"
                        autocomplete="email"
                        autocapitalize_off=true
                        error=field_error(&state, "email")
                        value=state.address.clone()
                    />
                    <TextField
                        id="email_confirmation"
                        name="form[email_confirmation]"
                        label=Msg::EmailChangeConfirmLabel
                        input_type="email"
                        autocomplete="email"
                        autocapitalize_off=true
                        error=field_error(&state, "email_confirmation")
                    />
                    <TextField
                        id="current_password"
                        name="form[current_password]"
                        label=Msg::EmailChangePasswordLabel
                        hint=Msg::EmailChangePasswordHint
                        input_type="password"
                        autocomplete="current-password"
                        error=field_error(&state, "current_password")
                    />
                </StepFormBody>
            </ActionForm>
        }
        .into_any(),
        EmailChangeStep::Check => {
            let sends_left = state.sends_left;
            let code_flow = flow_id.clone();
            let resend_flow = flow_id.clone();
            view! {
                <p>
                    {locale.format(
                        Msg::EmailChangeCodeIntro,
                        &[("email", &state.address), ("minutes", &state.code_minutes.to_string())],
                    )}
                </p>
                <ActionForm action attr:class="form" attr:novalidate="">
                    <StepFormBody flow_id=code_flow step=EmailChangeStep::Check.code() submit=Msg::EmailChangeConfirm>
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
                {(sends_left > 0).then(|| view! {
                    <ActionForm action attr:class="form" attr:novalidate="">
                        <StepFormBody flow_id=resend_flow.clone() step=EmailChangeStep::Check.code() intent=Some("resend") submit=Msg::RecoveryResend secondary=true>
                            <p class="field__hint">
                                {locale.format(Msg::RecoverySendsLeft, &[("count", &sends_left.to_string())])}
                            </p>
                        </StepFormBody>
                    </ActionForm>
                })}
                <ActionForm action attr:class="form" attr:novalidate="">
                    <StepFormBody flow_id step=EmailChangeStep::Check.code() intent=Some("cancel") submit=Msg::EmailChangeCancel secondary=true/>
                </ActionForm>
            }
            .into_any()
        }
    }
}
