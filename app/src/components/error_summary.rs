//! The error summary at the top of a form (GOV.UK pattern): a heading, then one link per
//! problem to the field concerned. It takes focus when its page loads so screen readers
//! announce it (`autofocus`: every submit is a page load).

use leptos::prelude::*;

use crate::{
    api::step::StepError,
    components::password_checklist::rule_text,
    i18n::{Locale, Msg},
    policy::PasswordPolicy,
    t,
};

/// One problem: its message, and the id of the field it concerns (if any).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub field_id: Option<String>,
}

#[component]
pub fn ErrorSummary(problems: Vec<Problem>) -> impl IntoView {
    (!problems.is_empty()).then(|| {
        view! {
            <div
                class="error-summary"
                role="alert"
                aria-labelledby="error-summary-title"
                tabindex="-1"
                autofocus
            >
                <h2 id="error-summary-title" class="error-summary__title">
                    {t(Msg::FormErrorSummaryTitle)}
                </h2>
                <ul class="error-summary__list">
                    {problems
                        .into_iter()
                        .map(|problem| match problem.field_id {
                            Some(id) => {
                                view! {
                                    <li>
                                        <a href=format!("#{id}")>{problem.message}</a>
                                    </li>
                                }
                                    .into_any()
                            }
                            None => view! { <li>{problem.message}</li> }.into_any(),
                        })
                        .collect_view()}
                </ul>
            </div>
        }
    })
}

/// The summary's lines for a step: the step's refusal, and each password rule it breaks
/// (the live checklist needs JavaScript). `fields` are the ids of the fields the page
/// renders (links need `'static` ids).
pub fn step_problems(
    locale: Locale,
    policy: Option<&PasswordPolicy>,
    error: Option<&StepError>,
    fields: &[&'static str],
) -> Option<Vec<Problem>> {
    let error = error?;
    let field_id = error
        .field
        .as_deref()
        .and_then(|field| fields.iter().copied().find(|id| *id == field))
        .map(str::to_owned);
    let mut problems = vec![Problem {
        message: error.text(locale),
        field_id: field_id.clone(),
    }];
    if let Some(policy) = policy {
        problems.extend(error.unmet_rules.iter().map(|rule| Problem {
            message: rule_text(locale, policy, *rule),
            field_id: field_id.clone(),
        }));
    }
    Some(problems)
}
