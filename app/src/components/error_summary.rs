//! The error summary at the top of a form (GOV.UK pattern): a heading, then one link per
//! problem to the field concerned. It takes focus when it appears so screen readers
//! announce it, with or without JavaScript (`autofocus`).

use leptos::{html, prelude::*};

use crate::{
    api::{AppError, step::StepError},
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
    let summary = NodeRef::<html::Div>::new();
    // After a client-side submit the summary appears without a page load: focus it.
    Effect::new(move |_| {
        if let Some(element) = summary.get() {
            let _ = element.focus();
        }
    });
    (!problems.is_empty()).then(|| {
        view! {
            <div
                class="error-summary"
                role="alert"
                aria-labelledby="error-summary-title"
                tabindex="-1"
                autofocus
                node_ref=summary
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

/// The summary's lines for a step: the step's refusal (and each password rule it breaks,
/// since the live checklist needs JavaScript), or an error from the transport. `fields`
/// are the ids of the fields the page renders (links need `'static` ids).
pub fn step_problems(
    locale: Locale,
    policy: Option<&PasswordPolicy>,
    error: Option<&StepError>,
    transport_error: Option<AppError>,
    fields: &[&'static str],
) -> Option<Vec<Problem>> {
    if let Some(error) = transport_error {
        return Some(vec![Problem {
            message: locale.text(error.message()).to_owned(),
            field_id: None,
        }]);
    }
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
