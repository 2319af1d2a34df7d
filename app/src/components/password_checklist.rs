//! The live checklist of the password policy: each rule ticks as the person types, and a
//! polite live region announces the count of rules still unmet (not every keystroke).

use leptos::{html, prelude::*};
use serde::{Deserialize, Serialize};

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

/// What the checklist says, in the page's language. Put together on the server and handed
/// to the island as its props, so the browser carries no translation table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChecklistTexts {
    pub title: String,
    pub met: String,
    pub unmet: String,
    /// The text of each rule the checklist can show.
    pub rules: Vec<(PasswordRule, String)>,
}

impl ChecklistTexts {
    pub fn new(locale: Locale, policy: &PasswordPolicy) -> Self {
        let mut rules = policy.character_rules();
        rules.push(PasswordRule::MaxLength);
        Self {
            title: locale.text(Msg::PasswordChecklistTitle).to_owned(),
            met: locale.text(Msg::PasswordRuleMet).to_owned(),
            unmet: locale.text(Msg::PasswordRuleUnmet).to_owned(),
            rules: rules
                .into_iter()
                .map(|rule| (rule, rule_text(locale, policy, rule)))
                .collect(),
        }
    }

    fn rule(&self, rule: PasswordRule) -> &str {
        self.rules
            .iter()
            .find(|(known, _)| *known == rule)
            .map_or("", |(_, text)| text.as_str())
    }
}

/// `password` is the field's current value; `id` is referenced by the field's
/// `aria-describedby`.
#[component]
pub fn PasswordChecklist(
    id: &'static str,
    policy: PasswordPolicy,
    texts: ChecklistTexts,
    #[prop(into)] password: Signal<String>,
) -> impl IntoView {
    let statuses = Memo::new(move |_| policy.check_characters(&password.get()));
    let title = texts.title.clone();
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
                let state = if status.met { &texts.met } else { &texts.unmet };
                view! {
                    <li class=class>
                        {texts.rule(status.rule).to_owned()}
                        <span class="visually-hidden">{format!(" ({state})")}</span>
                    </li>
                }
            })
            .collect_view()
    };
    view! {
        <div class="checklist" id=id>
            <p class="checklist__title">{title}</p>
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
            let policy = PasswordPolicy::default();
            let texts = ChecklistTexts::new(locale, &policy);
            view! { <PasswordChecklist id="rules" policy texts password/> }.to_html()
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

    #[test]
    fn the_new_password_field_is_an_island_that_carries_its_texts() {
        let owner = Owner::new();
        let html = owner.with(|| {
            provide_context(PageSettings {
                locale: Locale::Fr,
                csrf_token: String::new(),
            });
            view! { <NewPasswordFields policy=PasswordPolicy::default()/> }.to_html()
        });
        assert_eq!(html.matches("<leptos-island").count(), 1, "{html}");
        // The browser gets the policy and the texts as the island's props.
        let props = html
            .split("data-props=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("island props");
        assert!(props.contains("min_length"), "{props}");
        assert!(props.contains("au moins 14 caractères"), "{props}");
        assert!(props.contains("non respecté"), "{props}");
        // The confirmation is a plain field outside the island.
        let island_end = html.find("</leptos-island>").expect("island end");
        assert!(
            html[island_end..].contains("new_password_confirmation"),
            "{html}"
        );
    }
}

/// The new password (with the live checklist) and its confirmation, named
/// `form[new_password]` and `form[new_password_confirmation]`. Holds an island: the page
/// step that renders it renders `LoadClient` too.
#[component]
pub fn NewPasswordFields(
    policy: PasswordPolicy,
    #[prop(default = None)] error: Option<String>,
    #[prop(default = None)] confirm_error: Option<String>,
) -> impl IntoView {
    let texts = ChecklistTexts::new(use_locale(), &policy);
    view! {
        <NewPasswordInput label=t(Msg::ActivationNewPasswordLabel).to_owned() policy texts error/>
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

/// The new password's field and its checklist: an island, the checklist follows the typing.
#[island]
fn NewPasswordInput(
    label: String,
    policy: PasswordPolicy,
    texts: ChecklistTexts,
    error: Option<String>,
) -> impl IntoView {
    let password = RwSignal::new(String::new());
    // What was typed before the island woke up (the client loads after the page shows).
    let input = NodeRef::<html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = input.get() {
            password.set(input.value());
        }
    });
    let (described_by, field_class) = if error.is_some() {
        ("new_password-error password-rules", "field field--error")
    } else {
        ("password-rules", "field")
    };
    view! {
        <div class=field_class>
            <label class="field__label" for="new_password">{label}</label>
            {error.map(|e| view! { <p class="field__error" id="new_password-error">{e}</p> })}
            <input
                class="field__input"
                id="new_password"
                name="form[new_password]"
                type="password"
                autocomplete="new-password"
                required=true
                aria-describedby=described_by
                node_ref=input
                on:input=move |ev| password.set(event_target_value(&ev))
            />
            <PasswordChecklist id="password-rules" policy texts password/>
        </div>
    }
}
