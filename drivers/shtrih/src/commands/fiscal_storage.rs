//! Fiscal storage (ФН) commands: status, serial, validity, version, cancel
//! document, find document by number, OFD exchange status, unconfirmed
//! documents, current shift parameters, and TLV writes.
//!
//! Layouts after the error byte, as the vendor JavaPOS driver
//! (`FSReadStatus`, `FSReadExpDate`, `FSReadVersion`, `FSFindDocument`,
//! `FSDocument*`, `FSReadCommStatus`, `FSReadDayParameters`, `FSWriteTLV`)
//! and pyshtrih read them:
//! - 0xFF01: phase, current document, document data received, shift open,
//!   warning flags, date-time(5 `YY MM DD HH MM`), FN serial(16 ASCII), last
//!   FD number(4).
//! - 0xFF03: date(3 `YY MM DD`), re-registrations left, re-registrations done.
//! - 0xFF04: version(16 ASCII), type (0 debug, 1 release).
//! - 0xFF0A: request FD number(4); answer document type, OFD receipt
//!   received, date-time(5), FD number(4), fiscal sign(4), then per type:
//!   receipt/BSO → operation(1), total(5); shift open/close → shift(2).
//! - 0xFF39: status bits, reading flag, queue length(2), first FD number(4),
//!   its date-time(5).
//! - 0xFF40: shift open, shift number(2), receipt number(2).
//! - 0xFF0C / 0xFF4D: raw TLV bytes (`tag(2 LE) len(2 LE) value`).

use super::{
    Answer, Command, Empty, bodyless_command, read_ascii, read_opt_fn_datetime,
    write_opt_fn_datetime,
};
use crate::frame::Code;
use crate::wire::{Reader, WireError, Writer};
use jiff::civil::{Date, DateTime};

bodyless_command!(
    /// 0xFF01: FN status.
    FnStatus, 0xFF01, "FN status", FnStatusAnswer
);

/// Answer to 0xFF01.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FnStatusAnswer {
    /// Life phase bits: 1 ready for fiscalisation, 3 fiscal mode, 7 post-fiscal, 15 archive read.
    pub phase: u8,
    /// Document being formed: 0 none, 1 registration, 2 shift open, 4 receipt, 8 shift close, …
    pub current_document: u8,
    pub document_data_received: bool,
    pub shift_open: bool,
    /// Warning bits: 0 replace urgently, 1 resource exhausted, 2 memory 90 %,
    /// 3 OFD timeout, 7 critical error.
    pub warnings: u8,
    pub clock: Option<DateTime>,
    pub serial: String,
    pub last_fd_number: u32,
}

impl Answer for FnStatusAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = w
            .u8(self.phase)
            .u8(self.current_document)
            .u8(self.document_data_received as u8)
            .u8(self.shift_open as u8)
            .u8(self.warnings);
        write_opt_fn_datetime(w, self.clock)
            .text_fixed(&self.serial, 16)
            .u32(self.last_fd_number)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(FnStatusAnswer {
            phase: r.u8("FN phase")?,
            current_document: r.u8("current document")?,
            document_data_received: r.u8("document data")? != 0,
            shift_open: r.u8("shift state")? != 0,
            warnings: r.u8("warning flags")?,
            clock: read_opt_fn_datetime(r, "FN date-time")?,
            serial: read_ascii(r, 16, "FN serial")?,
            last_fd_number: r.u32("last FD number")?,
        })
    }
}

bodyless_command!(
    /// 0xFF02: FN serial number.
    FnSerial, 0xFF02, "FN serial", FnSerialAnswer
);

/// Answer to 0xFF02.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FnSerialAnswer {
    pub serial: String,
}

impl Answer for FnSerialAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.text_fixed(&self.serial, 16)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(FnSerialAnswer {
            serial: read_ascii(r, 16, "FN serial")?,
        })
    }
}

bodyless_command!(
    /// 0xFF03: FN validity date.
    FnValidity, 0xFF03, "FN validity", FnValidityAnswer
);

/// Answer to 0xFF03.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FnValidityAnswer {
    /// `None` if the FN reports an impossible date (not yet fiscalised).
    pub valid_until: Option<Date>,
    pub registrations_left: u8,
    pub registrations_done: u8,
}

