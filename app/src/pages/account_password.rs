//! "My account → Change my password": the current password, the new one with the live
//! checklist, and after the change what it did (other sessions ended, linked accounts).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::{
        account::{ChangePassword, PasswordChangeView, load_password_change},
        step::field_error_text,
    },
    components::{
        client::LoadClient,
        error_summary::{ErrorSummary, Problem, step_problems},
        form::{CsrfField, TextField},
        password_checklist::NewPasswordFields,
        portal::WithPortal,
        push_reports::PushReports,
    },
    i18n::Msg,
    t, use_locale,
};

const FIELD_IDS: &[&str] = &[
    "current_password",
    "new_password",
    "new_password_confirmation",
];

#[component]
pub fn AccountPasswordPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<ChangePassword>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_password_change(flow),
    );
    view! {
        <Title text=t(Msg::PasswordChangeTitle)/>
        <h1 tabindex="-1">{t(Msg::PasswordChangeTitle)}</h1>
        <WithPortal children=move |portal| {
            let policy = portal.password_policy;
            view! {
                <Transition fallback=|| ()>
                    {move || {
                        let policy = policy.clone();
                        Suspend::new(async move {
                            let state = view_state.await.unwrap_or_default();
                            if !state.signed_in {
                                return view! { <Redirect path="/signin"/> }.into_any();
                            }
                            let error = state.error.clone();
                            let summary_policy = policy.clone();
                            let problems = move || -> Option<Vec<Problem>> {
                                step_problems(
                                    locale,
                                    Some(&summary_policy),
                                    error.as_ref(),
                                    FIELD_IDS,
                                )
                            };
                            view! {
                                {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
                                {if state.done {
                                    view! { <Done state/> }.into_any()
                                } else {
                                    view! { <ChangeForm state action policy/> }.into_any()
                                }}
                                <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                            }
                                .into_any()
                        })
                    }}
                </Transition>
            }
        }/>
    }
}

#[component]
fn ChangeForm(
    state: PasswordChangeView,
    action: ServerAction<ChangePassword>,
    policy: crate::policy::PasswordPolicy,
) -> impl IntoView {
    let locale = use_locale();
    let error = state.error.as_ref();
    let current_error = field_error_text(error, "current_password", locale);
    let new_error = field_error_text(error, "new_password", locale);
    let confirm_error = field_error_text(error, "new_password_confirmation", locale);
    view! {
        <p>{t(Msg::PasswordChangeIntro)}</p>
        <LoadClient/>
        <ActionForm action attr:class="form" attr:novalidate="">
            <CsrfField/>
            <TextField
                id="current_password"
                name="form[current_password]"
                label=Msg::PasswordChangeCurrentLabel
                input_type="password"
                autocomplete="current-password"
                error=current_error
            />
            <NewPasswordFields
                policy
                error=new_error
                confirm_error=confirm_error
            />
            <div class="form-actions">
                <button type="submit" class="button">
                    {t(Msg::PasswordChangeSubmit)}
                </button>
            </div>
        </ActionForm>
    }
}

#[component]
fn Done(state: PasswordChangeView) -> impl IntoView {
    let locale = use_locale();
    view! {
        <p class="notice notice--success" role="status">{t(Msg::PasswordChangeDone)}</p>
        {(state.sessions_ended > 0).then(|| view! {
            <p>
                {locale.format(
                    Msg::PasswordChangeSessionsEnded,
                    &[("count", &state.sessions_ended.to_string())],
                )}
            </p>
        })}
        <PushReports reports=state.pushes/>
    }
}
