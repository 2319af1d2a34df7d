//! `/helpdesk/letter?flow=`: the letter with new provisional credentials, shown once to
//! print (the flow is used up by this page's load: reloading shows it no more).

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::refused;
use crate::{
    api::helpdesk::{LetterView, load_helpdesk_letter, query_value},
    components::client::LoadClient,
    i18n::Msg,
    t,
};

#[component]
pub fn HelpdeskLetterPage() -> impl IntoView {
    let query = use_query_map();
    let data = Resource::new(
        move || query.read().get("flow").unwrap_or_default(),
        load_helpdesk_letter,
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(view) => view! { <Letter view/> }.into_any(),
                    Err(error) => refused(error),
                }
            })}
        </Transition>
    }
}

#[component]
fn Letter(view: LetterView) -> impl IntoView {
    let back = (!view.person_id.is_empty()).then(|| {
        view! {
            <p class="no-print">
                <a href=format!("/helpdesk/person/{}", query_value(&view.person_id))>{t(Msg::HelpdeskBackToPerson)}</a>
            </p>
        }
    });
    let body = match view.html {
        Some(html) => view! {
            <p class="notice no-print">{t(Msg::HelpdeskLetterIntro)}</p>
            <div class="form-actions no-print">
                <LoadClient/>
                <PrintButton label=t(Msg::HelpdeskLetterPrint).to_owned()/>
            </div>
            <p class="field__hint no-print">{t(Msg::HelpdeskLetterPrintHint)}</p>
            <div class="helpdesk-letter" inner_html=html></div>
        }
        .into_any(),
        None => view! { <p class="notice">{t(Msg::HelpdeskLetterGone)}</p> }.into_any(),
    };
    view! {
        <Title text=t(Msg::HelpdeskLetterTitle)/>
        <h1 tabindex="-1" class="no-print">{t(Msg::HelpdeskLetterTitle)}</h1>
        {body}
        {back}
    }
}

/// The print button needs JavaScript: it appears once the island is hydrated.
#[island]
fn PrintButton(label: String) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    move || {
        hydrated.get().then(|| {
            let label = label.clone();
            view! {
                <button type="button" class="button" on:click=move |_| print()>
                    {label}
                </button>
            }
        })
    }
}

#[cfg(feature = "hydrate")]
fn print() {
    if let Some(window) = web_sys::window() {
        let _ = window.print();
    }
}

#[cfg(not(feature = "hydrate"))]
fn print() {}
