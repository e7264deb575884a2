//! The simulated fiscal storage (ФН): the document counter, the archive of
//! signed documents readable by number, the shift counters with 24-hour
//! expiry, and the OFD unsent-documents queue.
//!
//! Pure state and rules, no I/O: the device calls it with the clock's
//! reading and persists it after every commit. Fiscal signs are
//! deterministic — a keyed FNV-1a hash of the FN serial and the document's
//! contents folded to 32 bits — so tests can recompute them and a restart
//! never changes a signed document.

use jiff::SignedDuration;
use jiff::civil::{Date, DateTime};
use serde::{Deserialize, Serialize};

/// FFD document type codes stored in the archive (answer of 0xFF0A).
pub mod doc_type {
    pub const REGISTRATION: u8 = 1;
    pub const SHIFT_OPEN: u8 = 2;
    pub const RECEIPT: u8 = 3;
    pub const SHIFT_CLOSE: u8 = 5;
}

/// One document signed by the FN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    /// Fiscal document number (ФД).
    pub number: u32,
    /// FFD document type ([`doc_type`]).
    pub kind: u8,
    /// When the FN signed it (device clock, minutes precision on the wire).
    pub time: DateTime,
    /// Fiscal sign (ФП).
    pub fiscal_sign: u32,
    /// Shift the document belongs to.
    pub shift_number: u16,
    /// Receipts: settlement sign (tag 1054: 1 sale, 2 sale return, 3
    /// purchase, 4 purchase return).
    pub operation: Option<u8>,
    /// Receipts: total in kopecks.
    pub total: Option<u64>,
    /// Receipts: number within the shift.
    pub receipt_number: Option<u16>,
    /// Receipts: the positions (tag 1059 each).
    #[serde(default)]
    pub positions: Vec<ArchivedPosition>,
}

/// A receipt position as the FN keeps it (FFD tag 1059).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArchivedPosition {
    /// Tag 1030.
    pub name: String,
    /// Tag 1023, millionths.
    pub quantity: u64,
    /// Tag 1079, kopecks.
    pub price: u64,
    /// Tag 1043, kopecks.
    pub sum: u64,
    /// Tag 1199 (VAT rate code), when a rate was given.
    pub vat: Option<u8>,
    /// Tag 1214.
    pub method: u8,
    /// Tag 1212.
    pub object: u8,
    /// Tag 2108, when sent.
    pub measure: Option<u8>,
}

/// Shift counters kept by the FN.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Shift {
    /// Number of the current (open) or last closed shift; 0 before the first.
    pub number: u16,
    pub open: bool,
    pub opened_at: Option<DateTime>,
    /// Receipts issued in the current shift.
    pub receipts: u16,
    /// Fiscal documents issued in the current shift (open and close included).
    pub documents: u32,
}

/// Why the FN refuses an operation; the value is the device error code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FnRefusal {
    /// FN 0x02: wrong FN state (e.g. shift already open).
    #[error("wrong FN state")]
    WrongState,
    /// FN 0x08: no requested data (document number not in the archive).
    #[error("no requested data")]
    NoData,
    /// FN 0x16: the shift is older than 24 hours.
    #[error("shift longer than 24 hours")]
    ShiftExpired,
}

impl FnRefusal {
    /// The device error byte.
    pub fn code(self) -> u8 {
        match self {
            FnRefusal::WrongState => 0x02,
            FnRefusal::NoData => 0x08,
            FnRefusal::ShiftExpired => 0x16,
        }
    }
}

/// The FN state, persisted as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FnStorage {
    /// 16 ASCII digits.
    pub serial: String,
    pub valid_until: Date,
    pub archive: Vec<Document>,
    pub shift: Shift,
    /// Documents up to this number have an OFD receipt (ticket).
    pub ofd_confirmed_upto: u32,
}

/// Hours after opening a shift becomes unusable for receipts.
pub const SHIFT_MAX_HOURS: i64 = 24;

