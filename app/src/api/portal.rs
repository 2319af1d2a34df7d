//! What every page needs: the institution's branding and help contact, the CSRF token of
//! this browser, who is signed in, and the password policy.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::AppError;
use crate::{i18n::Locale, policy::PasswordPolicy};

/// A text the institution configures in both languages.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocalizedText {
    pub fr: String,
    pub en: String,
}

impl LocalizedText {
    pub fn get(&self, locale: Locale) -> &str {
        match locale {
            Locale::Fr => &self.fr,
            Locale::En => &self.en,
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Institution {
    pub name: LocalizedText,
    /// Path or URL of the logo image (alt text is the institution's name).
    pub logo_url: String,
    pub helpdesk_phone: String,
    pub helpdesk_hours: LocalizedText,
    pub helpdesk_email: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedInPerson {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    /// May use the helpdesk console (the account menu links to it).
    #[serde(default)]
    pub is_agent: bool,
}

impl SignedInPerson {
    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortalContext {
    pub institution: Institution,
    /// Put in every form as `csrf`; the server refuses state changes without it.
    pub csrf_token: String,
    pub person: Option<SignedInPerson>,
    pub password_policy: PasswordPolicy,
    pub locale: Locale,
}

#[cfg(feature = "ssr")]
#[async_trait::async_trait]
pub trait PortalApi: Send + Sync {
    async fn context(&self, meta: &super::ssr::RequestMeta) -> Result<PortalContext, AppError>;
}

/// The portal context of the page being rendered, or why it could not be loaded. The
/// server loads it once before the render and provides it, so the header, the footer and
/// the page read it without each waiting for it.
#[derive(Clone, Debug)]
pub struct LoadedPortal(pub Result<PortalContext, AppError>);

impl LoadedPortal {
    /// The page's portal context; a render without one (the route list's) gets an error.
    pub fn current() -> Result<PortalContext, AppError> {
        use_context::<LoadedPortal>()
            .map(|loaded| loaded.0)
            .unwrap_or(Err(AppError::Internal {
                request_id: String::from("-"),
            }))
    }
}
