//! Kassatka's decimal texts: money and quantities as the 1C API writes them.
//!
//! The API mixes notations: receipts carry `1990` or `1990.5`, the
//! nomenclature carries 1C's `1 990,00` (space as thousands separator, comma
//! as decimal point). Everything here is pure text ↔ integer conversion; no
//! floats are involved anywhere, so no kopeck is ever lost to rounding.

use kkt::{Money, Quantity};
use thiserror::Error;

/// Why a decimal text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum AmountError {
    #[error("empty value")]
    Empty,
    #[error("unexpected character {0:?}")]
    BadCharacter(char),
    #[error("more than one decimal separator")]
    TwoSeparators,
    #[error("no digits")]
    NoDigits,
    #[error("more than {max} digits after the decimal separator")]
    TooPrecise { max: u32 },
    #[error("value too large")]
    Overflow,
}

/// Parses a money text (`1990`, `1990.5`, `1 990,00`, `-10.00`) into
/// kopecks. Spaces (also no-break and narrow no-break) may group thousands;
/// `.` or `,` is the decimal separator. More than two fractional digits are
/// accepted only if the extra ones are zeros: silently rounding money is not.
pub fn parse_money(text: &str) -> Result<Money, AmountError> {
    parse_fixed(text, 2).map(Money)
}

/// Parses a quantity text (`1`, `0.5`, `1,250`) into millionths.
pub fn parse_quantity(text: &str) -> Result<Quantity, AmountError> {
    parse_fixed(text, 6).map(Quantity)
}

/// Parses a decimal text into an integer scaled by `10^scale`.
fn parse_fixed(text: &str, scale: u32) -> Result<i64, AmountError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(AmountError::Empty);
    }
    let (negative, body) = match trimmed.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, trimmed.strip_prefix('+').unwrap_or(trimmed)),
    };
    let mut whole: i64 = 0;
    let mut fraction: i64 = 0;
    let mut fraction_digits: u32 = 0;
    let mut in_fraction = false;
    let mut digits = 0usize;
    for c in body.chars() {
        match c {
            '0'..='9' => {
                let d = i64::from(c as u8 - b'0');
                digits += 1;
                if in_fraction {
                    if fraction_digits < scale {
                        fraction = fraction * 10 + d;
                        fraction_digits += 1;
                    } else if d != 0 {
                        return Err(AmountError::TooPrecise { max: scale });
                    }
                } else {
                    whole = whole
                        .checked_mul(10)
                        .and_then(|w| w.checked_add(d))
                        .ok_or(AmountError::Overflow)?;
                }
            }
            '.' | ',' => {
                if in_fraction {
                    return Err(AmountError::TwoSeparators);
                }
                in_fraction = true;
            }
            ' ' | '\u{a0}' | '\u{202f}' if !in_fraction => {}
            other => return Err(AmountError::BadCharacter(other)),
        }
    }
    if digits == 0 {
        return Err(AmountError::NoDigits);
    }
    let fraction = fraction * 10_i64.pow(scale - fraction_digits);
    let magnitude = whole
        .checked_mul(10_i64.pow(scale))
        .and_then(|w| w.checked_add(fraction))
        .ok_or(AmountError::Overflow)?;
    Ok(if negative { -magnitude } else { magnitude })
}

/// Writes money the way 1C writes prices in the nomenclature: `1 990,00`.
pub fn format_price_1c(money: Money) -> String {
    let sign = if money.0 < 0 { "-" } else { "" };
    let abs = money.0.unsigned_abs();
    let whole = (abs / 100).to_string();
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(' ');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped},{:02}", abs % 100)
}

/// Writes money the way receipts carry it: `2590` for whole roubles,
/// `1990.50` otherwise.
pub fn format_money_plain(money: Money) -> String {
    let sign = if money.0 < 0 { "-" } else { "" };
    let abs = money.0.unsigned_abs();
    if abs.is_multiple_of(100) {
        format!("{sign}{}", abs / 100)
    } else {
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_in_every_notation_the_api_uses() {
        assert_eq!(parse_money("1990"), Ok(Money(199_000)));
        assert_eq!(parse_money("1990.5"), Ok(Money(199_050)));
        assert_eq!(parse_money("1 990,00"), Ok(Money(199_000)));
        assert_eq!(parse_money("6\u{a0}099,00"), Ok(Money(609_900)));
        assert_eq!(parse_money(" 0 "), Ok(Money(0)));
        assert_eq!(parse_money("-10,05"), Ok(Money(-1005)));
        assert_eq!(parse_money("12.340"), Ok(Money(1234)));
        assert_eq!(parse_money(".5"), Ok(Money(50)));
    }

    #[test]
    fn money_rejects_what_it_cannot_read_exactly() {
        assert_eq!(parse_money(""), Err(AmountError::Empty));
        assert_eq!(
            parse_money("1.005"),
            Err(AmountError::TooPrecise { max: 2 })
        );
        assert_eq!(parse_money("1,2,3"), Err(AmountError::TwoSeparators));
        assert_eq!(parse_money("12a"), Err(AmountError::BadCharacter('a')));
        assert_eq!(parse_money("1e5"), Err(AmountError::BadCharacter('e')));
        assert_eq!(parse_money("-"), Err(AmountError::NoDigits));
        assert_eq!(parse_money("1,0 0"), Err(AmountError::BadCharacter(' ')));
        assert_eq!(
            parse_money("99999999999999999999"),
            Err(AmountError::Overflow)
        );
    }

    #[test]
    fn quantity_is_read_to_millionths() {
        assert_eq!(parse_quantity("1"), Ok(Quantity(1_000_000)));
        assert_eq!(parse_quantity("0,125"), Ok(Quantity(125_000)));
        assert_eq!(parse_quantity("2.000001"), Ok(Quantity(2_000_001)));
        assert!(parse_quantity("0.0000001").is_err());
    }

    #[test]
    fn prices_are_written_like_1c() {
        assert_eq!(format_price_1c(Money(199_000)), "1 990,00");
        assert_eq!(format_price_1c(Money(609_900)), "6 099,00");
        assert_eq!(format_price_1c(Money(99_500)), "995,00");
        assert_eq!(format_price_1c(Money(123_456_789)), "1 234 567,89");
        assert_eq!(format_price_1c(Money(5)), "0,05");
        assert_eq!(format_price_1c(Money(-100_000)), "-1 000,00");
    }

    #[test]
    fn plain_money_is_short() {
        assert_eq!(format_money_plain(Money(259_000)), "2590");
        assert_eq!(format_money_plain(Money(199_050)), "1990.50");
    }

    proptest::proptest! {
        #[test]
        fn money_parser_never_panics(text in "\\PC{0,40}") {
            let _ = parse_money(&text);
            let _ = parse_quantity(&text);
        }

        #[test]
        fn money_parser_never_panics_on_numberish(text in "[-+0-9 ., \u{a0}]{0,30}") {
            let _ = parse_money(&text);
            let _ = parse_quantity(&text);
        }

        #[test]
        fn both_notations_round_trip(kopecks in -1_000_000_000_000i64..1_000_000_000_000) {
            proptest::prop_assert_eq!(parse_money(&format_price_1c(Money(kopecks))), Ok(Money(kopecks)));
            proptest::prop_assert_eq!(parse_money(&format_money_plain(Money(kopecks))), Ok(Money(kopecks)));
        }
    }
}
