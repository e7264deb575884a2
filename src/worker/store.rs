//! What the worker needs from the journal, as a trait.
//!
//! The worker records every state change through [`Store`] before its next
//! side effect. Its one implementation is the SQLite journal
//! (`crate::journal`, keyed per kassa in [`super::journal_store`]); the
//! worker's unit tests run on it too, in a temporary directory, so the
//! transition rules live in one place (`crate::journal::state::apply`) and
//! are exercised by every worker test. An operation's state is the
//! journal's [`OpState`], not a copy of it.
//!
//! Every method that settles an operation *and* queues a message for the
//! source takes both, so a durable implementation writes them in one
//! transaction: there is never a printed receipt without its approve queued.

use super::source::{OutboxMessage, ShiftDoc};
use crate::journal::{OpState, PrintedReceipt};

/// One operation in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOp {
    pub id: String,
    pub body: String,
    /// Where it stands: the journal's own state, the one state model.
    pub phase: OpState,
}

/// The journal's record of a fiscal shift that is not closed yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftRecord {
    /// Journal row.
    pub row: i64,
    /// syncId of the matching MoySklad retail shift.
    pub id: String,
    pub fn_serial: String,
    /// The open document; `None` while opening.
    pub opened: Option<ShiftDoc>,
    /// A Z-report was started (its FD number expected) but not recorded.
    pub closing: Option<u32>,
}

/// A finished Z-report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftClose {
    pub doc: ShiftDoc,
    pub receipts: u32,
    pub documents: u32,
}

/// Counters for `status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Counts {
    pub waiting: u32,
    pub printing: u32,
    pub awaiting_approve: u32,
    pub approved_today: u32,
    pub rejected_today: u32,
    pub outbox: u32,
    /// Messages the cloud refused for good (4xx), with its text.
    pub undeliverable: Vec<String>,
    /// Bytes the journal file takes (shared by every kassa).
    #[serde(default)]
    pub journal_bytes: u64,
    /// When the oldest answer still to be delivered was queued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox_oldest_at: Option<jiff::Timestamp>,
}

/// How the source answered an outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    /// Refused (4xx); kept for `status`, and put back in the queue later
    /// ([`Store::retry_refused_answer`]) with a capped backoff: an
    /// approve, reject, openshift or closeshift is never dropped.
    Refused(String),
}

/// A message the cloud refused (approve, reject, openshift, closeshift),
/// parked until it is retried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusedAnswer {
    /// Outbox entry.
    pub seq: i64,
    /// The operation answered; `None` for a shift message.
    pub op_id: Option<String>,
}

/// A journal failure, in English for the log.
#[derive(Debug, Clone, thiserror::Error)]
#[error("journal: {message}")]
pub struct StoreError {
    pub message: String,
    /// Nothing can be written (disk full, read-only file or filesystem, I/O
    /// error): the kassa must not print until a write succeeds again.
    pub unwritable: bool,
}

impl StoreError {
    /// Any failure but an unwritable journal (a refused transition, an
    /// unreadable record).
    pub fn new(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            unwritable: false,
        }
    }

    /// The journal cannot be written at all.
    pub fn unwritable(message: impl Into<String>) -> StoreError {
        StoreError {
            message: message.into(),
            unwritable: true,
        }
    }
}

