//! FN (fiscal storage) commands: status, serial, validity, version, the
//! shift open/close sequence (0xFF41 → TLVs → 0xFF0B, 0xFF42 → TLVs →
//! 0xFF43, and the classic 0xE0 / 0x41), TLV upload (0xFF0C), archive search
//! (0xFF0A) and TLV read-back (0xFF3A/0xFF3B), OFD exchange status (0xFF39)
//! and the unsent counter (0xFF3F), current shift parameters (0xFF40).
//!
//! Answer layouts follow the vendor's JavaPOS driver (`FSReadStatus`,
//! `FSFindDocument` + `FSDocument*`, `FSReadCommStatus`, `FSOpenDay`,
//! `FSDayClose`, `FSReadDocument`) and pyshtrih's handlers. FN commands
//! take the system administrator password (30) and answer without an
//! operator byte; their error codes are the FN's (0x01–0x2F).

use crate::device::{Device, Level, PendingDoc, Reply, err};
use crate::tape;
use shtrih::wire::{Reader, Writer};
use sim_fn::storage::{ArchivedPosition, Document, FnRefusal, doc_type};

/// TLV bytes of one archived document, as 0xFF3B hands them out.
pub(crate) fn document_tlv(doc: &Document, fn_serial: &str, inn: &str, rn: &str) -> Vec<u8> {
    let mut out = Vec::new();
    // FN time is local civil time counted as seconds since 1970 "as if UTC".
    let secs = jiff::tz::Offset::UTC
        .to_timestamp(doc.time)
        .map(|t| t.as_second())
        .unwrap_or(0);
    tlv(&mut out, 1012, &(secs as u32).to_le_bytes());
    tlv(&mut out, 1040, &doc.number.to_le_bytes());
    let mut fp = vec![0u8, 0];
    fp.extend_from_slice(&doc.fiscal_sign.to_be_bytes());
    tlv(&mut out, 1077, &fp);
    tlv(&mut out, 1041, fn_serial.as_bytes());
    tlv(&mut out, 1018, format!("{inn:<12}").as_bytes());
    tlv(&mut out, 1037, format!("{rn:<20}").as_bytes());
    tlv(&mut out, 1038, &(doc.shift_number as u32).to_le_bytes());
    if let Some(n) = doc.receipt_number {
        tlv(&mut out, 1042, &(n as u32).to_le_bytes());
    }
    if let Some(op) = doc.operation {
        tlv(&mut out, 1054, &[op]);
    }
    for p in &doc.positions {
        tlv(&mut out, 1059, &position_tlv(p));
    }
    if let Some(total) = doc.total {
        tlv(&mut out, 1020, &vln(total));
    }
    out
}

fn tlv(out: &mut Vec<u8>, tag: u16, value: &[u8]) {
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&(value.len() as u16).to_le_bytes());
    out.extend_from_slice(value);
}

/// Unsigned little-endian integer without its high zero bytes (FFD VLN).
fn vln(v: u64) -> Vec<u8> {
    let mut b = v.to_le_bytes().to_vec();
    while b.len() > 1 && b.last() == Some(&0) {
        b.pop();
    }
    b
}

/// The STLV value of a position (tag 1059): name, price, quantity (FVLN:
/// count of decimals, then the digits as VLN), sum, VAT rate, payment
/// method and object, measure.
fn position_tlv(p: &ArchivedPosition) -> Vec<u8> {
    let mut out = Vec::new();
    tlv(&mut out, 1030, &shtrih::wire::encode_cp1251(&p.name));
    tlv(&mut out, 1079, &vln(p.price));
    let (mut digits, mut decimals) = (p.quantity, 6u8);
    while decimals > 0 && digits % 10 == 0 {
        digits /= 10;
        decimals -= 1;
    }
    let mut fvln = vec![decimals];
    fvln.extend(vln(digits));
    tlv(&mut out, 1023, &fvln);
    tlv(&mut out, 1043, &vln(p.sum));
    if let Some(v) = p.vat {
        tlv(&mut out, 1199, &[v]);
    }
    tlv(&mut out, 1214, &[p.method]);
    tlv(&mut out, 1212, &[p.object]);
    if let Some(m) = p.measure {
        tlv(&mut out, 2108, &[m]);
    }
    out
}

