//! Marking-code (КМ) commands of FFD 1.2.
//!
//! The vendor driver's sequence per marked position (JavaPOS
//! `SMFiscalPrinterImpl.checkItemCode` / `sendItemCode`): check the code in
//! the FN (0xFF61), accept it (0xFF69, action 1), register the position
//! (0xFF46), then bind the code to it (0xFF67).
//!
//! Layouts after the password:
//! - 0xFF61: planned item status(1: 1 piece sold, 2 weight sold, 3 piece
//!   returned, 4 weight returned, 255 unchanged), check mode(1), code
//!   length(1), TLV length(1), code, TLV. Answer: local check result(1),
//!   local check error(1), recognised code type(1), length(1) of what
//!   follows, then (if the KM server answered) its error code and check
//!   status (tag 2106) and TLV. The vendor's log parser reads error before
//!   status; its Java driver reads the reverse in one place — we keep the
//!   tail as bytes and read error first, as the log parser and `FSBindMC` do.
//! - 0xFF69: action(1: 0 reject, 1 accept, 2 clear buffer). Answer: result
//!   (tag 2106 bits).
//! - 0xFF67: code length(1), code, optional 0xFF (volume accounting).
//!   Answer: code kind(2), code type(1), optionally a check result as in
//!   0xFF61.

use super::{Answer, Command};
use crate::frame::Code;
use crate::wire::{Reader, WireError, Writer};

/// Planned status of the item (0xFF61 first byte).
pub mod item_status {
    pub const PIECE_SOLD: u8 = 1;
    pub const WEIGHT_SOLD: u8 = 2;
    pub const PIECE_RETURNED: u8 = 3;
    pub const WEIGHT_RETURNED: u8 = 4;
    pub const UNCHANGED: u8 = 255;
}

fn read_len_prefixed(r: &mut Reader<'_>, field: &'static str) -> Result<Vec<u8>, WireError> {
    let n = r.u8(field)? as usize;
    Ok(r.take(n, field)?.to_vec())
}

/// 0xFF61: check a marking code in the FN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckMarkingCode {
    pub item_status: u8,
    pub check_mode: u8,
    /// The code as scanned (GS1 DataMatrix text, ASCII with GS separators).
    pub code: Vec<u8>,
    /// Extra TLV (units, fractional quantity) for weighed goods.
    pub tlv: Vec<u8>,
}

impl Command for CheckMarkingCode {
    const CODE: Code = Code(0xFF61);
    const NAME: &'static str = "check marking code";
    type Answer = MarkingCheckAnswer;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.item_status)
            .u8(self.check_mode)
            .u8(self.code.len().min(255) as u8)
            .u8(self.tlv.len().min(255) as u8)
            .bytes(&self.code[..self.code.len().min(255)])
            .bytes(&self.tlv[..self.tlv.len().min(255)])
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let item_status = r.u8("item status")?;
        let check_mode = r.u8("check mode")?;
        let code_len = r.u8("code length")? as usize;
        let tlv_len = r.u8("TLV length")? as usize;
        Ok(CheckMarkingCode {
            item_status,
            check_mode,
            code: r.take(code_len, "marking code")?.to_vec(),
            tlv: r.take(tlv_len, "TLV")?.to_vec(),
        })
    }
}

/// Answer to 0xFF61.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MarkingCheckAnswer {
    /// Bit 0: the FN checked the code's crypto tail; bit 1: it is valid.
    pub local_result: u8,
    /// 0 checked, 1 not checkable, 2 FN has no key, 3 format error, 4 failed.
    pub local_error: u8,
    /// Recognised code type (tag 2100).
    pub code_type: u8,
    /// Online check result: server error code, tag 2106 status, TLV.
    pub server: Vec<u8>,
}

impl MarkingCheckAnswer {
    /// True if the FN could check the code locally and found it invalid.
    pub fn locally_rejected(&self) -> bool {
        self.local_result & 0x01 != 0 && self.local_result & 0x02 == 0
    }
    /// KM server error code, if it answered.
    pub fn server_error(&self) -> Option<u8> {
        self.server.first().copied()
    }
    /// Tag 2106 check status, if the server answered without error.
    pub fn server_status(&self) -> Option<u8> {
        self.server.get(1).copied()
    }
}

impl Answer for MarkingCheckAnswer {
    fn write(&self, w: Writer) -> Writer {
        let n = self.server.len().min(255);
        w.u8(self.local_result)
            .u8(self.local_error)
            .u8(self.code_type)
            .u8(n as u8)
            .bytes(&self.server[..n])
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(MarkingCheckAnswer {
            local_result: r.u8("local check result")?,
            local_error: r.u8("local check error")?,
            code_type: r.u8("code type")?,
            server: read_len_prefixed(r, "server answer")?,
        })
    }
}

