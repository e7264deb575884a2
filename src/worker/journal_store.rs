//! [`Store`] over the durable SQLite journal ([`crate::journal::Journal`]).
//!
//! One adapter per kassa (the journal is shared by all kassas of the
//! daemon, keyed by kassa name and source). Outbox bodies are the JSON of
//! [`OutboxMessage`], so a message is sent after a restart exactly as it was
//! queued. An operation's state is the journal's [`OpState`] itself.

use super::source::{OutboxMessage, ShiftDoc};
use super::store::{
    Counts, Delivery, RefusedAnswer, ShiftClose, ShiftRecord, Store, StoreError, StoredOp,
};
use crate::journal::{
    Event, Journal, JournalError, OpKey, OpRecord, OutboxKind, OutboxRequest, PrintedReceipt,
    ReceiptSummary, ShiftEvent, ShiftState, Source, StateName,
};
use kkt::{FiscalDoc, Money, ReceiptKind, ShiftClosed, ShiftOpened};
use std::sync::Arc;

/// One kassa's view of the shared journal.
#[derive(Clone)]
pub struct JournalStore {
    journal: Arc<Journal>,
    kassa: String,
    source: Source,
}

impl JournalStore {
    pub fn new(journal: Arc<Journal>, kassa: &str, source: Source) -> Self {
        JournalStore {
            journal,
            kassa: kassa.to_string(),
            source,
        }
    }

    pub fn journal(&self) -> &Arc<Journal> {
        &self.journal
    }

    fn key(&self, id: &str) -> OpKey {
        OpKey::new(&self.kassa, self.source, id)
    }
}

fn err(e: JournalError) -> StoreError {
    if e.is_unwritable() {
        StoreError::unwritable(e.to_string())
    } else {
        StoreError::new(e.to_string())
    }
}

fn stored(r: OpRecord) -> StoredOp {
    StoredOp {
        id: r.key.op_id,
        body: r.raw,
        phase: r.state,
    }
}

fn request(msg: &OutboxMessage) -> Result<OutboxRequest, StoreError> {
    let kind = match msg {
        OutboxMessage::OpenShift { .. } => OutboxKind::OpenShift,
        OutboxMessage::Approve { .. } => OutboxKind::Approve,
        OutboxMessage::Reject { .. } => OutboxKind::Reject,
        OutboxMessage::CloseShift { .. } => OutboxKind::CloseShift,
    };
    let body = serde_json::to_string(msg).map_err(|e| StoreError::new(e.to_string()))?;
    Ok(OutboxRequest::new(kind, body))
}

fn doc_of(d: &ShiftDoc) -> FiscalDoc {
    FiscalDoc {
        number: d.fd_number,
        fiscal_sign: d.fiscal_sign,
        time: d.time,
    }
}

fn shift_record(r: crate::journal::ShiftRecord) -> ShiftRecord {
    let opened = r.state.opened().map(|o| ShiftDoc {
        fn_serial: r.fn_serial.clone(),
        shift_number: o.shift_number,
        fd_number: o.doc.number,
        fiscal_sign: o.doc.fiscal_sign,
        time: o.doc.time,
    });
    let closing = match r.state {
        ShiftState::Closing { expected_fd, .. } => Some(expected_fd),
        _ => None,
    };
    ShiftRecord {
        row: r.id,
        id: r.sync_id,
        fn_serial: r.fn_serial,
        opened,
        closing,
    }
}

impl Store for JournalStore {
    fn get(&self, id: &str) -> Result<Option<StoredOp>, StoreError> {
        Ok(self.journal.get(&self.key(id)).map_err(err)?.map(stored))
    }

    fn insert_received(&self, id: &str, body: &str) -> Result<(), StoreError> {
        self.journal
            .receive(&self.key(id), body)
            .map(|_| ())
            .map_err(err)
    }

    fn pending(&self) -> Result<Vec<StoredOp>, StoreError> {
        let mut out: Vec<StoredOp> = self
            .journal
            .ops_in_state(&self.kassa, StateName::Printing)
            .map_err(err)?
            .into_iter()
            .map(stored)
            .collect();
        out.extend(
            self.journal
                .ops_in_state(&self.kassa, StateName::Received)
                .map_err(err)?
                .into_iter()
                .map(stored),
        );
        Ok(out)
    }

