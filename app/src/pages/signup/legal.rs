//! The terms of use and the privacy policy, in their current version.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    api::signup::{LegalDocument, load_legal_text},
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn TermsPage() -> impl IntoView {
    view! { <LegalPage document=LegalDocument::Terms title=Msg::LegalTermsTitle/> }
}

#[component]
pub fn PrivacyPage() -> impl IntoView {
    view! { <LegalPage document=LegalDocument::Privacy title=Msg::LegalPrivacyTitle/> }
}

#[component]
fn LegalPage(document: LegalDocument, title: Msg) -> impl IntoView {
    let locale = use_locale();
    let text = Resource::new(|| (), move |_| load_legal_text(document));
    view! {
        <Title text=t(title)/>
        <h1 tabindex="-1">{t(title)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let text = text.await.unwrap_or_default();
                view! {
                    <p class="field__hint">{locale.format(Msg::LegalVersion, &[("version", &text.version)])}</p>
                    {text.paragraphs.into_iter().map(|p| view! { <p>{p}</p> }).collect_view()}
                }
            })}
        </Transition>
    }
}
