//! Operation → receipt: turns a MoySklad queued operation into the
//! device-neutral [`kkt::Receipt`] the driver prints, or into a reject
//! reason in Russian when the data cannot make a correct receipt.
//!
//! Pure: no I/O, no clock. The worker calls [`render`] once per operation
//! (and again during recovery, to learn the expected kind and total).
//! The input is [`OperationInput`], a flat view of the cloud model built by
//! [`OperationInput::from_cloud`], so the rules below are testable without
//! JSON.
//!
//! # Rounding rule (documented, tested)
//! Every line is rounded to the kopeck exactly once, from the exact product
//! `quantity × price × (100 − discount%) / 100`, half away from zero. The
//! receipt total is the plain sum of the line sums, so the positions always
//! add up to the total; nothing is spread across lines afterwards. If the
//! cloud sent a line `sum`, it must agree with that exact value within one
//! kopeck (the cloud may round differently) and then the cloud's sum is used
//! — the buyer paid the cloud's figure. With `vatIncluded = false` the VAT of
//! each line, `round(net × rate / 100)`, is added on top of the line.
//!
//! A line with marking codes is printed as one line per code (a marking code
//! identifies one unit): the line sum is split in whole kopecks, the first
//! `sum mod n` units getting one kopeck more, so the split lines add up to
//! the original line exactly.
//!
//! A line of whole units whose sum has no whole-kopeck unit price is
//! printed as two lines of the same goods ([`exact_price`]). A prepayment
//! (and its return) prints the goods it pays for ([`prepaid`]).

use kkt::{
    MeasureUnit, Money, PaymentMethod, PaymentObject, Payments, Position, Quantity, Receipt,
    ReceiptKind, TaxSystem, VatRate,
};

/// One position as the cloud sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionInput {
    /// Product name if the cloud sent one (the queue usually only links the
    /// product); a generic name is printed otherwise.
    pub name: Option<String>,
    pub quantity: Quantity,
    /// Unit price in kopecks, before discount.
    pub price: Money,
    /// Discount in millionths of a percent (10 % = 10 000 000).
    pub discount_millionths: Option<i64>,
    /// VAT percent in millionths of a percent.
    pub vat_millionths: Option<i64>,
    pub vat_enabled: Option<bool>,
    /// Line total as the cloud computed it.
    pub sum: Option<Money>,
    /// Marking codes (`marks[].cis`), one per unit.
    pub marks: Vec<String>,
    /// The catalogue item the line sells (`assortment.meta.href`), when
    /// the source links one instead of naming it.
    pub assortment: Option<String>,
    /// What the catalogue says the line is; `None` prints a commodity
    /// (or a marked commodity when it has codes) with no measure.
    pub subject: Option<LineSubject>,
    /// A bundle printed component by component (`bundles = "components"`);
    /// empty: the line prints as itself.
    pub components: Vec<ComponentInput>,
}

/// One component of a bundle line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComponentInput {
    pub name: String,
    pub subject: LineSubject,
    /// Units of the component in one bundle.
    pub quantity: Quantity,
    /// The component's own sale price, which sets its share of the
    /// bundle's sum; without every component's price, shares follow the
    /// quantities.
    pub unit_price: Option<Money>,
}

/// A line's fiscal attributes as the shop's catalogue defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSubject {
    /// Payment object (tag 1212).
    pub object: PaymentObject,
    /// Measure of quantity (tag 2108).
    pub measure: Option<MeasureUnit>,
}

/// Tax system as named by the operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaxSystemInput {
    Known(TaxSystem),
    /// A code the agent does not know.
    Unknown(String),
}

/// A queued operation, flattened to what a receipt needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationInput {
    pub kind: ReceiptKind,
    pub positions: Vec<PositionInput>,
    pub cash: Option<Money>,
    pub card: Option<Money>,
    pub qr: Option<Money>,
    /// Offsets of earlier prepayments (cash, card, QR).
    pub prepayment_cash: Option<Money>,
    pub prepayment_card: Option<Money>,
    pub prepayment_qr: Option<Money>,
    /// Total of a prepayment / prepayment return.
    pub sum: Option<Money>,
    pub vat_enabled: Option<bool>,
    pub vat_included: Option<bool>,
    pub tax_system: Option<TaxSystemInput>,
    pub phone: Option<String>,
    pub email: Option<String>,
    /// A sale return that refers to its sale (discounts apply only then).
    pub has_base_document: bool,
}

