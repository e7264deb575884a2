//! Device-neutral API of a Russian fiscal printer (KKT, law 54-FZ).
//!
//! The worker talks to every printer through the [`Kkt`] trait and the types
//! here; protocol crates (`shtrih`, later `atol`) implement it. The trait is
//! blocking on purpose: a serial port is owned by exactly one thread, and async
//! code reaches it through a handle (channel + reply), never directly.
//!
//! Money is integer kopecks ([`Money`]), quantities are fixed-point millionths
//! ([`Quantity`]); there are no floats anywhere in a receipt.

pub mod error;
pub mod money;
pub mod receipt;

pub use error::{ErrorClass, KktError};
pub use jiff::civil::{Date, DateTime};
pub use money::{Money, Quantity};
pub use receipt::{
    MeasureUnit, PaymentMethod, PaymentObject, Payments, Position, Receipt, ReceiptKind, TaxSystem,
    VatRate,
};

use serde::{Deserialize, Serialize};

/// What the printer says about itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceInfo {
    /// Manufacturer, e.g. "ШТРИХ-М".
    pub vendor: String,
    /// Model name as the device reports it, e.g. "ШТРИХ-М-01Ф".
    pub model: String,
    /// Factory serial number of the KKT.
    pub serial: String,
    /// Firmware version and build, as one printable string.
    pub firmware: String,
    /// FFD version the device is registered for, e.g. "1.2".
    pub ffd_version: String,
    /// Tax systems the device is registered for (empty if unknown; then
    /// absent from JSON, since `[]` would read as "none").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tax_systems: Vec<TaxSystem>,
    /// Taxpayer INN, if the device is fiscalised.
    pub inn: Option<String>,
    /// Device clock at the moment of the query.
    pub clock: Option<DateTime>,
}

/// Vendor and model for people, without the vendor twice when the model
/// already names it («АТОЛ 30Ф», not «АТОЛ АТОЛ 30Ф»).
pub fn model_label(vendor: &str, model: &str) -> String {
    let (vendor, model) = (vendor.trim(), model.trim());
    if vendor.is_empty() || model.to_lowercase().starts_with(&vendor.to_lowercase()) {
        model.to_string()
    } else {
        format!("{vendor} {model}")
    }
}

/// Warning flags the FN raises (FN status "warnings" byte).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnWarnings {
    /// FN must be replaced urgently (less than 3 days left).
    pub replace_urgent: bool,
    /// FN resource nearly exhausted (less than 30 days left).
    pub resource_exhausted: bool,
    /// FN memory 90 % full.
    pub memory_almost_full: bool,
    /// OFD answer timeout exceeded.
    pub ofd_timeout: bool,
    /// Critical FN error.
    pub critical: bool,
}

impl FnWarnings {
    /// True if any flag is set.
    pub fn any(&self) -> bool {
        self.replace_urgent
            || self.resource_exhausted
            || self.memory_almost_full
            || self.ofd_timeout
            || self.critical
    }
}

/// Fiscal storage (FN) state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnInfo {
    /// FN serial number (16 digits).
    pub serial: String,
    /// Last day the FN may be used.
    pub valid_until: Option<Date>,
    /// Number of the last fiscal document the FN has signed.
    pub last_fd_number: u32,
    /// FN version string, if known.
    pub version: Option<String>,
    pub warnings: FnWarnings,
    /// Documents not yet confirmed by the OFD.
    pub ofd_unsent_count: u32,
    /// Number of the first document not yet sent to the OFD.
    pub ofd_first_unsent_number: Option<u32>,
    /// Date and time of the first document not yet sent to the OFD.
    pub ofd_first_unsent_at: Option<DateTime>,
}

/// Fiscal shift on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ShiftState {
    /// No shift is open; `last_number` is the last closed shift (0 if none).
    Closed { last_number: u32 },
    /// A shift is open and younger than 24 h.
    Open {
        number: u32,
        opened_at: Option<DateTime>,
        receipts: u32,
    },
    /// A shift is open but older than 24 h: no receipt can be printed until
    /// it is closed and a new one opened.
    Expired {
        number: u32,
        opened_at: Option<DateTime>,
        receipts: u32,
    },
}

impl ShiftState {
    /// Number of the open (or expired) shift.
    pub fn open_number(&self) -> Option<u32> {
        match *self {
            ShiftState::Closed { .. } => None,
            ShiftState::Open { number, .. } | ShiftState::Expired { number, .. } => Some(number),
        }
    }
}

/// The fiscal data of one document the FN has signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalDoc {
    /// Fiscal document number (ФД).
    pub number: u32,
    /// Fiscal sign (ФП / ФПД), a 32-bit value printed in decimal.
    pub fiscal_sign: u32,
    /// Date and time the FN signed the document.
    pub time: DateTime,
}

/// Result of opening a shift.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftOpened {
    pub shift_number: u32,
    pub doc: FiscalDoc,
}

/// Result of closing a shift (Z-report).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftClosed {
    pub shift_number: u32,
    pub doc: FiscalDoc,
    /// Receipts (cheques) issued in the shift.
    pub receipts_in_shift: u32,
    /// Fiscal documents issued in the shift, shift open/close included.
    pub documents_in_shift: u32,
}

/// Result of printing a receipt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptPrinted {
    pub doc: FiscalDoc,
    /// Receipt number within the shift.
    pub receipt_number: u32,
    pub shift_number: u32,
    /// Receipt total as the device computed it.
    pub total: Money,
}

