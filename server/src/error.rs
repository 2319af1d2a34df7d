//! The server's one internal error type. At the boundary with the browser it becomes
//! `AppError::Internal` (details logged under the request id, never shown).

use app::api::AppError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
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

/// What a 503 for an unreachable database tells clients to wait.
pub const UNAVAILABLE_RETRY_AFTER_SECS: u32 = 30;

/// The database could not be reached at all (no connection, or it was lost), as opposed
/// to a statement it refused: nothing was done, and trying again later may work.
pub fn database_unreachable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        // PostgreSQL's connection exceptions (class 08) and shutdowns (57P01-57P03).
        sqlx::Error::Database(db) => db
            .code()
            .is_some_and(|code| code.starts_with("08") || code.starts_with("57P0")),
        _ => false,
    }
}

impl Error {
    /// Logs the error under the request id and turns it into what the browser may see.
    /// Inside a render or server function, the answer gets the error's status
    /// ([`set_response_status`]).
    pub fn into_app_error(self, request_id: &str) -> AppError {
        let error = match self {
            Error::HashingBusy => AppError::Busy {
                retry_after_secs: 2,
            },
            Error::Database(error) if database_unreachable(&error) => {
                tracing::error!(request_id, %error, "database unreachable");
                AppError::Unavailable {
                    request_id: request_id.to_owned(),
                }
            }
            other => {
                tracing::error!(request_id, error = %other, "request failed");
                AppError::Internal {
                    request_id: request_id.to_owned(),
                }
            }
        };
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>() {
            set_response_status(&error, &response);
        }
        error
    }
}

/// The status a server-side error gives the answer: a database that does not answer makes
/// it a 503 with `Retry-After`; a failure a 500 (a form posted without JavaScript would
/// otherwise be redirected back to where it came from, and the person would never see the
/// request id). Other errors leave the status to the page.
pub fn set_response_status(error: &AppError, response: &leptos_axum::ResponseOptions) {
    match error {
        AppError::Unavailable { .. } => {
            response.set_status(http::StatusCode::SERVICE_UNAVAILABLE);
            response.insert_header(
                http::header::RETRY_AFTER,
                http::HeaderValue::from(UNAVAILABLE_RETRY_AFTER_SECS),
            );
        }
        AppError::Internal { .. } => {
            response.set_status(http::StatusCode::INTERNAL_SERVER_ERROR);
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_database_out_of_reach_is_unavailable() {
        assert!(database_unreachable(&sqlx::Error::PoolTimedOut));
        assert!(database_unreachable(&sqlx::Error::Io(
            std::io::Error::from(std::io::ErrorKind::ConnectionRefused)
        )));
        assert!(!database_unreachable(&sqlx::Error::RowNotFound));
        let app = Error::Database(sqlx::Error::PoolTimedOut).into_app_error("abc");
        assert_eq!(
            app,
            AppError::Unavailable {
                request_id: "abc".into()
            }
        );
        assert!(matches!(
            Error::Database(sqlx::Error::RowNotFound).into_app_error("abc"),
            AppError::Internal { .. }
        ));
    }
}
