//! Persistence: sqlx over SQLite (embedded default) or PostgreSQL (several instances).
//! Queries are written once in portable SQL with `$n` placeholders and run through the
//! `Any` driver; one test suite runs on both engines (`server/tests/store.rs`).

pub mod activation;
pub mod audit;
pub mod authenticators;
pub mod flows;
pub mod helpdesk;
pub mod identity;
pub mod invitations;
pub mod linked_accounts;
pub mod outbox;
pub mod people;
pub mod purge;
pub mod questions;
pub mod recovery;
pub mod roles;
pub mod sessions;
pub mod signup;
pub mod throttle;
pub mod verifications;

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    AnyPool,
    any::{AnyPoolOptions, install_default_drivers},
};

use crate::error::Result;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// The database, shared by every part of the server (cheap to clone).
#[derive(Clone, Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub engine: Engine,
}

impl Store {
    /// Connects, creating the SQLite file (and its folder) if needed, and migrates.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        install_default_drivers();
        let engine = if url.starts_with("sqlite:") {
            Engine::Sqlite
        } else {
            Engine::Postgres
        };
        let url = match engine {
            Engine::Sqlite => prepare_sqlite_url(url)?,
            Engine::Postgres => url.to_owned(),
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(5));
        if engine == Engine::Sqlite {
            options = options.after_connect(|conn, _meta| {
                Box::pin(async move {
                    use sqlx::Executor;
                    conn.execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                        .await?;
                    Ok(())
                })
            });
        }
        let pool = options.connect(&url).await?;
        if engine == Engine::Sqlite {
            // Readers never block the writer, and several requests can read at once.
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool, engine })
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Makes sure the SQLite file's folder exists and that the file is created if missing.
fn prepare_sqlite_url(url: &str) -> Result<String> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    if path != ":memory:"
        && !path.is_empty()
        && let Some(parent) = Path::new(path).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)?;
    }
    let mut query = query.to_owned();
    if !query.contains("mode=") {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str("mode=rwc");
    }
    // Validate early so a typo gives a clear error.
    sqlx::sqlite::SqliteConnectOptions::from_str(&format!("sqlite:{path}?{query}"))?;
    Ok(format!("sqlite:{path}?{query}"))
}

/// A random identifier for a row (128 bits, hex).
pub fn new_id() -> String {
    crate::crypto::tokens::random_hex(16)
}
