//! Status commands: short status (0x10), full status (0x11) and device type
//! (0xFC).
//!
//! Layouts (after the error byte) as pyshtrih `handlers/commands.py` and the
//! vendor JavaPOS driver read them:
//! - 0x10: operator, flags(2), mode, submode, operations in receipt (low
//!   byte), battery voltage, power voltage, FP error, EKLZ error, operations
//!   in receipt (high byte), 3 reserved bytes.
//! - 0x11: operator, firmware version(2 chars), build(2), firmware date(3),
//!   number in hall, document number(2), flags(2), mode, submode, port, FP
//!   version(2), FP build(2), FP date(3), date(3 `DD MM YY`), time(3), FP
//!   flags, serial(4), last closed shift(2), free FP records(2),
//!   registrations, registrations left, INN(6).
//! - 0xFC (no password): type, subtype, protocol version, subversion, model,
//!   language, name (CP1251, rest of the frame).

use super::{Command, bodyless_command};
use crate::wire::{Reader, WireError, Writer, decode_cp1251, encode_cp1251};
use jiff::civil::{Date, DateTime, Time};

/// The two "printer flags" bytes of the status answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PrinterFlags(pub u16);

impl PrinterFlags {
    /// Bit 0: journal roll present.
    pub fn journal_paper(self) -> bool {
        self.0 & 0x0001 != 0
    }
    /// Bit 1: receipt roll present.
    pub fn receipt_paper(self) -> bool {
        self.0 & 0x0002 != 0
    }
    /// Bit 7: optical sensor sees receipt paper.
    pub fn receipt_optical(self) -> bool {
        self.0 & 0x0080 != 0
    }
    /// Bit 10: case cover open.
    pub fn cover_open(self) -> bool {
        self.0 & 0x0400 != 0
    }
}

/// Mode byte: number in the low nibble, its status in the high nibble.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Mode(pub u8);

impl Mode {
    pub const WORKING: u8 = 0;
    pub const SHIFT_OPEN: u8 = 2;
    pub const SHIFT_EXPIRED: u8 = 3;
    pub const SHIFT_CLOSED: u8 = 4;
    pub const DOCUMENT_OPEN: u8 = 8;

    /// Mode number 0–15.
    pub fn number(self) -> u8 {
        self.0 & 0x0F
    }
    /// Mode status (for mode 8: 0 sale, 1 purchase, 2 sale return, 3
    /// purchase return).
    pub fn status(self) -> u8 {
        self.0 >> 4
    }
    pub fn document_open(self) -> bool {
        self.number() == Self::DOCUMENT_OPEN
    }
}

/// Printing submode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Submode(pub u8);

impl Submode {
    /// Paper present, idle.
    pub const IDLE: u8 = 0;
    /// Out of paper, nothing was being printed.
    pub const NO_PAPER_PASSIVE: u8 = 1;
    /// Out of paper while printing: printing interrupted.
    pub const NO_PAPER_ACTIVE: u8 = 2;
    /// Paper back after an interruption: waits for continue-print (0xB0).
    pub const AWAITING_CONTINUE: u8 = 3;
    /// Printing a fiscal report.
    pub const PRINTING_REPORT: u8 = 4;
    /// Printing an operation.
    pub const PRINTING: u8 = 5;

    pub fn paper_out(self) -> bool {
        matches!(self.0, Self::NO_PAPER_PASSIVE | Self::NO_PAPER_ACTIVE)
    }
    pub fn awaiting_continue(self) -> bool {
        self.0 == Self::AWAITING_CONTINUE
    }
    pub fn printing(self) -> bool {
        matches!(self.0, Self::PRINTING_REPORT | Self::PRINTING)
    }
}

bodyless_command!(
    /// 0x10: short status.
    ShortStatus, 0x10, "short status", ShortStatusAnswer
);

/// Answer to 0x10.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShortStatusAnswer {
    pub operator: u8,
    pub flags: PrinterFlags,
    pub mode: Mode,
    pub submode: Submode,
    pub operations_in_receipt: u16,
    pub battery_voltage: u8,
    pub power_voltage: u8,
    pub fp_error: u8,
    pub eklz_error: u8,
}

