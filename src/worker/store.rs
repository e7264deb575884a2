//! What the worker needs from the journal, as a trait.
//!
//! The worker records every state change through [`Store`] before its next
//! side effect; the durable implementation is the SQLite journal
//! (`crate::journal`, adapted in [`super::journal_store`]), and
//! [`MemoryStore`] backs unit tests. Keeping the interface this narrow lets
//! the worker's rules be tested without a disk and lets the journal evolve.
//!
//! Every method that settles an operation *and* queues a message for the
//! source takes both, so a durable implementation writes them in one
//! transaction: there is never a printed receipt without its approve queued.

use super::source::{FiscalData, OutboxMessage, ShiftDoc};
use std::collections::BTreeMap;
use std::sync::Mutex;

/// Where an operation stands (ARCHITECTURE.md, "The loop").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Phase {
    Received,
    Printing {
        expected_fd: u32,
        fn_serial: String,
        /// What was sent to the device, as journaled before printing:
        /// recovery matches the FN archive against this, never against a
        /// fresh render.
        kind: kkt::ReceiptKind,
        total: kkt::Money,
    },
    /// The FN made the receipt; approve not queued yet.
    Printed(FiscalData),
    /// Approve queued in the outbox.
    Approving(FiscalData),
    Approved(FiscalData),
    Rejecting {
        message: String,
    },
    Rejected {
        message: String,
    },
}

impl Phase {
    pub fn is_pending_print(&self) -> bool {
        matches!(self, Phase::Received | Phase::Printing { .. })
    }
}

/// One operation in the journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredOp {
    pub id: String,
    pub body: String,
    pub phase: Phase,
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
    fn printed(&self, id: &str, fiscal: &FiscalData) -> Result<(), StoreError>;
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

/// In-memory [`Store`] for tests: same rules, no durability.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    ops: BTreeMap<String, (u64, StoredOp)>,
    next_seq: i64,
    outbox: BTreeMap<i64, OutboxMessage>,
    refused: BTreeMap<i64, (OutboxMessage, String)>,
    /// First approve/reject queued per operation.
    answers: BTreeMap<String, OutboxMessage>,
    shifts: Vec<(ShiftRecord, bool)>,
}

impl MemoryInner {
    fn seq(&mut self) -> i64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn op(&mut self, id: &str) -> Result<&mut StoredOp, StoreError> {
        self.ops
            .get_mut(id)
            .map(|(_, op)| op)
            .ok_or_else(|| StoreError::new(format!("unknown operation {id}")))
    }

    fn shift(&mut self, row: i64) -> Result<&mut (ShiftRecord, bool), StoreError> {
        self.shifts
            .iter_mut()
            .find(|(r, _)| r.row == row)
            .ok_or_else(|| StoreError::new(format!("unknown shift {row}")))
    }
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        // A panic in another test thread must not hide this store's state.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Every operation, oldest first, for assertions.
    pub fn all(&self) -> Vec<StoredOp> {
        let mut v: Vec<_> = self.lock().ops.values().cloned().collect();
        v.sort_by_key(|(seq, _)| *seq);
        v.into_iter().map(|(_, op)| op).collect()
    }

    fn sorted(&self, keep: impl Fn(&Phase) -> bool) -> Vec<StoredOp> {
        self.all().into_iter().filter(|o| keep(&o.phase)).collect()
    }
}

fn illegal(id: &str, phase: &Phase, what: &str) -> StoreError {
    StoreError::new(format!(
        "operation {id}: {what} is not allowed in {phase:?}"
    ))
}

impl Store for MemoryStore {
    fn get(&self, id: &str) -> Result<Option<StoredOp>, StoreError> {
        Ok(self.lock().ops.get(id).map(|(_, op)| op.clone()))
    }

    fn insert_received(&self, id: &str, body: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.ops.contains_key(id) {
            return Err(StoreError::new(format!("operation {id} already recorded")));
        }
        let seq = s.seq() as u64;
        let op = StoredOp {
            id: id.to_string(),
            body: body.to_string(),
            phase: Phase::Received,
        };
        s.ops.insert(id.to_string(), (seq, op));
        Ok(())
    }

    fn pending(&self) -> Result<Vec<StoredOp>, StoreError> {
        let mut v = self.sorted(|p| matches!(p, Phase::Printing { .. }));
        v.extend(self.sorted(|p| *p == Phase::Received));
        Ok(v)
    }

    fn printed_unqueued(&self) -> Result<Vec<StoredOp>, StoreError> {
        Ok(self.sorted(|p| matches!(p, Phase::Printed(_))))
    }

    fn start_printing(
        &self,
        id: &str,
        expected_fd: u32,
        fn_serial: &str,
        kind: kkt::ReceiptKind,
        total: kkt::Money,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if op.phase != Phase::Received {
            return Err(illegal(id, &op.phase, "start printing"));
        }
        op.phase = Phase::Printing {
            expected_fd,
            fn_serial: fn_serial.to_string(),
            kind,
            total,
        };
        Ok(())
    }

