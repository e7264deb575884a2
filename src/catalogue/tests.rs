//! Tests of the catalogue: the seed's assortment samples parse in full,
//! every payment item type, marking kind, unit and pack gives the right
//! 1030 / 1212 / 2108 and exact sums, and the cache survives a restart.

use super::attributes::{line_subject, measure, payment_object};
use super::item::{CatalogueItem, ItemKind};
use super::lookup::describe;
use super::{Catalogue, StoreSettings};
use crate::cloud::models::{AssortmentPage, parse_json};
use crate::receipt::{OperationInput, PositionInput, RenderContext, TaxSystemInput, render};
use kkt::{MeasureUnit, Money, PaymentObject, Quantity, TaxSystem};

const FIRST_SAMPLE: &[u8] = include_bytes!("../../sim/moysklad/src/samples/assortment.json");
const PAGED_SAMPLE: &[u8] = include_bytes!("samples/assortment_paged.json");

fn items(body: &[u8]) -> Vec<CatalogueItem> {
    let page: AssortmentPage = parse_json("assortment", body).unwrap();
    page.rows
        .iter()
        .map(|r| CatalogueItem::from_cloud(r).unwrap())
        .collect()
}

fn by_name<'a>(items: &'a [CatalogueItem], name: &str) -> &'a CatalogueItem {
    items.iter().find(|i| i.name == name).unwrap()
}

#[test]
fn the_seeds_assortment_samples_parse_in_full() {
    let first = items(FIRST_SAMPLE);
    assert_eq!(first.len(), 10);
    let shoes = by_name(&first, "shoes");
    assert_eq!(shoes.tracking_type.as_deref(), Some("SHOES"));
    assert!(by_name(&first, "tobacco").tobacco);
    assert_eq!(by_name(&first, "Услуга").kind, ItemKind::Service);
    // «(Mod)» alone names nothing: the product's name comes first.
    let variant = by_name(&first, "Товар2 (Mod)");
    assert_eq!(variant.kind, ItemKind::Variant);
    assert_eq!(variant.uom.as_deref(), Some("шт"));

    let paged: AssortmentPage = parse_json("assortment", PAGED_SAMPLE).unwrap();
    assert_eq!(
        paged.next_offset_id(),
        Some("ac6bab2d-07c8-11e7-8a84-bc5200000016")
    );
    let paged = items(PAGED_SAMPLE);
    assert_eq!(paged.len(), 6);
    let alcohol = by_name(&paged, "товар алкогольный");
    assert_eq!(alcohol.payment_item_type.as_deref(), Some("EXCISABLE_GOOD"));
    assert_eq!(alcohol.packs.len(), 1);
    assert_eq!(alcohol.packs[0].name, "ящ");
    assert_eq!(alcohol.packs[0].quantity, Quantity(10 * Quantity::SCALE));
    // The variant has no type or unit of its own: its product's apply.
    let variant = by_name(&paged, "Товар (версия1)");
    assert_eq!(variant.kind, ItemKind::Variant);
    assert_eq!(
        variant.payment_item_type.as_deref(),
        Some("ANOTHER_PAYMENT_ITEM")
    );
    assert_eq!(variant.uom.as_deref(), Some("шт"));
    let bundle = by_name(&paged, "Комплект");
    assert_eq!(bundle.kind, ItemKind::Bundle);
    assert_eq!(bundle.components.len(), 3);
    assert_eq!(
        bundle.components[2].quantity,
        Quantity(15 * Quantity::SCALE)
    );
    assert_eq!(
        by_name(&paged, "Маска").ppe_type.as_deref(),
        Some("2400001323807")
    );
    assert_eq!(
        by_name(&paged, "Услуга").payment_item_type.as_deref(),
        Some("SERVICE")
    );
}

fn item(kind: ItemKind, pit: Option<&str>, tracking: Option<&str>, tobacco: bool) -> CatalogueItem {
    CatalogueItem {
        id: "i".into(),
        sync_id: None,
        kind,
        name: "Кефир 2,5 %".into(),
        payment_item_type: pit.map(Into::into),
        uom: Some("шт".into()),
        tracking_type: tracking.map(Into::into),
        tobacco,
        ppe_type: None,
        packs: Vec::new(),
        components: Vec::new(),
        sale_price: None,
    }
}

