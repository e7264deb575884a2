//! Turning a Kassatka receipt into the device-neutral [`kkt::Receipt`] the
//! worker prints. Kassatka's export carries no tax data, so what the law
//! needs beyond the sums (tax system, VAT rate, payment object) comes from the
//! kassa's configuration as a [`FiscalProfile`]. Pure: no I/O.

use super::documents::{KassatkaReceipt, ReceiptKey};
use kkt::{
    Money, PaymentMethod, PaymentObject, Payments, Position, Quantity, Receipt, ReceiptKind,
    TaxSystem, VatRate,
};
use thiserror::Error;

/// The fiscal attributes a Kassatka receipt lacks, from configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FiscalProfile {
    pub tax_system: TaxSystem,
    /// VAT rate applied to every line.
    pub vat: VatRate,
    /// Payment object of every line (usually commodity).
    pub object: PaymentObject,
    /// Cashier printed on the receipt (tag 1021).
    pub cashier: Option<String>,
}

/// Why a Kassatka receipt cannot be printed as is.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MappingError {
    #[error("Kassatka receipt {key}: no products")]
    NoProducts { key: ReceiptKey },
    #[error("Kassatka receipt {key}: negative amounts (returns are not in the Kassatka export)")]
    Negative { key: ReceiptKey },
    #[error("Kassatka receipt {key}: product #{line} has a zero quantity")]
    ZeroQuantity { key: ReceiptKey, line: usize },
    #[error("Kassatka receipt {key}: amounts overflow")]
    Overflow { key: ReceiptKey },
    #[error("Kassatka receipt {key}: products add up to {total} but payments to {paid}")]
    Unbalanced {
        key: ReceiptKey,
        total: Money,
        paid: Money,
    },
}

impl MappingError {
    /// The reason in Russian, for the shop (status, journal).
    pub fn message_ru(&self) -> String {
        match self {
            MappingError::NoProducts { key } => format!("Чек Кассатки {key}: нет товаров"),
            MappingError::Negative { key } => {
                format!("Чек Кассатки {key}: отрицательные суммы (возвраты не поддерживаются)")
            }
            MappingError::ZeroQuantity { key, line } => {
                format!("Чек Кассатки {key}: у товара №{line} нулевое количество")
            }
            MappingError::Overflow { key } => {
                format!("Чек Кассатки {key}: суммы слишком велики")
            }
            MappingError::Unbalanced { key, total, paid } => {
                format!("Чек Кассатки {key}: сумма товаров {total} ₽ не равна сумме оплат {paid} ₽")
            }
        }
    }
}

/// A Kassatka receipt as a fiscal receipt. A trait because the receipt type
/// belongs to the format crate (`kassatka-format`), which knows nothing of
/// printing.
pub trait ToKktReceipt {
    /// The receipt to print: one position per product at its discounted
    /// sum, paid by card (electronic) and cash as Kassatka recorded it.
    ///
    /// Checks again that the positions add up to the payments, so a receipt
    /// built by hand (not through [`super::parse_documents`]) cannot print
    /// unbalanced.
    fn to_kkt_receipt(&self, profile: &FiscalProfile) -> Result<Receipt, MappingError>;
}

impl ToKktReceipt for KassatkaReceipt {
    fn to_kkt_receipt(&self, profile: &FiscalProfile) -> Result<Receipt, MappingError> {
        let key = self.key();
        if self.products.is_empty() {
            return Err(MappingError::NoProducts { key });
        }
        let head = &self.head;
        let any_negative = [head.doc_sum_with_discount, head.pay_card, head.pay_cash]
            .iter()
            .any(|m| m.0 < 0)
            || self
                .products
                .iter()
                .any(|p| p.sum_with_discount.0 < 0 || p.quantity.0 < 0);
        if any_negative {
            return Err(MappingError::Negative { key });
        }
        let mut positions = Vec::with_capacity(self.products.len());
        for (i, line) in self.products.iter().enumerate() {
            if line.quantity.0 == 0 {
                return Err(MappingError::ZeroQuantity { key, line: i + 1 });
            }
            let price = unit_price(line.sum_with_discount, line.quantity)
                .ok_or_else(|| MappingError::Overflow { key: key.clone() })?;
            positions.push(Position {
                name: line.product_name.clone(),
                quantity: line.quantity,
                price,
                sum: line.sum_with_discount,
                vat: profile.vat,
                method: PaymentMethod::FullPayment,
                object: profile.object,
                marking_code: None,
                measure: None,
            });
        }
        let total = positions
            .iter()
            .try_fold(Money::ZERO, |acc, p| acc.checked_add(p.sum))
            .ok_or_else(|| MappingError::Overflow { key: key.clone() })?;
        let paid = head
            .pay_cash
            .checked_add(head.pay_card)
            .ok_or_else(|| MappingError::Overflow { key: key.clone() })?;
        if total != paid {
            return Err(MappingError::Unbalanced { key, total, paid });
        }
        Ok(Receipt {
            kind: ReceiptKind::Sale,
            tax_system: profile.tax_system,
            positions,
            payments: Payments {
                cash: head.pay_cash,
                electronic: head.pay_card,
                ..Payments::default()
            },
            buyer_contact: None,
            cashier: profile.cashier.clone(),
            header: Vec::new(),
            footer: Vec::new(),
        })
    }
}

