//! The seed document's XML examples (nomenclature upload and receipts
//! export) parse into the expected values and are written back byte for
//! byte.

use kkt::{Money, Quantity};
use masterkassa::kassatka::{ProductsGroups, documents_to_xml, parse_documents};

const NOMENCLATURE: &str = include_str!("fixtures/kassatka/nomenclature.xml");
const DOCUMENTS: &str = include_str!("fixtures/kassatka/documents.xml");

#[test]
fn the_seed_nomenclature_parses_and_is_written_back_identically() {
    let n = ProductsGroups::from_xml(NOMENCLATURE.as_bytes()).unwrap();
    assert_eq!(n.date, jiff::civil::date(2018, 4, 13));
    let codes: Vec<&str> = n.groups.iter().map(|g| g.code.as_str()).collect();
    assert_eq!(codes, ["none", "00-00000001", "00-00000002", "00-00000009"]);
    assert_eq!(n.product_count(), 11);
    assert_eq!(n.priced_count(), 5);
    let fidele = &n.groups[0].products[1];
    assert_eq!(fidele.code, "УТ-00000003");
    assert_eq!(fidele.barcode, "4260133180178");
    assert_eq!(fidele.price, Some(Money(199_000)));
    assert_eq!(fidele.price_type, "Прайс-лист");
    assert_eq!(n.groups[1].products[3].price, Some(Money(609_900)));
    assert_eq!(n.groups[1].products[0].price, None);
    assert_eq!(n.to_xml(), NOMENCLATURE);
}

#[test]
fn the_seed_receipts_parse_and_are_written_back_identically() {
    let receipts = parse_documents(DOCUMENTS.as_bytes()).unwrap();
    assert_eq!(receipts.len(), 4);
    let first = &receipts[0];
    assert_eq!(first.head.date.to_string(), "2018-04-16T11:08:31Z");
    assert_eq!(first.head.organization_code, "155");
    assert_eq!(first.head.cash_box_code, "189");
    assert_eq!(first.head.cash_box_name, "Касса 1");
    assert_eq!(first.head.store_code, "169");
    assert_eq!(first.head.store_name, "Удача");
    assert_eq!(first.head.doc_sum, Money(259_000));
    assert_eq!(first.head.doc_num, "5ad4842fd849da0012343342");
    assert_eq!(first.products.len(), 3);
    assert_eq!(first.products[1].product_name, "Фиделе 90 таб.");
    assert_eq!(first.products[1].quantity, Quantity::ONE);
    assert_eq!(receipts[1].products[0].quantity, Quantity(2_000_000));
    assert_eq!(receipts[1].products[0].sum, Money(20_000));
    assert_eq!(receipts[1].head.pay_card, Money(269_000));
    let discounted = &receipts[3];
    assert_eq!(discounted.head.doc_sum_with_discount, Money(181_300));
    assert_eq!(discounted.products[2].discount, Money(15_000));
    assert_eq!(discounted.products[2].sum_with_discount, Money(35_000));
    assert_eq!(documents_to_xml(&receipts), DOCUMENTS);
}

mod generated {
    use jiff::Timestamp;
    use kkt::{Money, Quantity};
    use masterkassa::kassatka::{
        KassatkaReceipt, ReceiptHead, ReceiptLine, documents_to_xml, parse_documents,
    };
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Zа-яА-Я0-9<>&\"' .,№-]{1,16}".prop_map(|s| {
            let t = s.trim().to_string();
            if t.is_empty() { "x".into() } else { t }
        })
    }

    fn line() -> impl Strategy<Value = ReceiptLine> {
        (
            text(),
            text(),
            0i64..10_000_000,
            1i64..50_000_000,
            0u8..=100,
        )
            .prop_map(|(code, name, price, quantity, discount_percent)| {
                let sum = Quantity(quantity).times(Money(price)).unwrap();
                let discount = Money(sum.0 * i64::from(discount_percent) / 100);
                ReceiptLine {
                    product_code: code,
                    product_name: name,
                    unit_code: "796".into(),
                    price: Money(price),
                    discount,
                    quantity: Quantity(quantity),
                    sum,
                    sum_with_discount: Money(sum.0 - discount.0),
                }
            })
    }

    fn receipt() -> impl Strategy<Value = KassatkaReceipt> {
        (
            text(),
            text(),
            proptest::collection::vec(line(), 0..5),
            0i64..2_000_000_000,
            0u8..=100,
        )
            .prop_map(|(cash_box, doc_num, products, seconds, card_share)| {
                let doc_sum = Money(products.iter().map(|p| p.sum.0).sum());
                let paid = Money(products.iter().map(|p| p.sum_with_discount.0).sum());
                let card = Money(paid.0 * i64::from(card_share) / 100);
                KassatkaReceipt {
                    head: ReceiptHead {
                        date: Timestamp::from_second(seconds).unwrap(),
                        organization_code: "155".into(),
                        cash_box_code: cash_box,
                        cash_box_name: "Касса & <1>".into(),
                        store_code: "169".into(),
                        store_name: "Удача".into(),
                        doc_sum,
                        doc_sum_with_discount: paid,
                        doc_num,
                        pay_card: card,
                        pay_cash: Money(paid.0 - card.0),
                    },
                    products,
                }
            })
    }

    proptest! {
        #[test]
        fn any_receipts_written_read_back_the_same(receipts in proptest::collection::vec(receipt(), 0..4)) {
            let xml = documents_to_xml(&receipts);
            prop_assert_eq!(parse_documents(xml.as_bytes()).unwrap(), receipts);
        }
    }
}

mod generated_nomenclature {
    use kkt::Money;
    use masterkassa::kassatka::{Product, ProductGroup, ProductsGroups};
    use proptest::prelude::*;

    fn text() -> impl Strategy<Value = String> {
        "[a-zA-Zа-яА-Я0-9<>&\"' .,№-]{0,16}"
    }

    fn product() -> impl Strategy<Value = Product> {
        (
            text(),
            text(),
            text(),
            proptest::option::of(0i64..100_000_000_000),
            text(),
        )
            .prop_map(|(barcode, code, name, price, price_type)| Product {
                barcode,
                code,
                name,
                parent_code: String::new(),
                unit_code: "796".into(),
                unit_name: "Штука".into(),
                price: price.map(Money),
                comment: String::new(),
                price_type,
            })
    }

    fn groups() -> impl Strategy<Value = ProductsGroups> {
        (
            proptest::collection::vec(
                (text(), text(), proptest::collection::vec(product(), 0..4)),
                0..4,
            ),
            1i16..9999,
            1i8..=12,
            1i8..=28,
        )
            .prop_map(|(groups, y, m, d)| ProductsGroups {
                date: jiff::civil::date(y, m, d),
                groups: groups
                    .into_iter()
                    .map(|(code, name, products)| ProductGroup {
                        parent_code: "none".into(),
                        products: products
                            .into_iter()
                            .map(|p| Product {
                                parent_code: code.clone(),
                                ..p
                            })
                            .collect(),
                        code,
                        name,
                    })
                    .collect(),
            })
    }

    proptest! {
        #[test]
        fn any_nomenclature_written_reads_back_the_same(n in groups()) {
            prop_assert_eq!(ProductsGroups::from_xml(n.to_xml().as_bytes()).unwrap(), n);
        }
    }
}
