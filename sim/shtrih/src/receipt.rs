//! The receipt the device holds in RAM between its first position and its
//! close: positions, TLV tags sent for it, bound marking codes, and the
//! arithmetic the device does (line sums, total, change). A power cut loses
//! it, as it loses a real printer's open receipt.

use serde::{Deserialize, Serialize};

/// Receipt type as the mode byte's high nibble and 0x8D carry it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReceiptType {
    Sale = 0,
    Purchase = 1,
    SaleReturn = 2,
    PurchaseReturn = 3,
}

impl ReceiptType {
    /// From the classic type byte (0x8D, mode nibble).
    pub fn from_classic(b: u8) -> Option<Self> {
        match b {
            0 => Some(Self::Sale),
            1 => Some(Self::Purchase),
            2 => Some(Self::SaleReturn),
            3 => Some(Self::PurchaseReturn),
            _ => None,
        }
    }

    /// From the operation-V2 type byte (0xFF46), which is FFD tag 1054.
    pub fn from_tag1054(b: u8) -> Option<Self> {
        match b {
            1 => Some(Self::Sale),
            2 => Some(Self::SaleReturn),
            3 => Some(Self::Purchase),
            4 => Some(Self::PurchaseReturn),
            _ => None,
        }
    }

    /// FFD tag 1054 (settlement sign) stored in the FN archive.
    pub fn tag1054(self) -> u8 {
        match self {
            Self::Sale => 1,
            Self::SaleReturn => 2,
            Self::Purchase => 3,
            Self::PurchaseReturn => 4,
        }
    }

    /// Title printed on the tape.
    pub fn title_ru(self) -> &'static str {
        match self {
            Self::Sale => "ПРИХОД",
            Self::SaleReturn => "ВОЗВРАТ ПРИХОДА",
            Self::Purchase => "РАСХОД",
            Self::PurchaseReturn => "ВОЗВРАТ РАСХОДА",
        }
    }
}

/// One registered position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Item {
    pub name: String,
    /// Quantity in millionths.
    pub quantity: u64,
    /// Price in kopecks.
    pub price: u64,
    /// Line sum in kopecks.
    pub sum: u64,
    /// VAT rate the tax byte selected; `None` when the classic commands
    /// gave no tax group.
    pub vat: Option<kkt::VatRate>,
    pub department: u8,
    /// FFD tag 1214 (0 when the classic commands do not carry it).
    pub method: u8,
    /// FFD tag 1212.
    pub object: u8,
    /// Marking code bound to this position (FFD 1.2).
    pub marking_code: Option<String>,
    /// TLVs bound to this position with 0xFF4D: (tag, value).
    #[serde(default)]
    pub tlvs: Vec<(u16, Vec<u8>)>,
}

/// FFD tag of the measure of quantity.
pub const TAG_MEASURE: u16 = 2108;

impl Item {
    /// Measure of quantity (tag 2108) bound to the position, if any.
    pub fn measure(&self) -> Option<u8> {
        self.tlvs
            .iter()
            .rev()
            .find(|(t, v)| *t == TAG_MEASURE && v.len() == 1)
            .map(|(_, v)| v[0])
    }
}

/// Unit symbol of a measure (tag 2108) as the tape prints it (vendor
/// `TLVTags.addList2108` short names).
pub fn measure_symbol(code: u8) -> &'static str {
    match code {
        0 => "шт",
        10 => "г",
        11 => "кг",
        12 => "т",
        20 => "см",
        21 => "дм",
        22 => "м",
        30 => "кв. см",
        31 => "кв. дм",
        32 => "кв. м",
        40 => "мл",
        41 => "л",
        42 => "куб. м",
        50 => "кВт∙ч",
        51 => "Гкал",
        70 => "сутки",
        71 => "час",
        72 => "мин",
        73 => "с",
        80 => "Кбайт",
        81 => "Мбайт",
        82 => "Гбайт",
        83 => "Тбайт",
        _ => "иная ед.",
    }
}

/// Whether a tag-2108 value is one FFD defines.
pub fn measure_is_known(code: u8) -> bool {
    code == 255 || measure_symbol(code) != "иная ед."
}

