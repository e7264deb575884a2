//! The [`Journal`] handle: opening the SQLite file (WAL, synchronous=FULL,
//! migrations), the read-only mode for `status`, and the two doors every
//! query goes through — `Journal::read` and `Journal::write` — which
//! turn SQLite errors into [`JournalError`]s naming the file.
//!
//! Write transactions are `BEGIN IMMEDIATE` and return only after COMMIT,
//! and with `synchronous=FULL` in WAL mode SQLite fsyncs the WAL on every
//! commit: a method that returned `Ok` survives kill -9 and power loss.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use super::error::JournalError;
use super::schema;

/// How long a statement waits for another connection's lock (e.g. `status`
/// reading while the daemon commits) before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// The durable journal of one masterkassa installation (every kassa in one
/// file). `Send + Sync`: share it behind an `Arc`; calls are serialized on
/// one SQLite connection, and each call is one transaction.
pub struct Journal {
    conn: Mutex<Connection>,
    path: PathBuf,
    read_only: bool,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.path)
            .field("read_only", &self.read_only)
            .finish()
    }
}

/// Internal failure inside a transaction, turned into a [`JournalError`]
/// naming the file at the boundary.
#[derive(Debug)]
pub(crate) enum Failure {
    Db(rusqlite::Error),
    Corrupt { what: String, detail: String },
    Journal(JournalError),
}

impl From<rusqlite::Error> for Failure {
    fn from(e: rusqlite::Error) -> Failure {
        Failure::Db(e)
    }
}

impl From<JournalError> for Failure {
    fn from(e: JournalError) -> Failure {
        Failure::Journal(e)
    }
}

impl Failure {
    pub(crate) fn corrupt(what: impl Into<String>, detail: impl std::fmt::Display) -> Failure {
        Failure::Corrupt {
            what: what.into(),
            detail: detail.to_string(),
        }
    }

    fn into_error(self, path: &Path) -> JournalError {
        match self {
            Failure::Db(e) => JournalError::storage(path, e),
            Failure::Corrupt { what, detail } => JournalError::Corrupt {
                path: path.to_path_buf(),
                what,
                detail,
            },
            Failure::Journal(e) => e,
        }
    }
}

