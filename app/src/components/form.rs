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

/// A checkbox or radio button with its label (the whole row is the target).
#[component]
pub fn Choice(
    id: &'static str,
    name: &'static str,
    value: &'static str,
    kind: &'static str,
    label: Msg,
    #[prop(optional)] checked: bool,
    #[prop(default = None)] error: Option<String>,
    #[prop(optional)] hint: Option<Msg>,
) -> impl IntoView {
    let error_id = format!("{id}-error");
    let hint_id = format!("{id}-hint");
    let described_by = match (error.is_some(), hint.is_some()) {
        (true, true) => Some(format!("{error_id} {hint_id}")),
        (true, false) => Some(error_id.clone()),
        (false, true) => Some(hint_id.clone()),
        (false, false) => None,
    };
    view! {
        {error.map(|e| view! { <p class="field__error" id=error_id>{e}</p> })}
        <div class="choice">
            <input
                type=kind
                id=id
                name=name
                value=value
                checked=checked
                aria-describedby=described_by
            />
            <label for=id>{t(label)}</label>
        </div>
        {hint.map(|h| view! { <p class="field__hint choice__hint" id=hint_id>{t(h)}</p> })}
    }
}

/// Inside a flow step's form, around its fields: the CSRF token, the flow, the step the
/// form answers (and the intent of a secondary button), then the button. The flows' step
/// forms wrap it in their `ActionForm`.
#[component]
pub fn StepFormBody(
    flow_id: String,
    step: &'static str,
    submit: Msg,
    #[prop(optional)] children: Option<Children>,
    #[prop(default = None)] intent: Option<&'static str>,
    #[prop(optional)] secondary: bool,
) -> impl IntoView {
    view! {
        <CsrfField/>
        {(!flow_id.is_empty()).then(|| view! { <input type="hidden" name="flow" value=flow_id/> })}
        <input type="hidden" name="form[step]" value=step/>
        {intent.map(|intent| view! { <input type="hidden" name="form[intent]" value=intent/> })}
        {children.map(|children| children())}
        <div class="form-actions">
            <button type="submit" class=if secondary { "button button--secondary" } else { "button" }>
                {t(submit)}
            </button>
        </div>
    }
}
