//! `/dev/mailbox` (demo mode only): the `.eml` files of the file transport, listed and
//! shown, so a demo works without a mail server.

use std::path::Path;

use app::{
    api::ssr::RequestMeta,
    i18n::{Locale, Msg},
};
use axum::{
    Extension,
    extract::{Path as UrlPath, State},
    response::{Html, IntoResponse, Response},
};
use html_escape::encode_text;
use http::StatusCode;
use mail_parser::MessageParser;

use crate::state::Sesame;

struct Summary {
    name: String,
    to: String,
    subject: String,
    date: String,
}

fn read_summaries(dir: &Path) -> Vec<Summary> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut summaries: Vec<Summary> = entries
        .filter_map(Result::ok)
        .filter(|e| {
            e.file_name().to_string_lossy().ends_with(".eml")
                && !e.file_name().to_string_lossy().starts_with('.')
        })
        .filter_map(|entry| {
            let bytes = std::fs::read(entry.path()).ok()?;
            let message = MessageParser::default().parse(&bytes)?;
            Some(Summary {
                name: entry.file_name().to_string_lossy().into_owned(),
                to: message
                    .to()
                    .and_then(|a| a.first())
                    .and_then(|a| a.address())
                    .unwrap_or_default()
                    .to_owned(),
                subject: message.subject().unwrap_or_default().to_owned(),
                date: message.date().map(|d| d.to_rfc3339()).unwrap_or_default(),
            })
        })
        .collect();
    summaries.sort_by(|a, b| b.name.cmp(&a.name));
    summaries
}

fn page(locale: Locale, title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title><link rel=\"stylesheet\" href=\"/pkg/sesame.css\"></head>\
         <body><main id=\"main\" class=\"site-main\">{body}</main></body></html>",
        lang = locale.code(),
        title = encode_text(title),
    ))
}

pub async fn index(
    State(sesame): State<Sesame>,
    Extension(meta): Extension<RequestMeta>,
) -> Response {
    let locale = meta.locale;
    let summaries = read_summaries(&sesame.config.mail.dir);
    let mut body = format!(
        "<h1>{}</h1><p>{}</p>",
        encode_text(locale.text(Msg::MailboxTitle)),
        encode_text(locale.text(Msg::MailboxIntro))
    );
    if summaries.is_empty() {
        body.push_str(&format!(
            "<p>{}</p>",
            encode_text(locale.text(Msg::MailboxEmpty))
        ));
    } else {
        body.push_str(&format!(
            "<table class=\"table\"><thead><tr><th scope=\"col\">{}</th><th scope=\"col\">{}</th><th scope=\"col\">{}</th></tr></thead><tbody>",
            encode_text(locale.text(Msg::MailboxDate)),
            encode_text(locale.text(Msg::MailboxTo)),
            encode_text(locale.text(Msg::MailboxSubject)),
        ));
        for s in summaries {
            body.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td><a href=\"/dev/mailbox/{}\">{}</a></td></tr>",
                encode_text(&s.date),
                encode_text(&s.to),
                html_escape::encode_double_quoted_attribute(&s.name),
                encode_text(&s.subject),
            ));
        }
        body.push_str("</tbody></table>");
    }
    page(locale, locale.text(Msg::MailboxTitle), &body).into_response()
}

pub async fn message(
    State(sesame): State<Sesame>,
    Extension(meta): Extension<RequestMeta>,
    UrlPath(name): UrlPath<String>,
) -> Response {
    let locale = meta.locale;
    // Only plain file names from the listing: no path traversal.
    if !name.ends_with(".eml") || name.starts_with('.') || name.contains(['/', '\\']) {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Ok(bytes) = tokio::fs::read(sesame.config.mail.dir.join(&name)).await else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let Some(message) = MessageParser::default().parse(&bytes) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let subject = message.subject().unwrap_or_default().to_owned();
    let to = message
        .to()
        .and_then(|a| a.first())
        .and_then(|a| a.address())
        .unwrap_or_default()
        .to_owned();
    let text = message
        .body_text(0)
        .map(|t| t.into_owned())
        .unwrap_or_default();
    let body = format!(
        "<h1>{subject}</h1><p>{to_label} : {to}</p><pre class=\"mail-body\">{text}</pre><p><a href=\"/dev/mailbox\">{back}</a></p>",
        subject = encode_text(&subject),
        to_label = encode_text(locale.text(Msg::MailboxTo)),
        to = encode_text(&to),
        text = encode_text(&text),
        back = encode_text(locale.text(Msg::MailboxBack)),
    );
    page(locale, &subject, &body).into_response()
}