impl Answer for FnValidityAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = match self.valid_until {
            Some(d) => w.fn_date(d),
            None => w.bytes(&[0; 3]),
        };
        w.u8(self.registrations_left).u8(self.registrations_done)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let raw = r.take(3, "FN validity date")?;
        Ok(FnValidityAnswer {
            valid_until: Reader::new(raw).fn_date("FN validity date").ok(),
            registrations_left: r.u8("re-registrations left")?,
            registrations_done: r.u8("re-registrations done")?,
        })
    }
}

bodyless_command!(
    /// 0xFF04: FN firmware version.
    FnVersion, 0xFF04, "FN version", FnVersionAnswer
);

/// Answer to 0xFF04.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FnVersionAnswer {
    pub version: String,
    /// 0 debug firmware, 1 release.
    pub release: bool,
}

impl Answer for FnVersionAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.text_fixed(&self.version, 16).u8(self.release as u8)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(FnVersionAnswer {
            version: read_ascii(r, 16, "FN version")?,
            release: r.u8("FN firmware type")? != 0,
        })
    }
}

bodyless_command!(
    /// 0xFF08: cancel the document being formed in the FN.
    FnCancelDocument, 0xFF08, "cancel FN document", Empty
);

/// 0xFF0A: find a fiscal document in the FN archive by number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FindDocument {
    pub number: u32,
}

impl Command for FindDocument {
    const CODE: Code = Code(0xFF0A);
    const NAME: &'static str = "find fiscal document";
    type Answer = FoundDocument;
    fn write_body(&self, w: Writer) -> Writer {
        w.u32(self.number)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(FindDocument {
            number: r.u32("FD number")?,
        })
    }
}

/// Type-specific tail of a found document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentDetails {
    /// Receipt (type 3) or BSO (type 4): settlement sign (tag 1054) and total.
    Receipt { operation: u8, total: u64 },
    /// Shift open (2) or close (5): the shift number.
    Shift { number: u16 },
    /// Any other type: the raw bytes.
    Other(Vec<u8>),
}

/// Answer to 0xFF0A.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDocument {
    /// FFD document type: 1 registration, 2 shift open, 3 receipt, 4 BSO,
    /// 5 shift close, 6 FN close, 11 re-registration, 21 settlement report,
    /// 31 correction receipt, 41 correction BSO.
    pub doc_type: u8,
    pub ofd_receipt_received: bool,
    pub time: DateTime,
    pub number: u32,
    pub fiscal_sign: u32,
    pub details: DocumentDetails,
}

impl Answer for FoundDocument {
    fn write(&self, w: Writer) -> Writer {
        let w = w
            .u8(self.doc_type)
            .u8(self.ofd_receipt_received as u8)
            .fn_datetime(self.time)
            .u32(self.number)
            .u32(self.fiscal_sign);
        match &self.details {
            DocumentDetails::Receipt { operation, total } => w.u8(*operation).uint(*total, 5),
            DocumentDetails::Shift { number } => w.u16(*number),
            DocumentDetails::Other(b) => w.bytes(b),
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let doc_type = r.u8("document type")?;
        let ofd_receipt_received = r.u8("OFD receipt received")? != 0;
        let time = r.fn_datetime("document date-time")?;
        let number = r.u32("FD number")?;
        let fiscal_sign = r.u32("fiscal sign")?;
        let details = match doc_type {
            3 | 4 => DocumentDetails::Receipt {
                operation: r.u8("operation type")?,
                total: r.uint(5, "receipt total")?,
            },
            2 | 5 => DocumentDetails::Shift {
                number: r.u16("shift number")?,
            },
            _ => DocumentDetails::Other(r.rest().to_vec()),
        };
        Ok(FoundDocument {
            doc_type,
            ofd_receipt_received,
            time,
            number,
            fiscal_sign,
            details,
        })
    }
}

/// 0xFF3A: begin reading an archived document as TLV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadDocumentTlv {
    pub number: u32,
}