    fn printed_unqueued(&self) -> Result<Vec<StoredOp>, StoreError> {
        Ok(self
            .journal
            .ops_in_state(&self.kassa, StateName::Printed)
            .map_err(err)?
            .into_iter()
            .map(stored)
            .collect())
    }

    fn start_printing(
        &self,
        id: &str,
        expected_fd: u32,
        fn_serial: &str,
        kind: ReceiptKind,
        total: Money,
    ) -> Result<(), StoreError> {
        let event = Event::StartPrinting {
            expected_fd,
            fn_serial: fn_serial.to_string(),
            summary: ReceiptSummary { kind, total },
        };
        self.journal
            .apply(&self.key(id), &event)
            .map(|_| ())
            .map_err(err)
    }

    fn printed(&self, id: &str, fiscal: &PrintedReceipt) -> Result<(), StoreError> {
        self.journal
            .apply(&self.key(id), &Event::Printed(fiscal.clone()))
            .map(|_| ())
            .map_err(err)
    }

    fn queue_approve(&self, id: &str, approve: &OutboxMessage) -> Result<(), StoreError> {
        self.journal
            .apply_and_enqueue(&self.key(id), &Event::StartApproving, &request(approve)?)
            .map(|_| ())
            .map_err(err)
    }

    fn not_printed(&self, id: &str) -> Result<(), StoreError> {
        self.journal
            .apply(&self.key(id), &Event::NotPrinted)
            .map(|_| ())
            .map_err(err)
    }

    fn reject(&self, id: &str, message: &str, reject: &OutboxMessage) -> Result<(), StoreError> {
        let event = Event::Reject {
            message: message.to_string(),
        };
        self.journal
            .apply_and_enqueue(&self.key(id), &event, &request(reject)?)
            .map(|_| ())
            .map_err(err)
    }

    fn enqueue(&self, msg: &OutboxMessage) -> Result<(), StoreError> {
        let Some(id) = msg.op_id() else {
            return Err(StoreError::new(format!(
                "{} cannot be queued on its own",
                msg.label()
            )));
        };
        self.journal
            .enqueue_for_operation(&self.key(id), &request(msg)?)
            .map(|_| ())
            .map_err(err)
    }

    fn outbox_head(&self) -> Result<Option<(i64, OutboxMessage)>, StoreError> {
        let Some(entry) = self.journal.outbox_next(&self.kassa).map_err(err)? else {
            return Ok(None);
        };
        match serde_json::from_str::<OutboxMessage>(&entry.body) {
            Ok(msg) => Ok(Some((entry.id, msg))),
            Err(e) => {
                // Not ours (or damaged): park it where status shows it
                // instead of blocking the queue forever.
                let why = format!("unreadable outbox body: {e}");
                self.journal
                    .outbox_failed_permanently(entry.id, &why)
                    .map_err(err)?;
                Err(StoreError::new(why))
            }
        }
    }

    fn outbox_attempt_failed(&self, seq: i64, error: &str) -> Result<(), StoreError> {
        self.journal
            .outbox_attempt_failed(seq, error)
            .map(|_| ())
            .map_err(err)
    }

    fn outbox_done(&self, seq: i64, delivery: &Delivery) -> Result<(), StoreError> {
        match delivery {
            Delivery::Accepted => self.journal.outbox_delivered(seq).map(|_| ()),
            Delivery::Refused(why) => self.journal.outbox_failed_permanently(seq, why),
        }
        .map_err(err)
    }

    fn original_answer(&self, id: &str) -> Result<Option<OutboxMessage>, StoreError> {
        let key = self.key(id);
        for kind in [OutboxKind::Approve, OutboxKind::Reject] {
            if let Some(body) = self.journal.first_outbox_body(&key, kind).map_err(err)? {
                return serde_json::from_str(&body)
                    .map(Some)
                    .map_err(|e| StoreError::new(format!("unreadable outbox body of {id}: {e}")));
            }
        }
        Ok(None)
    }

    fn refused_answers(&self) -> Result<Vec<RefusedAnswer>, StoreError> {
        Ok(self
            .journal
            .outbox_failed(&self.kassa)
            .map_err(err)?
            .into_iter()
            // A body that does not decode was parked by `outbox_head`:
            // sending it again cannot succeed.
            .filter(|e| serde_json::from_str::<OutboxMessage>(&e.body).is_ok())
            .map(|e| RefusedAnswer {
                seq: e.id,
                op_id: e.operation.map(|key| key.op_id),
            })
            .collect())
    }

