//! After a password change or reset: what became of the new password on each linked
//! account (set there, to be retried, or to change there by hand).

use leptos::prelude::*;

use crate::{
    api::linked::{PushOutcome, PushReport},
    i18n::Msg,
    t, use_locale,
};

#[component]
pub fn PushReports(reports: Vec<PushReport>) -> impl IntoView {
    let locale = use_locale();
    (!reports.is_empty()).then(|| {
        let items = reports
            .into_iter()
            .map(|report| {
                let (message, class) = match report.outcome {
                    PushOutcome::Updated => (Msg::PasswordChangePushUpdated, "push push--updated"),
                    PushOutcome::WillRetry => {
                        (Msg::PasswordChangePushWillRetry, "push push--pending")
                    }
                    PushOutcome::NotSupported => {
                        (Msg::PasswordChangePushNotSupported, "push push--manual")
                    }
                };
                let text = locale.format(message, &[("system", report.system_name.get(locale))]);
                view! { <li class=class>{text}</li> }
            })
            .collect_view();
        view! {
            <section class="panel" aria-labelledby="pushes-title">
                <h2 id="pushes-title">{t(Msg::PasswordChangePushesTitle)}</h2>
                <ul class="pushes">{items}</ul>
            </section>
        }
    })
}