/// What the device and the store contribute.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RenderContext {
    /// Tax systems the device is registered for (empty: unknown, not checked).
    pub device_tax_systems: Vec<TaxSystem>,
    /// The store's default tax system, used when the operation names none.
    pub default_tax_system: Option<TaxSystem>,
    /// Cashier printed on the receipt (tag 1021).
    pub cashier: Option<String>,
    /// Non-fiscal lines printed before and after the receipt (the store's
    /// receipt template).
    pub header: Vec<String>,
    pub footer: Vec<String>,
}

/// Why an operation cannot be printed. `Display` is the Russian text sent
/// to the cloud as `fiscalErrMsg`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct RejectReason(pub String);

impl RejectReason {
    fn new(text: impl Into<String>) -> Self {
        RejectReason(format!("Ошибка данных: {}", text.into()))
    }
}

const PERCENT_SCALE: i128 = 1_000_000;
const HUNDRED_PERCENT: i128 = 100 * PERCENT_SCALE;

/// Renders the receipt, or says why it cannot be printed.
pub fn render(op: &OperationInput, ctx: &RenderContext) -> Result<Receipt, RejectReason> {
    // Sums first: a broken operation is reported for what is wrong with it.
    let positions = build_positions(op)?;
    let payments = payments(op)?;
    let paid = payments
        .total()
        .ok_or_else(|| RejectReason::new("сумма оплат слишком велика"))?;
    let total = positions
        .iter()
        .try_fold(Money::ZERO, |acc, p| acc.checked_add(p.sum))
        .ok_or_else(|| RejectReason::new("сумма чека слишком велика"))?;
    if total.0 <= 0 {
        return Err(RejectReason::new("сумма чека должна быть больше нуля"));
    }
    if paid != total {
        return Err(RejectReason::new(format!(
            "сумма оплат {paid} ₽ не равна сумме чека {total} ₽"
        )));
    }
    let tax_system = pick_tax_system(op, ctx)?;
    Ok(Receipt {
        kind: op.kind,
        tax_system,
        positions,
        payments,
        buyer_contact: buyer_contact(op)?,
        cashier: ctx.cashier.clone(),
        header: ctx.header.clone(),
        footer: ctx.footer.clone(),
    })
}

/// The receipt lines, before payments are checked against them.
fn build_positions(op: &OperationInput) -> Result<Vec<Position>, RejectReason> {
    if op.positions.is_empty() {
        return Err(RejectReason::new("в операции нет позиций"));
    }
    let lines = op
        .positions
        .iter()
        .enumerate()
        .map(|(i, p)| price_line(i + 1, p, op))
        .collect::<Result<Vec<_>, _>>()?;
    match op.kind {
        ReceiptKind::Sale | ReceiptKind::SaleReturn => {
            let mut out = Vec::new();
            for (line, input) in lines.iter().zip(&op.positions) {
                out.extend(goods_positions(line, input)?);
            }
            Ok(out)
        }
        ReceiptKind::Prepayment | ReceiptKind::PrepaymentReturn => {
            let payments = payments(op)?;
            if payments.prepayment_offset != Money::ZERO {
                return Err(RejectReason::new(
                    "зачёт предоплаты невозможен в чеке предоплаты или её возврата",
                ));
            }
            let paid = payments
                .total()
                .ok_or_else(|| RejectReason::new("сумма оплат слишком велика"))?;
            prepaid::prepaid_goods(op.kind, op.sum.unwrap_or(paid), &lines, &op.positions)
        }
    }
}

fn pick_tax_system(op: &OperationInput, ctx: &RenderContext) -> Result<TaxSystem, RejectReason> {
    let chosen = match &op.tax_system {
        Some(TaxSystemInput::Known(t)) => *t,
        Some(TaxSystemInput::Unknown(code)) => {
            return Err(RejectReason::new(format!(
                "неизвестная система налогообложения «{code}»"
            )));
        }
        None => match (ctx.default_tax_system, ctx.device_tax_systems.as_slice()) {
            (Some(t), _) => t,
            (None, [only]) => *only,
            (None, _) => {
                return Err(RejectReason::new(
                    "не указана система налогообложения, а у точки продаж нет системы по умолчанию",
                ));
            }
        },
    };
    if !ctx.device_tax_systems.is_empty() && !ctx.device_tax_systems.contains(&chosen) {
        return Err(RejectReason::new(format!(
            "ККТ не зарегистрирована для системы налогообложения {}",
            chosen.name_ru()
        )));
    }
    Ok(chosen)
}

/// A position after discount and VAT, before marking-code split.
#[derive(Debug, Clone)]
struct PricedLine {
    number: usize,
    quantity: Quantity,
    sum: Money,
    vat: VatRate,
}

