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
    Printing { expected_fd: u32, fn_serial: String },
    Printed(FiscalData),
    Rejecting { message: String },
    Rejected { message: String },
    Approved(FiscalData),
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
    /// Arrival order.
    pub seq: u64,
}

/// The journal's record of a fiscal shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftRecord {
    /// syncId of the matching MoySklad retail shift.
    pub id: String,
    pub opened: Option<ShiftDoc>,
    pub closed: Option<ShiftDoc>,
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
}

/// How the source answered an outbox message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    Accepted,
    /// Refused for good; kept for `status`, never sent again.
    Refused(String),
}

#[derive(Debug, thiserror::Error)]
#[error("journal: {0}")]
pub struct StoreError(pub String);

/// The worker's view of the journal (one per kassa).
pub trait Store: Send + Sync + 'static {
    fn get(&self, id: &str) -> Result<Option<StoredOp>, StoreError>;
    /// Records a newly polled operation as RECEIVED.
    fn insert_received(&self, id: &str, body: &str) -> Result<(), StoreError>;
    /// Operations in RECEIVED or PRINTING, oldest first.
    fn pending(&self) -> Result<Vec<StoredOp>, StoreError>;
    fn start_printing(&self, id: &str, expected_fd: u32, fn_serial: &str)
    -> Result<(), StoreError>;
    /// PRINTING → PRINTED, approve queued.
    fn printed(
        &self,
        id: &str,
        fiscal: &FiscalData,
        approve: &OutboxMessage,
    ) -> Result<(), StoreError>;
    /// PRINTING → RECEIVED: the FN proved the receipt was not made.
    fn not_printed(&self, id: &str) -> Result<(), StoreError>;
    /// RECEIVED/PRINTING → REJECTING, reject queued.
    fn reject(&self, id: &str, message: &str, reject: &OutboxMessage) -> Result<(), StoreError>;
    /// Queues a message again (the cloud handed out a settled operation).
    fn enqueue(&self, msg: &OutboxMessage) -> Result<(), StoreError>;
    /// Oldest undelivered message.
    fn outbox_head(&self) -> Result<Option<(u64, OutboxMessage)>, StoreError>;
    /// Settles an outbox message; an approve/reject also settles its
    /// operation (APPROVED / REJECTED).
    fn outbox_done(&self, seq: u64, delivery: &Delivery) -> Result<(), StoreError>;

    /// The shift the journal believes open (opened, not closed), or a
    /// shift whose opening was started (id chosen, no document yet).
    fn current_shift(&self) -> Result<Option<ShiftRecord>, StoreError>;
    /// Records the intent to open a shift under `id` (before the device
    /// is asked), so a crash keeps the same syncId.
    fn shift_opening(&self, id: &str) -> Result<(), StoreError>;
    /// The shift is open on the device; openshift queued.
    fn shift_opened(&self, id: &str, doc: &ShiftDoc, msg: &OutboxMessage)
    -> Result<(), StoreError>;
    /// The shift is closed on the device; closeshift queued.
    fn shift_closed(&self, id: &str, doc: &ShiftDoc, msg: &OutboxMessage)
    -> Result<(), StoreError>;

    fn counts(&self, today: kkt::Date) -> Result<Counts, StoreError>;
}

/// In-memory [`Store`] for tests: same rules, no durability.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    ops: BTreeMap<String, StoredOp>,
    next_seq: u64,
    outbox: BTreeMap<u64, OutboxMessage>,
    refused: Vec<String>,
    shifts: Vec<ShiftRecord>,
}

impl MemoryInner {
    fn seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    fn op(&mut self, id: &str) -> Result<&mut StoredOp, StoreError> {
        self.ops
            .get_mut(id)
            .ok_or_else(|| StoreError(format!("unknown operation {id}")))
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

    /// Every operation, for assertions.
    pub fn all(&self) -> Vec<StoredOp> {
        let mut v: Vec<_> = self.lock().ops.values().cloned().collect();
        v.sort_by_key(|o| o.seq);
        v
    }
}

fn illegal(id: &str, phase: &Phase, what: &str) -> StoreError {
    StoreError(format!(
        "operation {id}: {what} is not allowed in {phase:?}"
    ))
}

impl Store for MemoryStore {
    fn get(&self, id: &str) -> Result<Option<StoredOp>, StoreError> {
        Ok(self.lock().ops.get(id).cloned())
    }

