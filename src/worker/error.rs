//! Why one step of a kassa's loop failed: the device, or the journal.
//!
//! Recovery and shift handling talk to both the printer and the journal.
//! Their failures need different words in `status`: a full disk is not a
//! printer fault, and must never read «ККТ прислала непонятный ответ».

use super::store::StoreError;
use kkt::KktError;

/// What status and `/state` say while the journal cannot be written.
pub const JOURNAL_UNWRITABLE_RU: &str = "журнал не записывается (диск заполнен или только для чтения): \
     печать остановлена, возобновится сама, когда запись снова пройдёт";

#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The printer or its link.
    #[error(transparent)]
    Device(#[from] KktError),
    /// The journal on disk (full disk, damaged file, refused transition).
    #[error(transparent)]
    Journal(#[from] StoreError),
}

impl WorkerError {
    /// The layer for status and `/state`.
    pub fn layer(&self) -> &'static str {
        match self {
            WorkerError::Device(e) => layer_of(e),
            WorkerError::Journal(_) => "journal",
        }
    }

    /// The Russian text for the shop.
    pub fn message_ru(&self) -> String {
        match self {
            WorkerError::Device(e) => e.message_ru(),
            WorkerError::Journal(e) if e.unwritable => JOURNAL_UNWRITABLE_RU.to_string(),
            WorkerError::Journal(e) => format!("Ошибка журнала на диске: {}", e.message),
        }
    }
}

/// The layer a device error belongs to, for status and /state.
pub fn layer_of(e: &KktError) -> &'static str {
    use kkt::ErrorClass::*;
    match e.class() {
        Link => "link",
        Paper | Cover | Busy => "printer",
        FiscalStorage | ShiftExpired => "fn",
        Device => "printer",
        BadData | Unsupported => "data",
    }
}
