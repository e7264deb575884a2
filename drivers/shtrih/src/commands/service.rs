//! Service commands: set time (0x21), set date (0x22), confirm date (0x23),
//! read table (0x1F), write table (0x1E).
//!
//! Layouts after the password (pyshtrih `commands.py`): 0x21 `HH MM SS`;
//! 0x22 / 0x23 `DD MM YY`; 0x1F table(1), row(2), field(1) → value bytes;
//! 0x1E table(1), row(2), field(1), value. All answer only the error byte.

use super::{Answer, Command, Empty};
use crate::frame::Code;
use crate::wire::{Reader, WireError, Writer};
use jiff::civil::{Date, Time};

/// 0x21: set the device time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetTime {
    pub time: Time,
}

impl Command for SetTime {
    const CODE: Code = Code(0x21);
    const NAME: &'static str = "set time";
    type Answer = Empty;
    fn write_body(&self, w: Writer) -> Writer {
        w.time(self.time)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(SetTime {
            time: r.time("time")?,
        })
    }
}

/// 0x22: set the device date (must be confirmed with 0x23).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SetDate {
    pub date: Date,
}

/// 0x23: confirm the date set by 0x22.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConfirmDate {
    pub date: Date,
}

macro_rules! date_command {
    ($name:ident, $code:expr, $text:expr) => {
        impl Command for $name {
            const CODE: Code = Code($code);
            const NAME: &'static str = $text;
            type Answer = Empty;
            fn write_body(&self, w: Writer) -> Writer {
                w.date(self.date)
            }
            fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
                Ok($name {
                    date: r.date("date")?,
                })
            }
        }
    };
}
date_command!(SetDate, 0x22, "set date");
date_command!(ConfirmDate, 0x23, "confirm date");

/// 0x1F: read a table field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadTable {
    pub table: u8,
    pub row: u16,
    pub field: u8,
}

impl Command for ReadTable {
    const CODE: Code = Code(0x1F);
    const NAME: &'static str = "read table";
    type Answer = TableValue;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.table).u16(self.row).u8(self.field)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(ReadTable {
            table: r.u8("table")?,
            row: r.u16("row")?,
            field: r.u8("field")?,
        })
    }
}

/// A table field's raw value (integer LE or CP1251 text, per the field type).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TableValue {
    pub bytes: Vec<u8>,
}

impl TableValue {
    /// The value as a little-endian integer (first 8 bytes).
    pub fn as_uint(&self) -> u64 {
        Reader::new(&self.bytes)
            .uint(self.bytes.len().min(8), "table value")
            .unwrap_or(0)
    }
    /// The value as CP1251 text.
    pub fn as_text(&self) -> String {
        crate::wire::decode_cp1251(&self.bytes)
    }
}

impl Answer for TableValue {
    fn write(&self, w: Writer) -> Writer {
        w.bytes(&self.bytes)
    }
    fn read(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(TableValue {
            bytes: r.rest().to_vec(),
        })
    }
}

/// 0x1E: write a table field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteTable {
    pub table: u8,
    pub row: u16,
    pub field: u8,
    pub value: Vec<u8>,
}

impl Command for WriteTable {
    const CODE: Code = Code(0x1E);
    const NAME: &'static str = "write table";
    type Answer = Empty;
    fn write_body(&self, w: Writer) -> Writer {
        w.u8(self.table)
            .u16(self.row)
            .u8(self.field)
            .bytes(&self.value)
    }
    fn read_body(r: &mut Reader<'_>) -> Result<Self, WireError> {
        Ok(WriteTable {
            table: r.u8("table")?,
            row: r.u16("row")?,
            field: r.u8("field")?,
            value: r.rest().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::{roundtrip, strategies};
    use proptest::prelude::*;

    #[test]
    fn set_date_is_day_month_year() {
        let f = crate::commands::request_frame(
            30,
            &SetDate {
                date: jiff::civil::date(2026, 11, 24),
            },
        );
        assert_eq!(&f.payload[4..], &[24, 11, 26]);
    }

    proptest! {
        #[test]
        fn service_round_trips(dt in strategies::fn_datetime(), t in any::<u8>(), row in any::<u16>(), field in any::<u8>(),
                               value in proptest::collection::vec(any::<u8>(), 0..40)) {
            roundtrip::request(30, &SetTime { time: dt.time() });
            roundtrip::request(30, &SetDate { date: dt.date() });
            roundtrip::request(30, &ConfirmDate { date: dt.date() });
            roundtrip::request(30, &ReadTable { table: t, row, field });
            roundtrip::answer::<ReadTable>(&TableValue { bytes: value.clone() });
            roundtrip::request(30, &WriteTable { table: t, row, field, value });
        }

        #[test]
        fn service_decoders_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..16)) {
            roundtrip::fuzz::<SetTime>(&bytes);
            roundtrip::fuzz::<SetDate>(&bytes);
            roundtrip::fuzz::<ReadTable>(&bytes);
        }
    }
}
