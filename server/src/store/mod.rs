//! Persistence: sqlx over SQLite (embedded default) or PostgreSQL (several instances).
//! Queries are written once in portable SQL with `$n` placeholders and run through the
//! `Any` driver; one test suite runs on both engines (`server/tests/store.rs`).

pub mod activation;
pub mod audit;
pub mod authenticators;
pub mod direct;
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
pub mod statement;
pub mod throttle;
pub mod verifications;

use std::{
    ops::{Deref, DerefMut},
    path::Path,
    str::FromStr,
    sync::Arc,
    time::Duration,
};

use sqlx::{
    Any, AnyConnection, AnyPool, Executor,
    any::{AnyPoolOptions, install_default_drivers},
    pool::PoolConnection,
};

use self::{direct::DirectSqlite, statement::Statement};
use crate::error::Result;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../migrations");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Sqlite,
    Postgres,
}

/// When a transaction's commit returns, against the disk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// Once the disk holds it: what survives a power cut. Every write but the one below.
    Synced,
    /// Once the database holds it, before the disk does: a crash of Sésame loses nothing,
    /// but a power cut or a crash of the system soon after can (on SQLite: until the
    /// system writes the file back, seconds; on PostgreSQL, where a crash of PostgreSQL
    /// can too: under a second, its WAL writer's delay). The disk gets it with the next
    /// synced commit, whose log comes after it, if not before. Only for writes whose loss
    /// is harmless: a sign-in's session, audit event and cleared failures (the person signs
    /// in again; whatever the session then changes is a synced write, which takes them to
    /// the disk first). Under the sign-in benchmark (P1), not waiting for the disk took an
    /// eighth off the CPU time a sign-in spends besides its hash.
    Deferred,
}

/// The database, shared by every part of the server (cheap to clone).
#[derive(Clone, Debug)]
pub struct Store {
    pub pool: AnyPool,
    pub engine: Engine,
    /// On a SQLite file, the connections of the hot paths ([`direct`]).
    pub direct: Option<Arc<DirectSqlite>>,
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
            // A SQLite connection is a thread of this process, not a socket that a restart
            // or a network cut can break: pinging it before each use (sqlx's default) only
            // adds a round trip to that thread to every query. It is still pinged when it
            // goes back to the pool, which drops one whose thread has died.
            options = options
                .test_before_acquire(false)
                .after_connect(|conn, _meta| {
                    Box::pin(async move {
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
        let direct = match engine {
            Engine::Sqlite => DirectSqlite::for_url(&url)?.map(Arc::new),
            Engine::Postgres => None,
        };
        Ok(Store {
            pool,
            engine,
            direct,
        })
    }

    /// The connections of the hot paths, if this store has them ([`direct`]). Once the
    /// pool is closed (at shutdown), they refuse as sqlx does: the store is closed as a whole.
    pub(crate) fn direct_sqlite(&self) -> Result<Option<&Arc<DirectSqlite>>> {
        if self.pool.is_closed() {
            return Err(sqlx::Error::PoolClosed.into());
        }
        Ok(self.direct.as_ref())
    }

    /// Runs `statements` in order as one transaction: on a SQLite file one job on a
    /// blocking thread ([`direct`]), else a sqlx transaction. Its commit meets the disk as
    /// `durability` says.
    pub async fn write_all(
        &self,
        statements: Vec<Statement>,
        durability: Durability,
    ) -> Result<()> {
        if let Some(direct) = self.direct_sqlite()? {
            return direct
                .write(durability, move |transaction| {
                    for statement in &statements {
                        statement.execute_direct(transaction)?;
                    }
                    Ok(())
                })
                .await;
        }
        let mut transaction = begin(&self.pool).await?;
        if durability == Durability::Deferred && self.engine == Engine::Postgres {
            // For this transaction only: PostgreSQL's own setting for such writes.
            sqlx::query("SET LOCAL synchronous_commit = off")
                .execute(&mut *transaction)
                .await?;
        }
        for statement in &statements {
            statement.execute(&mut *transaction).await?;
        }
        transaction.commit().await
    }

    /// Whether the database answers (for `/healthz`).
    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// A transaction on a connection taken from the pool, begun and ended by plain `BEGIN`,
/// `COMMIT` and `ROLLBACK` statements. Use [`begin`], never `Pool::begin` (clippy.toml
/// forbids it).
///
/// A transaction dropped before it was committed or rolled back (an error returned with
/// `?`, a panic, a caller that stopped waiting: the request deadline, a browser gone, even
/// with a statement still on its way) closes its connection instead of giving it back to
/// the pool: the database rolls back what a closed connection left open, and no later
/// statement can run inside it. sqlx 0.8's own transactions give the connection back with
/// a rollback queued, except when `begin` itself is cut off on PostgreSQL, which left a
/// pooled connection inside a transaction nothing would end (sqlx issue #4393); and on
/// SQLite they wait for the caller to acknowledge BEGIN and COMMIT, two more hand-offs
/// between threads per transaction than a plain statement takes.
pub struct Transaction {
    conn: PoolConnection<Any>,
    ended: bool,
}

/// Opens a transaction (see [`Transaction`]).
pub async fn begin(pool: &AnyPool) -> Result<Transaction> {
    let mut transaction = Transaction {
        conn: pool.acquire().await?,
        ended: false,
    };
    // Cut off while BEGIN is on its way, the transaction is dropped unended: closed.
    transaction.conn.execute("BEGIN").await?;
    Ok(transaction)
}

impl Transaction {
    /// Commits; the connection goes back to the pool. If COMMIT fails or is cut off, the
    /// connection is closed, which rolls back whatever the database did not commit.
    pub async fn commit(mut self) -> Result<()> {
        self.conn.execute("COMMIT").await?;
        self.ended = true;
        Ok(())
    }

    /// Rolls back; the connection goes back to the pool.
    pub async fn rollback(mut self) -> Result<()> {
        self.conn.execute("ROLLBACK").await?;
        self.ended = true;
        Ok(())
    }
}

impl Deref for Transaction {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.conn
    }
}

impl DerefMut for Transaction {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.conn
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        if !self.ended {
            self.conn.close_on_drop();
        }
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

/// `$first, $first+1, ...`: `count` numbered placeholders for an `IN (...)` list or a row.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A random identifier for a row (128 bits, hex).
pub fn new_id() -> String {
    crate::crypto::tokens::random_hex(16)
}
