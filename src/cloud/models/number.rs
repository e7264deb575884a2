//! Exact numbers on the wire: kopecks, rubles, quantities and percentages.
//!
//! The cloud sends money and quantities as JSON numbers. A float would lose
//! kopecks, so every numeric field of the models goes through this module:
//! the number's decimal text is taken verbatim (serde_json's `RawValue`) and
//! parsed into an integer with a fixed scale. Anything that does not fit the
//! scale exactly (a fractional kopeck, a millionth of a millionth) is an
//! error, never rounded.
//!
//! Each submodule is a `#[serde(with = "…")]` adapter; the `opt` variants
//! handle `Option` fields (absent or `null` → `None`).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};
use serde_json::value::RawValue;

/// Message prefix of the error for a money amount that is not whole kopecks;
/// [`super::ModelError`] recognises it to give it its own variant.
pub(crate) const FRACTIONAL_KOPECKS: &str = "fractional kopecks";

/// Why a JSON number could not be taken as a fixed-point value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("not a JSON number: {0}")]
    NotANumber(String),
    #[error("{0} has more than {1} decimal places")]
    TooPrecise(String, u32),
    #[error("{0} is out of range")]
    OutOfRange(String),
}

/// Parses JSON number text (`-12`, `3.25`, `1e3`, `2.5E-1`) into an integer
/// scaled by `10^scale`, exactly. Fails if more than `scale` decimal places
/// are significant.
pub fn parse_scaled(text: &str, scale: u32) -> Result<i64, NumberError> {
    let not_number = || NumberError::NotANumber(text.to_owned());
    let (negative, rest) = match text.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, text),
    };
    let (mantissa, exponent) = match rest.find(['e', 'E']) {
        Some(i) => {
            let exp_text = &rest[i + 1..];
            let exp_digits = exp_text.strip_prefix(['+', '-']).unwrap_or(exp_text);
            if exp_digits.is_empty() || !exp_digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(not_number());
            }
            // Exponents beyond a few hundred cannot give a value in range.
            let exp: i64 = exp_text.parse().unwrap_or(if exp_text.starts_with('-') {
                i64::MIN / 2
            } else {
                i64::MAX / 2
            });
            (&rest[..i], exp)
        }
        None => (rest, 0),
    };
    let (int_part, frac_part) = match mantissa.split_once('.') {
        Some((i, f)) => {
            if f.is_empty() {
                return Err(not_number());
            }
            (i, f)
        }
        None => (mantissa, ""),
    };
    if int_part.is_empty()
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(not_number());
    }
    // value = digits × 10^(exponent − frac_len); we want value × 10^scale.
    let digits = format!("{int_part}{frac_part}");
    let digits = digits.trim_start_matches('0');
    let shift = exponent
        .saturating_sub(frac_part.len() as i64)
        .saturating_add(scale as i64);
    let digits_value = |d: &str| -> Result<i128, NumberError> {
        if d.is_empty() {
            return Ok(0);
        }
        if d.len() > 30 {
            return Err(NumberError::OutOfRange(text.to_owned()));
        }
        d.parse::<i128>()
            .map_err(|_| NumberError::OutOfRange(text.to_owned()))
    };
    let magnitude: i128 = if shift >= 0 {
        let base = digits_value(digits)?;
        if base == 0 {
            0
        } else {
            if shift > 30 {
                return Err(NumberError::OutOfRange(text.to_owned()));
            }
            base.checked_mul(10i128.pow(shift as u32))
                .ok_or_else(|| NumberError::OutOfRange(text.to_owned()))?
        }
    } else {
        // Dropping `-shift` trailing digits: they must all be zero.
        let drop = usize::try_from(shift.unsigned_abs()).unwrap_or(usize::MAX);
        let (keep, dropped) = if drop >= digits.len() {
            ("", digits)
        } else {
            digits.split_at(digits.len() - drop)
        };
        if dropped.bytes().any(|b| b != b'0') {
            return Err(NumberError::TooPrecise(text.to_owned(), scale));
        }
        digits_value(keep)?
    };
    let signed = if negative { -magnitude } else { magnitude };
    i64::try_from(signed).map_err(|_| NumberError::OutOfRange(text.to_owned()))
}

/// Renders `value / 10^scale` as the shortest exact decimal (`1`, `1.5`).
pub fn format_scaled(value: i64, scale: u32) -> String {
    let sign = if value < 0 { "-" } else { "" };
    let abs = value.unsigned_abs();
    let unit = 10u64.pow(scale);
    let (whole, frac) = (abs / unit, abs % unit);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let digits = format!("{frac:0width$}", width = scale as usize);
    format!("{sign}{whole}.{}", digits.trim_end_matches('0'))
}

fn raw_scaled<'de, D: Deserializer<'de>>(d: D, scale: u32, what: &str) -> Result<i64, D::Error> {
    let raw = Box::<RawValue>::deserialize(d)?;
    parse_scaled(raw.get(), scale).map_err(|e| match e {
        NumberError::TooPrecise(t, _) if scale == 0 && what == "kopecks" => {
            D::Error::custom(format!("{FRACTIONAL_KOPECKS}: {t}"))
        }
        other => D::Error::custom(format!("{what}: {other}")),
    })
}

fn raw_scaled_opt<'de, D: Deserializer<'de>>(
    d: D,
    scale: u32,
    what: &str,
) -> Result<Option<i64>, D::Error> {
    let raw = Option::<Box<RawValue>>::deserialize(d)?;
    match raw {
        None => Ok(None),
        Some(raw) if raw.get() == "null" => Ok(None),
        Some(raw) => parse_scaled(raw.get(), scale)
            .map(Some)
            .map_err(|e| match e {
                NumberError::TooPrecise(t, _) if scale == 0 && what == "kopecks" => {
                    D::Error::custom(format!("{FRACTIONAL_KOPECKS}: {t}"))
                }
                other => D::Error::custom(format!("{what}: {other}")),
            }),
    }
}

