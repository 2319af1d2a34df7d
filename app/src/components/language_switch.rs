//! The link to the other language, on every page. It goes through `/lang/<code>`, which
//! remembers the choice in a cookie and comes back to the same page (flow included).

use leptos::prelude::*;
use leptos_router::hooks::use_location;

use crate::{i18n::Msg, use_locale};

#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let locale = use_locale();
    let other = locale.other();
    let location = use_location();
    let href = move || {
        // The router gives the query without its `?` (the flow's id lives there).
        let search = location.search.get();
        let query = search.trim_start_matches('?');
        let here = if query.is_empty() {
            location.pathname.get()
        } else {
            format!("{}?{query}", location.pathname.get())
        };
        let next: String = here
            .bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect();
        format!("/lang/{}?next={next}", other.code())
    };
    view! {
        // rel=external: a full page load, so the whole page comes back in the new language.
        <a
            class="language-switch"
            href=href
            rel="external"
            hreflang=other.code()
            lang=other.code()
            aria-label=locale.text(Msg::LayoutLanguageSwitchLabel)
        >
            {locale.text(Msg::LayoutLanguageSwitch)}
        </a>
    }
}
