//! The live checklist of the password policy: each rule ticks as the person types, and a
//! polite live region announces the count of rules still unmet (not every keystroke).

use leptos::prelude::*;

use crate::{
    components::form::TextField,
    i18n::{Locale, Msg},
    policy::{PasswordPolicy, PasswordRule},
    t, use_locale,
};

/// The text of one rule in a language.
pub fn rule_text(locale: Locale, policy: &PasswordPolicy, rule: PasswordRule) -> String {
    match rule {
        PasswordRule::MinLength => locale.format(
            Msg::PasswordRuleMinLength,
            &[("min", &policy.min_length.to_string())],
        ),
        PasswordRule::MaxLength => locale.format(
            Msg::PasswordRuleMaxLength,
            &[("max", &policy.max_length.to_string())],
        ),
        PasswordRule::Lower => locale.text(Msg::PasswordRuleLower).to_owned(),
        PasswordRule::Upper => locale.text(Msg::PasswordRuleUpper).to_owned(),
        PasswordRule::Digit => locale.text(Msg::PasswordRuleDigit).to_owned(),
        PasswordRule::Special => locale.text(Msg::PasswordRuleSpecial).to_owned(),
        PasswordRule::NotGuessable => locale.text(Msg::PasswordRuleNotGuessable).to_owned(),
    }
}

/// `password` is the field's current value; `id` is referenced by the field's
/// `aria-describedby`.
#[component]
pub fn PasswordChecklist(
    id: &'static str,
    policy: PasswordPolicy,
    #[prop(into)] password: Signal<String>,
) -> impl IntoView {
    let locale = use_locale();
    let statuses = {
        let policy = policy.clone();
        Memo::new(move |_| policy.check_characters(&password.get()))
    };
    let items = move || {
        statuses
            .get()
            .into_iter()
            .map(|status| {
                let class = if status.met {
                    "checklist__item checklist__item--met"
                } else {
                    "checklist__item"
                };
                let state = locale.text(if status.met {
                    Msg::PasswordRuleMet
                } else {
                    Msg::PasswordRuleUnmet
                });
                view! {
                    <li class=class>
                        {rule_text(locale, &policy, status.rule)}
                        <span class="visually-hidden">{format!(" ({state})")}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="checklist" id=id>
            <p class="checklist__title">{locale.text(Msg::PasswordChecklistTitle)}</p>
            <ul class="checklist__items" aria-live="polite">{items}</ul>
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::PageSettings;

    fn render(locale: Locale, password: &str) -> String {
        let owner = Owner::new();
        owner.with(|| {
            provide_context(PageSettings {
                locale,
                csrf_token: String::new(),
            });
            let password = Signal::stored(password.to_owned());
            view! { <PasswordChecklist id="rules" policy=PasswordPolicy::default() password/> }
                .to_html()
        })
    }

    #[test]
    fn each_rule_shows_whether_it_is_met_in_the_page_language() {
        let html = render(Locale::En, "abcdefghijklmnop");
        assert!(html.contains("aria-live=\"polite\""), "{html}");
        assert!(html.contains("at least 14 characters"));
        assert_eq!(
            html.matches("checklist__item--met").count(),
            2,
            "length and lower case: {html}"
        );
        assert_eq!(html.matches("(not met)").count(), 3, "{html}");

        let html = render(Locale::Fr, "Abcdefgh1234!x");
        assert!(html.contains("au moins 14 caractères"));
        assert_eq!(html.matches("checklist__item--met").count(), 5, "{html}");
        assert!(!html.contains("non respecté"));
    }
}

/// The new password (with the live checklist) and its confirmation, named
/// `form[new_password]` and `form[new_password_confirmation]`.
#[component]
pub fn NewPasswordFields(
    policy: PasswordPolicy,
    #[prop(default = None)] error: Option<String>,
    #[prop(default = None)] confirm_error: Option<String>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let (described_by, field_class) = if error.is_some() {
        ("new_password-error password-rules", "field field--error")
    } else {
        ("password-rules", "field")
    };
    view! {
        <div class=field_class>
            <label class="field__label" for="new_password">{t(Msg::ActivationNewPasswordLabel)}</label>
            {error.map(|e| view! { <p class="field__error" id="new_password-error">{e}</p> })}
            <input
                class="field__input"
                id="new_password"
                name="form[new_password]"
                type="password"
                autocomplete="new-password"
                required=true
                aria-describedby=described_by
                on:input=move |ev| password.set(event_target_value(&ev))
            />
            <PasswordChecklist id="password-rules" policy password/>
        </div>
        <TextField
            id="new_password_confirmation"
            name="form[new_password_confirmation]"
            label=Msg::ActivationNewPasswordConfirmLabel
            autocomplete="new-password"
            input_type="password"
            error=confirm_error
        />
    }
}
