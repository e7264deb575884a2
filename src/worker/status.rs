//! A kassa's live status: what `masterkassa status` shows and `POST /state`
//! reports. The loop updates it; the control socket reads snapshots.

use super::source::PrinterInfo;
use super::store::Counts;
use kkt::{Date, DateTime, FnInfo, ShiftState};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};

/// The last error, with the layer the shop should look at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// config, cloud, link, printer, fn, data, journal.
    pub layer: String,
    /// Russian text.
    pub message: String,
    pub at: DateTime,
}

/// Fiscal shift as status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftStatus {
    /// "open", "closed" or "expired".
    pub state: String,
    pub number: u32,
    pub opened_at: Option<DateTime>,
}

/// Everything `status` shows about one kassa (stable JSON schema).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct KassaStatus {
    pub name: String,
    pub printer: Option<PrinterInfo>,
    pub fn_serial: Option<String>,
    pub fn_valid_until: Option<Date>,
    /// FN warnings in Russian.
    pub fn_warnings: Vec<String>,
    pub shift: Option<ShiftStatus>,
    pub ofd_unsent: u32,
    pub ofd_first_unsent_at: Option<DateTime>,
    pub last_poll: Option<DateTime>,
    pub last_error: Option<ErrorReport>,
    /// Printing stopped for good, and why.
    pub halted: Option<String>,
    /// Printing paused because the FN cannot sign (expired, memory full,
    /// blocked by a 30-day OFD backlog), in Russian; cleared once it can.
    #[serde(default)]
    pub fn_blocked: Option<String>,
    /// Printing paused because the journal cannot be written (full disk,
    /// read-only file), in Russian; cleared by the next successful write.
    #[serde(default)]
    pub journal_blocked: Option<String>,
    /// Journal counters (filled when a snapshot is served).
    pub counts: Counts,
}

impl KassaStatus {
    pub fn apply_fn_info(&mut self, info: &FnInfo) {
        self.fn_serial = Some(info.serial.clone());
        self.fn_valid_until = info.valid_until;
        self.ofd_unsent = info.ofd_unsent_count;
        self.ofd_first_unsent_at = info.ofd_first_unsent_at;
        let w = &info.warnings;
        let mut out = Vec::new();
        if w.replace_urgent {
            out.push("ФН требует срочной замены".to_string());
        }
        if w.resource_exhausted {
            out.push("ресурс ФН заканчивается".to_string());
        }
        if w.memory_almost_full {
            out.push("память ФН заполнена на 90 %".to_string());
        }
        if w.ofd_timeout {
            out.push("превышено время ожидания ответа ОФД".to_string());
        }
        if w.critical {
            out.push("критическая ошибка ФН".to_string());
        }
        self.fn_warnings = out;
    }

    pub fn apply_shift_state(&mut self, state: &ShiftState) {
        self.shift = Some(match *state {
            ShiftState::Closed { last_number } => ShiftStatus {
                state: "closed".into(),
                number: last_number,
                opened_at: None,
            },
            ShiftState::Open {
                number, opened_at, ..
            } => ShiftStatus {
                state: "open".into(),
                number,
                opened_at,
            },
            ShiftState::Expired {
                number, opened_at, ..
            } => ShiftStatus {
                state: "expired".into(),
                number,
                opened_at,
            },
        });
    }
}

/// Shared, cheaply cloned status of one kassa.
#[derive(Clone, Default)]
pub struct StatusCell(Arc<Mutex<KassaStatus>>);

impl StatusCell {
    pub fn new(name: &str) -> Self {
        StatusCell(Arc::new(Mutex::new(KassaStatus {
            name: name.to_string(),
            ..KassaStatus::default()
        })))
    }

    pub fn update(&self, f: impl FnOnce(&mut KassaStatus)) {
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut guard);
    }

    pub fn get(&self) -> KassaStatus {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}
