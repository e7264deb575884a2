//! The device-neutral receipt: what the worker renders from a cloud operation
//! and a driver prints. Codes follow FFD (tags 1054, 1199, 1212, 1214, 1055),
//! so a driver maps them to its own numbering in one place.

use crate::Operation;
use crate::money::{Money, Quantity};
use serde::{Deserialize, Serialize};

/// What kind of fiscal receipt to print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptKind {
    /// Sale (приход) of goods or services.
    Sale,
    /// Return of a sale (возврат прихода).
    SaleReturn,
    /// Prepayment / advance received (приход, payment method "advance").
    Prepayment,
    /// Return of a prepayment (возврат прихода, payment method "advance").
    PrepaymentReturn,
}

impl ReceiptKind {
    /// The settlement sign (tag 1054) this kind is printed with.
    pub fn operation(&self) -> Operation {
        match self {
            ReceiptKind::Sale | ReceiptKind::Prepayment => Operation::Income,
            ReceiptKind::SaleReturn | ReceiptKind::PrepaymentReturn => Operation::IncomeReturn,
        }
    }
}

/// VAT rate of a position (FFD tag 1199 semantics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VatRate {
    Vat22,
    Vat20,
    Vat10,
    Vat7,
    Vat5,
    Vat0,
    NoVat,
    /// Calculated rates, used for prepayments: 22/122, 20/120, …
    Vat22_122,
    Vat20_120,
    Vat10_110,
    Vat7_107,
    Vat5_105,
}

impl VatRate {
    /// The rate in percent and the divisor base (e.g. 20/120 → (20, 120)).
    /// `None` for "no VAT".
    pub fn fraction(&self) -> Option<(i64, i64)> {
        match self {
            VatRate::Vat22 | VatRate::Vat22_122 => Some((22, 122)),
            VatRate::Vat20 | VatRate::Vat20_120 => Some((20, 120)),
            VatRate::Vat10 | VatRate::Vat10_110 => Some((10, 110)),
            VatRate::Vat7 | VatRate::Vat7_107 => Some((7, 107)),
            VatRate::Vat5 | VatRate::Vat5_105 => Some((5, 105)),
            VatRate::Vat0 => Some((0, 100)),
            VatRate::NoVat => None,
        }
    }

    /// VAT contained in a VAT-inclusive `sum`, rounded half up to a kopeck.
    pub fn included_in(&self, sum: Money) -> Money {
        match self.fraction() {
            None | Some((0, _)) => Money::ZERO,
            Some((rate, base)) => {
                let num = sum.0 as i128 * rate as i128;
                let base = base as i128;
                let v = if num >= 0 {
                    (num + base / 2) / base
                } else {
                    (num - base / 2) / base
                };
                Money(v as i64)
            }
        }
    }

    /// The calculated (prepayment) form of this rate: 20 % → 20/120.
    pub fn calculated(&self) -> VatRate {
        match self {
            VatRate::Vat22 => VatRate::Vat22_122,
            VatRate::Vat20 => VatRate::Vat20_120,
            VatRate::Vat10 => VatRate::Vat10_110,
            VatRate::Vat7 => VatRate::Vat7_107,
            VatRate::Vat5 => VatRate::Vat5_105,
            other => *other,
        }
    }
}

/// Tax system (FFD tag 1055).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaxSystem {
    /// ОСН — general.
    General,
    /// УСН доход.
    SimplifiedIncome,
    /// УСН доход минус расход.
    SimplifiedIncomeExpense,
    /// ЕНВД (abolished 2021, still in the protocol).
    Envd,
    /// ЕСХН.
    Agricultural,
    /// ПСН — patent.
    Patent,
}

impl TaxSystem {
    pub const ALL: [TaxSystem; 6] = [
        TaxSystem::General,
        TaxSystem::SimplifiedIncome,
        TaxSystem::SimplifiedIncomeExpense,
        TaxSystem::Envd,
        TaxSystem::Agricultural,
        TaxSystem::Patent,
    ];