impl Command for ReadDocumentTlv {
    const CODE: Code = Code(0xFF3A);
    const NAME: &'static str = "read document TLV";
    type Answer = DocumentTlvHeader;
    fn write_body(&self, w: Writer) -> Writer {
        w.u32(self.number)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ReadDocumentTlv {
            number: r.u32("FD number")?,
        })
    }
}

/// Answer to 0xFF3A.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DocumentTlvHeader {
    /// Document type (the FFD form tag, e.g. 3 receipt).
    pub doc_type: u16,
    /// Total TLV bytes that 0xFF3B will hand out.
    pub length: u16,
}

impl Answer for DocumentTlvHeader {
    fn write(&self, w: Writer) -> Writer {
        w.u16(self.doc_type).u16(self.length)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DocumentTlvHeader {
            doc_type: r.u16("document type")?,
            length: r.u16("TLV length")?,
        })
    }
}

bodyless_command!(
    /// 0xFF3B: next block of the document begun with 0xFF3A (error 0x08
    /// once all is read).
    ReadDocumentBlock, 0xFF3B, "read document block", TlvBlock
);

/// Raw TLV bytes of one block.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TlvBlock {
    pub bytes: Vec<u8>,
}

impl Answer for TlvBlock {
    fn write(&self, w: Writer) -> Writer {
        w.bytes(&self.bytes)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TlvBlock {
            bytes: r.rest().to_vec(),
        })
    }
}

/// One parsed TLV item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlvItem {
    pub tag: u16,
    pub value: Vec<u8>,
}

/// Splits a TLV byte string into items (top level only; STLV values stay
/// raw and can be parsed again).
pub fn parse_tlv(bytes: &[u8]) -> Result<Vec<TlvItem>, WireError> {
    let mut r = Reader::new(bytes);
    let mut items = Vec::new();
    while r.remaining() > 0 {
        let tag = r.u16("TLV tag")?;
        let len = r.u16("TLV length")? as usize;
        let value = r.take(len, "TLV value")?.to_vec();
        items.push(TlvItem { tag, value });
    }
    Ok(items)
}

bodyless_command!(
    /// 0xFF39: OFD exchange status.
    OfdExchangeStatus, 0xFF39, "OFD exchange status", OfdExchangeAnswer
);

/// Answer to 0xFF39.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OfdExchangeAnswer {
    pub status: u8,
    pub reading_message: bool,
    /// Documents waiting to be sent to the OFD.
    pub queue: u16,
    /// Number of the first document in the queue (0 if none).
    pub first_number: u32,
    pub first_time: Option<DateTime>,
}

impl Answer for OfdExchangeAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = w
            .u8(self.status)
            .u8(self.reading_message as u8)
            .u16(self.queue)
            .u32(self.first_number);
        write_opt_fn_datetime(w, self.first_time)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(OfdExchangeAnswer {
            status: r.u8("exchange status")?,
            reading_message: r.u8("message reading")? != 0,
            queue: r.u16("messages for OFD")?,
            first_number: r.u32("first FD in queue")?,
            first_time: read_opt_fn_datetime(r, "first FD date-time")?,
        })
    }
}

bodyless_command!(
    /// 0xFF3F: count of documents without an OFD receipt.
    UnconfirmedCount, 0xFF3F, "unconfirmed FD count", UnconfirmedCountAnswer
);

/// Answer to 0xFF3F: the count is 2 bytes in the vendor's description of
/// the command, while its Java decoder reads 4; both widths are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UnconfirmedCountAnswer {
    pub count: u32,
}

impl Answer for UnconfirmedCountAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.u16(self.count.min(u32::from(u16::MAX)) as u16)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let count = if r.remaining() >= 4 {
            r.u32("unconfirmed count")?
        } else {
            u32::from(r.u16("unconfirmed count")?)
        };
        Ok(UnconfirmedCountAnswer { count })
    }
}

bodyless_command!(
    /// 0xFF40: current shift parameters.
    ShiftParams, 0xFF40, "shift parameters", ShiftParamsAnswer
);

/// Answer to 0xFF40.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ShiftParamsAnswer {
    pub shift_open: bool,
    pub shift_number: u16,
    /// Number of the last receipt in the shift (receipts issued so far).
    pub receipt_number: u16,
}

