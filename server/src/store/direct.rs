//! On SQLite, a few hot paths (a sign-in's read and its writes) run their statements on
//! connections of their own instead of through sqlx.
//!
//! sqlx runs each SQLite connection on a thread of its own: every statement, and every
//! connection given back to the pool (a ping), is a hand-off to that thread and back. On a
//! machine whose cores are busy hashing passwords, each hand-off costs a wake-up and two
//! switches, tens of microseconds of CPU: a sign-in made about ten of them, as much CPU as
//! the rest of its request. Here a read runs where it is asked (a lookup by key in a WAL
//! database never waits for the writer), and a transaction runs whole as one job on a
//! blocking thread (its COMMIT may wait for the disk): one hand-off however many statements.
//!
//! Both paths use the same file, the same settings (foreign keys, a 5 s busy timeout,
//! SQLite's default FULL synchronous, except for the transactions a caller defers:
//! [`Durability`]) and the same SQL ([`super::statement`]); SQLite's own locks order their
//! writes against sqlx's.
//!
//! The transactions of this path take turns on one connection. Left to SQLite's locks,
//! two of them at once made the second poll for the write lock, sleeping 1, 2, 5 ms and
//! more between tries (its busy handler): under the sign-in benchmark, a sleep for about
//! one sign-in in seven, each a wasted lock attempt, a wake-up and a delay. Waiting on a
//! mutex instead, a transaction starts as soon as the one before it ends, and the one
//! connection's page cache stays valid from one write to the next.

use std::{
    fmt,
    path::{Path, PathBuf},
    str::FromStr,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::Durability;
use crate::error::Result;

/// Reading connections kept open between reads; more are opened when more run at once.
const IDLE_READERS: usize = 4;

pub struct DirectSqlite {
    path: PathBuf,
    idle_readers: Mutex<Vec<Connection>>,
    /// The one connection of this path's transactions, opened at the first; whoever holds
    /// the lock is the only writer of this path.
    writer: Mutex<Option<Writer>>,
}

/// The writing connection, and the durability its commits have now.
struct Writer {
    conn: Connection,
    durability: Durability,
}

impl Writer {
    /// Sets the durability of the commits to come: SQLite's `synchronous` is the
    /// connection's, FULL by default (in WAL mode NORMAL syncs at checkpoints only).
    fn commit_with(&mut self, durability: Durability) -> Result<()> {
        if self.durability != durability {
            let synchronous = match durability {
                Durability::Synced => "FULL",
                Durability::Deferred => "NORMAL",
            };
            self.conn.pragma_update(None, "synchronous", synchronous)?;
            self.durability = durability;
        }
        Ok(())
    }
}

impl fmt::Debug for DirectSqlite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DirectSqlite")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

impl DirectSqlite {
    /// For the database of a sqlx SQLite URL; `None` for an in-memory or read-only one (an
    /// in-memory database is private to sqlx's connections; such a store uses sqlx alone).
    pub fn for_url(url: &str) -> Result<Option<DirectSqlite>> {
        let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let private = path.is_empty()
            || path == ":memory:"
            || query
                .split('&')
                .any(|pair| pair == "mode=memory" || pair == "mode=ro");
        if private {
            return Ok(None);
        }
        // sqlx's own reading of the URL, so both open the same file.
        let options = sqlx::sqlite::SqliteConnectOptions::from_str(url)?;
        Ok(Some(DirectSqlite {
            path: options.get_filename().to_path_buf(),
            idle_readers: Mutex::new(Vec::new()),
            writer: Mutex::new(None),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> Result<Connection> {
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(conn)
    }

    fn reader(&self) -> Result<Connection> {
        match locked(&self.idle_readers).pop() {
            Some(conn) => Ok(conn),
            None => self.open(),
        }
    }

    fn give_back(&self, conn: Connection) {
        let mut idle = locked(&self.idle_readers);
        if idle.len() < IDLE_READERS {
            idle.push(conn);
        }
    }

    /// Runs `read` here, on the caller's thread: for reads only, which in a WAL database
    /// do not wait for writers.
    pub fn read<T>(&self, read: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        let conn = self.reader()?;
        let answer = read(&conn);
        self.give_back(conn);
        answer
    }

    /// Runs `work` as one transaction (begun IMMEDIATE: it holds the write lock from its
    /// first statement) on a blocking thread, after the transactions of this path before
    /// it, and commits it, as `durability` says, if `work` succeeds. It runs to its end even
    /// if the caller stops waiting: committed or rolled back, never left open.
    pub async fn write<T: Send + 'static>(
        self: &Arc<Self>,
        durability: Durability,
        work: impl FnOnce(&Transaction<'_>) -> Result<T> + Send + 'static,
    ) -> Result<T> {
        let direct = Arc::clone(self);
        let job = tokio::task::spawn_blocking(move || {
            let mut writer = locked(&direct.writer);
            let writer = match writer.as_mut() {
                Some(writer) => writer,
                None => writer.insert(Writer {
                    conn: direct.open()?,
                    durability: Durability::Synced,
                }),
            };
            writer.commit_with(durability)?;
            // A transaction that failed (or whose work panicked) is rolled back when
            // dropped: the connection is left clean for the next one.
            let transaction = writer
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let answer = work(&transaction)?;
            transaction.commit()?;
            Ok(answer)
        });
        match job.await {
            Ok(answer) => answer,
            Err(failure) if failure.is_panic() => std::panic::resume_unwind(failure.into_panic()),
            Err(_) => Err(std::io::Error::other("the server is shutting down").into()),
        }
    }
}

/// `mutex`'s guard. Its holders leave what it guards whole even when they panic (a
/// transaction rolls back as it is dropped), so a poisoned lock is taken as it is.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(url: &str) -> Option<PathBuf> {
        DirectSqlite::for_url(url)
            .expect("a valid URL")
            .map(|direct| direct.path().to_path_buf())
    }

    #[test]
    fn only_a_database_file_written_to_gets_connections_of_its_own() {
        assert_eq!(
            path_of("sqlite:var/sesame.db?mode=rwc"),
            Some(PathBuf::from("var/sesame.db"))
        );
        assert_eq!(
            path_of("sqlite:///srv/sésame/a%20b.db"),
            Some(PathBuf::from("/srv/sésame/a b.db"))
        );
        for private in [
            "sqlite::memory:",
            "sqlite:",
            "sqlite:shared?mode=memory&cache=shared",
            "sqlite:var/sesame.db?mode=ro",
        ] {
            assert_eq!(path_of(private), None, "{private}");
        }
    }
}