    /// Bit in the FFD tax-system mask (tag 1062): ОСН = bit 0 … ПСН = bit 5.
    pub fn bit(&self) -> u8 {
        match self {
            TaxSystem::General => 0x01,
            TaxSystem::SimplifiedIncome => 0x02,
            TaxSystem::SimplifiedIncomeExpense => 0x04,
            TaxSystem::Envd => 0x08,
            TaxSystem::Agricultural => 0x10,
            TaxSystem::Patent => 0x20,
        }
    }

    /// All tax systems set in a tag-1062 mask.
    pub fn from_mask(mask: u8) -> Vec<TaxSystem> {
        Self::ALL
            .into_iter()
            .filter(|t| mask & t.bit() != 0)
            .collect()
    }

    /// Russian name for receipts and status output.
    pub fn name_ru(&self) -> &'static str {
        match self {
            TaxSystem::General => "ОСН",
            TaxSystem::SimplifiedIncome => "УСН доход",
            TaxSystem::SimplifiedIncomeExpense => "УСН доход-расход",
            TaxSystem::Envd => "ЕНВД",
            TaxSystem::Agricultural => "ЕСХН",
            TaxSystem::Patent => "ПСН",
        }
    }
}

/// Payment method sign (FFD tag 1214).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentMethod {
    FullPrepayment = 1,
    PartialPrepayment = 2,
    Advance = 3,
    FullPayment = 4,
    PartialPaymentAndCredit = 5,
    Credit = 6,
    CreditPayment = 7,
}

impl PaymentMethod {
    pub fn code(&self) -> u8 {
        *self as u8
    }
}

/// Payment object sign (FFD tag 1212). A number, because the list is long
/// and grows with every FFD; the common values are named.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PaymentObject(pub u8);

impl PaymentObject {
    pub const COMMODITY: PaymentObject = PaymentObject(1);
    pub const EXCISE: PaymentObject = PaymentObject(2);
    pub const JOB: PaymentObject = PaymentObject(3);
    pub const SERVICE: PaymentObject = PaymentObject(4);
    pub const PAYMENT: PaymentObject = PaymentObject(10);
    /// Marked excise goods without a marking code (FFD 1.2).
    pub const EXCISE_MARKED_NO_CODE: PaymentObject = PaymentObject(30);
    /// Marked excise goods with a marking code (FFD 1.2).
    pub const EXCISE_MARKED: PaymentObject = PaymentObject(31);
    /// Marked goods without a marking code (FFD 1.2).
    pub const MARKED_NO_CODE: PaymentObject = PaymentObject(32);
    /// Marked goods with a marking code (FFD 1.2).
    pub const MARKED: PaymentObject = PaymentObject(33);
}

/// Measure of quantity (FFD 1.2 tag 2108). A number, as in the FFD table;
/// the common values are named. Devices before FFD 1.2 do not take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct MeasureUnit(pub u8);

impl MeasureUnit {
    /// Штуки или единицы.
    pub const PIECE: MeasureUnit = MeasureUnit(0);
    pub const GRAM: MeasureUnit = MeasureUnit(10);
    pub const KILOGRAM: MeasureUnit = MeasureUnit(11);
    pub const TONNE: MeasureUnit = MeasureUnit(12);
    pub const CENTIMETRE: MeasureUnit = MeasureUnit(20);
    pub const DECIMETRE: MeasureUnit = MeasureUnit(21);
    pub const METRE: MeasureUnit = MeasureUnit(22);
    pub const SQUARE_CENTIMETRE: MeasureUnit = MeasureUnit(30);
    pub const SQUARE_DECIMETRE: MeasureUnit = MeasureUnit(31);
    pub const SQUARE_METRE: MeasureUnit = MeasureUnit(32);
    pub const MILLILITRE: MeasureUnit = MeasureUnit(40);
    pub const LITRE: MeasureUnit = MeasureUnit(41);
    pub const CUBIC_METRE: MeasureUnit = MeasureUnit(42);
    pub const KILOWATT_HOUR: MeasureUnit = MeasureUnit(50);
    pub const GIGACALORIE: MeasureUnit = MeasureUnit(51);
    pub const DAY: MeasureUnit = MeasureUnit(70);
    pub const HOUR: MeasureUnit = MeasureUnit(71);
    pub const MINUTE: MeasureUnit = MeasureUnit(72);
    pub const SECOND: MeasureUnit = MeasureUnit(73);
    pub const KILOBYTE: MeasureUnit = MeasureUnit(80);
    pub const MEGABYTE: MeasureUnit = MeasureUnit(81);
    pub const GIGABYTE: MeasureUnit = MeasureUnit(82);
    pub const TERABYTE: MeasureUnit = MeasureUnit(83);
    /// Иная единица измерения.
    pub const OTHER: MeasureUnit = MeasureUnit(255);
}

