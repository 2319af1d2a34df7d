//! Forgot username (seed 000): employee number + PIN, or "identify another way" with
//! identity attributes. The outcome comes back through the flow named in `?flow=`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::username::{ForgotUsernameView, IdentityMethod, RecoverUsername, load_forgot_username},
    components::{
        error_summary::{ErrorSummary, step_problems},
        form::CsrfField,
        identity_fields::{EmployeePinFields, IdentityFields},
        portal::WithPortal,
    },
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn ForgotUsernamePage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<RecoverUsername>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let method = move || query.read().get("method");
    let view_state = Resource::new(
        move || (flow(), method(), action.version().get()),
        |(flow, method, _)| load_forgot_username(flow, method),
    );

    view! {
        <Title text=t(Msg::UsernameTitle)/>
        <h1 tabindex="-1">{t(Msg::UsernameTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if let Some(login) = state.found_login.clone() {
                    return view! { <Found login mailed_to=state.mailed_to.clone()/> }.into_any();
                }
                let error = state.error.clone();
                view! {
                    {move || step_problems(locale, None, error.as_ref(), FIELD_IDS).map(|problems| view! { <ErrorSummary problems/> })}
                    <ProofForm state action/>
                }
                    .into_any()
            })}
        </Transition>
        <WithPortal children=move |portal| {
            let institution = portal.institution;
            view! {
                <p class="help">
                    {locale.format(
                        Msg::UsernameHelp,
                        &[("phone", &institution.helpdesk_phone), ("hours", institution.helpdesk_hours.get(locale))],
                    )}
                </p>
            }
        }/>
    }
}

#[component]
fn Found(login: String, mailed_to: Option<String>) -> impl IntoView {
    let locale = use_locale();
    view! {
        <div class="notice notice--success" role="status">
            <p>{t(Msg::UsernameFoundIntro)}</p>
            <p class="found-login">{login}</p>
        </div>
        {mailed_to.map(|address| view! { <p>{locale.format(Msg::UsernameMailed, &[("email", &address)])}</p> })}
        <p><a class="button" href="/signin">{t(Msg::UsernameSignIn)}</a></p>
    }
}

#[component]
fn ProofForm(state: ForgotUsernameView, action: ServerAction<RecoverUsername>) -> impl IntoView {
    let error = state.error.clone();
    let (fields, other_way, other_label) = match state.method {
        IdentityMethod::EmployeePin => (
            view! {
                <p>{t(Msg::UsernamePinIntro)}</p>
                <EmployeePinFields employee_number=state.employee_number.clone() error/>
            }
            .into_any(),
            IdentityMethod::Attributes,
            Msg::UsernameOtherWayAttributes,
        ),
        IdentityMethod::Attributes => (
            view! {
                <p>{t(Msg::UsernameAttributesIntro)}</p>
                <IdentityFields
                    first_name=state.first_name.clone()
                    last_name=state.last_name.clone()
                    date_of_birth=state.date_of_birth.clone()
                    error
                />
            }
            .into_any(),
            IdentityMethod::EmployeePin,
            Msg::UsernameOtherWayPin,
        ),
    };
    view! {
        <ActionForm action attr:class="form" attr:novalidate="">
            <CsrfField/>
            <input type="hidden" name="form[method]" value=state.method.code()/>
            {fields}
            <div class="form-actions">
                <button type="submit" class="button">
                    {t(Msg::UsernameSubmit)}
                </button>
            </div>
        </ActionForm>
        <p>
            <a href=format!("/forgot-username?method={}", other_way.code())>{t(other_label)}</a>
        </p>
    }
}

/// The ids of the fields the forms render.
const FIELD_IDS: &[&str] = &[
    "employee_number",
    "pin",
    "first_name",
    "last_name",
    "date_of_birth",
    "sin_last6",
];
