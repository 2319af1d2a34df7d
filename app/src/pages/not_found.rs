use leptos::prelude::*;
use leptos_meta::Title;

use crate::{i18n::Msg, t};

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text=t(Msg::NotfoundTitle)/>
        <h1 tabindex="-1">{t(Msg::NotfoundTitle)}</h1>
        <p>{t(Msg::NotfoundText)}</p>
        <p>
            <a href="/">{t(Msg::ErrorBackHome)}</a>
        </p>
    }
}