/// One line of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Position {
    /// Name as printed (drivers truncate to the device's limit).
    pub name: String,
    pub quantity: Quantity,
    /// Price per unit after discount, in kopecks.
    pub price: Money,
    /// Line total in kopecks; equals `quantity × price` rounded, unless the
    /// discount distribution moved a kopeck here.
    pub sum: Money,
    pub vat: VatRate,
    pub method: PaymentMethod,
    pub object: PaymentObject,
    /// Marking code (КМ, tag 2000) for marked goods, FFD 1.2.
    pub marking_code: Option<String>,
    /// Measure of quantity (tag 2108), sent on FFD 1.2 devices only.
    #[serde(default)]
    pub measure: Option<MeasureUnit>,
}

/// How the receipt is paid. The sum of all fields equals the receipt total.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payments {
    pub cash: Money,
    /// Card, QR (СБП) and other non-cash payments (электронными).
    pub electronic: Money,
    /// Offset of a previously received prepayment (зачёт аванса).
    pub prepayment_offset: Money,
    /// Post-payment / credit (в кредит).
    pub credit: Money,
}

impl Payments {
    /// Sum of all payment kinds; `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        self.cash
            .checked_add(self.electronic)?
            .checked_add(self.prepayment_offset)?
            .checked_add(self.credit)
    }
}

/// A whole receipt, ready to print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    pub kind: ReceiptKind,
    pub tax_system: TaxSystem,
    pub positions: Vec<Position>,
    pub payments: Payments,
    /// Buyer phone (`+7…`) or e-mail for the electronic receipt (tag 1008).
    pub buyer_contact: Option<String>,
    /// Cashier name (tag 1021).
    pub cashier: Option<String>,
    /// Non-fiscal text printed before the receipt (the store's template
    /// header), one entry per line.
    #[serde(default)]
    pub header: Vec<String>,
    /// Non-fiscal text printed after the receipt (the template footer).
    #[serde(default)]
    pub footer: Vec<String>,
}

impl Position {
    /// A commodity paid in full: the most common line, with its sum
    /// computed from quantity and price (`None` on overflow).
    pub fn commodity(name: &str, quantity: Quantity, price: Money, vat: VatRate) -> Option<Self> {
        Some(Position {
            name: name.to_string(),
            quantity,
            price,
            sum: quantity.times(price)?,
            vat,
            method: PaymentMethod::FullPayment,
            object: PaymentObject::COMMODITY,
            marking_code: None,
            measure: None,
        })
    }
}

impl Receipt {
    /// Sum of position sums; `None` on overflow.
    pub fn total(&self) -> Option<Money> {
        self.positions
            .iter()
            .try_fold(Money::ZERO, |acc, p| acc.checked_add(p.sum))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vat_included_rounds_to_kopeck() {
        // 100.00 incl. 20 % → 16.67
        assert_eq!(VatRate::Vat20.included_in(Money(10000)), Money(1667));
        assert_eq!(VatRate::Vat10.included_in(Money(11000)), Money(1000));
        assert_eq!(VatRate::Vat22.included_in(Money(12200)), Money(2200));
        assert_eq!(VatRate::NoVat.included_in(Money(12200)), Money(0));
    }

    #[test]
    fn tax_mask_round_trips() {
        let mask = TaxSystem::General.bit() | TaxSystem::Patent.bit();
        assert_eq!(
            TaxSystem::from_mask(mask),
            vec![TaxSystem::General, TaxSystem::Patent]
        );
    }
}
