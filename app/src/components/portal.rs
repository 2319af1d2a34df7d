//! Renders a part of a page with the portal context the server loaded for it.

use leptos::prelude::*;

use crate::{
    api::portal::{LoadedPortal, PortalContext},
    t,
};

/// Shows `children` with the portal context, or the error's message if it could not load.
#[component]
pub fn WithPortal<F, V>(children: F) -> impl IntoView
where
    F: FnOnce(PortalContext) -> V,
    V: IntoView + 'static,
{
    match LoadedPortal::current() {
        Ok(portal) => children(portal).into_any(),
        Err(error) => {
            view! { <p class="notice notice--error" role="alert">{t(error.message())}</p> }
                .into_any()
        }
    }
}