/// The worker's view of the journal (one per kassa).
pub trait Store: Send + Sync + 'static {
    fn get(&self, id: &str) -> Result<Option<StoredOp>, StoreError>;
    /// Records a newly polled operation as RECEIVED.
    fn insert_received(&self, id: &str, body: &str) -> Result<(), StoreError>;
    /// Operations in RECEIVED or PRINTING, PRINTING first, then oldest first.
    fn pending(&self) -> Result<Vec<StoredOp>, StoreError>;
    /// Operations PRINTED whose approve is not queued yet.
    fn printed_unqueued(&self) -> Result<Vec<StoredOp>, StoreError>;
    /// RECEIVED → PRINTING, with what recovery needs to find the receipt.
    fn start_printing(
        &self,
        id: &str,
        expected_fd: u32,
        fn_serial: &str,
        kind: kkt::ReceiptKind,
        total: kkt::Money,
    ) -> Result<(), StoreError>;
    /// PRINTING → PRINTED.
    fn printed(&self, id: &str, fiscal: &PrintedReceipt) -> Result<(), StoreError>;
    /// PRINTED → APPROVING with the approve queued, in one transaction.
    fn queue_approve(&self, id: &str, approve: &OutboxMessage) -> Result<(), StoreError>;
    /// PRINTING → RECEIVED: the FN proved the receipt was not made.
    fn not_printed(&self, id: &str) -> Result<(), StoreError>;
    /// RECEIVED/PRINTING → REJECTING, reject queued.
    fn reject(&self, id: &str, message: &str, reject: &OutboxMessage) -> Result<(), StoreError>;
    /// Queues an approve/reject again (the cloud handed out a settled
    /// operation).
    fn enqueue(&self, msg: &OutboxMessage) -> Result<(), StoreError>;
    /// Oldest undelivered message.
    fn outbox_head(&self) -> Result<Option<(i64, OutboxMessage)>, StoreError>;
    /// A delivery attempt failed and will be retried.
    fn outbox_attempt_failed(&self, seq: i64, error: &str) -> Result<(), StoreError>;
    /// Settles an outbox message; an approve/reject also settles its
    /// operation (APPROVED / REJECTED).
    fn outbox_done(&self, seq: i64, delivery: &Delivery) -> Result<(), StoreError>;
    /// The first approve (or, if none, reject) ever queued for operation
    /// `id`: a re-sent answer repeats it exactly, never a re-rendered one.
    fn original_answer(&self, id: &str) -> Result<Option<OutboxMessage>, StoreError>;
    /// Messages the cloud refused (parked, not delivered), oldest first.
    fn refused_answers(&self) -> Result<Vec<RefusedAnswer>, StoreError>;
    /// Puts a refused message back in the queue, same body, same place in
    /// FIFO order.
    fn retry_refused_answer(&self, seq: i64) -> Result<(), StoreError>;

    /// Queues the openshift of retail shift `shift_id` again (the cloud
    /// answered that it does not know the shift); false if the kassa never
    /// queued one.
    fn resend_open_shift(&self, shift_id: &str) -> Result<bool, StoreError>;

    /// The FN serial of the kassa's most recent journaled shift (open or
    /// closed): the FN the kassa last worked with.
    fn last_fn_serial(&self) -> Result<Option<String>, StoreError>;
    /// The shift that is not closed (opening, open or closing), if any.
    fn current_shift(&self) -> Result<Option<ShiftRecord>, StoreError>;
    /// A new shift in OPENING with a fresh syncId, before the device is
    /// asked, so a crash keeps the same syncId.
    fn begin_shift(&self, fn_serial: &str, expected_fd: u32) -> Result<ShiftRecord, StoreError>;
    /// OPENING → OPEN; openshift queued.
    fn shift_opened(&self, row: i64, doc: &ShiftDoc, msg: &OutboxMessage)
    -> Result<(), StoreError>;
    /// OPEN → CLOSING: a Z-report is about to be made.
    fn shift_closing(&self, row: i64, expected_fd: u32) -> Result<(), StoreError>;
    /// CLOSING → OPEN: the Z-report was not made.
    fn shift_close_not_made(&self, row: i64) -> Result<(), StoreError>;
    /// → CLOSED; closeshift queued.
    fn shift_closed(
        &self,
        row: i64,
        close: &ShiftClose,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError>;

    fn counts(&self) -> Result<Counts, StoreError>;

    /// Keeps the last error (Russian text) for `status` when the daemon is
    /// down. Optional.
    fn record_error(&self, _message: &str) -> Result<(), StoreError> {
        Ok(())
    }
}