#[test]
fn payment_object_for_every_payment_item_type_and_marking_kind() {
    use ItemKind::*;
    // Kind, payment item type, tracking type, tobacco, codes → 1212.
    type Case<'a> = (ItemKind, Option<&'a str>, Option<&'a str>, bool, bool, u8);
    let cases: &[Case] = &[
        (Product, Some("GOOD"), None, false, false, 1),
        (Product, Some("GOOD"), Some("NOT_TRACKED"), false, false, 1),
        (Product, Some("EXCISABLE_GOOD"), None, false, false, 2),
        (Product, Some("WORK"), None, false, false, 3),
        (Service, Some("SERVICE"), None, false, false, 4),
        (Service, None, None, false, false, 4),
        (Product, None, None, false, false, 1),
        (Product, Some("PROVIDING_RID"), None, false, false, 9),
        (
            Bundle,
            Some("COMPOUND_PAYMENT_ITEM"),
            None,
            false,
            false,
            12,
        ),
        (
            Variant,
            Some("ANOTHER_PAYMENT_ITEM"),
            None,
            false,
            false,
            13,
        ),
        (Product, Some("SOMETHING_NEW"), None, false, false, 1),
        // Marked goods: 30–33 by excise and whether the line has codes.
        (Product, Some("GOOD"), Some("SHOES"), false, false, 32),
        (Product, Some("GOOD"), Some("SHOES"), false, true, 33),
        (Product, Some("GOOD"), Some("MILK"), false, true, 33),
        (
            Product,
            Some("EXCISABLE_GOOD"),
            Some("TOBACCO"),
            true,
            false,
            30,
        ),
        (Product, Some("GOOD"), Some("TOBACCO"), true, true, 31),
        (
            Product,
            Some("EXCISABLE_GOOD"),
            Some("LP_CLOTHES"),
            false,
            true,
            31,
        ),
        // Codes prove marking even when the catalogue does not say so.
        (Product, Some("GOOD"), None, false, true, 33),
    ];
    for &(kind, pit, tracking, tobacco, codes, want) in cases {
        let it = item(kind, pit, tracking, tobacco);
        assert_eq!(
            payment_object(&it, codes),
            PaymentObject(want),
            "{kind:?} {pit:?} {tracking:?} tobacco={tobacco} codes={codes}"
        );
    }
    let mut ppe = item(Product, Some("GOOD"), None, false);
    ppe.ppe_type = Some("2400001323807".into());
    assert_eq!(payment_object(&ppe, false), PaymentObject::MARKED_NO_CODE);
}

#[test]
fn measure_for_every_unit() {
    let cases: &[(&str, u8)] = &[
        ("шт", 0),
        ("шт.", 0),
        ("Штука", 0),
        ("г", 10),
        ("гр.", 10),
        ("кг", 11),
        ("КГ", 11),
        ("т", 12),
        ("см", 20),
        ("дм", 21),
        ("м", 22),
        ("см2", 30),
        ("дм²", 31),
        ("м2", 32),
        ("кв. м", 32),
        ("мл", 40),
        ("л", 41),
        ("м³", 42),
        ("кВт·ч", 50),
        ("кВт*ч", 50),
        ("Гкал", 51),
        ("сут", 70),
        ("ч", 71),
        ("мин", 72),
        ("с", 73),
        ("Кбайт", 80),
        ("Мбайт", 81),
        ("Гбайт", 82),
        ("Тбайт", 83),
        ("упак", 255),
        ("пара", 255),
        ("ящ", 255),
    ];
    for &(uom, code) in cases {
        assert_eq!(measure(Some(uom)), Some(MeasureUnit(code)), "{uom}");
    }
    assert_eq!(measure(None), None);
    assert_eq!(measure(Some("  ")), None);
}

fn sale(positions: Vec<PositionInput>, cash: i64) -> OperationInput {
    OperationInput::cash_sale(positions, Money(cash))
}

fn line(quantity_millionths: i64, price: i64, marks: usize) -> PositionInput {
    PositionInput {
        name: None,
        quantity: Quantity(quantity_millionths),
        price: Money(price),
        discount_millionths: None,
        vat_millionths: Some(20_000_000),
        vat_enabled: Some(true),
        sum: None,
        marks: (0..marks)
            .map(|i| format!("0104600000000000215abc{i}"))
            .collect(),
        assortment: Some("https://x/entity/product/i".into()),
        subject: None,
        components: Vec::new(),
    }
}

fn store() -> RenderContext {
    RenderContext {
        default_tax_system: Some(TaxSystem::SimplifiedIncome),
        header: vec!["Добро пожаловать!".into()],
        footer: vec!["Спасибо за покупку!".into()],
        ..RenderContext::default()
    }
}

