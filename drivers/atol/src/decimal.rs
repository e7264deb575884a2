//! Exact money and quantities in ATOL's JSON, which carries them as decimal
//! numbers (`"price": 123.45`).
//!
//! Serialising writes the decimal text itself (a raw JSON number), so no
//! float ever holds a sum on the way out. Reading accepts what a JSON parser
//! hands over: an integer is exact; a fractional number is rounded to the
//! nearest kopeck (or millionth), which is exact for every value a receipt
//! can hold (below 2^53 units); a string of digits is parsed exactly.

use kkt::{Money, Quantity};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// A sum in rubles on the wire, kopecks inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rubles(pub Money);

/// A quantity on the wire, millionths inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Units(pub Quantity);

/// Renders `value / 10^scale` as the shortest exact decimal text.
fn decimal_text(value: i64, scale: u32) -> String {
    let div = 10i128.pow(scale);
    let v = value as i128;
    let sign = if v < 0 { "-" } else { "" };
    let abs = v.abs();
    let int = abs / div;
    let frac = abs % div;
    if frac == 0 {
        return format!("{sign}{int}");
    }
    let frac = format!("{frac:0width$}", width = scale as usize);
    format!("{sign}{int}.{}", frac.trim_end_matches('0'))
}

/// Parses decimal text (`"-12.5"`) into units of `10^-scale`, exactly.
fn parse_decimal(text: &str, scale: u32) -> Option<i64> {
    let text = text.trim();
    let (neg, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if int.is_empty() && frac.is_empty() {
        return None;
    }
    if !int.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    if frac.len() > scale as usize && frac[scale as usize..].chars().any(|c| c != '0') {
        return None;
    }
    let int: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut frac_units: i64 = 0;
    for i in 0..scale as usize {
        let d = frac
            .as_bytes()
            .get(i)
            .map(|b| (b - b'0') as i64)
            .unwrap_or(0);
        frac_units = frac_units * 10 + d;
    }
    let v = int.checked_mul(10i64.pow(scale))?.checked_add(frac_units)?;
    Some(if neg { -v } else { v })
}

fn serialize_scaled<S: Serializer>(value: i64, scale: u32, s: S) -> Result<S::Ok, S::Error> {
    let raw =
        RawValue::from_string(decimal_text(value, scale)).map_err(serde::ser::Error::custom)?;
    raw.serialize(s)
}

struct ScaledVisitor(u32);

/// Largest magnitude a JSON double carries exactly.
const EXACT_LIMIT: f64 = 9_007_199_254_740_992.0;

impl Visitor<'_> for ScaledVisitor {
    type Value = i64;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(
            f,
            "a decimal number with at most {} fraction digits",
            self.0
        )
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
        v.checked_mul(10i64.pow(self.0))
            .ok_or_else(|| E::custom(format!("number {v} is too large")))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
        let v = i64::try_from(v).map_err(|_| E::custom(format!("number {v} is too large")))?;
        self.visit_i64(v)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
        let scaled = (v * 10f64.powi(self.0 as i32)).round();
        if !scaled.is_finite() || scaled.abs() >= EXACT_LIMIT {
            return Err(E::custom(format!("number {v} is out of range")));
        }
        Ok(scaled as i64)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<i64, E> {
        parse_decimal(v, self.0).ok_or_else(|| E::custom(format!("{v:?} is not a decimal number")))
    }
}

impl Serialize for Rubles {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0.0, 2, s)
    }
}

impl<'de> Deserialize<'de> for Rubles {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScaledVisitor(2))
            .map(|k| Rubles(Money(k)))
    }
}

impl Serialize for Units {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0.0, 6, s)
    }
}

impl<'de> Deserialize<'de> for Units {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScaledVisitor(6))
            .map(|m| Units(Quantity(m)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rubles_are_written_as_exact_decimals() {
        let cases = [
            (12345, "123.45"),
            (100, "1"),
            (5, "0.05"),
            (-250, "-2.5"),
            (0, "0"),
        ];
        for (kop, text) in cases {
            assert_eq!(serde_json::to_string(&Rubles(Money(kop))).unwrap(), text);
            let back: Rubles = serde_json::from_str(text).unwrap();
            assert_eq!(back, Rubles(Money(kop)), "{text}");
        }
    }

    #[test]
    fn quantities_keep_millionths() {
        assert_eq!(
            serde_json::to_string(&Units(Quantity(1_500_000))).unwrap(),
            "1.5"
        );
        assert_eq!(
            serde_json::to_string(&Units(Quantity(1))).unwrap(),
            "0.000001"
        );
        let q: Units = serde_json::from_str("0.333").unwrap();
        assert_eq!(q, Units(Quantity(333_000)));
    }

    #[test]
    fn sums_from_strings_and_floats_land_on_the_kopeck() {
        let r: Rubles = serde_json::from_str("\"19.99\"").unwrap();
        assert_eq!(r, Rubles(Money(1999)));
        let r: Rubles = serde_json::from_str("0.29").unwrap();
        assert_eq!(r, Rubles(Money(29)));
        assert!(serde_json::from_str::<Rubles>("\"1.234\"").is_err());
        assert!(serde_json::from_str::<Rubles>("\"abc\"").is_err());
        assert!(serde_json::from_str::<Rubles>("1e300").is_err());
    }
}