/// `quantity (millionths) × price (kopecks)`, rounded half up to kopecks.
pub fn line_sum(quantity: u64, price: u64) -> u64 {
    let p = quantity as u128 * price as u128;
    let s = (p + 500_000) / 1_000_000;
    u64::try_from(s).unwrap_or(u64::MAX)
}

/// An open receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenReceipt {
    pub kind: ReceiptType,
    pub items: Vec<Item>,
    /// TLV tags (0xFF0C) sent while the receipt was open: (tag, value).
    pub tlvs: Vec<(u16, Vec<u8>)>,
}

impl OpenReceipt {
    pub fn new(kind: ReceiptType) -> Self {
        OpenReceipt {
            kind,
            items: Vec::new(),
            tlvs: Vec::new(),
        }
    }

    /// Sum of all positions.
    pub fn total(&self) -> u64 {
        self.items
            .iter()
            .map(|i| i.sum)
            .fold(0u64, u64::saturating_add)
    }

    /// Text of the first TLV with this tag.
    fn tlv_text(&self, tag: u16) -> Option<String> {
        self.tlvs
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, v)| shtrih::wire::decode_cp1251(v))
    }

    /// Buyer phone or e-mail (tag 1008), if sent.
    pub fn buyer_contact(&self) -> Option<String> {
        self.tlv_text(1008)
    }

    /// Cashier (tag 1021), if sent.
    pub fn cashier(&self) -> Option<String> {
        self.tlv_text(1021)
    }
}

/// Payment type names in 0xFF45 order (index 0 = type 1), as the tape
/// prints them.
pub const PAYMENT_NAMES: [&str; 16] = [
    "НАЛИЧНЫМИ",
    "БЕЗНАЛИЧНЫМИ",
    "ОПЛАТА 3",
    "ОПЛАТА 4",
    "ОПЛАТА 5",
    "ОПЛАТА 6",
    "ОПЛАТА 7",
    "ОПЛАТА 8",
    "ОПЛАТА 9",
    "ОПЛАТА 10",
    "ОПЛАТА 11",
    "ОПЛАТА 12",
    "ОПЛАТА 13",
    "ПРЕДВАРИТЕЛЬНАЯ ОПЛАТА (АВАНС)",
    "ПОСЛЕДУЮЩАЯ ОПЛАТА (КРЕДИТ)",
    "ИНАЯ ФОРМА ОПЛАТЫ",
];

/// Why a close is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseRefusal {
    /// 0x45: payments add up to less than the total.
    PaymentsLessThanTotal,
    /// 0x4D: non-cash payments exceed the total.
    NonCashExceedsTotal,
}

/// Change due, given the 16 payment sums (index 0 cash): only cash may
/// exceed what is left after the non-cash payments.
pub fn change_due(total: u64, payments: &[u64; 16]) -> Result<u64, CloseRefusal> {
    let non_cash = payments[1..].iter().fold(0u64, |a, b| a.saturating_add(*b));
    if non_cash > total {
        return Err(CloseRefusal::NonCashExceedsTotal);
    }
    let paid = non_cash.saturating_add(payments[0]);
    if paid < total {
        return Err(CloseRefusal::PaymentsLessThanTotal);
    }
    Ok(paid - total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_sum_rounds_half_up() {
        assert_eq!(line_sum(1_000_000, 12_345), 12_345);
        assert_eq!(line_sum(1_500, 1_000), 2); // 0.0015 × 10.00 = 1.5 коп
        assert_eq!(line_sum(333_333, 100), 33);
        assert_eq!(line_sum(u64::MAX, u64::MAX), u64::MAX);
    }

    #[test]
    fn change_is_cash_beyond_the_total() {
        let mut p = [0u64; 16];
        p[0] = 50_000;
        p[1] = 10_000;
        assert_eq!(change_due(45_000, &p), Ok(15_000));
        assert_eq!(
            change_due(70_000, &p),
            Err(CloseRefusal::PaymentsLessThanTotal)
        );
        assert_eq!(
            change_due(5_000, &p),
            Err(CloseRefusal::NonCashExceedsTotal)
        );
    }
}
