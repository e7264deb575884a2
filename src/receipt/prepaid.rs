//! A prepayment (and its return) prints the goods it pays for: the order's
//! positions with their catalogue names, payment objects and measures, the
//! VAT as a calculated rate (10/110, 20/120 …, as FFD requires before the
//! goods are handed over) and payment method 1214 = 1 "full prepayment"
//! when the prepaid sum covers the order, 2 "partial prepayment" when it
//! does not. The prepaid sum is spread over the positions in proportion to
//! their sums by the largest-remainder rule, so the lines add up to it
//! exactly. Marking codes are printed when the goods are sold, not on the
//! prepayment: a marked item is prepaid as "marked goods without a code"
//! (1212 = 32, excise 30).

use super::{PositionInput, PricedLine, RejectReason, exact_price::exact_lines};
use kkt::{Money, PaymentMethod, PaymentObject, Position, ReceiptKind};

/// The prepayment's lines for `prepaid` of the order `lines` price.
pub(super) fn prepaid_goods(
    kind: ReceiptKind,
    prepaid: Money,
    lines: &[PricedLine],
    inputs: &[PositionInput],
) -> Result<Vec<Position>, RejectReason> {
    let what = match kind {
        ReceiptKind::PrepaymentReturn => "возврата предоплаты",
        _ => "предоплаты",
    };
    if prepaid.0 <= 0 {
        return Err(RejectReason::new(format!(
            "сумма {what} должна быть больше нуля"
        )));
    }
    let weights: Vec<i128> = lines.iter().map(|l| l.sum.0 as i128).collect();
    let order: i128 = weights.iter().sum();
    if order <= 0 {
        return Err(RejectReason::new("сумма позиций должна быть больше нуля"));
    }
    let order = i64::try_from(order)
        .map(Money)
        .map_err(|_| RejectReason::new("сумма позиций слишком велика"))?;
    if prepaid > order {
        return Err(RejectReason::new(format!(
            "сумма {what} {prepaid} ₽ больше суммы позиций {order} ₽"
        )));
    }
    let method = if prepaid == order {
        PaymentMethod::FullPrepayment
    } else {
        PaymentMethod::PartialPrepayment
    };
    let shares = largest_remainder(prepaid.0 as i128, &weights);
    let mut out = Vec::new();
    for ((line, input), share) in lines.iter().zip(inputs).zip(shares) {
        if share == 0 {
            continue;
        }
        let subject = input.subject;
        let object = match subject.map(|s| s.object) {
            Some(PaymentObject::MARKED) => PaymentObject::MARKED_NO_CODE,
            Some(PaymentObject::EXCISE_MARKED) => PaymentObject::EXCISE_MARKED_NO_CODE,
            Some(o) => o,
            None if !input.marks.is_empty() => PaymentObject::MARKED_NO_CODE,
            None => PaymentObject::COMMODITY,
        };
        let position = Position {
            name: super::line_name(input, line.number),
            quantity: line.quantity,
            price: Money::ZERO,
            sum: Money(share as i64),
            vat: line.vat.calculated(),
            method,
            object,
            marking_code: None,
            measure: subject.and_then(|s| s.measure),
        };
        out.extend(exact_lines(position).ok_or_else(|| {
            RejectReason::new(format!("позиция {}: цена слишком велика", line.number))
        })?);
    }
    Ok(out)
}

/// `total` split in proportion to `weights` (positive, summing to more
/// than 0): floor shares, then one unit each to the largest remainders,
/// earlier ones first on ties. The shares add up to `total` exactly.
pub(super) fn largest_remainder(total: i128, weights: &[i128]) -> Vec<i128> {
    let sum: i128 = weights.iter().sum();
    if sum <= 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<(i128, i128)> = weights
        .iter()
        .map(|w| (total * w / sum, total * w % sum))
        .collect();
    let mut left = total - shares.iter().map(|(q, _)| q).sum::<i128>();
    let mut order: Vec<usize> = (0..shares.len()).collect();
    order.sort_by(|&a, &b| shares[b].1.cmp(&shares[a].1).then(a.cmp(&b)));
    for i in order {
        if left <= 0 {
            break;
        }
        shares[i].0 += 1;
        left -= 1;
    }
    shares.into_iter().map(|(q, _)| q).collect()
}
