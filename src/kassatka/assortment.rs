//! MoySklad's assortment (`GET /entity/assortment`, typed by
//! [`crate::cloud::models::AssortmentItem`]) as catalogue rows for Kassatka's
//! nomenclature, so `push-nomenclature --from moysklad` sends the shop's
//! MoySklad catalogue. Pure.
//!
//! One row per item and sale price type (1C's export repeats a product once
//! per price type, as the seed shows); a zero MoySklad price means "not
//! set" and is sent as an empty price. Only the first barcode is sent:
//! Kassatka's `Product` has one. The typed assortment carries no product
//! folder, so every item goes into 1C's `none` group.

use super::catalogue::{CatalogueRow, LocatedRow};
use crate::cloud::models::AssortmentItem;

/// OKEI code and full name of MoySklad's short unit names.
fn unit(uom: &str) -> (&'static str, Option<&'static str>) {
    match uom.trim().trim_end_matches('.').to_lowercase().as_str() {
        "шт" | "штука" => ("796", Some("Штука")),
        "кг" | "килограмм" => ("166", Some("Килограмм")),
        "г" | "гр" | "грамм" => ("163", Some("Грамм")),
        "л" | "литр" => ("112", Some("Литр")),
        "мл" | "миллилитр" => ("111", Some("Миллилитр")),
        "м" | "метр" => ("006", Some("Метр")),
        "м2" | "кв.м" | "кв м" => ("055", Some("Квадратный метр")),
        "уп" | "упак" | "упаковка" => ("778", Some("Упаковка")),
        "пар" | "пара" => ("715", Some("Пара")),
        _ => ("", None),
    }
}

/// The catalogue rows of a MoySklad assortment.
pub fn rows_from_assortment(items: &[AssortmentItem]) -> Vec<LocatedRow> {
    let mut rows = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let code = item
            .code
            .clone()
            .filter(|c| !c.trim().is_empty())
            .or_else(|| item.id.clone())
            .or_else(|| item.meta.last_id().map(str::to_string))
            .unwrap_or_default();
        let (unit_code, unit_name) = match item.uom.as_deref() {
            Some(uom) => {
                let (code, name) = unit(uom);
                (code.to_string(), name.unwrap_or(uom.trim()).to_string())
            }
            None => (String::new(), String::new()),
        };
        let base = CatalogueRow {
            code,
            name: item.name.clone(),
            barcode: item.barcodes.first().cloned().unwrap_or_default(),
            unit_code,
            unit_name,
            ..CatalogueRow::default()
        };
        let place = |price_type: Option<&str>| match price_type {
            Some(t) => format!("MoySklad item {} ({}) price {t:?}", index + 1, item.name),
            None => format!("MoySklad item {} ({})", index + 1, item.name),
        };
        let priced: Vec<_> = item.sale_prices.iter().filter(|p| p.value.0 != 0).collect();
        if priced.is_empty() {
            rows.push(LocatedRow {
                place: place(None),
                row: base,
            });
            continue;
        }
        for price in priced {
            let price_type = price.price_type.clone().unwrap_or_default();
            rows.push(LocatedRow {
                place: place(Some(&price_type)),
                row: CatalogueRow {
                    price_kopecks: Some(price.value.0),
                    price_type,
                    ..base.clone()
                },
            });
        }
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::models::AssortmentPage;
    use crate::kassatka::catalogue::to_nomenclature;
    use kkt::Money;

    fn seed_page() -> AssortmentPage {
        serde_json::from_str(include_str!(
            "../../tests/fixtures/moysklad/assortment.json"
        ))
        .unwrap()
    }

    #[test]
    fn the_seed_assortment_becomes_a_nomenclature() {
        let page = seed_page();
        let rows = rows_from_assortment(&page.rows);
        let n = to_nomenclature(&rows, jiff::civil::date(2026, 11, 24)).unwrap();
        assert_eq!(n.groups.len(), 1);
        assert_eq!(n.groups[0].code, "none");
        let products = &n.groups[0].products;
        // 6 items; the bundle has two non-zero prices, the others one.
        assert_eq!(products.len(), 7);
        let first = &products[0];
        assert_eq!(first.code, "00004");
        assert_eq!(first.name, "товар алкогольный");
        assert_eq!(first.barcode, "2000000000015");
        assert_eq!(first.unit_code, "796");
        assert_eq!(first.unit_name, "Штука");
        assert_eq!(first.price, Some(Money(6000)));
        assert_eq!(first.price_type, "Цена продажи");
        let bundle: Vec<_> = products.iter().filter(|p| p.name == "Комплект").collect();
        assert_eq!(bundle.len(), 2);
        assert_eq!(bundle[1].price, Some(Money(1900)));
        assert_eq!(bundle[1].price_type, "нулевая цена");
        let mask = products.iter().find(|p| p.name == "Маска").unwrap();
        assert_eq!(mask.barcode, "");
        assert!(n.to_xml().contains("Price=\"60,00\""));
    }

    #[test]
    fn unpriced_items_are_sent_without_a_price_and_units_are_mapped() {
        let mut page = seed_page();
        let item = &mut page.rows[0];
        for price in &mut item.sale_prices {
            price.value = Money(0);
        }
        item.uom = Some("кг".into());
        item.code = None;
        let rows = rows_from_assortment(&page.rows[..1]);
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].row.price_kopecks, None);
        assert_eq!(rows[0].row.unit_code, "166");
        assert_eq!(rows[0].row.code, "7db30ee8-07c5-11e7-90a5-ba9c0000008b");
        page.rows[0].uom = Some("ящ".into());
        let rows = rows_from_assortment(&page.rows[..1]);
        assert_eq!(
            (
                rows[0].row.unit_code.as_str(),
                rows[0].row.unit_name.as_str()
            ),
            ("", "ящ")
        );
    }
}
