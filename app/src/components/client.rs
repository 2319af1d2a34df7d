//! The client (Leptos' loader, its JS module and the WASM) goes only into pages that hold
//! an island: a page of links and plain forms costs a phone no download and no compile.
//!
//! A page step that renders islands renders one [`LoadClient`] beside them, outside any
//! island. It is placed by the step, not by each island's component, because the server
//! builds a step's view more than once while its data resolves and keeps only the last:
//! a "first one on the page writes the scripts" rule would be spent on a discarded build.
//! The server's tests and the browser suite check every page they load: islands come with
//! exactly one loader, and a page without islands has none.

use leptos::{config::LeptosOptions, prelude::*};

/// The site options the loader needs, provided by the server's shell for each page.
#[derive(Clone)]
pub struct PageClient(pub LeptosOptions);

/// The scripts that load the client and hydrate the page's islands (none outside a page
/// render). Module scripts run after the document is parsed, so their place in `<body>`
/// delays nothing.
#[component]
pub fn LoadClient() -> impl IntoView {
    use_context::<PageClient>().map(|PageClient(options)| {
        view! { <HydrationScripts options islands=true/> }
    })
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    #[test]
    fn the_loader_is_written_in_a_page_render_only() {
        let owner = Owner::new();
        owner.with(|| {
            // No shell, no client (the browser's build renders no page).
            let without = view! { <LoadClient/> }.to_html();
            assert!(!without.contains("<script"), "{without}");

            provide_context(PageClient(
                LeptosOptions::builder().output_name("sesame").build(),
            ));
            let html = view! { <LoadClient/> }.to_html();
            assert_eq!(html.matches("<script type=\"module\"").count(), 1, "{html}");
            assert!(
                html.contains("rel=\"modulepreload\" href=\"/pkg/sesame.js\""),
                "{html}"
            );
            assert!(
                html.contains("sesame_bg.wasm") || html.contains("sesame.wasm"),
                "{html}"
            );
        });
    }
}