impl super::Answer for ShortStatusAnswer {
    fn write(&self, w: Writer) -> Writer {
        let [lo, hi] = self.operations_in_receipt.to_le_bytes();
        w.u8(self.operator)
            .u16(self.flags.0)
            .u8(self.mode.0)
            .u8(self.submode.0)
            .u8(lo)
            .u8(self.battery_voltage)
            .u8(self.power_voltage)
            .u8(self.fp_error)
            .u8(self.eklz_error)
            .u8(hi)
            .bytes(&[0, 0, 0])
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let operator = r.u8("operator")?;
        let flags = PrinterFlags(r.u16("printer flags")?);
        let mode = Mode(r.u8("mode")?);
        let submode = Submode(r.u8("submode")?);
        let lo = r.u8("operations in receipt")?;
        let battery_voltage = r.u8("battery voltage")?;
        let power_voltage = r.u8("power voltage")?;
        let fp_error = r.u8("FP error")?;
        let eklz_error = r.u8("EKLZ error")?;
        // Older firmware ends the answer here; the high byte is then 0.
        let hi = if r.remaining() > 0 {
            r.u8("operations in receipt (high)")?
        } else {
            0
        };
        Ok(ShortStatusAnswer {
            operator,
            flags,
            mode,
            submode,
            operations_in_receipt: u16::from_le_bytes([lo, hi]),
            battery_voltage,
            power_voltage,
            fp_error,
            eklz_error,
        })
    }
}

bodyless_command!(
    /// 0x11: full status.
    FullStatus, 0x11, "full status", FullStatusAnswer
);

/// Answer to 0x11.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FullStatusAnswer {
    pub operator: u8,
    /// Firmware version as two characters, e.g. `['A', '4']` → "A.4".
    pub firmware_version: [u8; 2],
    pub firmware_build: u16,
    /// Firmware date, raw `DD MM YY` (some firmware leaves it zero).
    pub firmware_date: [u8; 3],
    pub hall_number: u8,
    pub document_number: u16,
    pub flags: PrinterFlags,
    pub mode: Mode,
    pub submode: Submode,
    pub port: u8,
    pub fp_version: [u8; 2],
    pub fp_build: u16,
    pub fp_date: [u8; 3],
    /// Device clock; `None` if the device reports an impossible date (clock
    /// reset), so status still works.
    pub clock: Option<DateTime>,
    pub fp_flags: u8,
    pub serial: u32,
    pub last_closed_shift: u16,
    pub free_fp_records: u16,
    pub registrations: u8,
    pub registrations_left: u8,
    /// Taxpayer INN as a number (6 bytes LE).
    pub inn: u64,
}

impl FullStatusAnswer {
    /// "A.4 build 12345".
    pub fn firmware(&self) -> String {
        format!(
            "{}.{} build {}",
            self.firmware_version[0] as char, self.firmware_version[1] as char, self.firmware_build
        )
    }
}

impl super::Answer for FullStatusAnswer {
    fn write(&self, w: Writer) -> Writer {
        let w = w
            .u8(self.operator)
            .bytes(&self.firmware_version)
            .u16(self.firmware_build)
            .bytes(&self.firmware_date)
            .u8(self.hall_number)
            .u16(self.document_number)
            .u16(self.flags.0)
            .u8(self.mode.0)
            .u8(self.submode.0)
            .u8(self.port)
            .bytes(&self.fp_version)
            .u16(self.fp_build)
            .bytes(&self.fp_date);
        let w = match self.clock {
            Some(dt) => w.date(dt.date()).time(dt.time()),
            None => w.bytes(&[0; 6]),
        };
        w.u8(self.fp_flags)
            .u32(self.serial)
            .u16(self.last_closed_shift)
            .u16(self.free_fp_records)
            .u8(self.registrations)
            .u8(self.registrations_left)
            .uint(self.inn, 6)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        let arr2 = |b: &[u8]| [b[0], b[1]];
        let arr3 = |b: &[u8]| [b[0], b[1], b[2]];
        let operator = r.u8("operator")?;
        let firmware_version = arr2(r.take(2, "firmware version")?);
        let firmware_build = r.u16("firmware build")?;
        let firmware_date = arr3(r.take(3, "firmware date")?);
        let hall_number = r.u8("number in hall")?;
        let document_number = r.u16("document number")?;
        let flags = PrinterFlags(r.u16("printer flags")?);
        let mode = Mode(r.u8("mode")?);
        let submode = Submode(r.u8("submode")?);
        let port = r.u8("port")?;
        let fp_version = arr2(r.take(2, "FP version")?);
        let fp_build = r.u16("FP build")?;
        let fp_date = arr3(r.take(3, "FP date")?);
        let d = r.take(3, "date")?;
        let t = r.take(3, "time")?;
        let clock = Date::new(2000 + d[2] as i16, d[1] as i8, d[0] as i8)
            .ok()
            .zip(Time::new(t[0] as i8, t[1] as i8, t[2] as i8, 0).ok())
            .map(|(d, t)| d.to_datetime(t));
        Ok(FullStatusAnswer {
            operator,
            firmware_version,
            firmware_build,
            firmware_date,
            hall_number,
            document_number,
            flags,
            mode,
            submode,
            port,
            fp_version,
            fp_build,
            fp_date,
            clock,
            fp_flags: r.u8("FP flags")?,
            serial: r.u32("serial number")?,
            last_closed_shift: r.u16("last closed shift")?,
            free_fp_records: r.u16("free FP records")?,
            registrations: r.u8("registrations")?,
            registrations_left: r.u8("registrations left")?,
            inn: r.uint(6, "INN")?,
        })
    }
}