fn serialize_scaled<S: Serializer>(value: i64, scale: u32, s: S) -> Result<S::Ok, S::Error> {
    if scale == 0 {
        return s.serialize_i64(value);
    }
    let raw =
        RawValue::from_string(format_scaled(value, scale)).map_err(serde::ser::Error::custom)?;
    serde::Serialize::serialize(&raw, s)
}

/// Money in integer kopecks, sent as a JSON integer (`"price": 500` is 5.00 ₽).
pub mod kopecks {
    use super::*;
    use kkt::Money;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Money, D::Error> {
        raw_scaled(d, 0, "kopecks").map(Money)
    }
    pub fn serialize<S: Serializer>(v: &Money, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(v.0, 0, s)
    }

    /// `Option<Money>` in kopecks.
    pub mod opt {
        use super::*;
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
            raw_scaled_opt(d, 0, "kopecks").map(|v| v.map(Money))
        }
        pub fn serialize<S: Serializer>(v: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(m) => serialize_scaled(m.0, 0, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// Money in rubles with up to two decimals (`"sum": 123.6` is 123.60 ₽), as
/// the `cheque.sum` field carries it; held as kopecks.
pub mod rubles {
    use super::*;
    use kkt::Money;

    /// `Option<Money>` written as rubles.
    pub mod opt {
        use super::*;
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Money>, D::Error> {
            raw_scaled_opt(d, 2, "rubles").map(|v| v.map(Money))
        }
        pub fn serialize<S: Serializer>(v: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(m) => serialize_scaled(m.0, 2, s),
                None => s.serialize_none(),
            }
        }
    }
}

/// Quantities with up to six decimals, held as [`kkt::Quantity`] millionths.
pub mod quantity {
    use super::*;
    use kkt::Quantity;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Quantity, D::Error> {
        raw_scaled(d, 6, "quantity").map(Quantity)
    }
    pub fn serialize<S: Serializer>(v: &Quantity, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(v.0, 6, s)
    }
}

/// A percentage (discount, fractional VAT) with up to six decimals.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Percent(pub i64);

impl Percent {
    /// Millionths of a percent per percent.
    pub const SCALE: i64 = 1_000_000;

    /// Whole percent.
    pub fn from_whole(p: i64) -> Option<Percent> {
        p.checked_mul(Self::SCALE).map(Percent)
    }
    /// Millionths of a percent (`10%` = 10 000 000).
    pub fn millionths(self) -> i64 {
        self.0
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}%", format_scaled(self.0, 6))
    }
}

impl<'de> Deserialize<'de> for Percent {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        raw_scaled(d, 6, "percent").map(Percent)
    }
}

impl serde::Serialize for Percent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        serialize_scaled(self.0, 6, s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_exact_decimals() {
        assert_eq!(parse_scaled("2", 6), Ok(2_000_000));
        assert_eq!(parse_scaled("0.125", 6), Ok(125_000));
        assert_eq!(parse_scaled("-1.5", 6), Ok(-1_500_000));
        assert_eq!(parse_scaled("1e3", 0), Ok(1000));
        assert_eq!(parse_scaled("2.5E-1", 2), Ok(25));
        assert_eq!(parse_scaled("123.6", 2), Ok(12360));
        assert_eq!(parse_scaled("500.000", 0), Ok(500));
        assert_eq!(parse_scaled("0.1", 6), Ok(100_000));
        // 0.1 + 0.2 style values stay exact: no float on the way.
        assert_eq!(parse_scaled("0.300000", 6), Ok(300_000));
    }

    #[test]
    fn rejects_what_does_not_fit() {
        assert!(matches!(
            parse_scaled("123.6", 0),
            Err(NumberError::TooPrecise(..))
        ));
        assert!(matches!(
            parse_scaled("1.0000001", 6),
            Err(NumberError::TooPrecise(..))
        ));
        assert!(matches!(
            parse_scaled("1e400", 0),
            Err(NumberError::OutOfRange(..))
        ));
        assert!(matches!(
            parse_scaled("99999999999999999999", 0),
            Err(NumberError::OutOfRange(..))
        ));
        assert!(matches!(
            parse_scaled("\"5\"", 0),
            Err(NumberError::NotANumber(..))
        ));
        assert!(matches!(
            parse_scaled("1.", 0),
            Err(NumberError::NotANumber(..))
        ));
        assert!(matches!(
            parse_scaled("true", 0),
            Err(NumberError::NotANumber(..))
        ));
    }

    #[test]
    fn tiny_exponents_are_fine_for_zero_and_errors_otherwise() {
        assert_eq!(parse_scaled("0e-999999999999999999999", 0), Ok(0));
        assert!(parse_scaled("1e-999999999999999999999", 0).is_err());
    }

    #[test]
    fn formats_shortest() {
        assert_eq!(format_scaled(1_500_000, 6), "1.5");
        assert_eq!(format_scaled(12360, 2), "123.6");
        assert_eq!(format_scaled(-5, 2), "-0.05");
        assert_eq!(format_scaled(7, 0), "7");
    }

    proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = parse_scaled(&s, 6);
            let _ = parse_scaled(&s, 0);
        }

        #[test]
        fn format_then_parse_round_trips(v in any::<i64>(), scale in 0u32..=6) {
            prop_assert_eq!(parse_scaled(&format_scaled(v, scale), scale), Ok(v));
        }
    }
}
