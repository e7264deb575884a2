//! Status and identity commands: 0x10 short status, 0x11 full status, 0xFC
//! device type. Layouts as the vendor's JavaPOS driver (`ReadShortStatus`,
//! `LongPrinterStatus`, `ReadDeviceMetrics`) and pyshtrih read them.

use crate::device::{Device, Level, Reply};
use shtrih::wire::{Reader, Writer, encode_cp1251};

/// Flag bits of the 2-byte "ФР flags" word (JavaPOS `PrinterFlags`).
pub(crate) mod flag {
    pub const RECEIPT_ROLL: u16 = 1 << 1;
    pub const DECIMAL_POINT: u16 = 1 << 4;
    pub const RECEIPT_OPTICAL: u16 = 1 << 7;
    pub const RECEIPT_LEVER_UP: u16 = 1 << 9;
    pub const COVER_OPEN: u16 = 1 << 10;
}

/// Firmware version as two ASCII characters and build number.
const FW_VERSION: [u8; 2] = *b"C2";
const FW_BUILD: u16 = 24186;

impl Device {
    pub(crate) fn flags(&self) -> u16 {
        let (paper, cover_open) = self.faults.sensors();
        let mut f = flag::DECIMAL_POINT;
        if paper {
            f |= flag::RECEIPT_ROLL | flag::RECEIPT_OPTICAL;
        }
        if cover_open {
            f |= flag::COVER_OPEN | flag::RECEIPT_LEVER_UP;
        }
        f
    }

    fn operations_in_receipt(&self) -> u16 {
        self.receipt
            .as_ref()
            .map(|r| r.items.len() as u16)
            .unwrap_or(0)
    }

    /// 0xFC: no password.
    pub(crate) fn device_type(&mut self) -> Reply {
        Ok(Writer::new()
            .u8(0) // type: KKT
            .u8(0) // subtype
            .u8(1) // protocol version
            .u8(12) // protocol subversion
            .u8(self.identity.model_id)
            .u8(0) // language: Russian
            .bytes(&encode_cp1251(&self.identity.model_name))
            .into_bytes())
    }

    /// 0x10.
    pub(crate) fn short_status(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let ops = self.operations_in_receipt();
        Ok(Writer::new()
            .u8(op)
            .u16(self.flags())
            .u8(self.mode())
            .u8(self.submode())
            .u8((ops & 0xFF) as u8)
            .u8(0xE6) // backup battery ≈ 4.5 V
            .u8(0xD8) // power ≈ 24 V
            .u8(0) // FP error
            .u8(0) // EKLZ error
            .u8((ops >> 8) as u8)
            .bytes(&[0, 0, 0])
            .into_bytes())
    }

    /// 0x11.
    pub(crate) fn full_status(&mut self, r: &mut Reader) -> Reply {
        let op = self.auth(r, Level::Operator)?;
        let now = self.now();
        let fs = &self.state.fn_storage;
        let fw_date: jiff::civil::Date = jiff::civil::date(2024, 1, 15);
        let mut fp_flags = 0b11u8; // FP1 and FP2 present
        if fs.shift.open {
            fp_flags |= 1 << 6;
        }
        if fs.shift_expired(now) {
            fp_flags |= 1 << 7;
        }
        let last_closed = if fs.shift.open {
            fs.shift.number.saturating_sub(1)
        } else {
            fs.shift.number
        };
        let serial: u32 = self.identity.kkt_serial.parse().unwrap_or(0);
        let inn: u64 = self.identity.inn.parse().unwrap_or(0);
        Ok(Writer::new()
            .u8(op)
            .bytes(&FW_VERSION)
            .u16(FW_BUILD)
            .date(fw_date)
            .u8(1) // number in the hall
            .u16(self.state.doc_counter)
            .u16(self.flags())
            .u8(self.mode())
            .u8(self.submode())
            .u8(0) // port
            .bytes(&FW_VERSION)
            .u16(FW_BUILD)
            .date(fw_date)
            .date(now.date())
            .time(now.time())
            .u8(fp_flags)
            .u32(serial)
            .u16(last_closed)
            .u16(2000) // free FP records
            .u8(1) // registrations done
            .u8(11) // registrations left
            .uint(inn, 6)
            .into_bytes())
    }
}
