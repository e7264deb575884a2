//! Lines whose price × quantity is their sum to the kopeck. A line of a
//! whole number of units whose sum does not divide by it (10 pieces for
//! 10.05 ₽ after a discount) has no whole-kopeck unit price: printed as one
//! line its price × quantity would differ from its sum, which the OFD and
//! the tax service flag. It is printed as two lines of the same goods
//! instead, 5 × 1.00 + 5 × 1.01, which add up to the sum exactly. A
//! fractional quantity (weighed goods) keeps one line with its price
//! rounded half away from zero: FFD allows the rounding there.

use kkt::{Money, Position, Quantity};

/// `line` as one or two lines, each with price × quantity = sum; `None`
/// when the unit price does not fit (a huge sum over a tiny quantity) or
/// the quantity is not positive.
pub fn exact_lines(line: Position) -> Option<Vec<Position>> {
    let q = line.quantity.0;
    if q <= 0 {
        return None;
    }
    if q % Quantity::SCALE != 0 {
        let price = super::div_round(line.sum.0 as i128 * Quantity::SCALE as i128, q as i128);
        let price = i64::try_from(price).ok()?;
        return Some(vec![Position {
            price: Money(price),
            ..line
        }]);
    }
    let units = q / Quantity::SCALE;
    let base = line.sum.0.div_euclid(units);
    let extra = line.sum.0.rem_euclid(units);
    let part = |n: i64, price: i64| Position {
        quantity: Quantity(n * Quantity::SCALE),
        price: Money(price),
        sum: Money(n * price),
        ..line.clone()
    };
    if extra == 0 {
        return Some(vec![part(units, base)]);
    }
    Some(vec![part(units - extra, base), part(extra, base + 1)])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kkt::{PaymentMethod, PaymentObject, VatRate};

    fn line(units_millionths: i64, sum: i64) -> Position {
        Position {
            name: "Носки".into(),
            quantity: Quantity(units_millionths),
            price: Money(0),
            sum: Money(sum),
            vat: VatRate::Vat20,
            method: PaymentMethod::FullPayment,
            object: PaymentObject::COMMODITY,
            marking_code: None,
            measure: None,
        }
    }

    fn shape(lines: &[Position]) -> Vec<(i64, i64, i64)> {
        lines
            .iter()
            .map(|p| (p.quantity.0 / Quantity::SCALE, p.price.0, p.sum.0))
            .collect()
    }

    #[test]
    fn ten_pieces_for_ten_oh_five_are_two_exact_lines() {
        let out = exact_lines(line(10_000_000, 1005)).unwrap();
        assert_eq!(shape(&out), [(5, 100, 500), (5, 101, 505)]);
    }

    #[test]
    fn a_divisible_sum_stays_one_line() {
        let out = exact_lines(line(3_000_000, 1080)).unwrap();
        assert_eq!(shape(&out), [(3, 360, 1080)]);
    }

    #[test]
    fn weighed_goods_keep_one_line_with_a_rounded_price() {
        let out = exact_lines(line(1_500_000, 1801)).unwrap();
        assert_eq!(out.len(), 1);
        assert_eq!((out[0].price.0, out[0].sum.0), (1201, 1801));
    }

    proptest::proptest! {
        /// Whole units: every line exact, the lines add up to the sum and
        /// to the quantity, and prices differ by at most one kopeck.
        #[test]
        fn whole_units_always_add_up(units in 1i64..10_000, sum in 0i64..100_000_000) {
            let out = exact_lines(line(units * Quantity::SCALE, sum)).unwrap();
            proptest::prop_assert!(out.len() <= 2);
            let mut total = 0;
            let mut qty = 0;
            for p in &out {
                proptest::prop_assert_eq!(p.price.0 * p.quantity.0 / Quantity::SCALE, p.sum.0);
                total += p.sum.0;
                qty += p.quantity.0;
            }
            proptest::prop_assert_eq!(total, sum);
            proptest::prop_assert_eq!(qty, units * Quantity::SCALE);
            if let [a, b] = out.as_slice() {
                proptest::prop_assert_eq!(b.price.0 - a.price.0, 1);
            }
        }
    }
}