    fn retry_refused_answer(&self, seq: i64) -> Result<(), StoreError> {
        self.journal.outbox_retry(seq).map_err(err)
    }

    fn resend_open_shift(&self, shift_id: &str) -> Result<bool, StoreError> {
        self.journal
            .requeue_open_shift(&self.kassa, shift_id)
            .map_err(err)
    }

    fn last_fn_serial(&self) -> Result<Option<String>, StoreError> {
        Ok(self
            .journal
            .last_shift(&self.kassa)
            .map_err(err)?
            .map(|r| r.fn_serial))
    }

    fn current_shift(&self) -> Result<Option<ShiftRecord>, StoreError> {
        Ok(self
            .journal
            .active_shift(&self.kassa)
            .map_err(err)?
            .map(shift_record))
    }

    fn begin_shift(&self, fn_serial: &str, expected_fd: u32) -> Result<ShiftRecord, StoreError> {
        self.journal
            .begin_shift(&self.kassa, fn_serial, expected_fd)
            .map(shift_record)
            .map_err(err)
    }

    fn shift_opened(
        &self,
        row: i64,
        doc: &ShiftDoc,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let opened = ShiftOpened {
            shift_number: doc.shift_number,
            doc: doc_of(doc),
        };
        self.journal
            .apply_shift_and_enqueue(row, &ShiftEvent::Opened(opened), &request(msg)?)
            .map(|_| ())
            .map_err(err)
    }

    fn shift_closing(&self, row: i64, expected_fd: u32) -> Result<(), StoreError> {
        self.journal
            .apply_shift(row, &ShiftEvent::StartClosing { expected_fd })
            .map(|_| ())
            .map_err(err)
    }

    fn shift_close_not_made(&self, row: i64) -> Result<(), StoreError> {
        self.journal
            .apply_shift(row, &ShiftEvent::CloseNotMade)
            .map(|_| ())
            .map_err(err)
    }

    fn shift_closed(
        &self,
        row: i64,
        close: &ShiftClose,
        msg: &OutboxMessage,
    ) -> Result<(), StoreError> {
        let closed = ShiftClosed {
            shift_number: close.doc.shift_number,
            doc: doc_of(&close.doc),
            receipts_in_shift: close.receipts,
            documents_in_shift: close.documents,
        };
        self.journal
            .apply_shift_and_enqueue(row, &ShiftEvent::Closed(closed), &request(msg)?)
            .map(|_| ())
            .map_err(err)
    }

    fn record_error(&self, message: &str) -> Result<(), StoreError> {
        self.journal.record_error(&self.kassa, message).map_err(err)
    }

    fn counts(&self) -> Result<Counts, StoreError> {
        let summary = self
            .journal
            .kassa_summary(&self.kassa, day_start())
            .map_err(err)?;
        Ok(counts_of(&summary))
    }
}

/// Counters from a journal summary (also used by `status` when the daemon
/// is down and the journal is read directly).
pub fn counts_of(s: &crate::journal::KassaSummary) -> Counts {
    let n = |state| s.count(state) as u32;
    Counts {
        waiting: n(StateName::Received),
        printing: n(StateName::Printing),
        awaiting_approve: n(StateName::Printed) + n(StateName::Approving),
        approved_today: s.today.approved as u32,
        rejected_today: s.today.rejected as u32,
        outbox: s.outbox_pending.len() as u32,
        undeliverable: s
            .outbox_failed
            .iter()
            .map(|e| {
                format!(
                    "{} #{}: {}",
                    e.kind.as_str(),
                    e.id,
                    e.last_error.clone().unwrap_or_default()
                )
            })
            .collect(),
        journal_bytes: s.journal_bytes,
        outbox_oldest_at: s.outbox_pending.iter().map(|e| e.created_at).min(),
    }
}

/// Midnight today, Moscow time.
pub fn day_start() -> jiff::Timestamp {
    let today = super::moscow_now().date();
    super::moscow()
        .to_timestamp(today.to_datetime(jiff::civil::Time::midnight()))
        .unwrap_or_else(|_| jiff::Timestamp::now())
}