/// An unsent document older than this raises the OFD-timeout warning.
const OFD_WAIT_LIMIT: jiff::SignedDuration = jiff::SignedDuration::from_hours(30 * 24);

fn refusal(e: FnRefusal) -> u8 {
    e.code()
}

impl Device {
    /// 0xFF01.
    pub(crate) fn fn_status(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let fs = &self.state.fn_storage;
        let current_doc = match (&self.receipt, self.pending_doc) {
            (Some(_), _) => 0x04,
            (None, Some(PendingDoc::ShiftOpen)) => 0x02,
            (None, Some(PendingDoc::ShiftClose)) => 0x08,
            (None, None) => 0x00,
        };
        let has_data = self
            .receipt
            .as_ref()
            .map(|r| !r.items.is_empty() || !r.tlvs.is_empty())
            .unwrap_or(!self.pending_tlvs.is_empty());
        let now = self.now();
        let last_time = fs.last_document().map(|d| d.time).unwrap_or(now);
        let mut warnings = self.faults.fn_warnings();
        if fs
            .first_unsent()
            .is_some_and(|d| now.duration_since(d.time) > OFD_WAIT_LIMIT)
        {
            warnings |= 1 << 3;
        }
        Ok(Writer::new()
            .u8(0x03) // life phase: setup done + fiscal mode open
            .u8(current_doc)
            .u8(has_data as u8)
            .u8(fs.shift.open as u8)
            .u8(warnings)
            .fn_datetime(last_time)
            .bytes(&self.fn_serial_bytes())
            .u32(fs.last_fd())
            .into_bytes())
    }

    /// 0xFF02.
    pub(crate) fn fn_serial(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        Ok(self.fn_serial_bytes())
    }

    /// 0xFF03: validity date `YY MM DD`, registrations left and done.
    pub(crate) fn fn_validity(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let d = self.state.fn_storage.valid_until;
        Ok(Writer::new()
            .u8((d.year() % 100) as u8)
            .u8(d.month() as u8)
            .u8(d.day() as u8)
            .u8(11)
            .u8(1)
            .into_bytes())
    }

    /// 0xFF04: 16-character version and type (1 = production FN).
    pub(crate) fn fn_version(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        Ok(Writer::new()
            .text_fixed("fn v 2.13.0 emu", 16)
            .u8(1)
            .into_bytes())
    }

    /// 0xFF08: drops the open FN document (receipt or shift report).
    pub(crate) fn fn_cancel_document(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        if self.receipt.is_none() && self.pending_doc.is_none() {
            return Err(err::FN_STATE);
        }
        self.receipt = None;
        self.pending_doc = None;
        self.pending_tlvs.clear();
        self.marking = Default::default();
        Ok(vec![])
    }

    /// 0xFF0A: type, OFD ticket flag, date-time, FD, FP, then per type.
    pub(crate) fn fn_find_document(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let n = r.u32("document number").map_err(|_| err::FN_FORMAT)?;
        let fs = &self.state.fn_storage;
        let d = fs.find(n).map_err(refusal)?;
        let mut w = Writer::new()
            .u8(d.kind)
            .u8(fs.ofd_received(d.number) as u8)
            .fn_datetime(d.time)
            .u32(d.number)
            .u32(d.fiscal_sign);
        w = match d.kind {
            doc_type::RECEIPT => w.u8(d.operation.unwrap_or(0)).uint(d.total.unwrap_or(0), 5),
            doc_type::SHIFT_OPEN | doc_type::SHIFT_CLOSE => w.u16(d.shift_number),
            doc_type::REGISTRATION => w
                .text_fixed(&format!("{:<12}", self.identity.inn), 12)
                .text_fixed(&format!("{:<20}", self.identity.reg_number), 20)
                .u8(1)
                .u8(0),
            _ => w,
        };
        Ok(w.into_bytes())
    }