fn price_line(
    number: usize,
    p: &PositionInput,
    op: &OperationInput,
) -> Result<PricedLine, RejectReason> {
    let at = |what: &str| RejectReason::new(format!("позиция {number}: {what}"));
    if p.quantity.0 <= 0 {
        return Err(at("количество должно быть больше нуля"));
    }
    if p.price.0 < 0 {
        return Err(at("цена не может быть отрицательной"));
    }
    let discount = if op.kind == ReceiptKind::SaleReturn && !op.has_base_document {
        // The seed: discount "is ignored for a return without a base document".
        0
    } else {
        p.discount_millionths.unwrap_or(0) as i128
    };
    if !(0..=HUNDRED_PERCENT).contains(&discount) {
        return Err(at("скидка должна быть от 0 до 100 %"));
    }
    let vat = vat_rate(p, op).map_err(|e| at(&e))?;
    // quantity (1e-6) × price (kopecks) × (100 % − discount) (1e-6 %) / 100 %.
    let numerator = (p.quantity.0 as i128)
        .checked_mul(p.price.0 as i128)
        .and_then(|x| x.checked_mul(HUNDRED_PERCENT - discount))
        .ok_or_else(|| at("сумма слишком велика"))?;
    let denominator = Quantity::SCALE as i128 * HUNDRED_PERCENT;
    let exact_net = div_round(numerator, denominator);
    let net = match p.sum {
        None => exact_net,
        Some(given) => {
            let exact = i64::try_from(exact_net).map_err(|_| at("сумма слишком велика"))?;
            let given_i = given.0 as i128;
            // Within one kopeck of the exact value: accept the cloud's rounding.
            let off = given_i
                .checked_mul(denominator)
                .and_then(|g| g.checked_sub(numerator))
                .and_then(i128::checked_abs)
                .ok_or_else(|| at("сумма слишком велика"))?;
            if off > denominator {
                return Err(at(&format!(
                    "сумма позиции {given} ₽ не равна количеству × цене со скидкой ({} ₽)",
                    Money(exact)
                )));
            }
            given_i
        }
    };
    let gross = if op.vat_included.unwrap_or(true) {
        net
    } else {
        let added = match vat.fraction() {
            Some((rate, _)) => div_round(
                net.checked_mul(rate as i128)
                    .ok_or_else(|| at("сумма слишком велика"))?,
                100,
            ),
            None => 0,
        };
        net.checked_add(added)
            .ok_or_else(|| at("сумма слишком велика"))?
    };
    let sum = i64::try_from(gross).map_err(|_| at("сумма слишком велика"))?;
    Ok(PricedLine {
        number,
        quantity: p.quantity,
        sum: Money(sum),
        vat,
    })
}

fn vat_rate(p: &PositionInput, op: &OperationInput) -> Result<VatRate, String> {
    if op.vat_enabled == Some(false) || p.vat_enabled == Some(false) {
        return Ok(VatRate::NoVat);
    }
    let Some(vat) = p.vat_millionths else {
        if p.vat_enabled == Some(true) {
            return Err("НДС включён, но ставка не указана".into());
        }
        return Ok(VatRate::NoVat);
    };
    if vat % PERCENT_SCALE as i64 != 0 {
        return Err(format!("неизвестная ставка НДС {} %", percent_text(vat)));
    }
    match vat / PERCENT_SCALE as i64 {
        0 => Ok(VatRate::Vat0),
        5 => Ok(VatRate::Vat5),
        7 => Ok(VatRate::Vat7),
        10 => Ok(VatRate::Vat10),
        20 => Ok(VatRate::Vat20),
        22 => Ok(VatRate::Vat22),
        other => Err(format!("неизвестная ставка НДС {other} %")),
    }
}

/// A rate in millionths of a percent as Russian text («12,5», «0,000001»),
/// in integers: no float ever touches a rate.
fn percent_text(millionths: i64) -> String {
    let scale = PERCENT_SCALE as u64;
    let abs = millionths.unsigned_abs();
    let sign = if millionths < 0 { "-" } else { "" };
    let (whole, frac) = (abs / scale, abs % scale);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:06}");
    format!("{sign}{whole},{}", frac.trim_end_matches('0'))
}

/// Integer division rounded half away from zero.
fn div_round(n: i128, d: i128) -> i128 {
    let half = d / 2;
    if n >= 0 {
        (n + half) / d
    } else {
        (n - half) / d
    }
}

