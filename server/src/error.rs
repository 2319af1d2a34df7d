//! The server's one internal error type. At the boundary with the browser it becomes
//! `AppError::Internal` (details logged under the request id, never shown).

use app::api::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("password hashing: {0}")]
    Hashing(String),
    #[error("too many password hashes in progress")]
    HashingBusy,
    #[error("mail: {0}")]
    Mail(String),
    #[error("input/output: {0}")]
    Io(#[from] std::io::Error),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("{0}")]
    Invalid(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Logs the error under the request id and turns it into what the browser may see.
    pub fn into_app_error(self, request_id: &str) -> AppError {
        match self {
            Error::HashingBusy => AppError::Busy {
                retry_after_secs: 2,
            },
            other => {
                tracing::error!(request_id, error = %other, "request failed");
                AppError::Internal {
                    request_id: request_id.to_owned(),
                }
            }
        }
    }
}
