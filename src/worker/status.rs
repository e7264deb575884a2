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
    #[serde(with = "moscow_time")]
    pub at: DateTime,
}

/// Fiscal shift as status shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShiftStatus {
    /// "open", "closed" or "expired".
    pub state: String,
    pub number: u32,
    #[serde(with = "moscow_time::opt")]
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
    /// Documents the FN has not yet sent to the OFD; `None` until the FN
    /// has been read (never a reassuring 0 nobody measured).
    pub ofd_unsent: Option<u32>,
    #[serde(with = "moscow_time::opt")]
    pub ofd_first_unsent_at: Option<DateTime>,
    #[serde(with = "moscow_time::opt")]
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
    /// What the receipt source reports (Russian), e.g. the last
    /// reconciliation with Kassatka when it found a difference.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_notes: Vec<String>,
    /// Journal counters (filled when a snapshot is served).
    pub counts: Counts,
    /// The shop's catalogue cache, for kassas that use one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalogue: Option<crate::catalogue::CatalogueStatus>,
}

impl KassaStatus {
    pub fn apply_fn_info(&mut self, info: &FnInfo) {
        self.fn_serial = Some(info.serial.clone());
        self.fn_valid_until = info.valid_until;
        self.ofd_unsent = Some(info.ofd_unsent_count);
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

/// The status's civil Moscow times on the wire as RFC 3339 with the
/// offset (`2026-11-24T10:15:00+03:00`), so a script never has to guess
/// the zone; a time without an offset is still read as Moscow time.
pub mod moscow_time {
    use crate::worker::moscow;
    use kkt::DateTime;
    use serde::{Deserialize, Deserializer, Serializer};

    /// `t` (Moscow civil time) with its offset.
    pub fn format(t: &DateTime) -> String {
        match t.to_zoned_datetime(moscow()) {
            Ok(z) => z.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
            Err(_) => t.to_string(),
        }
    }

    /// RFC 3339 (any offset, converted to Moscow) or a civil time.
    pub fn parse(text: &str) -> Result<DateTime, String> {
        if let Ok(ts) = text.parse::<jiff::Timestamp>() {
            return Ok(moscow().to_datetime(ts));
        }
        text.parse::<DateTime>()
            .map_err(|e| format!("not a time: {text:?}: {e}"))
    }

    pub fn serialize<S: Serializer>(t: &DateTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime, D::Error> {
        let text = String::deserialize(d)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    pub mod opt {
        use super::*;

        pub fn serialize<S: Serializer>(t: &Option<DateTime>, s: S) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => s.serialize_str(&super::format(t)),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime>, D::Error> {
            match Option::<String>::deserialize(d)? {
                Some(text) => super::parse(&text)
                    .map(Some)
                    .map_err(serde::de::Error::custom),
                None => Ok(None),
            }
        }
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
