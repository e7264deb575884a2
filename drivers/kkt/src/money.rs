//! Integer money and fixed-point quantities.
//!
//! Receipts never hold floats: money is kopecks in an `i64`, quantities are
//! millionths in an `i64` (the precision Shtrih-M's operation V2 carries).

use serde::{Deserialize, Serialize};
use std::fmt;

/// An amount of money in kopecks.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Money(pub i64);

impl Money {
    pub const ZERO: Money = Money(0);

    pub fn kopecks(self) -> i64 {
        self.0
    }

    pub fn checked_add(self, other: Money) -> Option<Money> {
        self.0.checked_add(other.0).map(Money)
    }

    pub fn checked_sub(self, other: Money) -> Option<Money> {
        self.0.checked_sub(other.0).map(Money)
    }
}

impl fmt::Display for Money {
    /// `1234.50` style, as printed on receipts.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

/// A quantity in millionths (1.5 kg = `Quantity(1_500_000)`).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Quantity(pub i64);

impl Quantity {
    /// Millionths per unit.
    pub const SCALE: i64 = 1_000_000;
    pub const ONE: Quantity = Quantity(Self::SCALE);

    pub fn millionths(self) -> i64 {
        self.0
    }

    /// Whole units.
    pub fn from_units(units: i64) -> Option<Quantity> {
        units.checked_mul(Self::SCALE).map(Quantity)
    }

    /// `price × quantity`, rounded half away from zero to a kopeck; `None` on
    /// overflow.
    pub fn times(self, price: Money) -> Option<Money> {
        let product = (price.0 as i128).checked_mul(self.0 as i128)?;
        let scale = Self::SCALE as i128;
        let half = scale / 2;
        let rounded = if product >= 0 {
            (product + half) / scale
        } else {
            (product - half) / scale
        };
        i64::try_from(rounded).ok().map(Money)
    }
}

impl fmt::Display for Quantity {
    /// Shortest exact decimal: `1`, `1.5`, `0.125`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let units = abs / Self::SCALE as u64;
        let frac = abs % Self::SCALE as u64;
        if frac == 0 {
            return write!(f, "{sign}{units}");
        }
        let digits = format!("{frac:06}");
        write!(f, "{sign}{units}.{}", digits.trim_end_matches('0'))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_displays_with_two_decimals() {
        assert_eq!(Money(123450).to_string(), "1234.50");
        assert_eq!(Money(-5).to_string(), "-0.05");
    }

    #[test]
    fn quantity_times_price_rounds_half_away_from_zero() {
        // 0.333 kg at 100.00 = 33.30
        assert_eq!(Quantity(333_000).times(Money(10000)), Some(Money(3330)));
        // 0.0015 × 1.00 = 0.0015 → 0.00; 0.005 × 1.00 = 0.005 → 0.01
        assert_eq!(Quantity(1_500).times(Money(100)), Some(Money(0)));
        assert_eq!(Quantity(5_000).times(Money(100)), Some(Money(1)));
        assert_eq!(Quantity(i64::MAX).times(Money(i64::MAX)), None);
    }

    #[test]
    fn quantity_displays_shortest_decimal() {
        assert_eq!(Quantity(1_000_000).to_string(), "1");
        assert_eq!(Quantity(1_500_000).to_string(), "1.5");
        assert_eq!(Quantity(125_000).to_string(), "0.125");
    }
}