impl Answer for ShiftParamsAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.u8(self.shift_open as u8)
            .u16(self.shift_number)
            .u16(self.receipt_number)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ShiftParamsAnswer {
            shift_open: r.u8("shift state")? != 0,
            shift_number: r.u16("shift number")?,
            receipt_number: r.u16("receipt number")?,
        })
    }
}

/// One TLV item: `tag(2 LE) len(2 LE) value`.
pub fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let len = value.len().min(u16::MAX as usize);
    Writer::new()
        .u16(tag)
        .u16(len as u16)
        .bytes(&value[..len])
        .into_bytes()
}

/// A TLV item holding CP1251 text (tags 1008, 1021, …).
pub fn tlv_text(tag: u16, text: &str) -> Vec<u8> {
    tlv(tag, &crate::wire::encode_cp1251(text))
}

/// 0xFF0C: send TLV data for the document being formed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTlv {
    pub tlv: Vec<u8>,
}

impl Command for WriteTlv {
    const CODE: Code = Code(0xFF0C);
    const NAME: &'static str = "send TLV";
    type Answer = Empty;
    fn write_body(&self, w: Writer) -> Writer {
        w.bytes(&self.tlv)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(WriteTlv {
            tlv: r.rest().to_vec(),
        })
    }
}

/// 0xFF4D: send TLV data bound to the last operation (position).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOperationTlv {
    pub tlv: Vec<u8>,
}