/// Every combination renders the catalogue's name, 1212 and 2108, with
/// quantity × price = sum to the kopeck and the total exact.
#[test]
fn rendered_lines_carry_name_object_measure_and_exact_sums() {
    struct Case {
        pit: Option<&'static str>,
        kind: ItemKind,
        tracking: Option<&'static str>,
        uom: &'static str,
        qty: i64,
        price: i64,
        marks: usize,
        object: u8,
        measure: u8,
        sum: i64,
        lines: usize,
    }
    let cases = [
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "шт",
            qty: 3_000_000,
            price: 4_990,
            marks: 0,
            object: 1,
            measure: 0,
            sum: 14_970,
            lines: 1,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "кг",
            qty: 1_234_000,
            price: 9_999,
            marks: 0,
            object: 1,
            measure: 11,
            sum: 12_339,
            lines: 1,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "г",
            qty: 250_000_000,
            price: 3,
            marks: 0,
            object: 1,
            measure: 10,
            sum: 750,
            lines: 1,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "л",
            qty: 1_500_000,
            price: 8_900,
            marks: 0,
            object: 1,
            measure: 41,
            sum: 13_350,
            lines: 1,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "м",
            qty: 2_750_000,
            price: 31_000,
            marks: 0,
            object: 1,
            measure: 22,
            sum: 85_250,
            lines: 1,
        },
        Case {
            pit: Some("EXCISABLE_GOOD"),
            kind: ItemKind::Product,
            tracking: None,
            uom: "шт",
            qty: 1_000_000,
            price: 60_000,
            marks: 0,
            object: 2,
            measure: 0,
            sum: 60_000,
            lines: 1,
        },
        Case {
            pit: Some("SERVICE"),
            kind: ItemKind::Service,
            tracking: None,
            uom: "ч",
            qty: 2_000_000,
            price: 150_000,
            marks: 0,
            object: 4,
            measure: 71,
            sum: 300_000,
            lines: 1,
        },
        Case {
            pit: None,
            kind: ItemKind::Service,
            tracking: None,
            uom: "услуга",
            qty: 1_000_000,
            price: 50_000,
            marks: 0,
            object: 4,
            measure: 255,
            sum: 50_000,
            lines: 1,
        },
        Case {
            pit: Some("COMPOUND_PAYMENT_ITEM"),
            kind: ItemKind::Bundle,
            tracking: None,
            uom: "шт",
            qty: 1_000_000,
            price: 150_000,
            marks: 0,
            object: 12,
            measure: 0,
            sum: 150_000,
            lines: 1,
        },
        Case {
            pit: Some("ANOTHER_PAYMENT_ITEM"),
            kind: ItemKind::Variant,
            tracking: None,
            uom: "упак",
            qty: 2_000_000,
            price: 1_300,
            marks: 0,
            object: 13,
            measure: 255,
            sum: 2_600,
            lines: 1,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: Some("SHOES"),
            uom: "пара",
            qty: 2_000_000,
            price: 333_333,
            marks: 2,
            object: 33,
            measure: 0,
            sum: 666_666,
            lines: 2,
        },
        Case {
            pit: Some("GOOD"),
            kind: ItemKind::Product,
            tracking: Some("MILK"),
            uom: "шт",
            qty: 1_000_000,
            price: 8_900,
            marks: 0,
            object: 32,
            measure: 0,
            sum: 8_900,
            lines: 1,
        },
        Case {
            pit: Some("EXCISABLE_GOOD"),
            kind: ItemKind::Product,
            tracking: Some("TOBACCO"),
            uom: "шт",
            qty: 3_000_000,
            price: 21_900,
            marks: 3,
            object: 31,
            measure: 0,
            sum: 65_700,
            lines: 3,
        },
    ];
    for c in &cases {
        let mut it = item(c.kind, c.pit, c.tracking, c.tracking == Some("TOBACCO"));
        it.uom = Some(c.uom.into());
        let mut p = line(c.qty, c.price, c.marks);
        describe(&mut p, &it);
        let receipt = render(&sale(vec![p], c.sum), &store()).unwrap();
        let what = format!("{:?} {:?} {:?} {}", c.kind, c.pit, c.tracking, c.uom);
        assert_eq!(receipt.positions.len(), c.lines, "{what}");
        for pos in &receipt.positions {
            assert_eq!(pos.name, "Кефир 2,5 %", "{what}");
            assert_eq!(pos.object, PaymentObject(c.object), "{what}");
            assert_eq!(pos.measure, Some(MeasureUnit(c.measure)), "{what}");
            let exact = pos.quantity.0 as i128 * pos.price.0 as i128;
            let diff = (exact - pos.sum.0 as i128 * Quantity::SCALE as i128).abs();
            assert!(diff * 2 <= Quantity::SCALE as i128, "{what}: {pos:?}");
        }
        assert_eq!(receipt.total(), Some(Money(c.sum)), "{what}");
        assert_eq!(receipt.tax_system, TaxSystem::SimplifiedIncome);
        assert_eq!(receipt.header, vec!["Добро пожаловать!".to_string()]);
        assert_eq!(receipt.footer, vec!["Спасибо за покупку!".to_string()]);
    }
}

