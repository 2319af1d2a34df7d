//! Form fields with their label, hint and error wired for assistive technology.

use leptos::prelude::*;

use crate::{PageSettings, i18n::Msg, t};

/// The hidden CSRF token every state-changing form carries.
#[component]
pub fn CsrfField() -> impl IntoView {
    let token = use_context::<PageSettings>()
        .map(|s| s.csrf_token)
        .unwrap_or_default();
    view! { <input type="hidden" name="csrf" value=token/> }
}

/// A labelled text input. `autocomplete` is required: every field says what it holds.
#[component]
pub fn TextField(
    id: &'static str,
    name: &'static str,
    label: Msg,
    autocomplete: &'static str,
    #[prop(default = "text")] input_type: &'static str,
    #[prop(optional)] hint: Option<Msg>,
    #[prop(default = None)] error: Option<String>,
    #[prop(optional, into)] value: String,
    #[prop(default = true)] required: bool,
    #[prop(optional)] autocapitalize_off: bool,
    /// The on-screen keyboard to offer (`numeric` for codes).
    #[prop(optional)]
    inputmode: Option<&'static str>,
) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let error_id = format!("{id}-error");
    let mut described_by = Vec::new();
    if hint.is_some() {
        described_by.push(hint_id.clone());
    }
    if error.is_some() {
        described_by.push(error_id.clone());
    }
    let described_by = (!described_by.is_empty()).then(|| described_by.join(" "));
    let invalid = error.is_some().then_some("true");
    let class = if error.is_some() {
        "field field--error"
    } else {
        "field"
    };
    view! {
        <div class=class>
            <label class="field__label" for=id>
                {t(label)}
            </label>
            {hint.map(|hint| view! { <p class="field__hint" id=hint_id>{t(hint)}</p> })}
            {error.map(|error| view! { <p class="field__error" id=error_id>{error}</p> })}
            <input
                class="field__input"
                id=id
                name=name
                type=input_type
                autocomplete=autocomplete
                required=required
                aria-describedby=described_by
                aria-invalid=invalid
                autocapitalize=autocapitalize_off.then_some("none")
                spellcheck=autocapitalize_off.then_some("false")
                inputmode=inputmode
                value=value
            />
        </div>
    }
}
