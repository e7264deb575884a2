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
