//! Field encodings inside a Shtrih-M frame, shared by the driver and the
//! emulator: little-endian integers of 1–8 bytes, money as 5-byte kopecks,
//! quantities as 5-byte thousandths (classic commands) or 6-byte millionths
//! (operation V2), CP1251 text, and `DD MM YY` / `HH MM SS` dates.
//!
//! [`Reader`] never panics on short or malformed input; it returns
//! [`WireError`] naming the field it was reading.

use encoding_rs::WINDOWS_1251;
use jiff::civil::{Date, DateTime, Time};

/// A payload too short or holding an impossible value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error(
        "answer too short: field `{field}` needs {need} bytes at offset {at}, payload has {len}"
    )]
    Short {
        field: &'static str,
        need: usize,
        at: usize,
        len: usize,
    },
    #[error("field `{field}` holds an invalid value: {why}")]
    Invalid { field: &'static str, why: String },
}

/// Builds a payload.
#[derive(Debug, Default, Clone)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn new() -> Self {
        Writer {
            buf: Vec::with_capacity(64),
        }
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.buf
    }

    pub fn u8(mut self, v: u8) -> Self {
        self.buf.push(v);
        self
    }

    pub fn u16(self, v: u16) -> Self {
        self.uint(v as u64, 2)
    }

    pub fn u32(self, v: u32) -> Self {
        self.uint(v as u64, 4)
    }

    /// Low `n` bytes of `v`, little-endian (`n` ≤ 8).
    pub fn uint(mut self, v: u64, n: usize) -> Self {
        self.buf.extend_from_slice(&v.to_le_bytes()[..n.min(8)]);
        self
    }

    /// `n` bytes of 0xFF ("let the device compute it").
    pub fn all_ff(mut self, n: usize) -> Self {
        self.buf.extend(std::iter::repeat_n(0xFF, n));
        self
    }

    pub fn bytes(mut self, b: &[u8]) -> Self {
        self.buf.extend_from_slice(b);
        self
    }

    /// CP1251 text zero-padded (or cut) to exactly `width` bytes.
    pub fn text_fixed(mut self, s: &str, width: usize) -> Self {
        let mut enc = encode_cp1251(s);
        enc.resize(width, 0);
        self.buf.extend_from_slice(&enc);
        self
    }

    /// CP1251 text cut to at most `max` bytes at a character boundary, no
    /// padding.
    pub fn text_var(mut self, s: &str, max: usize) -> Self {
        let enc = encode_cp1251(cp1251_prefix(s, max));
        self.buf.extend_from_slice(&enc);
        self
    }

    /// `DD MM YY`.
    pub fn date(self, d: Date) -> Self {
        self.u8(d.day() as u8)
            .u8(d.month() as u8)
            .u8((d.year() % 100) as u8)
    }

    /// `HH MM SS`.
    pub fn time(self, t: Time) -> Self {
        self.u8(t.hour() as u8)
            .u8(t.minute() as u8)
            .u8(t.second() as u8)
    }

    /// FN date: `YY MM DD` (3 bytes, e.g. the FN validity in 0xFF03).
    pub fn fn_date(self, d: Date) -> Self {
        self.u8((d.year() % 100) as u8)
            .u8(d.month() as u8)
            .u8(d.day() as u8)
    }

    /// FN date-time: `YY MM DD HH MM` (5 bytes, as the FN commands carry it).
    pub fn fn_datetime(self, dt: DateTime) -> Self {
        self.u8((dt.year() % 100) as u8)
            .u8(dt.month() as u8)
            .u8(dt.day() as u8)
            .u8(dt.hour() as u8)
            .u8(dt.minute() as u8)
    }
}

/// Reads a payload field by field.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf, pos: 0 }
    }

    pub fn position(&self) -> usize {
        self.pos
    }

    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// The next `n` bytes.
    pub fn take(&mut self, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        if self.remaining() < n {
            return Err(WireError::Short {
                field,
                need: n,
                at: self.pos,
                len: self.buf.len(),
            });
        }
        let s = &self.buf[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    /// Everything left.
    pub fn rest(&mut self) -> &'a [u8] {
        let s = &self.buf[self.pos..];
        self.pos = self.buf.len();
        s
    }

    pub fn u8(&mut self, field: &'static str) -> Result<u8, WireError> {
        Ok(self.take(1, field)?[0])
    }

    pub fn u16(&mut self, field: &'static str) -> Result<u16, WireError> {
        Ok(self.uint(2, field)? as u16)
    }

    pub fn u32(&mut self, field: &'static str) -> Result<u32, WireError> {
        Ok(self.uint(4, field)? as u32)
    }

    /// `n` bytes little-endian (`n` ≤ 8).
    pub fn uint(&mut self, n: usize, field: &'static str) -> Result<u64, WireError> {
        let b = self.take(n.min(8), field)?;
        Ok(b.iter().rev().fold(0u64, |acc, x| (acc << 8) | *x as u64))
    }

    /// CP1251 text of `n` bytes, trailing zeros removed.
    pub fn text_fixed(&mut self, n: usize, field: &'static str) -> Result<String, WireError> {
        Ok(decode_cp1251(self.take(n, field)?))
    }

    /// `DD MM YY`.
    pub fn date(&mut self, field: &'static str) -> Result<Date, WireError> {
        let b = self.take(3, field)?;
        make_date(2000 + b[2] as i16, b[1], b[0], field)
    }

    /// `HH MM SS`.
    pub fn time(&mut self, field: &'static str) -> Result<Time, WireError> {
        let b = self.take(3, field)?;
        Time::new(b[0] as i8, b[1] as i8, b[2] as i8, 0).map_err(|e| WireError::Invalid {
            field,
            why: format!("{:02}:{:02}:{:02}: {e}", b[0], b[1], b[2]),
        })
    }

    /// FN date `YY MM DD`.
    pub fn fn_date(&mut self, field: &'static str) -> Result<Date, WireError> {
        let b = self.take(3, field)?;
        make_date(2000 + b[0] as i16, b[1], b[2], field)
    }

    /// FN date-time `YY MM DD HH MM`.
    pub fn fn_datetime(&mut self, field: &'static str) -> Result<DateTime, WireError> {
        let b = self.take(5, field)?;
        let date = make_date(2000 + b[0] as i16, b[1], b[2], field)?;
        let time = Time::new(b[3] as i8, b[4] as i8, 0, 0).map_err(|e| WireError::Invalid {
            field,
            why: format!("{:02}:{:02}: {e}", b[3], b[4]),
        })?;
        Ok(date.to_datetime(time))
    }
}