    /// 0xFF3A: starts reading a document as TLV; answers its type and size.
    pub(crate) fn fn_read_document_begin(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let n = r.u32("document number").map_err(|_| err::FN_FORMAT)?;
        let d = self.state.fn_storage.find(n).map_err(refusal)?;
        let bytes = document_tlv(
            d,
            &self.state.fn_storage.serial,
            &self.identity.inn,
            &self.identity.reg_number,
        );
        let kind = d.kind as u16;
        let size = bytes.len() as u16;
        self.doc_read = Some((bytes, 0));
        Ok(Writer::new().u16(kind).u16(size).into_bytes())
    }

    /// 0xFF3B: the next block of the document begun by 0xFF3A; "no data"
    /// once it is all read.
    pub(crate) fn fn_read_document_block(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        const BLOCK: usize = 200;
        let Some((bytes, pos)) = &mut self.doc_read else {
            return Err(err::FN_NO_DATA);
        };
        if *pos >= bytes.len() {
            self.doc_read = None;
            return Err(err::FN_NO_DATA);
        }
        let end = (*pos + BLOCK).min(bytes.len());
        let chunk = bytes[*pos..end].to_vec();
        *pos = end;
        Ok(chunk)
    }

    /// 0xFF39: status bits, read state, queue length, first unsent FD and
    /// its date-time.
    pub(crate) fn fn_exchange_status(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let fs = &self.state.fn_storage;
        let count = fs.unsent_count();
        let w = Writer::new()
            .u8(if count > 0 { 0x02 } else { 0x00 })
            .u8(0)
            .u16(count.min(u16::MAX as u32) as u16);
        Ok(match fs.first_unsent() {
            Some(d) => w.u32(d.number).fn_datetime(d.time),
            None => w.u32(0).bytes(&[0; 5]),
        }
        .into_bytes())
    }

    /// 0xFF3F.
    pub(crate) fn fn_unsent_count(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let n = self.state.fn_storage.unsent_count();
        Ok(Writer::new()
            .u16(n.min(u16::MAX as u32) as u16)
            .into_bytes())
    }

    /// 0xFF40: shift open flag, shift number, receipts in the shift.
    pub(crate) fn fn_shift_params(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let s = &self.state.fn_storage.shift;
        Ok(Writer::new()
            .u8(s.open as u8)
            .u16(s.number)
            .u16(s.receipts)
            .into_bytes())
    }

    /// 0xFF41.
    pub(crate) fn fn_begin_shift_open(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        self.check_no_receipt()?;
        self.check_fn()?;
        if self.state.fn_storage.shift.open {
            return Err(err::FN_STATE);
        }
        self.pending_doc = Some(PendingDoc::ShiftOpen);
        self.pending_tlvs.clear();
        Ok(vec![])
    }

    /// 0xFF42.
    pub(crate) fn fn_begin_shift_close(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        self.check_no_receipt()?;
        self.check_fn()?;
        if !self.state.fn_storage.shift.open {
            return Err(err::FN_STATE);
        }
        self.pending_doc = Some(PendingDoc::ShiftClose);
        self.pending_tlvs.clear();
        Ok(vec![])
    }

    /// Signs and prints the shift-open report.
    fn do_open_shift(&mut self) -> Result<Document, u8> {
        self.check_no_receipt()?;
        self.check_printer()?;
        self.check_fn()?;
        let now = self.now();
        let doc = self.state.fn_storage.open_shift(now).map_err(refusal)?;
        let cashier = self
            .pending_tlvs
            .iter()
            .find(|(tag, _)| *tag == 1021)
            .map(|(_, v)| shtrih::wire::decode_cp1251(v));
        self.pending_doc = None;
        self.pending_tlvs.clear();
        let entry = tape::shift_open(
            &self.identity.header(),
            &self.state.fn_storage.serial,
            &doc,
            cashier.as_deref(),
        );
        self.print(entry);
        Ok(doc)
    }

    /// Signs and prints the shift-close report.
    fn do_close_shift(&mut self) -> Result<Document, u8> {
        self.check_no_receipt()?;
        self.check_printer()?;
        self.check_fn()?;
        let now = self.now();
        let doc = self.state.fn_storage.close_shift(now).map_err(refusal)?;
        self.pending_doc = None;
        self.pending_tlvs.clear();
        let fs = &self.state.fn_storage;
        let entry = tape::shift_close(
            &self.identity.header(),
            &fs.serial,
            &doc,
            &fs.shift,
            fs.unsent_count(),
        );
        self.print(entry);
        Ok(doc)
    }