/// A position sold in packs: the quantity is in base units, so quantity,
/// unit price and measure stay per unit and the sum is the cloud's.
#[test]
fn packs_print_per_unit_with_the_exact_sum() {
    let items = items(PAGED_SAMPLE);
    let beer = by_name(&items, "товар алкогольный");
    // Two boxes of ten at 60.00 a bottle.
    let mut p = line(20_000_000, 6_000, 0);
    p.sum = Some(Money(120_000));
    describe(&mut p, beer);
    let receipt = render(&sale(vec![p], 120_000), &store()).unwrap();
    let pos = &receipt.positions[0];
    assert_eq!(pos.quantity, Quantity(20 * Quantity::SCALE));
    assert_eq!(pos.price, Money(6_000));
    assert_eq!(pos.sum, Money(120_000));
    assert_eq!(pos.object, PaymentObject::EXCISE);
    assert_eq!(pos.measure, Some(MeasureUnit::PIECE));
}

#[test]
fn the_operations_tax_system_wins_then_the_config_then_the_store() {
    let it = item(ItemKind::Product, Some("GOOD"), None, false);
    let mut p = line(1_000_000, 100, 0);
    describe(&mut p, &it);
    let mut op = sale(vec![p], 100);
    assert_eq!(
        render(&op, &store()).unwrap().tax_system,
        TaxSystem::SimplifiedIncome
    );
    op.tax_system = Some(TaxSystemInput::Known(TaxSystem::Patent));
    assert_eq!(render(&op, &store()).unwrap().tax_system, TaxSystem::Patent);
}

#[test]
fn the_cache_survives_a_restart_and_kassas_do_not_share_rows() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("journal.db");
    let first = items(FIRST_SAMPLE);
    {
        let c = Catalogue::open(&db, "a").unwrap();
        let generation = c.begin_sync().unwrap();
        c.store_page(&first, generation).unwrap();
        c.finish_sync(
            first.clone(),
            generation,
            jiff::civil::date(2026, 12, 3).at(9, 0, 0, 0),
        )
        .unwrap();
        c.set_settings(StoreSettings {
            default_tax_system: Some(TaxSystem::General),
            header: vec!["Шапка".into()],
            footer: vec![],
        })
        .unwrap();
        // A second sync that no longer lists "shoes" drops it.
        let fewer: Vec<_> = first
            .iter()
            .filter(|i| i.name != "shoes")
            .cloned()
            .collect();
        let generation = c.begin_sync().unwrap();
        c.store_page(&fewer, generation).unwrap();
        c.finish_sync(
            fewer,
            generation,
            jiff::civil::date(2026, 12, 3).at(10, 0, 0, 0),
        )
        .unwrap();
    }
    let again = Catalogue::open(&db, "a").unwrap();
    assert_eq!(again.len(), first.len() - 1);
    let beer = again
        .get("https://online.moysklad.ru/api/posap/1.0/entity/product/81fdf852-7c21-11e6-8a84-bae500000068")
        .unwrap();
    assert_eq!(beer.name, "Пиво");
    assert!(
        again
            .get("https://h/entity/product/ace86997-6113-11e9-ac13-000c000000c9")
            .is_none()
    );
    assert_eq!(again.settings().header, vec!["Шапка".to_string()]);
    assert_eq!(again.status().items, first.len() as u64 - 1);
    assert!(again.status().last_sync.is_some());
    let other = Catalogue::open(&db, "b").unwrap();
    assert!(other.is_empty());
    assert_eq!(other.settings(), StoreSettings::default());
}

#[test]
fn a_weighed_subject_is_kilograms_and_a_marked_one_pieces() {
    let mut it = item(ItemKind::Product, Some("GOOD"), Some("MILK"), false);
    it.uom = Some("кг".into());
    assert_eq!(line_subject(&it, true).measure, Some(MeasureUnit::PIECE));
    assert_eq!(
        line_subject(&it, false).measure,
        Some(MeasureUnit::KILOGRAM)
    );
}