impl Journal {
    /// Opens (creating if needed) the journal at `path` for the daemon:
    /// WAL mode, synchronous=FULL, schema migrated to this build's version.
    pub fn open(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|source| JournalError::Io {
                path: parent.to_path_buf(),
                source,
            })?;
        }
        let mut conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| JournalError::storage(&path, e))?;
        Self::configure(&mut conn).map_err(|f| f.into_error(&path))?;
        check_version(&conn, &path, false)?;
        schema::migrate(&mut conn).map_err(|e| JournalError::storage(&path, e))?;
        Ok(Journal {
            conn: Mutex::new(conn),
            path,
            read_only: false,
        })
    }

    /// Opens an existing journal read-only, for `status` when the daemon is
    /// down (or running under another user). Writes fail with
    /// [`JournalError::ReadOnly`]. Works on a directory the caller cannot
    /// write to: if SQLite cannot create its shared-memory file there, the
    /// file is opened as immutable. That fallback does not see commits
    /// still in the `-wal` file (after the daemon was killed, before its
    /// next start checkpoints them): a `status` reader should be in group
    /// `masterkassa`, which can open the WAL normally.
    pub fn open_read_only(path: impl AsRef<Path>) -> Result<Journal, JournalError> {
        let path = path.as_ref().to_path_buf();
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let attempt = |uri: Option<String>| -> Result<Connection, rusqlite::Error> {
            let conn = match uri {
                None => Connection::open_with_flags(&path, flags)?,
                Some(uri) => Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)?,
            };
            conn.busy_timeout(BUSY_TIMEOUT)?;
            schema::version(&conn)?;
            Ok(conn)
        };
        let conn = match attempt(None) {
            Ok(conn) => conn,
            Err(first) if path.exists() => match attempt(Some(immutable_uri(&path))) {
                Ok(conn) => conn,
                Err(_) => return Err(JournalError::storage(&path, first)),
            },
            Err(first) => return Err(JournalError::storage(&path, first)),
        };
        check_version(&conn, &path, true)?;
        Ok(Journal {
            conn: Mutex::new(conn),
            path,
            read_only: true,
        })
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// True when opened with [`Journal::open_read_only`].
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// Runs SQLite's own consistency check; `Ok` if the file is sound.
    pub fn integrity_check(&self) -> Result<(), JournalError> {
        self.read(|conn| {
            let verdict: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0))?;
            if verdict == "ok" {
                Ok(())
            } else {
                Err(Failure::corrupt("file", verdict))
            }
        })
    }

    fn configure(conn: &mut Connection) -> Result<(), Failure> {
        conn.busy_timeout(BUSY_TIMEOUT)?;
        let mode: String =
            conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(Failure::corrupt(
                "journal mode",
                format!("SQLite refused WAL mode (got {mode})"),
            ));
        }
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", true)?;
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic in another thread cannot leave a half-written change: the
        // transaction it held was rolled back when it was dropped.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Runs `f` with the connection (no transaction: one statement, or
    /// several where a stale mix is harmless).
    pub(crate) fn read<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, Failure>,
    ) -> Result<T, JournalError> {
        let conn = self.lock();
        f(&conn).map_err(|e| e.into_error(&self.path))
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction and commits; returns
    /// only once the commit is durable. On any error nothing is written.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
    ) -> Result<T, JournalError> {
        self.write_with(Durability::Immediate, f)
    }

    /// [`Journal::write`] with a choice of when the commit becomes durable.
    pub(crate) fn write_with<T>(
        &self,
        durability: Durability,
        f: impl FnOnce(&Transaction<'_>) -> Result<T, Failure>,
    ) -> Result<T, JournalError> {
        if self.read_only {
            return Err(JournalError::ReadOnly {
                path: self.path.clone(),
            });
        }
        let mut conn = self.lock();
        let run = |conn: &mut Connection| -> Result<T, Failure> {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        };
        if durability == Durability::Immediate {
            return run(&mut conn).map_err(|e| e.into_error(&self.path));
        }
        // synchronous=NORMAL in WAL mode: this commit is not fsynced; the
        // next FULL commit fsyncs the WAL, which holds this one before it.
        let deferred = |conn: &mut Connection| -> Result<T, Failure> {
            conn.pragma_update(None, "synchronous", "NORMAL")?;
            let result = run(conn);
            conn.pragma_update(None, "synchronous", "FULL")?;
            result
        };
        deferred(&mut conn).map_err(|e| e.into_error(&self.path))
    }

    #[cfg(test)]
    pub(crate) fn with_connection<T>(&self, f: impl FnOnce(&Connection) -> T) -> T {
        f(&self.lock())
    }
}

/// When a journal commit must be on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// Before the write returns: anything that must precede an outside
    /// effect (PRINTING before the receipt's first byte, an outbox entry
    /// before its request).
    Immediate,
    /// With the next immediate commit of this journal. For a record whose
    /// loss is recovered anyway: a RECEIVED operation lost to a power cut is
    /// handed out by the cloud again (nothing was printed: PRINTING is
    /// immediate), and a PRINTED record lost leaves PRINTING, which
    /// recovery resolves from the FN archive.
    WithNext,
}

fn check_version(conn: &Connection, path: &Path, read_only: bool) -> Result<(), JournalError> {
    let found = schema::version(conn).map_err(|e| JournalError::storage(path, e))?;
    if found > schema::VERSION {
        return Err(JournalError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: schema::VERSION,
        });
    }
    if found < 0 || (read_only && found < schema::VERSION) {
        return Err(JournalError::Corrupt {
            path: path.to_path_buf(),
            what: "schema version".into(),
            detail: format!(
                "version {found}; the daemon upgrades it to {} on start",
                schema::VERSION
            ),
        });
    }
    Ok(())
}

