//! Renders a part of a page once the portal context has arrived.

use leptos::prelude::*;

use crate::{
    PortalResource,
    api::{AppError, portal::PortalContext},
    i18n::Msg,
    t,
};

/// Shows `children` with the portal context, or the generic error if it could not load.
#[component]
pub fn WithPortal<F, V>(children: F) -> impl IntoView
where
    F: Fn(PortalContext) -> V + Send + Sync + Clone + 'static,
    V: IntoView + 'static,
{
    let portal = expect_context::<PortalResource>();
    let fallback = |errors: ArcRwSignal<Errors>| {
        let message = errors
            .get()
            .into_iter()
            .find_map(|(_, e)| e.downcast_ref::<AppError>().map(AppError::message))
            .unwrap_or(Msg::ErrorGeneric);
        view! { <p class="notice notice--error" role="alert">{t(message)}</p> }
    };
    view! {
        <Transition fallback=|| ()>
            <ErrorBoundary fallback>
                {move || {
                    let children = children.clone();
                    Suspend::new(async move { portal.await.map(children) })
                }}
            </ErrorBoundary>
        </Transition>
    }
}
