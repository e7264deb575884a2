//! The durable journal: the single source of truth of the agent (see
//! ARCHITECTURE.md, "The loop" and "Exactly-once printing"). Every state
//! change of an operation or a shift is written here and made durable
//! *before* the next side effect (printing, a cloud request).
//!
//! # Why SQLite (rusqlite, bundled) and not redb
//!
//! - Durability is the same where it matters: in WAL mode with
//!   `synchronous=FULL` SQLite fsyncs the WAL on every commit, so a
//!   committed transition survives kill -9 and power loss; redb gives that
//!   with `Durability::Immediate`.
//! - A shop's journal must be inspectable and repairable in the field with
//!   a tool everybody has (`sqlite3 /var/lib/masterkassa/journal.db`), and
//!   the questions `status` asks (counts per state, finished today, pending
//!   outbox) are one indexed SQL query each instead of hand-kept indexes.
//! - SQLite's file format and crash behaviour have decades of field use on
//!   small ARM boards and SD cards; redb is younger (a data-loss bug was
//!   fixed only in 4.0).
//! - The cost is a C build (bundled) and ~1 fsync per commit, which is
//!   nothing next to a receipt that takes seconds to print
//!   (`cargo bench --bench journal_commit` prints the numbers). Two records
//!   whose loss recovery covers anyway (RECEIVED, PRINTED) are committed
//!   without their own fsync and made durable by the next commit
//!   ([`Durability::WithNext`]): three fsyncs per printed receipt, not five.
//!
//! # Layout
//! - [`state`] / [`shift_state`]: the pure state machines (no I/O), which
//!   decide whether a transition is legal;
//! - [`store`]: opening the file, read-only mode, transactions;
//! - [`schema`]: SQL schema and migrations (`PRAGMA user_version`);
//! - [`ops`], [`shifts`], [`outbox`], [`summary`]: the queries.
//!
//! # Public API (all methods on [`Journal`], `&self`, `Journal: Send + Sync`)
//! Opening: [`Journal::open`] (daemon: WAL, synchronous=FULL, migrates),
//! [`Journal::open_read_only`] (`status`; writes fail with
//! [`JournalError::ReadOnly`]), [`Journal::path`], [`Journal::integrity_check`].
//!
//! Operations, keyed by [`OpKey`] `{kassa, source: Source::{Moysklad,Kassatka}, op_id}`:
//! - [`Journal::receive`]`(key, raw) -> Received::{New, Known}(OpRecord)`:
//!   idempotent intake, stores the raw body;
//! - [`Journal::apply`]`(key, &Event) -> OpRecord`: `StartPrinting {expected_fd,
//!   fn_serial, summary: ReceiptSummary {kind, total}}`, `Printed(PrintedReceipt)`,
//!   `NotPrinted`, `RejectDelivered`, `ApproveDelivered`;
//! - [`Journal::apply_and_enqueue`]`(key, &Event, &OutboxRequest) -> (OpRecord, outbox id)`:
//!   required for `Reject {message}` and `StartApproving` (state + request in one commit);
//! - [`Journal::enqueue_for_operation`]: re-send approve/reject for a known operation;
//! - [`Journal::get`], [`Journal::ops_in_state`], [`Journal::counts_by_state`],
//!   [`Journal::finished_since`], [`Journal::history`], [`Journal::kassas`],
//!   [`Journal::record_error`], [`Journal::last_error`].
//!
//! Shifts ([`ShiftRecord`] with `sync_id` generated at creation):
//! [`Journal::begin_shift`]`(kassa, fn_serial, expected_fd)` (OPENING),
//! [`Journal::adopt_open_shift`], [`Journal::apply_shift`],
//! [`Journal::apply_shift_and_enqueue`] (`Opened` + openshift, `Closed` +
//! closeshift), [`Journal::active_shift`], [`Journal::last_shift`], [`Journal::shift`].
//!
//! Outbox (FIFO per kassa): [`Journal::outbox_next`], [`Journal::outbox_pending`],
//! [`Journal::outbox_failed`], [`Journal::outbox_entry`],
//! [`Journal::outbox_delivered`] (also finishes the operation / marks the
//! shift synced), [`Journal::outbox_attempt_failed`],
//! [`Journal::outbox_failed_permanently`], [`Journal::outbox_retry`].
//!
//! Status: [`Journal::kassa_summary`]`(kassa, day_start) -> KassaSummary`,
//! [`Journal::size_bytes`].
//!
//! Download cursors (Kassatka): [`Journal::download_cursor`],
//! [`Journal::advance_download_cursor`].
//!
//! Retention: [`Journal::prune`]`(keep_days, now)` removes settled,
//! delivered operations and synced shifts older than `keep_days`, never
//! anything unsettled or undelivered ([`retention`]).
//!
//! Errors: [`JournalError`]; storage failures name the file
//! ([`JournalError::DiskFull`], [`JournalError::Storage`]), illegal
//! transitions are [`JournalError::Transition`] / [`JournalError::ShiftTransition`]
//! and write nothing.

pub mod cursor;
pub mod error;
pub mod key;
pub mod ops;
pub mod outbox;
pub mod retention;
pub mod schema;
pub mod shift_state;
pub mod shifts;
pub mod state;
pub mod store;
pub mod summary;

pub use error::JournalError;
pub use key::{OpKey, Source};
pub use ops::{FinishedCounts, OpRecord, Received, TransitionRecord};
pub use outbox::{OutboxEntry, OutboxKind, OutboxRequest, OutboxStatus};
pub use retention::{DEFAULT_KEEP_DAYS, Pruned};
pub use shift_state::{
    ShiftEvent, ShiftEventName, ShiftState, ShiftStateName, ShiftTransitionError,
};
pub use shifts::ShiftRecord;
pub use state::{
    Event, EventName, OpState, PrintedReceipt, ReceiptSummary, StateName, TransitionError,
};
pub use store::{Durability, Journal};
pub use summary::KassaSummary;