/// The whole table: every payment item type × marking kind (with and
/// without codes) × unit × sold loose or in packs renders the expected
/// 1212 and 2108, the catalogue's name, quantity × price = sum on every
/// line and the operation's total to the kopeck.
#[test]
fn every_type_marking_unit_and_pack_combination_renders_exactly() {
    use ItemKind::*;
    // Payment item type, entity kind, 1212 when unmarked.
    let types: &[(Option<&str>, ItemKind, u8)] = &[
        (Some("GOOD"), Product, 1),
        (Some("EXCISABLE_GOOD"), Product, 2),
        (Some("WORK"), Service, 3),
        (Some("SERVICE"), Service, 4),
        (Some("PROVIDING_RID"), Product, 9),
        (Some("COMPOUND_PAYMENT_ITEM"), Bundle, 12),
        (Some("ANOTHER_PAYMENT_ITEM"), Variant, 13),
        (None, Product, 1),
        (None, Service, 4),
    ];
    // Tracking type, tobacco, PPE: the marking kinds.
    let markings: &[(Option<&str>, bool, Option<&str>)] = &[
        (None, false, None),
        (Some("NOT_TRACKED"), false, None),
        (Some("SHOES"), false, None),
        (Some("MILK"), false, None),
        (Some("TOBACCO"), true, None),
        (None, false, Some("2400001323807")),
    ];
    let units: &[(&str, u8)] = &[
        ("шт", 0),
        ("кг", 11),
        ("г", 10),
        ("л", 41),
        ("м", 22),
        ("упак", 255),
    ];
    let mut checked = 0;
    for &(pit, kind, plain_object) in types {
        for &(tracking, tobacco, ppe) in markings {
            let marked = tracking.is_some_and(|t| t != "NOT_TRACKED") || tobacco || ppe.is_some();
            let excisable = pit == Some("EXCISABLE_GOOD") || tobacco;
            for codes in [false, true] {
                if codes && !marked {
                    continue;
                }
                for &(uom, unit_code) in units {
                    // Loose, or two packs of six base units.
                    for pack in [None, Some(6_i64)] {
                        let mut it = item(kind, pit, tracking, tobacco);
                        it.uom = Some(uom.into());
                        it.ppe_type = ppe.map(Into::into);
                        let (qty, price) = match (pack, codes || unit_code == 0) {
                            (Some(per_pack), _) => (2 * per_pack * Quantity::SCALE, 4_990),
                            (None, true) => (3 * Quantity::SCALE, 4_990),
                            (None, false) => (1_250_000, 4_800),
                        };
                        let sum = qty / Quantity::SCALE * price
                            + qty % Quantity::SCALE * price / Quantity::SCALE;
                        let units_sold = usize::try_from(qty / Quantity::SCALE).unwrap();
                        let mut p = line(qty, price, if codes { units_sold } else { 0 });
                        if pack.is_some() {
                            p.sum = Some(Money(sum));
                        }
                        describe(&mut p, &it);
                        let what = format!(
                            "{pit:?} {kind:?} {tracking:?} tobacco={tobacco} ppe={} codes={codes} {uom} pack={pack:?}",
                            ppe.is_some()
                        );
                        let receipt = render(&sale(vec![p], sum), &store())
                            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
                        let object = match (marked, excisable, codes) {
                            (true, true, false) => 30,
                            (true, true, true) => 31,
                            (true, false, false) => 32,
                            (true, false, true) => 33,
                            (false, _, _) => plain_object,
                        };
                        // One code is one piece, whatever the catalogue's unit.
                        let measure = if codes { 0 } else { unit_code };
                        let lines = if codes { units_sold } else { 1 };
                        assert_eq!(receipt.positions.len(), lines, "{what}");
                        let mut line_sum = 0;
                        for pos in &receipt.positions {
                            assert_eq!(pos.name, "Кефир 2,5 %", "{what}");
                            assert_eq!(pos.object, PaymentObject(object), "{what}");
                            assert_eq!(pos.measure, Some(MeasureUnit(measure)), "{what}");
                            let exact = i128::from(pos.quantity.0) * i128::from(pos.price.0);
                            assert_eq!(
                                exact,
                                i128::from(pos.sum.0) * i128::from(Quantity::SCALE),
                                "{what}: {pos:?}"
                            );
                            line_sum += pos.sum.0;
                        }
                        assert_eq!(line_sum, sum, "{what}");
                        assert_eq!(receipt.total(), Some(Money(sum)), "{what}");
                        checked += 1;
                    }
                }
            }
        }
    }
    // 9 types × (2 unmarked + 4 marked × 2) markings × 6 units × 2.
    assert_eq!(checked, 9 * 10 * 6 * 2);
}