fn make_date(year: i16, month: u8, day: u8, field: &'static str) -> Result<Date, WireError> {
    Date::new(year, month as i8, day as i8).map_err(|e| WireError::Invalid {
        field,
        why: format!("{day:02}.{month:02}.{year}: {e}"),
    })
}

/// The longest prefix of `s` whose CP1251 form fits `max` bytes. Cut at a
/// character, so a substitution of two bytes (`₽` → `р.`) is never halved.
pub fn cp1251_prefix(s: &str, max: usize) -> &str {
    let mut used = 0;
    let mut buf = [0u8; 4];
    for (i, ch) in s.char_indices() {
        let n = if ch.is_ascii() {
            1
        } else {
            encode_cp1251(ch.encode_utf8(&mut buf)).len()
        };
        if used + n > max {
            return &s[..i];
        }
        used += n;
    }
    s
}

/// Encodes text to CP1251. Characters CP1251 cannot hold are replaced on
/// purpose (₽ → "р.", others → '?') instead of `encoding_rs`'s HTML entities,
/// which would print literally on a receipt.
pub fn encode_cp1251(s: &str) -> Vec<u8> {
    let (enc, _, unmappable) = WINDOWS_1251.encode(s);
    if !unmappable {
        return enc.into_owned();
    }
    let mut out = Vec::with_capacity(s.len());
    let mut buf = [0u8; 4];
    for ch in s.chars() {
        let (e, _, bad) = WINDOWS_1251.encode(ch.encode_utf8(&mut buf));
        if !bad {
            out.extend_from_slice(&e);
        } else if ch == '₽' {
            out.extend_from_slice(&WINDOWS_1251.encode("р.").0);
        } else {
            out.push(b'?');
        }
    }
    out
}

/// Decodes CP1251 text, stopping at the first zero byte.
pub fn decode_cp1251(b: &[u8]) -> String {
    let end = b.iter().position(|x| *x == 0).unwrap_or(b.len());
    WINDOWS_1251
        .decode_without_bom_handling(&b[..end])
        .0
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cp1251_prefix_cuts_at_a_character() {
        let name = "Я".repeat(130);
        assert_eq!(cp1251_prefix(&name, 128).chars().count(), 128);
        assert_eq!(cp1251_prefix("ab₽", 3), "ab");
        assert_eq!(cp1251_prefix("ab₽", 4), "ab₽");
        assert_eq!(cp1251_prefix("", 4), "");
    }
    use proptest::prelude::*;

    #[test]
    fn money_is_five_bytes_little_endian() {
        let b = Writer::new().uint(123_456, 5).into_bytes();
        assert_eq!(b, vec![0x40, 0xE2, 0x01, 0, 0]);
        assert_eq!(Reader::new(&b).uint(5, "sum"), Ok(123_456));
    }

    #[test]
    fn cyrillic_is_cp1251_and_ruble_sign_is_spelled() {
        assert_eq!(encode_cp1251("Чек"), vec![0xD7, 0xE5, 0xEA]);
        assert_eq!(decode_cp1251(&encode_cp1251("10 ₽")), "10 р.");
        assert_eq!(decode_cp1251(&encode_cp1251("a😀b")), "a?b");
    }

    #[test]
    fn short_payload_names_the_field() {
        let err = Reader::new(&[1, 2]).u32("fd number").unwrap_err();
        assert!(err.to_string().contains("fd number"), "{err}");
    }

    proptest! {
        #[test]
        fn reader_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..32)) {
            let mut r = Reader::new(&bytes);
            let _ = r.date("d");
            let _ = r.time("t");
            let _ = r.fn_datetime("dt");
            let _ = r.uint(5, "m");
            let _ = r.text_fixed(40, "s");
        }

        #[test]
        fn text_round_trips(s in "[а-яА-ЯёЁa-zA-Z0-9 .,]{0,40}") {
            let b = Writer::new().text_fixed(&s, 64).into_bytes();
            prop_assert_eq!(decode_cp1251(&b), s);
        }
    }
}