/// `file:` URI opening `path` as immutable, with the characters URIs
/// reserve percent-encoded.
fn immutable_uri(path: &Path) -> String {
    let mut uri = String::from("file:");
    for ch in path.to_string_lossy().chars() {
        match ch {
            '%' | '?' | '#' => uri.push_str(&format!("%{:02X}", ch as u32)),
            _ => uri.push(ch),
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Now, as stored: milliseconds since the Unix epoch.
pub(crate) fn now_ms() -> i64 {
    Timestamp::now().as_millisecond()
}

/// A stored millisecond count back to a timestamp.
pub(crate) fn timestamp(ms: i64) -> Result<Timestamp, Failure> {
    Timestamp::from_millisecond(ms).map_err(|e| Failure::corrupt("timestamp", e))
}

/// The worker shares one journal between kassa tasks.
const _: () = {
    const fn shareable<T: Send + Sync>() {}
    shareable::<Journal>();
};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::{OpKey, Source};

    #[test]
    fn a_full_disk_is_a_typed_error_naming_the_file_and_loses_nothing_committed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("journal.db");
        let journal = Journal::open(&path).unwrap();
        // Cap the file size: SQLite then answers SQLITE_FULL exactly as on
        // a full disk.
        let pages: i64 = journal.with_connection(|c| {
            c.pragma_query_value(None, "page_count", |r| r.get(0))
                .unwrap()
        });
        journal.with_connection(|c| {
            c.pragma_update(None, "max_page_count", pages + 4).unwrap();
        });
        let body = "x".repeat(2000);
        let mut written = Vec::new();
        let err = loop {
            let key = OpKey::new("k", Source::Moysklad, format!("op-{}", written.len()));
            match journal.receive(&key, &body) {
                Ok(_) => written.push(key),
                Err(e) => break e,
            }
            assert!(written.len() < 1000, "the cap never hit");
        };
        assert!(matches!(err, JournalError::DiskFull { .. }), "{err:?}");
        assert!(err.is_unwritable(), "a full disk pauses printing");
        assert!(err.to_string().contains("journal.db"), "{err}");
        assert!(err.to_string().contains("disk full"), "{err}");
        drop(journal);
        let journal = Journal::open(&path).unwrap();
        for key in &written {
            assert!(journal.get(key).unwrap().is_some(), "{key} lost");
        }
        journal.integrity_check().unwrap();
    }

    /// A deferred commit (RECEIVED) is visible at once and leaves the
    /// connection at synchronous=FULL for the commits that must be durable,
    /// even when it failed.
    #[test]
    fn a_deferred_commit_restores_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let journal = Journal::open(dir.path().join("journal.db")).unwrap();
        let sync = |j: &Journal| -> i64 {
            j.with_connection(|c| {
                c.pragma_query_value(None, "synchronous", |r| r.get(0))
                    .unwrap()
            })
        };
        assert_eq!(sync(&journal), 2, "FULL");
        let key = OpKey::new("k", Source::Moysklad, "op-1");
        journal.receive(&key, "{}").unwrap();
        assert_eq!(sync(&journal), 2, "back to FULL after a deferred commit");
        assert!(journal.get(&key).unwrap().is_some());
        let failed: Result<(), JournalError> = journal.write_with(Durability::WithNext, |tx| {
            tx.execute("INSERT INTO no_such_table VALUES (1)", [])?;
            Ok(())
        });
        assert!(failed.is_err());
        assert_eq!(
            sync(&journal),
            2,
            "back to FULL after a failed deferred commit"
        );
    }

    #[test]
    fn immutable_uri_escapes_uri_characters() {
        assert_eq!(
            immutable_uri(Path::new("/var/lib/a?b#c%d.db")),
            "file:/var/lib/a%3Fb%23c%25d.db?immutable=1"
        );
    }
}
