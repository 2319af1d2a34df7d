//! Sign up from an invitation (seed 003): `/signup?invitation=…` opens it, then
//! `/signup?flow=…` shows the current step; `/signup/link?token=…` is where the mailed
//! activation link lands. Also "Can't sign in?" and the texts people consent to.

mod help;
mod legal;
mod link;
mod steps;

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

pub use help::CantSignInPage;
pub use legal::{PrivacyPage, TermsPage};
pub use link::SignUpLinkPage;

use crate::{
    api::signup::{InvitationProblem, SignUpStep, SignUpView, SubmitSignUp, load_sign_up},
    components::{
        error_summary::{ErrorSummary, step_problems},
        portal::WithPortal,
    },
    i18n::Msg,
    t, use_locale,
};

/// The action every step's form posts to; its version reloads the view.
pub(crate) type StepAction = ServerAction<SubmitSignUp>;

/// The ids of the fields steps render.
const FIELD_IDS: &[&str] = &[
    "last_name",
    "first_name",
    "email",
    "new_password",
    "new_password_confirmation",
    "consent",
    "code",
];

#[component]
pub fn SignUpPage() -> impl IntoView {
    let locale = use_locale();
    let action: StepAction = ServerAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let invitation = move || query.read().get("invitation");
    let view_state = Resource::new(
        move || (flow(), invitation(), action.version().get()),
        |(flow, invitation, _)| load_sign_up(flow, invitation),
    );

    view! {
        <Title text=t(Msg::SignupTitle)/>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = match view_state.await {
                    Ok(state) => state,
                    Err(error) => {
                        return view! {
                            <h1 tabindex="-1">{t(Msg::SignupTitle)}</h1>
                            <p class="notice notice--error" role="alert">{t(error.message())}</p>
                        }
                            .into_any();
                    }
                };
                view! {
                    <h1 tabindex="-1">{t(step_title(&state))}</h1>
                    {(state.step != SignUpStep::Invalid && state.step != SignUpStep::Done).then(|| view! {
                        <p class="step-count">{t(step_count(state.step))}</p>
                    })}
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

fn step_title(state: &SignUpView) -> Msg {
    match (state.step, state.problem) {
        (SignUpStep::Invalid, Some(InvitationProblem::Expired)) => Msg::SignupExpiredTitle,
        (SignUpStep::Invalid, Some(InvitationProblem::Used)) => Msg::SignupUsedTitle,
        (SignUpStep::Invalid, Some(InvitationProblem::FlowExpired)) => Msg::SignupFlowExpiredTitle,
        (SignUpStep::Invalid, _) => Msg::SignupInvalidTitle,
        (SignUpStep::Identify, _) => Msg::SignupTitle,
        (SignUpStep::Password, _) => Msg::SignupPasswordTitle,
        (SignUpStep::Verify, _) => Msg::SignupVerifyTitle,
        (SignUpStep::Done, _) => Msg::SignupDoneTitle,
    }
}

fn step_count(step: SignUpStep) -> Msg {
    match step {
        SignUpStep::Password => Msg::SignupStep2,
        SignUpStep::Verify => Msg::SignupStep3,
        _ => Msg::SignupStep1,
    }
}