    fn insert_received(&self, id: &str, body: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.ops.contains_key(id) {
            return Err(StoreError(format!("operation {id} already recorded")));
        }
        let seq = s.seq();
        s.ops.insert(
            id.to_string(),
            StoredOp {
                id: id.to_string(),
                body: body.to_string(),
                phase: Phase::Received,
                seq,
            },
        );
        Ok(())
    }

    fn pending(&self) -> Result<Vec<StoredOp>, StoreError> {
        let s = self.lock();
        let mut v: Vec<_> = s
            .ops
            .values()
            .filter(|o| o.phase.is_pending_print())
            .cloned()
            .collect();
        v.sort_by_key(|o| o.seq);
        Ok(v)
    }

    fn start_printing(
        &self,
        id: &str,
        expected_fd: u32,
        fn_serial: &str,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if op.phase != Phase::Received {
            return Err(illegal(id, &op.phase, "start printing"));
        }
        op.phase = Phase::Printing {
            expected_fd,
            fn_serial: fn_serial.to_string(),
        };
        Ok(())
    }

    fn printed(
        &self,
        id: &str,
        fiscal: &FiscalData,
        approve: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let op = s.op(id)?;
        if !matches!(op.phase, Phase::Printing { .. }) {
            return Err(illegal(id, &op.phase, "printed"));
        }
        op.phase = Phase::Printed(fiscal.clone());
        let seq = s.seq();
        s.outbox.insert(seq, approve.clone());
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
        Ok(())
    }

    fn enqueue(&self, msg: &OutboxMessage) -> Result<(), StoreError> {
        let mut s = self.lock();
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn outbox_head(&self) -> Result<Option<(u64, OutboxMessage)>, StoreError> {
        Ok(self
            .lock()
            .outbox
            .first_key_value()
            .map(|(k, v)| (*k, v.clone())))
    }

    fn outbox_done(&self, seq: u64, delivery: &Delivery) -> Result<(), StoreError> {
        let mut s = self.lock();
        let Some(msg) = s.outbox.remove(&seq) else {
            return Ok(());
        };
        if let Delivery::Refused(why) = delivery {
            s.refused.push(format!("{}: {why}", msg.label()));
            return Ok(());
        }
        if let Some(id) = msg.op_id() {
            let op = s.op(id)?;
            op.phase = match &op.phase {
                Phase::Printed(f) | Phase::Approved(f) => Phase::Approved(f.clone()),
                Phase::Rejecting { message } | Phase::Rejected { message } => Phase::Rejected {
                    message: message.clone(),
                },
                other => other.clone(),
            };
        }
        Ok(())
    }

    fn current_shift(&self) -> Result<Option<ShiftRecord>, StoreError> {
        Ok(self
            .lock()
            .shifts
            .last()
            .filter(|s| s.closed.is_none())
            .cloned())
    }

    fn shift_opening(&self, id: &str) -> Result<(), StoreError> {
        let mut s = self.lock();
        if s.shifts.iter().any(|r| r.id == id) {
            return Ok(());
        }
        s.shifts.push(ShiftRecord {
            id: id.to_string(),
            opened: None,
            closed: None,
        });
        Ok(())
    }

    fn shift_opened(
        &self,
        id: &str,
        doc: &ShiftDoc,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let rec = s
            .shifts
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError(format!("unknown shift {id}")))?;
        rec.opened = Some(doc.clone());
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn shift_closed(
        &self,
        id: &str,
        doc: &ShiftDoc,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let mut s = self.lock();
        let rec = s
            .shifts
            .iter_mut()
            .find(|r| r.id == id)
            .ok_or_else(|| StoreError(format!("unknown shift {id}")))?;
        rec.closed = Some(doc.clone());
        let seq = s.seq();
        s.outbox.insert(seq, msg.clone());
        Ok(())
    }

    fn counts(&self, today: kkt::Date) -> Result<Counts, StoreError> {
        let s = self.lock();
        let mut c = Counts {
            outbox: s.outbox.len() as u32,
            undeliverable: s.refused.clone(),
            ..Counts::default()
        };
        for op in s.ops.values() {
            match &op.phase {
                Phase::Received => c.waiting += 1,
                Phase::Printing { .. } => c.printing += 1,
                Phase::Printed(_) => c.awaiting_approve += 1,
                Phase::Approved(f) if f.time.date() == today => c.approved_today += 1,
                Phase::Rejected { .. } => c.rejected_today += 1,
                _ => {}
            }
        }
        Ok(c)
    }
}
