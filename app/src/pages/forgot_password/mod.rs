//! Forgot password: `/forgot-password?flow=…` shows the flow's current step,
//! `/forgot-password/link?token=…` is where the emailed link lands.

mod link;
mod steps;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub use link::RecoveryLinkPage;

use crate::{
    api::password::{
        PasswordRecoveryView, RecoveryMethod, RecoveryStep, SubmitPasswordRecovery,
        load_password_recovery,
    },
    components::{
        error_summary::{ErrorSummary, step_problems},
        portal::WithPortal,
    },
    i18n::Msg,
    t, use_locale,
};

/// The action every step's form posts to; its version reloads the view.
pub(crate) type StepAction = ServerAction<SubmitPasswordRecovery>;

/// The ids of the fields steps render.
const FIELD_IDS: &[&str] = &[
    "identifier",
    "method",
    "employee_number",
    "pin",
    "first_name",
    "last_name",
    "date_of_birth",
    "sin_last6",
    "code",
    "resend",
    "answer_0",
    "answer_1",
    "answer_2",
    "answer_3",
    "answer_4",
    "new_password",
    "new_password_confirmation",
];

#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let locale = use_locale();
    let action: StepAction = ServerAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_password_recovery(flow),
    );

    view! {
        <Title text=t(Msg::RecoveryTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = match view_state.await {
                    Ok(state) => state,
                    Err(error) => {
                        return view! {
                            <h1 tabindex="-1">{t(Msg::RecoveryTitle)}</h1>
                            <p class="notice notice--error" role="alert">{t(error.message())}</p>
                        }
                            .into_any();
                    }
                };
                let flow_id = flow().unwrap_or_default();
                let show_help = !matches!(state.step, RecoveryStep::Done | RecoveryStep::Helpdesk);
                view! {
                    <h1 tabindex="-1">{t(step_title(&state))}</h1>
                    <WithPortal children=move |portal| {
                        let state = state.clone();
                        let policy = portal.password_policy.clone();
                        let error = state.error.clone();
                        let institution = portal.institution.clone();
                        view! {
                            {move || {
                                step_problems(locale, Some(&policy), error.as_ref(), FIELD_IDS)
                                    .map(|problems| view! { <ErrorSummary problems/> })
                            }}
                            {state.notice.map(|notice| view! {
                                <p class="notice notice--success" role="status">{t(notice)}</p>
                            })}
                            {steps::StepBody(steps::StepBodyProps {
                                state: state.clone(),
                                flow_id: flow_id.clone(),
                                action,
                                portal,
                            })}
                            {show_help.then(|| view! {
                                <p class="help">
                                    {locale.format(
                                        Msg::RecoveryHelp,
                                        &[("phone", &institution.helpdesk_phone), ("hours", institution.helpdesk_hours.get(locale))],
                                    )}
                                </p>
                            })}
                        }
                    }/>
                }
                    .into_any()
            })}
        </Transition>
    }
}

fn step_title(state: &PasswordRecoveryView) -> Msg {
    match state.step {
        RecoveryStep::Identify => Msg::RecoveryTitle,
        RecoveryStep::Choose => Msg::RecoveryChooseTitle,
        RecoveryStep::Prove(RecoveryMethod::EmailCode) => Msg::RecoveryEmailCodeTitle,
        RecoveryStep::Prove(RecoveryMethod::EmployeePin) => Msg::RecoveryPinTitle,
        RecoveryStep::Prove(RecoveryMethod::Attributes) => Msg::RecoveryIdentityTitle,
        RecoveryStep::Prove(RecoveryMethod::Questions) => Msg::RecoveryQuestionsTitle,
        RecoveryStep::Prove(RecoveryMethod::Authenticator) => Msg::RecoveryAuthenticatorTitle,
        RecoveryStep::NewPassword => Msg::RecoveryNewPasswordTitle,
        RecoveryStep::Done => Msg::RecoveryDoneTitle,
        RecoveryStep::Helpdesk => Msg::RecoveryHelpdeskTitle,
        RecoveryStep::Expired => Msg::RecoveryExpiredTitle,
    }
}
