//! What every multi-step flow's page shows when a step is refused: the message, the field
//! it concerns, and the figures the message needs.

use serde::{Deserialize, Serialize};

use crate::{i18n::Msg, policy::PasswordRule};

/// A refusal to show, and the field it concerns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepError {
    pub message: Msg,
    /// The id of the field concerned (the error summary links to it).
    pub field: Option<String>,
    /// Minutes to wait, for a lockout.
    pub retry_minutes: Option<u32>,
    /// Tries left, for a wrong code.
    pub tries_left: Option<u32>,
    /// The password rules a refused new password breaks.
    pub unmet_rules: Vec<PasswordRule>,
}

impl StepError {
    pub fn new(message: Msg, field: Option<&str>) -> StepError {
        StepError {
            message,
            field: field.map(str::to_owned),
            retry_minutes: None,
            tries_left: None,
            unmet_rules: Vec::new(),
        }
    }

    /// A lockout of `seconds`, shown in whole minutes (rounded up).
    pub fn locked(message: Msg, field: Option<&str>, seconds: i64) -> StepError {
        let mut error = StepError::new(message, field);
        error.retry_minutes = Some(u32::try_from((seconds + 59) / 60).unwrap_or(u32::MAX));
        error
    }

    /// The message with its figures filled in, in `locale`.
    pub fn text(&self, locale: crate::i18n::Locale) -> String {
        locale.format(
            self.message,
            &[
                ("minutes", &self.retry_minutes.unwrap_or(1).to_string()),
                ("tries", &self.tries_left.unwrap_or(0).to_string()),
            ],
        )
    }
}

/// The text of `error` when it concerns the field `field` (shown under that field).
pub fn field_error_text(
    error: Option<&StepError>,
    field: &str,
    locale: crate::i18n::Locale,
) -> Option<String> {
    error
        .filter(|e| e.field.as_deref() == Some(field))
        .map(|e| e.text(locale))
}
