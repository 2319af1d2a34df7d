//! `/helpdesk`: find a person by user ID, name, employee number or address.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::refused;
use crate::{
    api::helpdesk::{
        SEARCH_LIMIT, SearchView, category_text, invitation_state_text, load_helpdesk_search,
        query_value, state_text,
    },
    components::form::TextField,
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn HelpdeskSearchPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(move || query.read().get("q"), load_helpdesk_search);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Search view/> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Search(view: SearchView) -> impl IntoView {
    let locale = use_locale();
    let searched = !view.query.is_empty();
    let results = searched.then(|| {
        let rows = view
            .people
            .iter()
            .map(|person| {
                view! {
                    <tr>
                        <td><a href=format!("/helpdesk/person/{}", person.id)>{person.login.clone()}</a></td>
                        <td>{person.name.clone()}</td>
                        <td>{t(category_text(&person.category))}</td>
                        <td>{t(state_text(&person.state))}</td>
                    </tr>
                }
            })
            .collect_view();
        let none = view.people.is_empty().then(|| {
            view! { <p>{locale.format(Msg::HelpdeskResultsNone, &[("query", &view.query)])}</p> }
        });
        let more = view.more.then(|| {
            view! {
                <p class="notice">
                    {locale.format(Msg::HelpdeskResultsMore, &[("count", &SEARCH_LIMIT.to_string())])}
                </p>
            }
        });
        let table = (!view.people.is_empty()).then(|| {
            view! {
                <table class="table">
                    <caption class="visually-hidden">{t(Msg::HelpdeskResultsTitle)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t(Msg::HelpdeskColLogin)}</th>
                            <th scope="col">{t(Msg::HelpdeskColName)}</th>
                            <th scope="col">{t(Msg::HelpdeskColCategory)}</th>
                            <th scope="col">{t(Msg::HelpdeskColState)}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
            }
        });
        view! {
            <section aria-labelledby="results-title">
                <h2 id="results-title">{t(Msg::HelpdeskResultsTitle)}</h2>
                {more}
                {none}
                {table}
            </section>
        }
    });
    let invitations = (!view.invitations.is_empty()).then(|| {
        let email = view
            .invitations
            .first()
            .map(|i| i.email.clone())
            .unwrap_or_default();
        let rows = view
            .invitations
            .iter()
            .map(|invitation| {
                view! {
                    <tr>
                        <td>{invitation.email.clone()}</td>
                        <td>{t(invitation_state_text(&invitation.state))}</td>
                        <td>{invitation.sent.clone()}</td>
                        <td>{invitation.expires.clone()}</td>
                    </tr>
                }
            })
            .collect_view();
        view! {
            <section aria-labelledby="invitations-title">
                <h2 id="invitations-title">{t(Msg::HelpdeskInvitationsTitle)}</h2>
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">{t(Msg::HelpdeskColEmail)}</th>
                            <th scope="col">{t(Msg::HelpdeskColState)}</th>
                            <th scope="col">{t(Msg::HelpdeskColSent)}</th>
                            <th scope="col">{t(Msg::HelpdeskColExpires)}</th>
                        </tr>
                    </thead>
                    <tbody>{rows}</tbody>
                </table>
                <p>
                    <a href=format!("/helpdesk/invitation?email={}", query_value(&email))>
                        {t(Msg::HelpdeskInvitationManage)}
                    </a>
                </p>
            </section>
        }
    });
    view! {
        <Title text=t(Msg::HelpdeskTitle)/>
        <h1 tabindex="-1">{t(Msg::HelpdeskTitle)}</h1>
        // A search reads and changes nothing: a GET form, which works without JavaScript.
        <form method="get" action="/helpdesk" class="form" role="search">
            <TextField
                id="q"
                name="q"
                label=Msg::HelpdeskSearchLabel
                hint=Msg::HelpdeskSearchHint
                autocomplete="off"
                autocapitalize_off=true
                value=view.query.clone()
            />
            <div class="form-actions">
                <button type="submit" class="button">{t(Msg::HelpdeskSearchSubmit)}</button>
            </div>
        </form>
        {results}
        {invitations}
    }
}