impl FnStorage {
    /// A fresh, registered FN: document 1 is the registration report.
    pub fn new(serial: &str, registered_at: DateTime) -> Self {
        let mut fs = FnStorage {
            serial: serial.to_string(),
            valid_until: registered_at
                .date()
                .saturating_add(jiff::Span::new().days(480)),
            archive: Vec::new(),
            shift: Shift::default(),
            // The registration report is confirmed by the OFD.
            ofd_confirmed_upto: 1,
        };
        fs.sign(doc_type::REGISTRATION, registered_at, None, None, None);
        fs
    }

    /// Number of the last signed document.
    pub fn last_fd(&self) -> u32 {
        self.archive.last().map(|d| d.number).unwrap_or(0)
    }

    pub fn last_document(&self) -> Option<&Document> {
        self.archive.last()
    }

    /// The document with this number.
    pub fn find(&self, number: u32) -> Result<&Document, FnRefusal> {
        // Numbers are dense and start at 1, but do not rely on it.
        self.archive
            .iter()
            .find(|d| d.number == number)
            .ok_or(FnRefusal::NoData)
    }

    /// True if a shift is open and 24 hours have passed since it opened.
    pub fn shift_expired(&self, now: DateTime) -> bool {
        match (self.shift.open, self.shift.opened_at) {
            (true, Some(at)) => now
                .duration_since(at)
                .ge(&SignedDuration::from_hours(SHIFT_MAX_HOURS)),
            _ => false,
        }
    }

    /// Opens a new shift and signs its report.
    pub fn open_shift(&mut self, now: DateTime) -> Result<Document, FnRefusal> {
        if self.shift.open {
            return Err(FnRefusal::WrongState);
        }
        self.shift = Shift {
            number: self.shift.number.wrapping_add(1),
            open: true,
            opened_at: Some(now),
            receipts: 0,
            documents: 0,
        };
        Ok(self.sign(doc_type::SHIFT_OPEN, now, None, None, None))
    }

    /// Closes the open shift (allowed after 24 h too) and signs its report.
    pub fn close_shift(&mut self, now: DateTime) -> Result<Document, FnRefusal> {
        if !self.shift.open {
            return Err(FnRefusal::WrongState);
        }
        let doc = self.sign(doc_type::SHIFT_CLOSE, now, None, None, None);
        self.shift.open = false;
        Ok(doc)
    }

    /// Checks a receipt may be signed now.
    pub fn check_receipt_allowed(&self, now: DateTime) -> Result<(), FnRefusal> {
        if !self.shift.open {
            return Err(FnRefusal::WrongState);
        }
        if self.shift_expired(now) {
            return Err(FnRefusal::ShiftExpired);
        }
        Ok(())
    }

    /// Signs a receipt.
    pub fn commit_receipt(
        &mut self,
        now: DateTime,
        operation: u8,
        total: u64,
        positions: Vec<ArchivedPosition>,
    ) -> Result<Document, FnRefusal> {
        self.check_receipt_allowed(now)?;
        self.shift.receipts = self.shift.receipts.wrapping_add(1);
        let n = self.shift.receipts;
        let mut doc = self.sign(
            doc_type::RECEIPT,
            now,
            Some(operation),
            Some(total),
            Some(n),
        );
        if let Some(archived) = self.archive.last_mut() {
            archived.positions = positions;
            doc.positions = archived.positions.clone();
        }
        Ok(doc)
    }

    /// Documents without an OFD receipt.
    pub fn unsent_count(&self) -> u32 {
        self.last_fd().saturating_sub(self.ofd_confirmed_upto)
    }

    /// The oldest document without an OFD receipt.
    pub fn first_unsent(&self) -> Option<&Document> {
        if self.unsent_count() == 0 {
            return None;
        }
        self.find(self.ofd_confirmed_upto + 1).ok()
    }

    /// Pretends the OFD confirmed everything signed so far.
    pub fn confirm_all_by_ofd(&mut self) {
        self.ofd_confirmed_upto = self.last_fd();
    }

    /// True if the OFD has confirmed this document.
    pub fn ofd_received(&self, number: u32) -> bool {
        number <= self.ofd_confirmed_upto
    }

