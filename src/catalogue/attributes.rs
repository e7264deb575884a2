//! The fiscal attributes of a receipt line from its catalogue item: the
//! payment object (tag 1212) from the payment item type and the marking
//! kind, and the measure of quantity (tag 2108) from the unit. Pure.

use super::item::{CatalogueItem, ItemKind};
use crate::receipt::LineSubject;
use kkt::{MeasureUnit, PaymentObject};

/// Goods subject to marking (Честный знак): a tracking type other than
/// «not tracked», tobacco, or medical PPE.
pub fn is_marked(item: &CatalogueItem) -> bool {
    let tracked = item
        .tracking_type
        .as_deref()
        .is_some_and(|t| !t.is_empty() && t != "NOT_TRACKED");
    tracked || item.tobacco || item.ppe_type.as_deref().is_some_and(|p| !p.is_empty())
}

/// Excisable goods: so declared, or tobacco.
pub fn is_excisable(item: &CatalogueItem) -> bool {
    item.payment_item_type.as_deref() == Some("EXCISABLE_GOOD")
        || item.tobacco
        || item.tracking_type.as_deref() == Some("TOBACCO")
}

/// Payment object of a line selling `item`; `with_codes`: the line carries
/// marking codes.
pub fn payment_object(item: &CatalogueItem, with_codes: bool) -> PaymentObject {
    if is_marked(item) || with_codes {
        return match (is_excisable(item), with_codes) {
            (true, true) => PaymentObject::EXCISE_MARKED,
            (true, false) => PaymentObject::EXCISE_MARKED_NO_CODE,
            (false, true) => PaymentObject::MARKED,
            (false, false) => PaymentObject::MARKED_NO_CODE,
        };
    }
    match item.payment_item_type.as_deref() {
        Some("GOOD") => PaymentObject::COMMODITY,
        Some("EXCISABLE_GOOD") => PaymentObject::EXCISE,
        Some("WORK") => PaymentObject::JOB,
        Some("SERVICE") => PaymentObject::SERVICE,
        Some("PROVIDING_RID") => PaymentObject(9),
        Some("COMPOUND_PAYMENT_ITEM") => PaymentObject(12),
        Some("ANOTHER_PAYMENT_ITEM") => PaymentObject(13),
        // No type (older accounts) or one this agent does not know: the
        // entity says whether it is a service.
        _ if item.kind == ItemKind::Service => PaymentObject::SERVICE,
        _ => PaymentObject::COMMODITY,
    }
}

/// Measure of quantity for a unit name; `None` without a unit, «иная»
/// (255) for a unit that has no code.
pub fn measure(uom: Option<&str>) -> Option<MeasureUnit> {
    let uom = uom?.trim();
    if uom.is_empty() {
        return None;
    }
    let key: String = uom
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '.')
        .map(|c| match c {
            '²' => '2',
            '³' => '3',
            '*' | '-' => '·',
            other => other,
        })
        .collect();
    Some(match key.as_str() {
        "шт" | "штук" | "штука" | "штуки" | "pcs" => MeasureUnit::PIECE,
        "г" | "гр" | "грамм" => MeasureUnit::GRAM,
        "кг" | "килограмм" => MeasureUnit::KILOGRAM,
        "т" | "тонна" => MeasureUnit::TONNE,
        "см" => MeasureUnit::CENTIMETRE,
        "дм" => MeasureUnit::DECIMETRE,
        "м" | "метр" | "пм" | "погм" => MeasureUnit::METRE,
        "см2" | "квсм" => MeasureUnit::SQUARE_CENTIMETRE,
        "дм2" | "квдм" => MeasureUnit::SQUARE_DECIMETRE,
        "м2" | "квм" => MeasureUnit::SQUARE_METRE,
        "мл" => MeasureUnit::MILLILITRE,
        "л" | "литр" => MeasureUnit::LITRE,
        "м3" | "кубм" => MeasureUnit::CUBIC_METRE,
        "квт·ч" | "квтч" => MeasureUnit::KILOWATT_HOUR,
        "гкал" => MeasureUnit::GIGACALORIE,
        "сут" | "сутки" | "день" | "дн" => MeasureUnit::DAY,
        "ч" | "час" => MeasureUnit::HOUR,
        "мин" => MeasureUnit::MINUTE,
        "с" | "сек" => MeasureUnit::SECOND,
        "кбайт" | "кб" => MeasureUnit::KILOBYTE,
        "мбайт" | "мб" => MeasureUnit::MEGABYTE,
        "гбайт" | "гб" => MeasureUnit::GIGABYTE,
        "тбайт" | "тб" => MeasureUnit::TERABYTE,
        _ => MeasureUnit::OTHER,
    })
}

/// Both attributes of a line selling `item`. A marked line is counted in
/// pieces whatever the unit says: one code is one unit.
pub fn line_subject(item: &CatalogueItem, with_codes: bool) -> LineSubject {
    let object = payment_object(item, with_codes);
    let measure = if with_codes {
        Some(MeasureUnit::PIECE)
    } else {
        measure(item.uom.as_deref())
    };
    LineSubject { object, measure }
}
