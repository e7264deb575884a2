//! Typed device errors, classified by what the shop can do about them.
//!
//! The worker's rule (ARCHITECTURE.md, "The loop", step 5): a *recoverable*
//! error means wait, fix and retry — never reject the operation; a
//! *permanent* one means reject it with the device's own text.

use serde::{Deserialize, Serialize};

/// What kind of trouble an error is, and so who can fix it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Out of paper (receipt or journal). Recoverable.
    Paper,
    /// Printer cover open. Recoverable.
    Cover,
    /// Device busy printing the previous command, or waiting for
    /// continue-print. Recoverable.
    Busy,
    /// No answer, port gone, garbled frames. Recoverable.
    Link,
    /// The fiscal shift is older than 24 h. Recoverable: close and reopen.
    ShiftExpired,
    /// Transient device state (wrong mode, clock, OFD exchange in progress).
    /// Recoverable.
    Device,
    /// FN expired, full, blocked or failed: the FN must be replaced.
    /// Permanent.
    FiscalStorage,
    /// The device refuses this receipt's data (bad parameter, payments less
    /// than total, unsupported VAT). Permanent for this receipt.
    BadData,
    /// The device cannot do this at all (unsupported command). Permanent.
    Unsupported,
}

impl ErrorClass {
    /// True if waiting or fixing the device makes a retry succeed.
    pub fn is_recoverable(&self) -> bool {
        matches!(
            self,
            ErrorClass::Paper
                | ErrorClass::Cover
                | ErrorClass::Busy
                | ErrorClass::Link
                | ErrorClass::ShiftExpired
                | ErrorClass::Device
        )
    }

    /// A stable machine name, for metrics labels.
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorClass::Paper => "paper",
            ErrorClass::Cover => "cover",
            ErrorClass::Busy => "busy",
            ErrorClass::Link => "link",
            ErrorClass::ShiftExpired => "shift_expired",
            ErrorClass::Device => "device",
            ErrorClass::FiscalStorage => "fiscal_storage",
            ErrorClass::BadData => "bad_data",
            ErrorClass::Unsupported => "unsupported",
        }
    }

    /// Short Russian description of the class for status and /state.
    pub fn name_ru(&self) -> &'static str {
        match self {
            ErrorClass::Paper => "нет бумаги",
            ErrorClass::Cover => "открыта крышка принтера",
            ErrorClass::Busy => "принтер занят",
            ErrorClass::Link => "нет связи с ККТ",
            ErrorClass::ShiftExpired => "смена превысила 24 часа",
            ErrorClass::Device => "ошибка ККТ",
            ErrorClass::FiscalStorage => "ошибка фискального накопителя",
            ErrorClass::BadData => "ККТ отвергла данные чека",
            ErrorClass::Unsupported => "команда не поддерживается ККТ",
        }
    }
}

/// An error from a fiscal printer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KktError {
    /// The device answered with an error code.
    #[error("device error 0x{code:02X} in {command}: {text}")]
    Device {
        /// Command that failed, e.g. "0xFF45 close receipt".
        command: String,
        code: u8,
        /// The device's own text (Russian), fit to show the shop.
        text: String,
        class: ErrorClass,
    },
    /// No answer, broken frames, port unavailable.
    #[error("link to the device failed: {0}")]
    Link(String),
    /// The receipt cannot be printed as given (checked before sending).
    #[error("receipt rejected before printing: {0}")]
    BadReceipt(String),
    /// The device answered something that makes no sense for the command.
    #[error("unexpected answer from the device: {0}")]
    Protocol(String),
}

impl KktError {
    pub fn class(&self) -> ErrorClass {
        match self {
            KktError::Device { class, .. } => *class,
            KktError::Link(_) | KktError::Protocol(_) => ErrorClass::Link,
            KktError::BadReceipt(_) => ErrorClass::BadData,
        }
    }

    pub fn is_recoverable(&self) -> bool {
        self.class().is_recoverable()
    }

    /// Text for the shop (reject reason, status), in Russian.
    pub fn message_ru(&self) -> String {
        match self {
            KktError::Device { code, text, .. } => format!("ККТ: {text} (код 0x{code:02X})"),
            KktError::Link(_) => "нет связи с ККТ".to_string(),
            KktError::BadReceipt(why) => format!("чек не может быть напечатан: {why}"),
            KktError::Protocol(_) => "ККТ прислала непонятный ответ".to_string(),
        }
    }
}