/// 0xFF69: accept or reject the last checked code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcceptMarkingCode {
    pub action: u8,
}

impl AcceptMarkingCode {
    pub const REJECT: u8 = 0;
    pub const ACCEPT: u8 = 1;
    pub const CLEAR_BUFFER: u8 = 2;
}

impl Command for AcceptMarkingCode {
    const CODE: Code = Code(0xFF69);
    const NAME: &'static str = "accept marking code";
    type Answer = AcceptMarkingAnswer;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.action)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(AcceptMarkingCode {
            action: r.u8("action")?,
        })
    }
}

/// Answer to 0xFF69.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AcceptMarkingAnswer {
    /// Tag 2106 bits: 0 code checked, 1 code valid, 2 status checked by the
    /// server, 3 status valid.
    pub result: u8,
}

impl Answer for AcceptMarkingAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.u8(self.result)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        // Some firmware answers with the error byte only.
        let result = if r.remaining() > 0 {
            r.u8("check result")?
        } else {
            0
        };
        Ok(AcceptMarkingAnswer { result })
    }
}

/// 0xFF67: bind a marking code to the last registered position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindMarkingCode {
    pub code: Vec<u8>,
    pub volume_accounting: bool,
}

impl Command for BindMarkingCode {
    const CODE: Code = Code(0xFF67);
    const NAME: &'static str = "bind marking code";
    type Answer = BindMarkingAnswer;
    fn write_body(&self, w: Writer) -> Writer {
        let n = self.code.len().min(255);
        let w = w.u8(n as u8).bytes(&self.code[..n]);
        if self.volume_accounting {
            w.u8(0xFF)
        } else {
            w
        }
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let code = read_len_prefixed(r, "marking code")?;
        let volume_accounting = r.remaining() > 0 && r.u8("volume accounting")? == 0xFF;
        Ok(BindMarkingCode {
            code,
            volume_accounting,
        })
    }
}

/// Answer to 0xFF67.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BindMarkingAnswer {
    pub code_kind: u16,
    pub code_type: u8,
    /// Check result block as in 0xFF61 on firmware that sends it.
    pub check: Option<MarkingCheckAnswer>,
}

impl Answer for BindMarkingAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = w.u16(self.code_kind).u8(self.code_type);
        match &self.check {
            Some(c) => c.write(w),
            None => w,
        }
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let code_kind = r.u16("code kind")?;
        let code_type = r.u8("code type")?;
        let check = if r.remaining() >= 4 {
            Some(MarkingCheckAnswer::read(r)?)
        } else {
            None
        };
        Ok(BindMarkingAnswer {
            code_kind,
            code_type,
            check,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::roundtrip;
    use proptest::prelude::*;

    #[test]
    fn check_code_layout() {
        let c = CheckMarkingCode {
            item_status: item_status::PIECE_SOLD,
            check_mode: 0,
            code: b"0104600439931256215Abc".to_vec(),
            tlv: vec![],
        };
        let f = crate::commands::request_frame(30, &c);
        assert_eq!(&f.payload[4..8], &[1, 0, 22, 0]);
        assert_eq!(&f.payload[8..], b"0104600439931256215Abc");
    }

    proptest! {
        #[test]
        fn marking_round_trips(code in proptest::collection::vec(any::<u8>(), 0..120),
                               tlv in proptest::collection::vec(any::<u8>(), 0..40),
                               b in any::<[u8; 4]>(), server in proptest::collection::vec(any::<u8>(), 0..20),
                               kind in any::<u16>(), vol in any::<bool>(), with_check in any::<bool>()) {
            roundtrip::request(30, &CheckMarkingCode { item_status: b[0], check_mode: b[1], code: code.clone(), tlv });
            let check = MarkingCheckAnswer { local_result: b[2], local_error: b[3], code_type: b[0], server };
            roundtrip::answer::<CheckMarkingCode>(&check);
            roundtrip::request(30, &AcceptMarkingCode { action: b[1] });
            roundtrip::answer::<AcceptMarkingCode>(&AcceptMarkingAnswer { result: b[2] });
            roundtrip::request(30, &BindMarkingCode { code, volume_accounting: vol });
            roundtrip::answer::<BindMarkingCode>(&BindMarkingAnswer {
                code_kind: kind, code_type: b[3], check: with_check.then_some(check),
            });
        }

        #[test]
        fn marking_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            roundtrip::fuzz::<CheckMarkingCode>(&bytes);
            roundtrip::fuzz::<AcceptMarkingCode>(&bytes);
            roundtrip::fuzz::<BindMarkingCode>(&bytes);
        }
    }
}