/// Kind of a document in the FN archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocumentKind {
    Registration,
    ShiftOpen,
    Receipt,
    Bso,
    ShiftClose,
    FnClose,
    ReRegistration,
    SettlementReport,
    CorrectionReceipt,
    CorrectionBso,
    Other(u8),
}

impl DocumentKind {
    /// Maps the FFD document type code (tag 1000 family) to a kind.
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Registration,
            2 => Self::ShiftOpen,
            3 => Self::Receipt,
            4 => Self::Bso,
            5 => Self::ShiftClose,
            6 => Self::FnClose,
            11 => Self::ReRegistration,
            21 => Self::SettlementReport,
            31 => Self::CorrectionReceipt,
            41 => Self::CorrectionBso,
            other => Self::Other(other),
        }
    }

    /// The FFD document type code.
    pub fn code(&self) -> u8 {
        match *self {
            Self::Registration => 1,
            Self::ShiftOpen => 2,
            Self::Receipt => 3,
            Self::Bso => 4,
            Self::ShiftClose => 5,
            Self::FnClose => 6,
            Self::ReRegistration => 11,
            Self::SettlementReport => 21,
            Self::CorrectionReceipt => 31,
            Self::CorrectionBso => 41,
            Self::Other(c) => c,
        }
    }
}

/// Settlement sign of a receipt (FFD tag 1054).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Приход.
    Income,
    /// Возврат прихода.
    IncomeReturn,
    /// Расход.
    Expense,
    /// Возврат расхода.
    ExpenseReturn,
}

impl Operation {
    /// FFD tag 1054 value.
    pub fn code(&self) -> u8 {
        match self {
            Operation::Income => 1,
            Operation::IncomeReturn => 2,
            Operation::Expense => 3,
            Operation::ExpenseReturn => 4,
        }
    }

    /// Parses FFD tag 1054.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(Operation::Income),
            2 => Some(Operation::IncomeReturn),
            3 => Some(Operation::Expense),
            4 => Some(Operation::ExpenseReturn),
            _ => None,
        }
    }
}

/// A document read back from the FN archive by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedDocument {
    pub kind: DocumentKind,
    pub doc: FiscalDoc,
    /// For receipts: the settlement sign.
    pub operation: Option<Operation>,
    /// For receipts: the total.
    pub total: Option<Money>,
}

/// Printer mechanism and session state, from the short status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceStatus {
    pub paper_present: bool,
    pub cover_open: bool,
    /// A receipt is open (items registered, not yet closed).
    pub receipt_open: bool,
    /// Printing was interrupted (paper out) and waits for continue-print.
    pub awaiting_continue: bool,
    /// Vendor-specific mode number, for diagnostics.
    pub mode: u8,
    /// Vendor-specific submode number, for diagnostics.
    pub submode: u8,
}

/// A fiscal printer.
///
/// Every method is one complete exchange with the device; none leaves the
/// device in a half-done state except as its error says (a receipt whose
/// close failed may be open: call [`Kkt::cancel_receipt`]).
pub trait Kkt: Send {
    /// Model, serial, firmware, FFD version, registration.
    fn device_info(&mut self) -> Result<DeviceInfo, KktError>;
    /// Paper, cover, open receipt, interrupted printing.
    fn status(&mut self) -> Result<DeviceStatus, KktError>;
    /// FN serial, validity, last document number, warnings, OFD backlog.
    fn fn_info(&mut self) -> Result<FnInfo, KktError>;
    /// Whether a fiscal shift is open and for how long.
    fn shift_state(&mut self) -> Result<ShiftState, KktError>;
    /// Opens a fiscal shift; `cashier` is printed and sent as tag 1021.
    fn open_shift(&mut self, cashier: &str) -> Result<ShiftOpened, KktError>;
    /// Closes the fiscal shift with a Z-report.
    fn close_shift(&mut self, cashier: &str) -> Result<ShiftClosed, KktError>;
    /// Prints one whole receipt: open, positions, marking codes, buyer
    /// contact, payments, close.
    fn print_receipt(&mut self, receipt: &Receipt) -> Result<ReceiptPrinted, KktError>;
    /// Prints one receipt under the caller's idempotency key (operation id
    /// and attempt). A device that recognises a repeated request by key
    /// (the ATOL Web-server) makes at most one document per key, even when
    /// the call is repeated after a crash; the default ignores the key.
    fn print_receipt_keyed(
        &mut self,
        receipt: &Receipt,
        key: &str,
    ) -> Result<ReceiptPrinted, KktError> {
        let _ = key;
        self.print_receipt(receipt)
    }
    /// Cancels a receipt left open (no-op error class `BadData` if none).
    fn cancel_receipt(&mut self) -> Result<(), KktError>;
    /// Resumes printing interrupted by paper out (the document itself is
    /// already in the FN).
    fn continue_print(&mut self) -> Result<(), KktError>;
    /// Reads a fiscal document back from the FN archive.
    fn read_document(&mut self, number: u32) -> Result<ArchivedDocument, KktError>;
    /// Prints an X-report (shift totals, no fiscal document).
    fn x_report(&mut self) -> Result<(), KktError>;
    /// Registers cash put into the drawer.
    fn cash_in(&mut self, sum: Money) -> Result<(), KktError>;
    /// Registers cash taken from the drawer.
    fn cash_out(&mut self, sum: Money) -> Result<(), KktError>;
}