/// 0xFC: device type (sent without a password).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeviceType;

impl Command for DeviceType {
    const CODE: crate::frame::Code = crate::frame::Code(0xFC);
    const NAME: &'static str = "device type";
    const HAS_PASSWORD: bool = false;
    type Answer = DeviceTypeAnswer;
    fn write_body(&self, w: Writer) -> Writer {
        w
    }
    fn read_body(_: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DeviceType)
    }
}

/// Answer to 0xFC.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DeviceTypeAnswer {
    pub device_type: u8,
    pub subtype: u8,
    pub protocol_version: u8,
    pub protocol_subversion: u8,
    pub model: u8,
    pub language: u8,
    /// Model name, e.g. "ШТРИХ-М-01Ф".
    pub name: String,
}

impl super::Answer for DeviceTypeAnswer {
    fn write(&self, w: Writer) -> Writer {
        w.u8(self.device_type)
            .u8(self.subtype)
            .u8(self.protocol_version)
            .u8(self.protocol_subversion)
            .u8(self.model)
            .u8(self.language)
            .bytes(&encode_cp1251(&self.name))
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(DeviceTypeAnswer {
            device_type: r.u8("device type")?,
            subtype: r.u8("device subtype")?,
            protocol_version: r.u8("protocol version")?,
            protocol_subversion: r.u8("protocol subversion")?,
            model: r.u8("model")?,
            language: r.u8("language")?,
            name: decode_cp1251(r.rest()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{roundtrip, strategies};
    use proptest::prelude::*;

    #[test]
    fn short_status_reads_reference_layout() {
        // ERR 0, operator 30, flags 0x0002 (receipt paper), mode 0x08
        // (sale receipt open), submode 0, ops low 3, voltages, errors, ops high 0.
        let payload = [0, 30, 0x02, 0x00, 0x08, 0, 3, 0x9C, 0x8F, 0, 0, 0, 0, 0, 0];
        let f = crate::frame::Frame::new(crate::frame::Code(0x10), payload.to_vec());
        let a = crate::commands::parse_answer::<ShortStatus>(&f)
            .unwrap()
            .unwrap();
        assert!(a.flags.receipt_paper());
        assert!(!a.flags.cover_open());
        assert!(a.mode.document_open());
        assert_eq!(a.operations_in_receipt, 3);
    }

    #[test]
    fn device_type_has_no_password() {
        let f = crate::commands::request_frame(30, &DeviceType);
        assert_eq!(f.encode().unwrap(), vec![0x02, 0x01, 0xFC, 0xFD]);
    }

    proptest! {
        #[test]
        fn short_status_round_trips(op in any::<u8>(), flags in any::<u16>(), mode in any::<u8>(),
                                    sub in any::<u8>(), ops in any::<u16>(), v in any::<[u8; 4]>()) {
            roundtrip::request(30, &ShortStatus);
            roundtrip::answer::<ShortStatus>(&ShortStatusAnswer {
                operator: op, flags: PrinterFlags(flags), mode: Mode(mode), submode: Submode(sub),
                operations_in_receipt: ops, battery_voltage: v[0], power_voltage: v[1],
                fp_error: v[2], eklz_error: v[3],
            });
        }

        #[test]
        fn full_status_round_trips(clock in proptest::option::of(strategies::fn_datetime()),
                                   serial in any::<u32>(), inn in 0u64..(1 << 48),
                                   b in any::<[u8; 8]>(), shift in any::<u16>()) {
            roundtrip::request(30, &FullStatus);
            roundtrip::answer::<FullStatus>(&FullStatusAnswer {
                operator: b[0], firmware_version: [b'A', b'4'], firmware_build: 0x1234,
                firmware_date: [b[1], b[2], b[3]], hall_number: 1, document_number: shift,
                flags: PrinterFlags(0x0003), mode: Mode(b[4]), submode: Submode(b[5]), port: 0,
                fp_version: [b'1', b'0'], fp_build: 7, fp_date: [1, 1, 20], clock, fp_flags: b[6],
                serial, last_closed_shift: shift, free_fp_records: 1000, registrations: 1,
                registrations_left: b[7], inn,
            });
        }

        #[test]
        fn device_type_round_trips(name in strategies::text(30), b in any::<[u8; 6]>()) {
            roundtrip::request(0, &DeviceType);
            roundtrip::answer::<DeviceType>(&DeviceTypeAnswer {
                device_type: b[0], subtype: b[1], protocol_version: b[2], protocol_subversion: b[3],
                model: b[4], language: b[5], name,
            });
        }

        #[test]
        fn status_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..64)) {
            roundtrip::fuzz::<ShortStatus>(&bytes);
            roundtrip::fuzz::<FullStatus>(&bytes);
            roundtrip::fuzz::<DeviceType>(&bytes);
        }
    }
}