    /// 0xFF0B: shift number, FD, FP.
    pub(crate) fn fn_open_shift(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let doc = self.do_open_shift()?;
        Ok(Writer::new()
            .u16(doc.shift_number)
            .u32(doc.number)
            .u32(doc.fiscal_sign)
            .into_bytes())
    }

    /// 0xFF43: shift number, FD, FP.
    pub(crate) fn fn_close_shift(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let doc = self.do_close_shift()?;
        Ok(Writer::new()
            .u16(doc.shift_number)
            .u32(doc.number)
            .u32(doc.fiscal_sign)
            .into_bytes())
    }

    /// 0xE0 (classic open shift): answers the operator.
    pub(crate) fn open_shift_classic(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        if self.state.fn_storage.shift.open {
            return Err(err::WRONG_MODE);
        }
        self.do_open_shift()?;
        // A real device answers with the operator (vendor log capture).
        Ok(vec![op])
    }

    /// 0x41 (Z-report: closes the shift): operator.
    pub(crate) fn z_report(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Admin)?;
        if !self.state.fn_storage.shift.open {
            return Err(err::WRONG_MODE);
        }
        self.do_close_shift()?;
        Ok(vec![op])
    }

    /// 0xFF4D: one TLV bound to the last registered position (measure of
    /// quantity, fractional quantity, agent data…). Refused outside a
    /// receipt or before its first position, and for a measure FFD does
    /// not define.
    pub(crate) fn fn_write_operation_tlv(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let tag = r.u16("tag").map_err(|_| err::FN_FORMAT)?;
        let len = r.u16("length").map_err(|_| err::FN_FORMAT)? as usize;
        let value = r.take(len, "value").map_err(|_| err::FN_FORMAT)?.to_vec();
        if tag == crate::receipt::TAG_MEASURE
            && (value.len() != 1 || !crate::receipt::measure_is_known(value[0]))
        {
            return Err(err::FN_PARAM);
        }
        let Some(item) = self.receipt.as_mut().and_then(|rc| rc.items.last_mut()) else {
            return Err(err::FN_STATE);
        };
        item.tlvs.push((tag, value));
        Ok(vec![])
    }

    /// 0xFF0C: one TLV (tag, length, value) for the open document.
    pub(crate) fn fn_write_tlv(&mut self, r: &mut Reader) -> Reply {
        self.auth(r, Level::System)?;
        let tag = r.u16("tag").map_err(|_| err::FN_FORMAT)?;
        let len = r.u16("length").map_err(|_| err::FN_FORMAT)? as usize;
        let value = r.take(len, "value").map_err(|_| err::FN_FORMAT)?.to_vec();
        if let Some(rc) = &mut self.receipt {
            rc.tlvs.push((tag, value));
        } else if self.pending_doc.is_some() {
            self.pending_tlvs.push((tag, value));
        } else {
            return Err(err::FN_STATE);
        }
        Ok(vec![])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_tlv_carries_number_sign_and_total() {
        let d = Document {
            number: 7,
            kind: doc_type::RECEIPT,
            time: "2026-02-01T12:30:00".parse().unwrap(),
            fiscal_sign: 0x01020304,
            shift_number: 2,
            operation: Some(1),
            total: Some(0x0100),
            receipt_number: Some(3),
            positions: Vec::new(),
        };
        let b = document_tlv(&d, "9999078900012345", "7700000000", "1");
        // 1040 (0x0410) length 4 value 7.
        let fd = [0x10, 0x04, 4, 0, 7, 0, 0, 0];
        assert!(b.windows(8).any(|w| w == fd));
        let fp = [0x35, 0x04, 6, 0, 0, 0, 1, 2, 3, 4];
        assert!(b.windows(10).any(|w| w == fp));
        let total = [0xFC, 0x03, 2, 0, 0x00, 0x01];
        assert!(b.windows(6).any(|w| w == total));
    }
}
