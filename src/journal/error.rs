//! Errors of the journal. Every storage failure names the journal file, so
//! a full disk or a dying SD card reads as such in logs and `status`.

use std::path::PathBuf;

use super::key::OpKey;
use super::shift_state::ShiftTransitionError;
use super::state::TransitionError;

/// What went wrong with the journal.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The disk (or the filesystem quota) is full: nothing was written.
    #[error("journal {path}: disk full, the last change was not written")]
    DiskFull { path: PathBuf },
    /// SQLite failed: I/O error, corrupt file, locked, permissions.
    #[error("journal {path}: {source}")]
    Storage {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    /// The directory of the journal could not be created.
    #[error("journal {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file was written by a newer masterkassa.
    #[error(
        "journal {path}: schema version {found} is newer than this masterkassa understands ({supported})"
    )]
    SchemaTooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    /// A stored value could not be decoded (hand-edited or corrupt file).
    #[error("journal {path}: unreadable {what}: {detail}")]
    Corrupt {
        path: PathBuf,
        what: String,
        detail: String,
    },
    /// The journal was opened read-only (e.g. by `status`).
    #[error("journal {path} is open read-only")]
    ReadOnly { path: PathBuf },
    /// No operation with this key is in the journal.
    #[error("operation {0} is not in the journal")]
    UnknownOperation(OpKey),
    /// No shift with this id is in the journal.
    #[error("shift #{0} is not in the journal")]
    UnknownShift(i64),
    /// No outbox entry with this id is in the journal.
    #[error("outbox entry #{0} is not in the journal")]
    UnknownOutboxEntry(i64),
    /// The state machine refused the event; nothing was written.
    #[error("operation {key}: {source}")]
    Transition {
        key: OpKey,
        #[source]
        source: TransitionError,
    },
    /// The shift state machine refused the event; nothing was written.
    #[error("shift #{id}: {source}")]
    ShiftTransition {
        id: i64,
        #[source]
        source: ShiftTransitionError,
    },
    /// A new shift was started while another one is not closed yet.
    #[error("kassa {kassa}: shift #{active} is not closed yet")]
    ShiftAlreadyActive { kassa: String, active: i64 },
    /// REJECTING and APPROVING mean "the request is in the outbox": these
    /// events must be applied together with their outbox entry.
    #[error("operation {key}: {event} must be journaled together with its outbox request")]
    OutboxRequired { key: OpKey, event: String },
    /// The request does not belong with the event (only `Reject` + reject
    /// and `StartApproving` + approve are journaled together).
    #[error("operation {key}: {event} cannot queue a {kind} request")]
    OutboxMismatch {
        key: OpKey,
        event: String,
        kind: &'static str,
    },
}

impl JournalError {
    /// True when nothing can be written to the journal (full disk,
    /// read-only file or filesystem, I/O error), as opposed to a refused
    /// change or an unreadable record: waiting for space or a remount
    /// fixes it.
    pub fn is_unwritable(&self) -> bool {
        use rusqlite::ErrorCode;
        match self {
            JournalError::DiskFull { .. } | JournalError::ReadOnly { .. } => true,
            JournalError::Io { .. } => true,
            JournalError::Storage { source, .. } => matches!(
                source.sqlite_error_code(),
                Some(
                    ErrorCode::ReadOnly
                        | ErrorCode::SystemIoFailure
                        | ErrorCode::CannotOpen
                        | ErrorCode::DiskFull
                )
            ),
            _ => false,
        }
    }

    /// Wraps a SQLite error, telling a full disk apart from the rest.
    pub(crate) fn storage(path: &std::path::Path, source: rusqlite::Error) -> JournalError {
        if source.sqlite_error_code() == Some(rusqlite::ErrorCode::DiskFull) {
            JournalError::DiskFull {
                path: path.to_path_buf(),
            }
        } else {
            JournalError::Storage {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}