    fn printed(&self, id: &str, fiscal: &FiscalData) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if !matches!(op.phase, Phase::Printing { .. }) {
            return Err(illegal(id, &op.phase, "printed"));
        }
        op.phase = Phase::Printed(fiscal.clone());
        Ok(())
    }

    fn queue_approve(&self, id: &str, approve: &OutboxMessage) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        let Phase::Printed(f) = &op.phase else {
            return Err(illegal(id, &op.phase, "queue approve"));
        };
        op.phase = Phase::Approving(f.clone());
        let seq = s.seq();
        s.outbox.insert(seq, approve.clone());
        s.answers
            .entry(id.to_string())
            .or_insert_with(|| approve.clone());
        Ok(())
    }

    fn not_printed(&self, id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if !matches!(op.phase, Phase::Printing { .. }) {
            return Err(illegal(id, &op.phase, "not printed"));
        }
        op.phase = Phase::Received;
        Ok(())
    }

    fn reject(&self, id: &str, message: &str, reject: &OutboxMessage) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if !op.phase.is_pending_print() {
            return Err(illegal(id, &op.phase, "reject"));
        }
        op.phase = Phase::Rejecting {
            message: message.to_string(),
        };
        let seq = s.seq();
        s.outbox.insert(seq, reject.clone());
        s.answers
            .entry(id.to_string())
            .or_insert_with(|| reject.clone());
        Ok(())
    }

    fn enqueue(&self, msg: &OutboxMessage) -> Result<(), StoreError> {
        let mut s = self.lock();
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn outbox_head(&self) -> Result<Option<(i64, OutboxMessage)>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .first_key_value()
            .map(|(k, v)| (*k, v.clone())))
    }

    fn outbox_attempt_failed(&self, _seq: i64, _error: &str) -> Result<(), StoreError> {
        Ok(())
    }

    fn outbox_done(&self, seq: i64, delivery: &Delivery) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(msg) = s.outbox.remove(&seq) else {
            return Ok(());
        };
        if let Delivery::Refused(why) = delivery {
            s.refused.insert(seq, (msg, why.clone()));
            return Ok(());
        }
        if let Some(id) = msg.op_id() {
            let op = s.op(id)?;
            op.phase = match &op.phase {
                Phase::Approving(f) | Phase::Approved(f) => Phase::Approved(f.clone()),
                Phase::Rejecting { message } | Phase::Rejected { message } => Phase::Rejected {
                    message: message.clone(),
                },
                other => other.clone(),
            };
        }
        Ok(())
    }

    fn original_answer(&self, id: &str) -> Result<Option<OutboxMessage>, StoreError> {
        Ok(self.lock().answers.get(id).cloned())
    }

    fn refused_answers(&self) -> Result<Vec<RefusedAnswer>, StoreError> {
        Ok(self
            .lock()
            .refused
            .iter()
            .map(|(seq, (msg, _))| RefusedAnswer {
                seq: *seq,
                op_id: msg.op_id().map(str::to_string),
            })
            .collect())
    }

    fn retry_refused_answer(&self, seq: i64) -> Result<(), StoreError> {
        let mut s = self.lock();
        if let Some((msg, _)) = s.refused.remove(&seq) {
            s.outbox.insert(seq, msg);
        }
        Ok(())
    }

    fn last_fn_serial(&self) -> Result<Option<String>, StoreError> {
        Ok(self.lock().shifts.last().map(|(r, _)| r.fn_serial.clone()))
    }

    fn current_shift(&self) -> Result<Option<ShiftRecord>, StoreError> {
        Ok(self
            .lock()
            .shifts
            .iter()
            .rev()
            .find(|(_, closed)| !closed)
            .map(|(r, _)| r.clone()))
    }

    fn begin_shift(&self, fn_serial: &str, _expected_fd: u32) -> Result<ShiftRecord, StoreError> {
        let mut s = self.lock();
        if s.shifts.iter().any(|(_, closed)| !closed) {
            return Err(StoreError::new("a shift is already active"));
        }
        let row = s.seq();
        let rec = ShiftRecord {
            row,
            id: uuid::Uuid::new_v4().to_string(),
            fn_serial: fn_serial.to_string(),
            opened: None,
            closing: None,
        };
        s.shifts.push((rec.clone(), false));
        Ok(rec)
    }

    fn shift_opened(
        &self,
        row: i64,
        doc: &ShiftDoc,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let (rec, _) = s.shift(row)?;
        if rec.opened.is_some() {
            return Err(StoreError::new(format!("shift {row} is already open")));
        }
        rec.opened = Some(doc.clone());
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn shift_closing(&self, row: i64, expected_fd: u32) -> Result<(), StoreError> {
        let mut s = self.lock();
        let (rec, _) = s.shift(row)?;
        if rec.opened.is_none() || rec.closing.is_some() {
            return Err(StoreError::new(format!("shift {row} cannot start closing")));
        }
        rec.closing = Some(expected_fd);
        Ok(())
    }

    fn shift_close_not_made(&self, row: i64) -> Result<(), StoreError> {
        let mut s = self.lock();
        let (rec, _) = s.shift(row)?;
        rec.closing = None;
        Ok(())
    }

    fn shift_closed(
        &self,
        row: i64,
        _close: &ShiftClose,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let (rec, closed) = s.shift(row)?;
        if rec.opened.is_none() || *closed {
            return Err(StoreError::new(format!("shift {row} cannot be closed")));
        }
        *closed = true;
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let s = self.lock();
        let mut c = Counts {
            outbox: s.outbox.len() as u32,
            undeliverable: s
                .refused
                .values()
                .map(|(msg, why)| format!("{}: {why}", msg.label()))
                .collect(),
            ..Counts::default()
        };
        for (_, op) in s.ops.values() {
            match &op.phase {
                Phase::Received => c.waiting += 1,
                Phase::Printing { .. } => c.printing += 1,
                Phase::Printed(_) | Phase::Approving(_) => c.awaiting_approve += 1,
                Phase::Approved(_) => c.approved_today += 1,
                Phase::Rejected { .. } => c.rejected_today += 1,
                Phase::Rejecting { .. } => {}
            }
        }
        Ok(c)
    }
}