impl Command for WriteOperationTlv {
    const CODE: Code = Code(0xFF4D);
    const NAME: &'static str = "send operation TLV";
    type Answer = Empty;
    fn write_body(&self, w: Writer) -> Writer {
        w.bytes(&self.tlv)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(WriteOperationTlv {
            tlv: r.rest().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{roundtrip, strategies};
    use proptest::prelude::*;

    #[test]
    fn buyer_contact_tlv_is_tag_len_value_le() {
        assert_eq!(
            tlv_text(1008, "a@b.ru"),
            vec![0xF0, 0x03, 6, 0, b'a', b'@', b'b', b'.', b'r', b'u']
        );
    }

    #[test]
    fn find_document_reads_a_receipt() {
        // type 3, ack 1, 2026-11-24 15:07, FD 42, FP 0x01020304, op 1, total 123.45
        let payload = [
            0, 3, 1, 26, 11, 24, 15, 7, 42, 0, 0, 0, 4, 3, 2, 1, 1, 0x39, 0x30, 0, 0, 0,
        ];
        let f = crate::frame::Frame::new(Code(0xFF0A), payload.to_vec());
        let d = crate::commands::parse_answer::<FindDocument>(&f)
            .unwrap()
            .unwrap();
        assert_eq!(d.number, 42);
        assert_eq!(d.fiscal_sign, 0x0102_0304);
        assert_eq!(
            d.details,
            DocumentDetails::Receipt {
                operation: 1,
                total: 12345
            }
        );
        assert_eq!(d.time, jiff::civil::date(2026, 11, 24).at(15, 7, 0, 0));
    }

    proptest! {
        #[test]
        fn fn_status_round_trips(serial in strategies::ascii(16), clock in proptest::option::of(strategies::fn_datetime()),
                                 fd in any::<u32>(), b in any::<[u8; 3]>(), open in any::<bool>()) {
            roundtrip::request(30, &FnStatus);
            roundtrip::answer::<FnStatus>(&FnStatusAnswer {
                phase: b[0], current_document: b[1], document_data_received: !open, shift_open: open,
                warnings: b[2], clock, serial, last_fd_number: fd,
            });
        }

        #[test]
        fn fn_info_answers_round_trip(serial in strategies::ascii(16), d in proptest::option::of(strategies::fn_datetime()),
                                      b in any::<[u8; 2]>(), rel in any::<bool>()) {
            roundtrip::answer::<FnSerial>(&FnSerialAnswer { serial: serial.clone() });
            roundtrip::answer::<FnValidity>(&FnValidityAnswer {
                valid_until: d.map(|d| d.date()), registrations_left: b[0], registrations_done: b[1],
            });
            roundtrip::answer::<FnVersion>(&FnVersionAnswer { version: serial, release: rel });
            roundtrip::request(30, &FnSerial);
            roundtrip::request(30, &FnValidity);
            roundtrip::request(30, &FnVersion);
            roundtrip::request(30, &FnCancelDocument);
        }

        #[test]
        fn find_document_round_trips(n in any::<u32>(), fp in any::<u32>(), t in strategies::fn_datetime(),
                                     kind in prop_oneof![Just(3u8), Just(4), Just(2), Just(5), Just(1), Just(31)],
                                     op in 1u8..=4, total in strategies::money(), shift in any::<u16>(),
                                     raw in proptest::collection::vec(any::<u8>(), 0..30), ack in any::<bool>()) {
            roundtrip::request(30, &FindDocument { number: n });
            let details = match kind {
                3 | 4 => DocumentDetails::Receipt { operation: op, total },
                2 | 5 => DocumentDetails::Shift { number: shift },
                _ => DocumentDetails::Other(raw),
            };
            roundtrip::answer::<FindDocument>(&FoundDocument {
                doc_type: kind, ofd_receipt_received: ack, time: t, number: n, fiscal_sign: fp, details,
            });
        }

        #[test]
        fn exchange_and_shift_round_trip(q in any::<u16>(), n in any::<u32>(), t in proptest::option::of(strategies::fn_datetime()),
                                         s in any::<u8>(), open in any::<bool>(), shift in any::<u16>(), rc in any::<u16>()) {
            roundtrip::request(30, &OfdExchangeStatus);
            roundtrip::answer::<OfdExchangeStatus>(&OfdExchangeAnswer {
                status: s, reading_message: open, queue: q, first_number: n, first_time: t,
            });
            roundtrip::request(30, &UnconfirmedCount);
            roundtrip::answer::<UnconfirmedCount>(&UnconfirmedCountAnswer { count: u32::from(q) });
            roundtrip::request(30, &ShiftParams);
            roundtrip::answer::<ShiftParams>(&ShiftParamsAnswer { shift_open: open, shift_number: shift, receipt_number: rc });
        }

        #[test]
        fn tlv_commands_round_trip(tag in any::<u16>(), value in proptest::collection::vec(any::<u8>(), 0..200)) {
            roundtrip::request(30, &WriteTlv { tlv: tlv(tag, &value) });
            roundtrip::request(30, &WriteOperationTlv { tlv: tlv(tag, &value) });
        }

        #[test]
        fn tlv_read_round_trips(n in any::<u32>(), t in any::<u16>(), len in any::<u16>(),
                                items in proptest::collection::vec((any::<u16>(), proptest::collection::vec(any::<u8>(), 0..20)), 0..8)) {
            roundtrip::request(30, &ReadDocumentTlv { number: n });
            roundtrip::answer::<ReadDocumentTlv>(&DocumentTlvHeader { doc_type: t, length: len });
            roundtrip::request(30, &ReadDocumentBlock);
            let bytes: Vec<u8> = items.iter().flat_map(|(tag, v)| tlv(*tag, v)).collect();
            roundtrip::answer::<ReadDocumentBlock>(&TlvBlock { bytes: bytes.clone() });
            let parsed = parse_tlv(&bytes).unwrap();
            prop_assert_eq!(parsed.len(), items.len());
            for (p, (tag, v)) in parsed.iter().zip(&items) {
                prop_assert_eq!(p.tag, *tag);
                prop_assert_eq!(&p.value, v);
            }
        }

        #[test]
        fn tlv_parser_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            let _ = parse_tlv(&bytes);
        }

        #[test]
        fn fn_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            roundtrip::fuzz::<FnStatus>(&bytes);
            roundtrip::fuzz::<FnValidity>(&bytes);
            roundtrip::fuzz::<FnVersion>(&bytes);
            roundtrip::fuzz::<FindDocument>(&bytes);
            roundtrip::fuzz::<OfdExchangeStatus>(&bytes);
            roundtrip::fuzz::<ShiftParams>(&bytes);
        }
    }
}
