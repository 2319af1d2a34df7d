//! Activation from a letter (seed 001): `/activate?flow=…` shows the flow's current step,
//! `/activate/link?token=…` is where the emailed link lands.

mod link;
mod steps;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub use link::ActivationLinkPage;

use crate::{
    api::activation::{ActivationStep, ActivationView, SubmitActivation, load_activation},
    components::{
        error_summary::{ErrorSummary, step_problems},
        portal::WithPortal,
    },
    i18n::Msg,
    t, use_locale,
};

/// The action every step's form posts to; its version reloads the view.
pub(crate) type StepAction = ServerAction<SubmitActivation>;

#[component]
pub fn ActivatePage() -> impl IntoView {
    let locale = use_locale();
    let action: StepAction = ServerAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_activation(flow),
    );

    view! {
        <Title text=t(Msg::ActivationTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = match view_state.await {
                    Ok(state) => state,
                    Err(error) => {
                        return view! {
                            <h1 tabindex="-1">{t(Msg::ActivationTitle)}</h1>
                            <p class="notice notice--error" role="alert">{t(error.message())}</p>
                        }
                            .into_any();
                    }
                };
                let flow_id = flow().unwrap_or_default();
                view! {
                    <StepHeader state=state.clone()/>
                    <WithPortal children=move |portal| {
                        let state = state.clone();
                        let policy = portal.password_policy.clone();
                        let error = state.error.clone();
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
                        }
                    }/>
                }
                    .into_any()
            })}
        </Transition>
    }
}

/// The step's heading and "Step n of 10".
#[component]
fn StepHeader(state: ActivationView) -> impl IntoView {
    let locale = use_locale();
    let title = step_title(state.step);
    view! {
        {state.step.number().map(|n| view! {
            <p class="step-counter">{locale.format(Msg::ActivationStepOf, &[("n", &n.to_string()), ("total", "10")])}</p>
        })}
        <h1 tabindex="-1">{t(title)}</h1>
    }
}

pub(crate) fn step_title(step: ActivationStep) -> Msg {
    match step {
        ActivationStep::Login => Msg::ActivationLoginTitle,
        ActivationStep::ProvisionalPassword => Msg::ActivationPasswordTitle,
        ActivationStep::RecoveryEmail => Msg::ActivationRecoveryTitle,
        ActivationStep::CheckEmail => Msg::ActivationCheckEmailTitle,
        ActivationStep::Charter => Msg::ActivationCharterTitle,
        ActivationStep::Directory => Msg::ActivationDirectoryTitle,
        ActivationStep::Mailbox => Msg::ActivationMailboxTitle,
        ActivationStep::CheckForwardEmail => Msg::ActivationCheckForwardTitle,
        ActivationStep::NewPassword => Msg::ActivationNewPasswordTitle,
        ActivationStep::Done => Msg::ActivationDoneTitle,
        ActivationStep::Expired => Msg::ActivationExpiredTitle,
    }
}

/// The ids of the fields steps render.
const FIELD_IDS: &[&str] = &[
    "login",
    "password",
    "email",
    "email_confirmation",
    "code",
    "resend",
    "accept",
    "consent-yes",
    "forward_to",
    "new_password",
    "new_password_confirmation",
];
