//! `kkt::Receipt` → ATOL `sell` / `sellReturn` task. Pure: no I/O, so every
//! mapping is tested on the JSON it produces.

use crate::decimal::{Rubles, Units};
use crate::task::{
    Alignment, ClientInfo, ImcParams, Item, ItemEstimatedStatus, MarkedCode, Operator, Payment,
    PaymentMethod, PaymentObject, PaymentType, PositionItem, ReceiptTask, Task, Tax, TaxType,
    TaxationType, TextItem,
};
use kkt::{KktError, Money, Receipt, ReceiptKind, TaxSystem};

pub fn taxation_type(t: TaxSystem) -> TaxationType {
    match t {
        TaxSystem::General => TaxationType::Osn,
        TaxSystem::SimplifiedIncome => TaxationType::UsnIncome,
        TaxSystem::SimplifiedIncomeExpense => TaxationType::UsnIncomeOutcome,
        TaxSystem::Envd => TaxationType::Envd,
        TaxSystem::Agricultural => TaxationType::Esn,
        TaxSystem::Patent => TaxationType::Patent,
    }
}

pub fn operator(cashier: &str) -> Option<Operator> {
    let name = cashier.trim();
    (!name.is_empty()).then(|| Operator {
        name: name.to_string(),
        vatin: None,
    })
}

/// What is about to happen to a marked item (tag 2003): one code, one
/// piece, sold or returned.
pub fn estimated_status(returning: bool) -> ItemEstimatedStatus {
    if returning {
        ItemEstimatedStatus::ItemPieceReturn
    } else {
        ItemEstimatedStatus::ItemPieceSold
    }
}

fn text_item(text: &str) -> Item {
    Item::Text(TextItem {
        text: text.to_string(),
        alignment: Some(Alignment::Center),
    })
}

/// Builds the task for one receipt, checking what the device would refuse
/// anyway so the shop gets a clear reason before anything is printed.
pub fn receipt_task(receipt: &Receipt) -> Result<Task, KktError> {
    if receipt.positions.is_empty() {
        return Err(KktError::BadReceipt("в чеке нет позиций".into()));
    }
    let total = receipt
        .total()
        .ok_or_else(|| KktError::BadReceipt("сумма чека слишком велика".into()))?;
    let paid = receipt
        .payments
        .total()
        .ok_or_else(|| KktError::BadReceipt("сумма оплат слишком велика".into()))?;
    if paid < total {
        return Err(KktError::BadReceipt(format!("оплачено {paid} из {total}")));
    }
    let returning = matches!(
        receipt.kind,
        ReceiptKind::SaleReturn | ReceiptKind::PrepaymentReturn
    );
    let mut items: Vec<Item> = receipt.header.iter().map(|l| text_item(l)).collect();
    for (i, p) in receipt.positions.iter().enumerate() {
        let object = PaymentObject::from_ffd(p.object.0).ok_or_else(|| {
            KktError::BadReceipt(format!(
                "позиция {}: неизвестный признак предмета расчёта {}",
                i + 1,
                p.object.0
            ))
        })?;
        let imc_params = p.marking_code.as_ref().map(|code| ImcParams {
            code: MarkedCode {
                imc_type: "auto".into(),
                imc: crate::task::imc_base64(code),
                item_estimated_status: estimated_status(returning),
                imc_mode_processing: 0,
            },
            // Filled in by the driver from the code's check.
            item_info_check_result: None,
        });
        items.push(Item::Position(PositionItem {
            name: p.name.clone(),
            price: Rubles(p.price),
            quantity: Units(p.quantity),
            amount: Rubles(p.sum),
            measurement_unit: p.measure.map(|m| m.0),
            payment_method: PaymentMethod::from_ffd(p.method),
            payment_object: object,
            tax: Tax {
                kind: TaxType::from_rate(p.vat),
            },
            imc_params,
        }));
    }
    items.extend(receipt.footer.iter().map(|l| text_item(l)));
    let pay = &receipt.payments;
    let payments: Vec<Payment> = [
        (PaymentType::Cash, pay.cash),
        (PaymentType::Electronically, pay.electronic),
        (PaymentType::Prepaid, pay.prepayment_offset),
        (PaymentType::Credit, pay.credit),
    ]
    .into_iter()
    .filter(|(_, sum)| *sum != Money::ZERO)
    .map(|(kind, sum)| Payment {
        kind,
        sum: Rubles(sum),
    })
    .collect();
    if payments.is_empty() {
        return Err(KktError::BadReceipt("в чеке нет оплат".into()));
    }
    let body = ReceiptTask {
        taxation_type: Some(taxation_type(receipt.tax_system)),
        operator: receipt.cashier.as_deref().and_then(operator),
        electronically: false,
        client_info: receipt.buyer_contact.as_ref().map(|c| ClientInfo {
            email_or_phone: Some(c.clone()),
            ..ClientInfo::default()
        }),
        items,
        payments,
        total: Some(Rubles(total)),
    };
    Ok(if returning {
        Task::SellReturn(body)
    } else {
        Task::Sell(body)
    })
}
