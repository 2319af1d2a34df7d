//! The fields of the knowledge-based proofs of seed 000, shared by forgot username and
//! forgot password: the employee number and PIN, or the identity attributes. Secrets (PIN,
//! SIN digits) are never filled in again after a refusal.

use leptos::prelude::*;

use crate::{api::step::StepError, components::form::TextField, i18n::Msg, use_locale};

/// The refusal's text for the field `id`, if it concerns that field.
fn error_for(error: &Option<StepError>, id: &str) -> Option<String> {
    let locale = use_locale();
    error
        .as_ref()
        .filter(|e| e.field.as_deref() == Some(id))
        .map(|e| e.text(locale))
}

#[component]
pub fn EmployeePinFields(employee_number: String, error: Option<StepError>) -> impl IntoView {
    view! {
        <TextField
            id="employee_number"
            name="form[employee_number]"
            label=Msg::UsernameEmployeeNumberLabel
            hint=Msg::UsernameEmployeeNumberHint
            autocomplete="off"
            autocapitalize_off=true
            error=error_for(&error, "employee_number")
            value=employee_number
        />
        <TextField
            id="pin"
            name="form[pin]"
            label=Msg::UsernamePinLabel
            autocomplete="off"
            input_type="password"
            inputmode="numeric"
            error=error_for(&error, "pin")
        />
    }
}

#[component]
pub fn IdentityFields(
    first_name: String,
    last_name: String,
    date_of_birth: String,
    error: Option<StepError>,
) -> impl IntoView {
    view! {
        <TextField
            id="first_name"
            name="form[first_name]"
            label=Msg::UsernameFirstNameLabel
            autocomplete="given-name"
            error=error_for(&error, "first_name")
            value=first_name
        />
        <TextField
            id="last_name"
            name="form[last_name]"
            label=Msg::UsernameLastNameLabel
            autocomplete="family-name"
            error=error_for(&error, "last_name")
            value=last_name
        />
        <TextField
            id="date_of_birth"
            name="form[date_of_birth]"
            label=Msg::UsernameDateOfBirthLabel
            hint=Msg::UsernameDateOfBirthHint
            autocomplete="bday"
            input_type="date"
            error=error_for(&error, "date_of_birth")
            value=date_of_birth
        />
        <TextField
            id="sin_last6"
            name="form[sin_last6]"
            label=Msg::UsernameSinLabel
            hint=Msg::UsernameSinHint
            autocomplete="off"
            input_type="password"
            inputmode="numeric"
            error=error_for(&error, "sin_last6")
        />
    }
}
