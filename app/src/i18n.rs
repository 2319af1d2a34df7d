//! Languages and texts. Every string a person reads comes from `locales/<lang>.json`
//! through [`Msg`]; the build fails if one language lacks a message.

use serde::{Deserialize, Serialize};

include!(concat!(env!("OUT_DIR"), "/messages.rs"));

/// A language Sésame speaks. French first: the seeds' institutions are francophone.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Locale {
    #[default]
    #[serde(rename = "fr")]
    Fr,
    #[serde(rename = "en")]
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Fr, Locale::En];

    /// The BCP 47 tag, as used in `<html lang>`, URLs and cookies.
    pub const fn code(self) -> &'static str {
        match self {
            Locale::Fr => "fr",
            Locale::En => "en",
        }
    }

    pub fn from_code(code: &str) -> Option<Locale> {
        match code.trim().to_ascii_lowercase().as_str() {
            "fr" => Some(Locale::Fr),
            "en" => Some(Locale::En),
            _ => None,
        }
    }

    /// The first supported language of an `Accept-Language` header, honouring q-values.
    pub fn from_accept_language(header: &str) -> Option<Locale> {
        let mut best: Option<(f32, Locale)> = None;
        for item in header.split(',') {
            let mut parts = item.trim().split(';');
            let tag = parts.next().unwrap_or_default();
            let quality = parts
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            if let Some(locale) = Locale::from_code(primary)
                && quality > 0.0
                && best.is_none_or(|(q, _)| quality > q)
            {
                best = Some((quality, locale));
            }
        }
        best.map(|(_, locale)| locale)
    }

    /// The other language, for the switch link.
    pub const fn other(self) -> Locale {
        match self {
            Locale::Fr => Locale::En,
            Locale::En => Locale::Fr,
        }
    }

    /// A message in this language.
    pub const fn text(self, msg: Msg) -> &'static str {
        match self {
            Locale::Fr => text_fr(msg),
            Locale::En => text_en(msg),
        }
    }

    /// A message with `{name}` placeholders filled in.
    pub fn format(self, msg: Msg, args: &[(&str, &str)]) -> String {
        let mut text = self.text(msg).to_owned();
        for (name, value) in args {
            text = text.replace(&format!("{{{name}}}"), value);
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_prefers_the_highest_quality_supported_tag() {
        assert_eq!(
            Locale::from_accept_language("de-DE,en;q=0.8,fr;q=0.9"),
            Some(Locale::Fr)
        );
        assert_eq!(
            Locale::from_accept_language("en-CA,en;q=0.9"),
            Some(Locale::En)
        );
        assert_eq!(Locale::from_accept_language("de,es"), None);
        assert_eq!(Locale::from_accept_language("fr;q=0"), None);
    }

    #[test]
    fn every_message_round_trips_through_its_key() {
        for msg in [Msg::AppName, Msg::SigninTitle, Msg::ErrorGeneric] {
            assert_eq!(Msg::from_key(msg.key()), Some(msg));
            assert!(!Locale::Fr.text(msg).is_empty());
            assert!(!Locale::En.text(msg).is_empty());
        }
    }

    #[test]
    fn format_fills_placeholders() {
        assert_eq!(
            Locale::En.format(Msg::AccountGreeting, &[("name", "Ada")]),
            "Hello, Ada"
        );
    }
}