fn payments(op: &OperationInput) -> Result<Payments, RejectReason> {
    let parts = [
        op.cash,
        op.card,
        op.qr,
        op.prepayment_cash,
        op.prepayment_card,
        op.prepayment_qr,
    ];
    if parts.iter().flatten().any(|m| m.0 < 0) {
        return Err(RejectReason::new(
            "сумма оплаты не может быть отрицательной",
        ));
    }
    let add = |a: Option<Money>, b: Option<Money>| {
        a.unwrap_or_default()
            .checked_add(b.unwrap_or_default())
            .ok_or_else(|| RejectReason::new("сумма оплат слишком велика"))
    };
    Ok(Payments {
        cash: op.cash.unwrap_or_default(),
        electronic: add(op.card, op.qr)?,
        prepayment_offset: add(op.prepayment_cash, op.prepayment_card)?
            .checked_add(op.prepayment_qr.unwrap_or_default())
            .ok_or_else(|| RejectReason::new("сумма оплат слишком велика"))?,
        credit: Money::ZERO,
    })
}

fn goods_positions(
    line: &PricedLine,
    input: &PositionInput,
) -> Result<Vec<Position>, RejectReason> {
    let name = line_name(input, line.number);
    let measure = input.subject.and_then(|s| s.measure);
    if input.marks.is_empty() && !input.components.is_empty() {
        return bundle_components(line, &input.components);
    }
    if input.marks.is_empty() {
        return exact_price::exact_lines(Position {
            name,
            quantity: line.quantity,
            price: Money::ZERO,
            sum: line.sum,
            vat: line.vat,
            method: PaymentMethod::FullPayment,
            object: input.subject.map_or(PaymentObject::COMMODITY, |s| s.object),
            marking_code: None,
            measure,
        })
        .ok_or_else(|| RejectReason::new(format!("позиция {}: цена слишком велика", line.number)));
    }
    let n = i64::try_from(input.marks.len()).unwrap_or(i64::MAX);
    if n.checked_mul(Quantity::SCALE) != Some(line.quantity.0) {
        return Err(RejectReason::new(format!(
            "позиция {}: кодов маркировки {n}, а количество {}",
            line.number, line.quantity
        )));
    }
    if let Some(bad) = input.marks.iter().position(|c| c.trim().is_empty()) {
        return Err(RejectReason::new(format!(
            "позиция {}: пустой код маркировки №{}",
            line.number,
            bad + 1
        )));
    }
    // A catalogue that does not know the goods are marked still gets the
    // marked object: the codes prove it.
    let object = match input.subject.map(|s| s.object) {
        Some(o @ (PaymentObject::EXCISE_MARKED | PaymentObject::MARKED)) => o,
        Some(PaymentObject::EXCISE | PaymentObject::EXCISE_MARKED_NO_CODE) => {
            PaymentObject::EXCISE_MARKED
        }
        _ => PaymentObject::MARKED,
    };
    let base = line.sum.0 / n;
    let extra = line.sum.0 % n;
    Ok(input
        .marks
        .iter()
        .enumerate()
        .map(|(i, code)| {
            let sum = Money(base + i64::from((i as i64) < extra));
            Position {
                name: name.clone(),
                quantity: Quantity::ONE,
                price: sum,
                sum,
                vat: line.vat,
                method: PaymentMethod::FullPayment,
                object,
                marking_code: Some(code.clone()),
                measure,
            }
        })
        .collect())
}

/// A bundle's line as its components: each with its own name, payment
/// object and measure, quantity = bundle quantity × component quantity, and
/// a share of the bundle's sum by largest remainder (weighted by the
/// components' sale prices × quantities, or by quantities where a price is
/// missing), each share printed as exact lines. The shares add up to the
/// bundle's sum.
fn bundle_components(
    line: &PricedLine,
    components: &[ComponentInput],
) -> Result<Vec<Position>, RejectReason> {
    let too_big = || RejectReason::new(format!("позиция {}: комплект слишком велик", line.number));
    let priced = components
        .iter()
        .all(|c| c.unit_price.is_some_and(|p| p.0 > 0));
    let weights: Vec<i128> = components
        .iter()
        .map(|c| {
            let q = c.quantity.0 as i128;
            match c.unit_price {
                Some(p) if priced => q * p.0 as i128,
                _ => q,
            }
        })
        .collect();
    let shares = prepaid::largest_remainder(line.sum.0 as i128, &weights);
    let mut out = Vec::new();
    for (c, share) in components.iter().zip(shares) {
        let quantity = (line.quantity.0 as i128)
            .checked_mul(c.quantity.0 as i128)
            .map(|q| q / Quantity::SCALE as i128)
            .and_then(|q| i64::try_from(q).ok())
            .filter(|q| *q > 0)
            .ok_or_else(too_big)?;
        if share == 0 {
            continue;
        }
        out.extend(
            exact_price::exact_lines(Position {
                name: c.name.clone(),
                quantity: Quantity(quantity),
                price: Money::ZERO,
                sum: Money(i64::try_from(share).map_err(|_| too_big())?),
                vat: line.vat,
                method: PaymentMethod::FullPayment,
                object: c.subject.object,
                marking_code: None,
                measure: c.subject.measure,
            })
            .ok_or_else(too_big)?,
        );
    }
    Ok(out)
}

