//! Where operations come from and where their results go.
//!
//! The worker is generic over a [`ReceiptSource`]: MoySklad's master queue
//! ([`super::moysklad`]) today, a Kassatka source later. A source polls the
//! next operation, turns it into an [`OperationInput`] for rendering, and
//! delivers [`OutboxMessage`]s (approve, reject, shift open/close, state).
//! Messages are plain data so the journal can keep them durably and the
//! outbox can send them again after a crash, byte for byte the same.

pub use crate::journal::PrintedReceipt;
use crate::receipt::{OperationInput, RejectReason};
use kkt::{DateTime, TaxSystem};
use serde::{Deserialize, Serialize};
use std::future::Future;
use std::time::Duration;

/// One operation handed out by the source.
#[derive(Debug, Clone)]
pub struct SourceOperation {
    /// Idempotency key (MoySklad: the operation's syncid).
    pub id: String,
    /// The body as received; the journal stores it and recovery decodes it
    /// again with [`ReceiptSource::decode`].
    pub body: String,
    /// The operation's kind for logs and status (e.g. `retaildemand`).
    pub kind: String,
    /// The operation's reference (MoySklad: its `meta`), echoed in approve
    /// and reject.
    pub reference: serde_json::Value,
    /// The data to render, or why the body cannot make a receipt.
    pub input: Result<OperationInput, RejectReason>,
}

/// What a poll returned.
#[derive(Debug, Clone)]
pub enum Polled {
    /// Nothing queued.
    Empty,
    Operation(Box<SourceOperation>),
}

/// Why talking to the source failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    /// Network trouble, 5xx, 429, malformed answer: try again later.
    #[error("temporary cloud failure: {message}")]
    Transient {
        /// For the log (English).
        message: String,
        /// The server's own hint (X-Lognex-Retry-After).
        retry_after: Option<Duration>,
        /// What `status` tells the shop (Russian), when the source knows
        /// more than "temporarily unavailable".
        shop: Option<String>,
    },
    /// The source refused the request for good (4xx). Recorded, shown by
    /// status, never retried.
    #[error("the cloud refused the request ({status}): {message}")]
    Permanent { status: u16, message: String },
}

/// The printer, as approve and state describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PrinterInfo {
    pub vendor: String,
    pub model: String,
    pub serial: String,
    pub firmware: String,
    pub ffd_version: String,
}

impl PrinterInfo {
    pub fn from_device(info: &kkt::DeviceInfo) -> Self {
        PrinterInfo {
            vendor: info.vendor.clone(),
            model: info.model.clone(),
            serial: info.serial.clone(),
            firmware: info.firmware.clone(),
            ffd_version: info.ffd_version.clone(),
        }
    }
}

/// A fiscal shift's open or close document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftDoc {
    pub fn_serial: String,
    pub shift_number: u32,
    pub fd_number: u32,
    pub fiscal_sign: u32,
    pub time: DateTime,
}

/// Something the source must be told, kept in the journal's outbox until
/// the source accepted it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum OutboxMessage {
    OpenShift {
        shift_id: String,
        opened: ShiftDoc,
    },
    Approve {
        op_id: String,
        kind: String,
        reference: serde_json::Value,
        fiscal: PrintedReceipt,
        tax_system: TaxSystem,
        buyer_contact: Option<String>,
        printer: PrinterInfo,
        shift_id: String,
    },
    Reject {
        op_id: String,
        kind: String,
        reference: serde_json::Value,
        message: String,
    },
    CloseShift {
        shift_id: String,
        opened: ShiftDoc,
        closed: ShiftDoc,
        receipts: u32,
        documents: u32,
    },
}

impl OutboxMessage {
    /// The operation this message settles, if any.
    pub fn op_id(&self) -> Option<&str> {
        match self {
            OutboxMessage::Approve { op_id, .. } | OutboxMessage::Reject { op_id, .. } => {
                Some(op_id)
            }
            _ => None,
        }
    }

    /// Short English label for logs.
    pub fn label(&self) -> String {
        match self {
            OutboxMessage::OpenShift { shift_id, .. } => format!("openshift {shift_id}"),
            OutboxMessage::Approve { op_id, .. } => format!("approve {op_id}"),
            OutboxMessage::Reject { op_id, .. } => format!("reject {op_id}"),
            OutboxMessage::CloseShift { shift_id, .. } => format!("closeshift {shift_id}"),
        }
    }
}

/// What the agent reports about itself (MoySklad `POST /state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct StateReport {
    pub software_version: String,
    pub printer: Option<PrinterInfo>,
    pub fn_valid_until: Option<kkt::Date>,
    pub tax_systems: Vec<TaxSystem>,
    pub device_clock: Option<DateTime>,
    pub last_sync_attempt: Option<DateTime>,
    /// Sync problem in Russian (cloud unreachable …), if any.
    pub sync_message: Option<String>,
    /// FN / device error: code and Russian text.
    pub fn_error: Option<(String, String)>,
    pub ofd_unsent: u32,
    pub ofd_first_unsent_at: Option<DateTime>,
}

/// A queue of operations to print.
pub trait ReceiptSource: Send + Sync + 'static {
    /// The next queued operation, if any.
    fn poll(&self) -> impl Future<Output = Result<Polled, SourceError>> + Send;

    /// Delivers one outbox message. An answer meaning "already done" (the
    /// operation was approved/rejected before, the shift is already open)
    /// must be returned as `Ok`.
    fn deliver(&self, msg: &OutboxMessage) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// Reports the agent's state.
    fn report_state(
        &self,
        report: &StateReport,
    ) -> impl Future<Output = Result<(), SourceError>> + Send;

    /// Decodes a body stored in the journal (same rules as `poll`).
    fn decode(&self, id: &str, body: &str) -> SourceOperation;

    /// What the source wants the shop to know now, in Russian (e.g. a
    /// reconciliation that found receipts the downloads had missed);
    /// shown by `status` until the source says something else.
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}
