//! Forgot username (seed 000): employee number + PIN, or "identify another way" with
//! identity attributes. The outcome comes back through the flow named in `?flow=`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    api::{
        AppError,
        activation::StepError,
        username::{ForgotUsernameView, IdentityMethod, RecoverUsername, load_forgot_username},
    },
    components::{
        error_summary::{ErrorSummary, Problem},
        form::{CsrfField, TextField},
        portal::WithPortal,
    },
    i18n::{Locale, Msg},
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
    let transport_error = move || action.value().get().and_then(Result::err);

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
                    {move || problems(locale, &error, transport_error()).map(|problems| view! { <ErrorSummary problems/> })}
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
    let field_error = |field: &str| {
        state
            .error
            .as_ref()
            .filter(|e| e.field.as_deref() == Some(field))
            .map(|e| t(e.message).to_owned())
    };
    let pending = action.pending();
    let (fields, other_way, other_label) = match state.method {
        IdentityMethod::EmployeePin => (
            view! {
                <p>{t(Msg::UsernamePinIntro)}</p>
                <TextField
                    id="employee_number"
                    name="form[employee_number]"
                    label=Msg::UsernameEmployeeNumberLabel
                    hint=Msg::UsernameEmployeeNumberHint
                    autocomplete="off"
                    autocapitalize_off=true
                    error=field_error("employee_number")
                    value=state.employee_number.clone()
                />
                <TextField
                    id="pin"
                    name="form[pin]"
                    label=Msg::UsernamePinLabel
                    autocomplete="off"
                    input_type="password"
                    inputmode="numeric"
                    error=field_error("pin")
                />
            }
            .into_any(),
            IdentityMethod::Attributes,
            Msg::UsernameOtherWayAttributes,
        ),
        IdentityMethod::Attributes => (
            view! {
                <p>{t(Msg::UsernameAttributesIntro)}</p>
                <TextField
                    id="first_name"
                    name="form[first_name]"
                    label=Msg::UsernameFirstNameLabel
                    autocomplete="given-name"
                    error=field_error("first_name")
                    value=state.first_name.clone()
                />
                <TextField
                    id="last_name"
                    name="form[last_name]"
                    label=Msg::UsernameLastNameLabel
                    autocomplete="family-name"
                    error=field_error("last_name")
                    value=state.last_name.clone()
                />
                <TextField
                    id="date_of_birth"
                    name="form[date_of_birth]"
                    label=Msg::UsernameDateOfBirthLabel
                    hint=Msg::UsernameDateOfBirthHint
                    autocomplete="bday"
                    input_type="date"
                    error=field_error("date_of_birth")
                    value=state.date_of_birth.clone()
                />
                <TextField
                    id="sin_last6"
                    name="form[sin_last6]"
                    label=Msg::UsernameSinLabel
                    hint=Msg::UsernameSinHint
                    autocomplete="off"
                    input_type="password"
                    inputmode="numeric"
                    error=field_error("sin_last6")
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
                <button type="submit" class="button" aria-disabled=move || pending.get().then_some("true")>
                    {t(Msg::UsernameSubmit)}
                </button>
            </div>
        </ActionForm>
        <p>
            <a href=format!("/forgot-username?method={}", other_way.code())>{t(other_label)}</a>
        </p>
    }
}

fn problems(
    locale: Locale,
    error: &Option<StepError>,
    transport_error: Option<AppError>,
) -> Option<Vec<Problem>> {
    if let Some(error) = transport_error {
        return Some(vec![Problem {
            message: locale.text(error.message()).to_owned(),
            field_id: None,
        }]);
    }
    let error = error.as_ref()?;
    let message = locale.format(
        error.message,
        &[("minutes", &error.retry_minutes.unwrap_or(1).to_string())],
    );
    let field_id = error.field.as_deref().and_then(|field| {
        [
            "employee_number",
            "pin",
            "first_name",
            "last_name",
            "date_of_birth",
            "sin_last6",
        ]
        .into_iter()
        .find(|id| *id == field)
    });
    Some(vec![Problem { message, field_id }])
}