/// The position's name from the catalogue, or «Товар N» when the shop
/// chose generic names for what the catalogue lacks.
fn line_name(input: &PositionInput, number: usize) -> String {
    input
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| format!("Товар {number}"))
}

/// Buyer's phone (normalised to `+7XXXXXXXXXX`) or, failing that, e-mail.
fn buyer_contact(op: &OperationInput) -> Result<Option<String>, RejectReason> {
    if let Some(phone) = op.phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        return normalize_phone(phone).map(Some).ok_or_else(|| {
            RejectReason::new(format!("некорректный телефон покупателя «{phone}»"))
        });
    }
    if let Some(email) = op.email.as_deref().map(str::trim).filter(|e| !e.is_empty()) {
        let valid = email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty() && host.contains('.') && !email.contains(char::is_whitespace)
        });
        if !valid || email.len() > 64 {
            return Err(RejectReason::new(format!(
                "некорректный e-mail покупателя «{email}»"
            )));
        }
        return Ok(Some(email.to_string()));
    }
    Ok(None)
}

fn normalize_phone(text: &str) -> Option<String> {
    if text
        .chars()
        .any(|c| !(c.is_ascii_digit() || " +-()".contains(c)))
    {
        return None;
    }
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let national = match digits.len() {
        10 => digits.as_str(),
        11 if digits.starts_with('7') || digits.starts_with('8') => &digits[1..],
        _ => return None,
    };
    Some(format!("+7{national}"))
}

mod exact_price;
mod prepaid;

#[cfg(test)]
mod tests;

impl OperationInput {
    /// A sale of `positions` paid `cash`, everything else unset (the
    /// store's defaults apply).
    pub fn cash_sale(positions: Vec<PositionInput>, cash: Money) -> OperationInput {
        OperationInput {
            kind: ReceiptKind::Sale,
            positions,
            cash: Some(cash),
            card: None,
            qr: None,
            prepayment_cash: None,
            prepayment_card: None,
            prepayment_qr: None,
            sum: None,
            vat_enabled: Some(true),
            vat_included: Some(true),
            tax_system: None,
            phone: None,
            email: None,
            has_base_document: false,
        }
    }

    /// The flat view of a MoySklad queued operation.
    pub fn from_cloud(op: &crate::cloud::models::Operation) -> OperationInput {
        let cheque = op.cheque.as_ref();
        OperationInput {
            kind: op.kind.receipt_kind(),
            positions: op
                .positions
                .iter()
                .map(|p| PositionInput {
                    name: None,
                    quantity: p.quantity,
                    price: p.price,
                    discount_millionths: p.discount.map(|d| d.millionths()),
                    vat_millionths: p.vat.map(|v| v.millionths()),
                    vat_enabled: p.vat_enabled,
                    sum: p.sum,
                    marks: p.marks.iter().map(|m| m.cis.clone()).collect(),
                    assortment: Some(p.assortment.meta.href.clone())
                        .filter(|h| !h.trim().is_empty()),
                    subject: None,
                    components: Vec::new(),
                })
                .collect(),
            cash: op.cash_sum,
            card: op.no_cash_sum,
            qr: op.qr_sum,
            prepayment_cash: op.prepayment_cash,
            prepayment_card: op.prepayment_no_cash,
            prepayment_qr: op.prepayment_qr_sum,
            sum: op.sum,
            vat_enabled: op.vat_enabled,
            vat_included: op.vat_included,
            tax_system: op.tax_system.as_ref().map(|t| match t.to_kkt() {
                Some(k) => TaxSystemInput::Known(k),
                None => TaxSystemInput::Unknown(t.as_code().to_string()),
            }),
            phone: cheque.and_then(|c| c.phone.clone()),
            email: cheque.and_then(|c| c.email.clone()),
            has_base_document: op.demand.is_some(),
        }
    }
}
