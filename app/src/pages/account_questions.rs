//! "My account → Security questions" (seed 000): the questions set up now (never the
//! answers), and the form that replaces them.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::questions::{CUSTOM_QUESTION, QuestionsView, SaveQuestions, load_questions},
    components::{
        error_summary::{ErrorSummary, Problem, step_problems},
        form::CsrfField,
    },
    i18n::Msg,
    t, use_locale,
};

/// The ids of the fields of question `i` (`Problem` links need `'static` ids).
const FIELD_IDS: &[&str] = &[
    "question_0",
    "custom_0",
    "answer_0",
    "question_1",
    "custom_1",
    "answer_1",
    "question_2",
    "custom_2",
    "answer_2",
    "question_3",
    "custom_3",
    "answer_3",
    "question_4",
    "custom_4",
    "answer_4",
];

#[component]
pub fn AccountQuestionsPage() -> impl IntoView {
    let locale = use_locale();
    let action = ServerAction::<SaveQuestions>::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let saved = move || query.read().get("saved").is_some();
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_questions(flow),
    );
    view! {
        <Title text=t(Msg::QuestionsTitle)/>
        <h1 tabindex="-1">{t(Msg::QuestionsTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.signed_in {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let error = state.error.clone();
                let problems = move || -> Option<Vec<Problem>> {
                    step_problems(locale, None, error.as_ref(), FIELD_IDS)
                };
                let just_saved = saved() && state.error.is_none();
                view! {
                    {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
                    {just_saved.then(|| view! {
                        <p class="notice notice--success" role="status">{t(Msg::QuestionsSaved)}</p>
                    })}
                    <Enrolled questions=state.enrolled.clone()/>
                    <QuestionsForm state action/>
                    <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[component]
fn Enrolled(questions: Vec<String>) -> impl IntoView {
    if questions.is_empty() {
        return view! { <p>{t(Msg::QuestionsNone)}</p> }.into_any();
    }
    view! {
        <h2>{t(Msg::QuestionsCurrent)}</h2>
        <ol>{questions.into_iter().map(|q| view! { <li>{q}</li> }).collect_view()}</ol>
        <p class="field__hint">{t(Msg::QuestionsReplaceNote)}</p>
    }
    .into_any()
}

#[component]
fn QuestionsForm(state: QuestionsView, action: ServerAction<SaveQuestions>) -> impl IntoView {
    let locale = use_locale();
    let count = usize::try_from(state.count).unwrap_or(3).min(5);
    let error_for = |id: &str| {
        state
            .error
            .as_ref()
            .filter(|e| e.field.as_deref() == Some(id))
            .map(|e| e.text(locale))
    };
    let fieldsets = (0..count)
        .map(|i| {
            let question_id = FIELD_IDS[i * 3];
            let custom_id = FIELD_IDS[i * 3 + 1];
            let answer_id = FIELD_IDS[i * 3 + 2];
            let chosen = state.chosen.get(i).cloned().unwrap_or_default();
            let custom = state.custom.get(i).cloned().unwrap_or_default();
            let errors = [error_for(question_id), error_for(custom_id), error_for(answer_id)];
            let options = state
                .choices
                .iter()
                .map(|choice| {
                    let selected = choice.id == chosen;
                    view! { <option value=choice.id.clone() selected=selected>{choice.text.clone()}</option> }
                })
                .collect_view();
            let [question_error, custom_error, answer_error] = errors;
            view! {
                <fieldset class="field-group">
                    <legend class="field__label">{locale.format(Msg::QuestionsLegend, &[("n", &(i + 1).to_string())])}</legend>
                    <div class=if question_error.is_some() { "field field--error" } else { "field" }>
                        <label class="field__label" for=question_id>{t(Msg::QuestionsChoiceLabel)}</label>
                        {question_error.clone().map(|e| view! { <p class="field__error" id=format!("{question_id}-error")>{e}</p> })}
                        <select
                            class="field__input"
                            id=question_id
                            name=format!("form[question][{i}]")
                            aria-describedby=question_error.is_some().then(|| format!("{question_id}-error"))
                        >
                            <option value="">{t(Msg::QuestionsChoosePlaceholder)}</option>
                            {options}
                            <option value=CUSTOM_QUESTION selected=chosen == CUSTOM_QUESTION>{t(Msg::QuestionsCustomOption)}</option>
                        </select>
                    </div>
                    <div class=if custom_error.is_some() { "field field--error" } else { "field" }>
                        <label class="field__label" for=custom_id>{t(Msg::QuestionsCustomLabel)}</label>
                        <p class="field__hint" id=format!("{custom_id}-hint")>{t(Msg::QuestionsCustomHint)}</p>
                        {custom_error.clone().map(|e| view! { <p class="field__error" id=format!("{custom_id}-error")>{e}</p> })}
                        <input
                            class="field__input"
                            id=custom_id
                            name=format!("form[custom][{i}]")
                            type="text"
                            autocomplete="off"
                            maxlength="200"
                            value=custom
                            aria-describedby=if custom_error.is_some() { format!("{custom_id}-hint {custom_id}-error") } else { format!("{custom_id}-hint") }
                        />
                    </div>
                    <div class=if answer_error.is_some() { "field field--error" } else { "field" }>
                        <label class="field__label" for=answer_id>{t(Msg::QuestionsAnswerLabel)}</label>
                        <p class="field__hint" id=format!("{answer_id}-hint")>{t(Msg::QuestionsAnswerHint)}</p>
                        {answer_error.clone().map(|e| view! { <p class="field__error" id=format!("{answer_id}-error")>{e}</p> })}
                        <input
                            class="field__input"
                            id=answer_id
                            name=format!("form[answer][{i}]")
                            type="text"
                            autocomplete="off"
                            spellcheck="false"
                            required=true
                            aria-describedby=if answer_error.is_some() { format!("{answer_id}-hint {answer_id}-error") } else { format!("{answer_id}-hint") }
                        />
                    </div>
                </fieldset>
            }
        })
        .collect_view();
    view! {
        <p>{locale.format(Msg::QuestionsIntro, &[("count", &count.to_string())])}</p>
        <ActionForm action attr:class="form" attr:novalidate="">
            <CsrfField/>
            {fieldsets}
            <div class="form-actions">
                <button type="submit" class="button">
                    {t(Msg::QuestionsSave)}
                </button>
            </div>
        </ActionForm>
    }
}
