//! The one error type every server function returns. Expected refusals carry a message id
//! the page translates; infrastructure failures reach the browser as one generic message
//! (the details stay in the server's log, under the request id shown to the person).

use serde::{Deserialize, Serialize};
use server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};

use crate::i18n::Msg;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// An outcome the person must see (wrong credentials, locked, expired...).
    #[error("refused: {}", .0.key())]
    Refused(Msg),
    /// Too many requests at once: try again after this many seconds.
    #[error("busy, retry after {retry_after_secs} s")]
    Busy { retry_after_secs: u32 },
    /// The form was not sent from one of our pages (missing or stale CSRF token).
    #[error("forbidden")]
    Forbidden,
    /// Something broke on the server; the log has the details under this id.
    #[error("internal error (request {request_id})")]
    Internal { request_id: String },
    /// A part the server needs (the database) does not answer: nothing was done, try
    /// again later (HTTP 503).
    #[error("unavailable (request {request_id})")]
    Unavailable { request_id: String },
    /// The transport between browser and server failed.
    #[error("server function: {0}")]
    Transport(ServerFnErrorErr),
}

impl AppError {
    /// The message the page shows for this error.
    pub fn message(&self) -> Msg {
        match self {
            AppError::Refused(msg) => *msg,
            AppError::Busy { .. } => Msg::ErrorBusy,
            AppError::Unavailable { .. } => Msg::ErrorUnavailable,
            AppError::Forbidden => Msg::ErrorForbidden,
            AppError::Internal { .. } | AppError::Transport(_) => Msg::ErrorGeneric,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value)
    }
}
