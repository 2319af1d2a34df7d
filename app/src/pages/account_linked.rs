//! "My account → Link other accounts" (seed 002, "Joindre d'autres comptes"): one panel per
//! configured system, with the linked account or a form to link one (its name and its
//! password, which that system checks and Sésame does not keep).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::Redirect, hooks::use_query_map};

use crate::{
    api::{
        account::{LinkAccount, LinkableSystem, LinkedAccountsView, load_linked_accounts},
        step::field_error_text,
    },
    components::{
        error_summary::{ErrorSummary, Problem},
        form::CsrfField,
    },
    i18n::Msg,
    t, use_locale,
};

type LinkAction = ServerAction<LinkAccount>;

#[component]
pub fn AccountLinkedPage() -> impl IntoView {
    let locale = use_locale();
    let action = LinkAction::new();
    let query = use_query_map();
    let flow = move || query.read().get("flow");
    let view_state = Resource::new(
        move || (flow(), action.version().get()),
        |(flow, _)| load_linked_accounts(flow),
    );
    view! {
        <Title text=t(Msg::LinkedTitle)/>
        <h1 tabindex="-1">{t(Msg::LinkedTitle)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let state = view_state.await.unwrap_or_default();
                if !state.signed_in {
                    return view! { <Redirect path="/signin"/> }.into_any();
                }
                let error = state.error.clone();
                let problems = move || -> Option<Vec<Problem>> {
                    error.as_ref().map(|error| {
                        vec![Problem { message: error.text(locale), field_id: error.field.clone() }]
                    })
                };
                let systems = state
                    .systems
                    .iter()
                    .map(|system| view! { <SystemPanel system=system.clone() state=state.clone() action/> })
                    .collect_view();
                let none = state.systems.is_empty().then(|| view! { <p>{t(Msg::LinkedNoneConfigured)}</p> });
                view! {
                    {move || problems().map(|problems| view! { <ErrorSummary problems/> })}
                    {state.notice.map(|msg| view! {
                        <p class="notice notice--success" role="status">{t(msg)}</p>
                    })}
                    <p>{t(Msg::LinkedIntro)}</p>
                    {none}
                    {systems}
                    <p><a href="/account">{t(Msg::QuestionsBack)}</a></p>
                }
                    .into_any()
            })}
        </Transition>
    }
}

#[component]
fn SystemPanel(
    system: LinkableSystem,
    state: LinkedAccountsView,
    action: LinkAction,
) -> impl IntoView {
    let locale = use_locale();
    let name = system.name.get(locale).to_owned();
    let title_id = format!("system-{}-title", system.id);
    let password_note = if system.receives_password {
        t(Msg::LinkedReceivesPassword)
    } else {
        t(Msg::LinkedKeepsPassword)
    };
    let unlink_described = title_id.clone();
    let body = match system.linked_account.clone() {
        Some(account) => view! {
            <p>{locale.format(Msg::LinkedLinkedAs, &[("account", &account)])}</p>
            <p>{password_note}</p>
            {system.push_pending.then(|| view! { <p class="notice">{t(Msg::LinkedPushPending)}</p> })}
            <ActionForm action attr:class="form-actions">
                <CsrfField/>
                <input type="hidden" name="form[system]" value=system.id.clone()/>
                <input type="hidden" name="form[intent]" value="unlink"/>
                <button type="submit" class="button button--secondary" aria-describedby=unlink_described>
                    {t(Msg::LinkedUnlink)}
                </button>
            </ActionForm>
        }
        .into_any(),
        None => view! {
            <p>{password_note}</p>
            <LinkForm system state name=name.clone() action/>
        }
        .into_any(),
    };
    let labelled_by = title_id.clone();
    view! {
        <section class="panel" aria-labelledby=labelled_by>
            <h2 id=title_id>{name}</h2>
            {body}
        </section>
    }
}

#[component]
fn LinkForm(
    system: LinkableSystem,
    state: LinkedAccountsView,
    name: String,
    action: LinkAction,
) -> impl IntoView {
    let locale = use_locale();
    let refused_here = state.refused_system.as_deref() == Some(system.id.as_str());
    let error = state.error.as_ref().filter(|_| refused_here);
    let account_id = format!("account-{}", system.id);
    let password_id = format!("password-{}", system.id);
    let hint_id = format!("{password_id}-hint");
    let account_error = field_error_text(error, &account_id, locale);
    let password_error = field_error_text(error, &password_id, locale);
    let typed = if refused_here {
        state.account_typed.clone()
    } else {
        String::new()
    };
    let field = |id: &str, error: &Option<String>| {
        let class = if error.is_some() {
            "field field--error"
        } else {
            "field"
        };
        (class, error.is_some().then(|| format!("{id}-error")))
    };
    let (account_class, account_error_id) = field(&account_id, &account_error);
    let (password_class, password_error_id) = field(&password_id, &password_error);
    let password_described = match &password_error_id {
        Some(error_id) => format!("{hint_id} {error_id}"),
        None => hint_id.clone(),
    };
    view! {
        <ActionForm action attr:class="form" attr:novalidate="">
            <CsrfField/>
            <input type="hidden" name="form[system]" value=system.id.clone()/>
            <div class=account_class>
                <label class="field__label" for=account_id.clone()>
                    {locale.format(Msg::LinkedAccountLabel, &[("system", &name)])}
                </label>
                {account_error.map(|e| view! { <p class="field__error" id=account_error_id.clone()>{e}</p> })}
                <input
                    class="field__input"
                    id=account_id
                    name="form[account]"
                    type="text"
                    autocomplete=format!("section-{} username", system.id)
                    autocapitalize="none"
                    spellcheck="false"
                    required=true
                    aria-describedby=account_error_id.clone()
                    aria-invalid=account_error_id.is_some().then_some("true")
                    value=typed
                />
            </div>
            <div class=password_class>
                <label class="field__label" for=password_id.clone()>{t(Msg::LinkedPasswordLabel)}</label>
                <p class="field__hint" id=hint_id>{locale.format(Msg::LinkedPasswordHint, &[("system", &name)])}</p>
                {password_error.map(|e| view! { <p class="field__error" id=password_error_id.clone()>{e}</p> })}
                <input
                    class="field__input"
                    id=password_id
                    name="form[password]"
                    type="password"
                    autocomplete=format!("section-{} current-password", system.id)
                    required=true
                    aria-describedby=password_described
                    aria-invalid=password_error_id.is_some().then_some("true")
                />
            </div>
            <div class="form-actions">
                <button type="submit" class="button">
                    {t(Msg::LinkedSubmit)}
                </button>
            </div>
        </ActionForm>
    }
}
