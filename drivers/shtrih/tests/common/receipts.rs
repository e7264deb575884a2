//! Receipts the driver tests print: one-line positions at 20 % paid in cash.

#![allow(dead_code)]

use kkt::{
    Money, PaymentMethod, PaymentObject, Payments, Position, Quantity, Receipt, ReceiptKind,
    TaxSystem, VatRate,
};

/// A position of goods, fully paid, VAT 20 %; `qty` in millionths.
pub fn position(name: &str, qty: i64, price: i64) -> Position {
    let quantity = Quantity(qty);
    Position {
        name: name.into(),
        quantity,
        price: Money(price),
        sum: quantity.times(Money(price)).expect("sum"),
        vat: VatRate::Vat20,
        method: PaymentMethod::FullPayment,
        object: PaymentObject::COMMODITY,
        marking_code: None,
        measure: None,
    }
}

/// A sale under УСН доход paid in cash, without cashier or buyer contact.
pub fn cash_receipt(positions: Vec<Position>) -> Receipt {
    let total: i64 = positions.iter().map(|p| p.sum.0).sum();
    Receipt {
        kind: ReceiptKind::Sale,
        tax_system: TaxSystem::SimplifiedIncome,
        positions,
        payments: Payments {
            cash: Money(total),
            ..Payments::default()
        },
        buyer_contact: None,
        cashier: None,
        header: Vec::new(),
        footer: Vec::new(),
    }
}