    fn sign(
        &mut self,
        kind: u8,
        now: DateTime,
        operation: Option<u8>,
        total: Option<u64>,
        receipt_number: Option<u16>,
    ) -> Document {
        let number = self.last_fd() + 1;
        if self.shift.open {
            self.shift.documents += 1;
        }
        let mut doc = Document {
            number,
            kind,
            time: now,
            fiscal_sign: 0,
            shift_number: self.shift.number,
            operation,
            total,
            receipt_number,
            positions: Vec::new(),
        };
        doc.fiscal_sign = fiscal_sign(&self.serial, &doc);
        self.archive.push(doc.clone());
        doc
    }
}

/// The deterministic fiscal sign of a document: FNV-1a (64-bit) keyed with
/// the FN serial over the document's number, type, time, shift, operation
/// and total, folded to 32 bits.
pub fn fiscal_sign(serial: &str, doc: &Document) -> u32 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01B3;
    let mut h = OFFSET;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= *b as u64;
            h = h.wrapping_mul(PRIME);
        }
    };
    eat(serial.as_bytes());
    eat(&doc.number.to_le_bytes());
    eat(&[doc.kind]);
    eat(doc.time.to_string().as_bytes());
    eat(&doc.shift_number.to_le_bytes());
    eat(&[doc.operation.unwrap_or(0)]);
    eat(&doc.total.unwrap_or(0).to_le_bytes());
    ((h >> 32) ^ h) as u32
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime {
        s.parse().unwrap()
    }

    #[test]
    fn documents_are_numbered_and_signed_deterministically() {
        let mut a = FnStorage::new("9999078900001234", t("2026-01-10T09:00:00"));
        let mut b = a.clone();
        let da = a.open_shift(t("2026-01-10T09:05:00")).unwrap();
        let db = b.open_shift(t("2026-01-10T09:05:00")).unwrap();
        assert_eq!(da.number, 2);
        assert_eq!(da, db);
        let r = a
            .commit_receipt(t("2026-01-10T10:00:00"), 1, 12_345, Vec::new())
            .unwrap();
        assert_eq!(
            (r.number, r.receipt_number, r.total),
            (3, Some(1), Some(12_345))
        );
        assert_eq!(r.fiscal_sign, fiscal_sign(&a.serial, &r));
        assert_ne!(r.fiscal_sign, da.fiscal_sign);
        assert_eq!(a.find(3), Ok(&r));
        assert_eq!(a.find(99), Err(FnRefusal::NoData));
    }

    #[test]
    fn shift_expires_after_24_hours_and_can_still_be_closed() {
        let mut fs = FnStorage::new("9999078900001234", t("2026-01-10T09:00:00"));
        fs.open_shift(t("2026-01-10T09:00:00")).unwrap();
        assert!(!fs.shift_expired(t("2026-01-11T08:59:59")));
        assert!(fs.shift_expired(t("2026-01-11T09:00:00")));
        assert_eq!(
            fs.commit_receipt(t("2026-01-11T09:30:00"), 1, 100, Vec::new()),
            Err(FnRefusal::ShiftExpired)
        );
        let z = fs.close_shift(t("2026-01-11T09:31:00")).unwrap();
        assert_eq!(z.kind, doc_type::SHIFT_CLOSE);
        assert_eq!(fs.shift.documents, 2);
        assert_eq!(
            fs.close_shift(t("2026-01-11T09:32:00")),
            Err(FnRefusal::WrongState)
        );
    }

    #[test]
    fn unsent_queue_counts_documents_after_the_last_confirmed() {
        let mut fs = FnStorage::new("9999078900001234", t("2026-01-10T09:00:00"));
        assert_eq!(fs.unsent_count(), 0);
        fs.open_shift(t("2026-01-10T09:00:00")).unwrap();
        fs.commit_receipt(t("2026-01-10T09:10:00"), 1, 1, Vec::new())
            .unwrap();
        assert_eq!(fs.unsent_count(), 2);
        assert_eq!(fs.first_unsent().map(|d| d.number), Some(2));
        fs.confirm_all_by_ofd();
        assert_eq!(fs.unsent_count(), 0);
    }
}