/// Price per unit after discount: `sum / quantity`, rounded half up to a
/// kopeck (the position's `sum` stays exact).
fn unit_price(sum: Money, quantity: Quantity) -> Option<Money> {
    let numerator = i128::from(sum.0).checked_mul(i128::from(Quantity::SCALE))?;
    let q = i128::from(quantity.0);
    let rounded = (numerator * 2 + q) / (q * 2);
    i64::try_from(rounded).ok().map(Money)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kassatka::documents::{ReceiptHead, ReceiptLine};

    fn profile() -> FiscalProfile {
        FiscalProfile {
            tax_system: TaxSystem::SimplifiedIncome,
            vat: VatRate::NoVat,
            object: PaymentObject::COMMODITY,
            cashier: Some("Кассир".into()),
        }
    }

    fn receipt() -> KassatkaReceipt {
        let line = |sum, swd, qty| ReceiptLine {
            product_code: "P".into(),
            product_name: "Товар".into(),
            unit_code: "796".into(),
            price: Money(sum),
            discount: Money(sum - swd),
            quantity: Quantity(qty),
            sum: Money(sum),
            sum_with_discount: Money(swd),
        };
        KassatkaReceipt {
            head: ReceiptHead {
                date: jiff::Timestamp::UNIX_EPOCH,
                organization_code: "155".into(),
                cash_box_code: "189".into(),
                cash_box_name: "Касса 1".into(),
                store_code: "169".into(),
                store_name: "Удача".into(),
                doc_sum: Money(10_000 + 199_000),
                doc_sum_with_discount: Money(7_000 + 139_300),
                doc_num: "D1".into(),
                pay_card: Money(100_000),
                pay_cash: Money(46_300),
            },
            products: vec![
                line(10_000, 7_000, 1_000_000),
                line(199_000, 139_300, 1_000_000),
            ],
        }
    }

    #[test]
    fn maps_discounted_lines_and_payments() {
        let r = receipt().to_kkt_receipt(&profile()).unwrap();
        assert_eq!(r.kind, ReceiptKind::Sale);
        assert_eq!(r.positions[0].price, Money(7_000));
        assert_eq!(r.positions[1].sum, Money(139_300));
        assert_eq!(r.payments.cash, Money(46_300));
        assert_eq!(r.payments.electronic, Money(100_000));
        assert_eq!(r.total(), r.payments.total());
    }

    #[test]
    fn unit_price_of_fractional_quantity_rounds() {
        // 33.30 for 0.333 kg → 100.00 per kg
        assert_eq!(
            unit_price(Money(3330), Quantity(333_000)),
            Some(Money(10_000))
        );
        // 10.00 for 3 → 3.33
        assert_eq!(
            unit_price(Money(1000), Quantity(3_000_000)),
            Some(Money(333))
        );
    }

    #[test]
    fn refuses_what_cannot_be_printed() {
        let mut r = receipt();
        r.products.clear();
        assert!(matches!(
            r.to_kkt_receipt(&profile()),
            Err(MappingError::NoProducts { .. })
        ));
        let mut r = receipt();
        r.products[1].quantity = Quantity(0);
        assert_eq!(
            r.to_kkt_receipt(&profile()).unwrap_err().to_string(),
            "Kassatka receipt 189/D1: product #2 has a zero quantity"
        );
        let mut r = receipt();
        r.head.pay_cash = Money(46_200);
        let err = r.to_kkt_receipt(&profile()).unwrap_err();
        assert_eq!(
            err.message_ru(),
            "Чек Кассатки 189/D1: сумма товаров 1463.00 ₽ не равна сумме оплат 1462.00 ₽"
        );
    }

    #[test]
    fn the_seed_receipts_map_and_balance() {
        let receipts = crate::kassatka::seed_receipts();
        let printed: Vec<Receipt> = receipts
            .iter()
            .map(|r| r.to_kkt_receipt(&profile()).unwrap())
            .collect();
        assert_eq!(printed[1].positions[0].quantity, Quantity(2_000_000));
        assert_eq!(printed[1].positions[0].price, Money(10_000));
        assert_eq!(printed[1].payments.electronic, Money(269_000));
        assert_eq!(printed[3].positions[1].sum, Money(139_300));
        for r in &printed {
            assert_eq!(r.total(), r.payments.total());
            assert_eq!(r.tax_system, TaxSystem::SimplifiedIncome);
            assert!(r.positions.iter().all(|p| p.vat == VatRate::NoVat));
        }
        assert_eq!(
            receipts[0].key().idempotency_key(),
            "kassatka:189:5ad4842fd849da0012343342"
        );
    }
}
