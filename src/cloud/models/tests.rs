//! Every sample body of the seed parses into its model, with exact money,
//! and the bodies the agent sends serialise the way the seed writes them.

use super::*;
use kkt::{Money, Quantity};
use serde_json::Value;

macro_rules! fixture {
    ($name:literal) => {
        include_bytes!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/moysklad/",
            $name
        ))
        .as_slice()
    };
}

fn op(body: &[u8]) -> Operation {
    match parse_poll(body) {
        Ok(PollResult::Operation(op)) => *op,
        other => panic!("expected an operation, got {other:?}"),
    }
}

fn json(body: &[u8]) -> Value {
    serde_json::from_slice(body).expect("fixture is JSON")
}

#[test]
fn retaildemand_parses_with_every_field_exact() {
    for body in [
        fixture!("retaildemand.json"),
        fixture!("retaildemand_entity.json"),
    ] {
        let op = op(body);
        assert_eq!(op.kind, OperationKind::RetailDemand);
        assert_eq!(op.sync_id(), Some("388bd178-800c-11e6-8a84-bae5000000a2"));
        assert_eq!(op.positions.len(), 2);
        let p0 = &op.positions[0];
        assert_eq!(p0.quantity, Quantity(2_000_000));
        assert_eq!(p0.price, Money(500));
        assert_eq!(p0.discount, Percent::from_whole(10));
        assert_eq!(p0.vat, Percent::from_whole(10));
        assert_eq!(p0.sum, Some(Money(1000)));
        assert_eq!(p0.pdf, vec!["abc".to_owned(), "def".to_owned()]);
        assert_eq!(p0.marks[1].cis, "00000046185372KY4mjNZAB=U/FkO");
        assert_eq!(
            p0.assortment.meta.last_id(),
            Some("81fdf852-7c21-11e6-8a84-bae500000068")
        );
        let p1 = &op.positions[1];
        assert_eq!(p1.quantity, Quantity(3_000_000));
        assert_eq!(p1.sn.len(), 3);
        assert_eq!(op.cash_sum, Some(Money(800)));
        assert_eq!(op.no_cash_sum, Some(Money(100)));
        assert_eq!(op.qr_sum, Some(Money(0)));
        assert_eq!(op.vat_enabled, Some(true));
        assert_eq!(op.vat_included, Some(true));
        let cheque = op.cheque.as_ref().expect("cheque");
        assert_eq!(cheque.phone.as_deref(), Some("89992223311"));
        assert_eq!(cheque.email.as_deref(), Some("1@m.com"));
        // cheque.sum is rubles on the wire: 123.6 ₽ = 12 360 kopecks.
        assert_eq!(cheque.sum, Some(Money(12_360)));
        let card = op.card_transaction.as_ref().expect("cardTransaction");
        assert_eq!(card.amount, Money(8600));
        assert_eq!(card.acquiring_type, "Inpas");
        assert!(op.retail_shift.is_some());
        assert!(op.agent.is_some());
    }
    let op = op(fixture!("retaildemand.json"));
    assert_eq!(op.buyer_phone(), Some("89992223311"));
    assert!(op.customer_order.is_some());
    assert!(op.bonus_program.is_some());
    assert_eq!(op.bonus_value_to_earn, Some(0));
    assert_eq!(op.prepayment_cash, Some(Money(123)));
    assert_eq!(op.prepayment_no_cash, Some(Money(222)));
    assert_eq!(op.prepayment_qr_sum, Some(Money(0)));
    assert_eq!(op.payments_total(), Some(Money(800 + 100 + 123 + 222)));
}

#[test]
fn scenario_retaildemand_with_flat_cheque_fields_parses() {
    let op = op(fixture!("retaildemand_entity_scenario.json"));
    assert_eq!(op.kind, OperationKind::RetailDemand);
    assert_eq!(op.positions.len(), 1);
    assert_eq!(op.positions[0].discount_sum, Some(Money(100)));
    assert_eq!(op.positions[0].vat_sum, Some(Money(100)));
    assert_eq!(op.qr_sum, None);
    assert_eq!(op.buyer_phone(), Some("123456"));
    assert_eq!(op.buyer_email(), Some("test@test.org"));
    assert_eq!(op.electronic_cheque, Some(true));
}

#[test]
fn retailsalesreturn_links_its_sale() {
    for body in [
        fixture!("retailsalesreturn.json"),
        fixture!("retailsalesreturn_entity.json"),
    ] {
        let op = op(body);
        assert_eq!(op.kind, OperationKind::RetailSalesReturn);
        assert_eq!(op.sync_id(), Some("388bd178-800c-11e6-8a84-bae5000000a3"));
        let demand = op.demand.as_ref().expect("demand link");
        assert_eq!(
            demand.meta.sync_id(),
            Some("388bd178-800c-11e6-8a84-bae5000000a2")
        );
        assert_eq!(op.cash_sum, Some(Money(800)));
    }
}

#[test]
fn prepayment_and_its_return_parse() {
    for body in [
        fixture!("prepayment.json"),
        fixture!("prepayment_entity.json"),
    ] {
        let op = op(body);
        assert_eq!(op.kind, OperationKind::Prepayment);
        assert_eq!(op.sum, Some(Money(250_000)));
        assert_eq!(op.cash_sum, Some(Money(125_000)));
        assert_eq!(op.no_cash_sum, Some(Money(125_000)));
        assert!(op.customer_order.is_some());
        assert_eq!(op.positions[0].sum, None);
    }
    for body in [
        fixture!("prepaymentreturn.json"),
        fixture!("prepaymentreturn_entity.json"),
    ] {
        let op = op(body);
        assert_eq!(op.kind, OperationKind::PrepaymentReturn);
        assert_eq!(op.sum, Some(Money(250_000)));
        let prepayment = op.prepayment.as_ref().expect("prepayment link");
        assert_eq!(
            prepayment.meta.sync_id(),
            Some("288bd078-800c-11e6-8a84-bae5000000a2")
        );
    }
}

#[test]
fn approve_round_trips_exactly_as_the_seed_writes_it() {
    let body = fixture!("approve.json");
    let approve: Approve = parse_json("approve", body).unwrap();
    assert_eq!(approve.tax_system, Some(TaxSystemCode::General));
    assert_eq!(
        approve.retail_shift.meta.sync_id(),
        Some("288bd078-800c-11e6-8a84-bae5000000a2")
    );
    let cheque = approve.cheque.as_ref().unwrap();
    assert_eq!(cheque.sum, Some(Money(12_360)));
    assert_eq!(cheque.fiscal_doc_number.as_deref(), Some("1234567"));
    let sent = serde_json::to_string(&approve).unwrap();
    // The sum goes out as the seed's decimal rubles, not kopecks or a float
    // artefact like 123.59999.
    assert!(sent.contains(r#""sum":123.6"#), "{sent}");
    assert_eq!(json(sent.as_bytes()), json(body));
}

#[test]
fn reject_state_shifts_round_trip() {
    let reject: Reject = parse_json("reject", fixture!("reject.json")).unwrap();
    assert_eq!(reject.fiscal_err_msg, "ФН переполнен");
    assert_eq!(
        serde_json::to_value(&reject).unwrap(),
        json(fixture!("reject.json"))
    );

    let state: StateReport = parse_json("state", fixture!("state.json")).unwrap();
    let fm = state
        .state
        .as_ref()
        .unwrap()
        .fiscal_memory
        .as_ref()
        .unwrap();
    assert_eq!(fm.not_send_doc_count, Some(25));
    assert_eq!(
        serde_json::to_value(&state).unwrap(),
        json(fixture!("state.json"))
    );

    for body in [
        fixture!("openshift.json"),
        fixture!("openshift_scenario.json"),
    ] {
        let open: OpenShift = parse_json("openshift", body).unwrap();
        assert_eq!(serde_json::to_value(&open).unwrap(), json(body));
    }
    for body in [
        fixture!("closeshift.json"),
        fixture!("closeshift_scenario.json"),
    ] {
        let close: CloseShift = parse_json("closeshift", body).unwrap();
        assert_eq!(serde_json::to_value(&close).unwrap(), json(body));
    }
    let close: CloseShift = parse_json("closeshift", fixture!("closeshift.json")).unwrap();
    let end = close.cheque.unwrap().end.unwrap();
    assert_eq!(end.cheques_total, Some(15));
    assert_eq!(end.fiscal_docs_total, Some(17));
}

#[test]
fn status_parses() {
    let status: OperationStatus = parse_json("status", fixture!("status.json")).unwrap();
    assert_eq!(status.fiscal_status, FiscalStatus::Ok);
    assert_eq!(
        status.operation.sync_id(),
        Some("a4a94924-ab7a-447e-b1ae-6b874242cbdd")
    );
}

#[test]
fn stores_attach_and_settings_parse() {
    for body in [
        fixture!("admin_retailstore.json"),
        fixture!("admin_retailstore_scenario.json"),
    ] {
        let list: RetailStoreList = parse_json("admin/retailstore", body).unwrap();
        let store = &list.rows[0];
        assert_eq!(store.id, "5d4d2ca2-7b1d-11e6-8a84-bae500000060");
        assert_eq!(store.name, "Точка продаж");
        assert_eq!(
            store.organization.org_id(),
            Some("5d0f5e3e-7b1d-11e6-8a84-bae500000051")
        );
    }
    for body in [
        fixture!("settings_retailstore.json"),
        fixture!("settings_retailstore_scenario.json"),
    ] {
        let store: RetailStore = parse_json("settings/retailstore", body).unwrap();
        assert_eq!(store.cash, Some(Money(10_050)));
        assert_eq!(
            store.organization.org_id(),
            Some("5d0f5e3e-7b1d-11e6-8a84-bae500000051")
        );
    }
    for body in [
        fixture!("admin_attach.json"),
        fixture!("admin_attach_scenario.json"),
    ] {
        let attached: Attached = parse_json("admin/attach", body).unwrap();
        assert_eq!(attached.uid, "kassir@321");
        assert!(attached.token.expose().starts_with("6ab89be1ae6ff1477"));
        assert!(!format!("{attached:?}").contains("6ab89be1"));
    }
}

#[test]
fn assortment_and_errors_parse() {
    let page: AssortmentPage = parse_json("assortment", fixture!("assortment.json")).unwrap();
    assert!(!page.rows.is_empty());
    assert!(page.rows.iter().all(|r| !r.name.is_empty()));
    let errors: ApiErrorBody = parse_json("errors", fixture!("errors.json")).unwrap();
    assert_eq!(errors.errors[0].code, Some(3000));
    assert_eq!(errors.errors[0].parameter.as_deref(), Some("meta"));
    assert_eq!(errors.errors[1].code, None);
}

#[test]
fn assortment_next_page_offset() {
    let body = br#"{"meta":{"href":"x","nextHref":"http://h/api/posap/1.0/entity/assortment?limit=4&offsetId=ac6b&direction=forward"},"rows":[]}"#;
    let page: AssortmentPage = parse_json("assortment", body).unwrap();
    assert_eq!(page.next_offset_id(), Some("ac6b"));
    let last: AssortmentPage = parse_json("assortment", br#"{"meta":{},"rows":[]}"#).unwrap();
    assert_eq!(last.next_offset_id(), None);
}

#[test]
fn every_empty_poll_form_is_empty() {
    for body in [&b""[..], b"  \n", b"null", b"{}", b"{ \n }", b" null "] {
        assert_eq!(parse_poll(body), Ok(PollResult::Empty), "{body:?}");
    }
}

#[test]
fn missing_required_field_is_named() {
    let mut v = json(fixture!("retaildemand.json"));
    v["positions"][1].as_object_mut().unwrap().remove("price");
    let body = serde_json::to_vec(&v).unwrap();
    match parse_poll(&body) {
        Err(ModelError::MissingField { field, path, .. }) => {
            assert_eq!(field, "price");
            assert!(path.contains("positions[1]"), "{path}");
        }
        other => panic!("expected MissingField, got {other:?}"),
    }
    let mut v = json(fixture!("approve.json"));
    v.as_object_mut().unwrap().remove("retailShift");
    let body = serde_json::to_vec(&v).unwrap();
    assert!(matches!(
        parse_json::<Approve>("approve", &body),
        Err(ModelError::MissingField { field, .. }) if field == "retailShift"
    ));
}

#[test]
fn fractional_kopecks_and_unknown_kinds_are_errors() {
    let mut text = String::from_utf8(fixture!("retaildemand.json").to_vec()).unwrap();
    text = text.replacen(r#""cashSum": 800"#, r#""cashSum": 800.5"#, 1);
    match parse_poll(text.as_bytes()) {
        Err(ModelError::FractionalKopecks { path, value, .. }) => {
            assert_eq!(path, "cashSum");
            assert_eq!(value, "800.5");
        }
        other => panic!("expected FractionalKopecks, got {other:?}"),
    }
    // A whole number written with a decimal point is still exact.
    let text = String::from_utf8(fixture!("retaildemand.json").to_vec())
        .unwrap()
        .replacen(r#""cashSum": 800"#, r#""cashSum": 800.00"#, 1);
    assert_eq!(op(text.as_bytes()).cash_sum, Some(Money(800)));
    // Fractional quantities are millionths.
    let text = String::from_utf8(fixture!("retaildemand.json").to_vec())
        .unwrap()
        .replacen(r#""quantity": 2"#, r#""quantity": 0.125"#, 1);
    assert_eq!(op(text.as_bytes()).positions[0].quantity, Quantity(125_000));

    let text = String::from_utf8(fixture!("retaildemand.json").to_vec())
        .unwrap()
        .replacen(
            "entity/retaildemand/syncid",
            "entity/retaildrawercashin/syncid",
            1,
        );
    assert!(matches!(
        parse_poll(text.as_bytes()),
        Err(ModelError::UnknownKind { entity, .. }) if entity == "retaildrawercashin"
    ));
}

#[test]
fn unknown_fields_are_tolerated() {
    let mut v = json(fixture!("prepayment.json"));
    v["someNewField"] = serde_json::json!({"nested": [1, 2.5]});
    v["positions"][0]["futureFlag"] = Value::Bool(true);
    let body = serde_json::to_vec(&v).unwrap();
    assert_eq!(op(&body).kind, OperationKind::Prepayment);
}

#[test]
fn malformed_json_reports_line_and_column() {
    // The seed's verbatim legalTitle has unescaped inner quotes.
    let body = r#"{"meta": {"href": "h"}, "id": "1", "name": "n",
  "organization": {"meta": {"href": "h"}, "name": "x", "legalTitle": "ОБЩЕСТВО "РЕСО""}}"#;
    match parse_json::<RetailStore>("settings/retailstore", body.as_bytes()) {
        Err(ModelError::Syntax { line, column, .. }) => {
            assert_eq!(line, 2);
            assert!(column > 0);
        }
        other => panic!("expected Syntax, got {other:?}"),
    }
    assert!(matches!(
        parse_poll(b"{\"meta\": "),
        Err(ModelError::Syntax { .. })
    ));
    assert!(matches!(parse_poll(b"[]"), Err(ModelError::Invalid { .. })));
}

mod never_panic {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn poll_parser_never_panics(body in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = parse_poll(&body);
        }

        #[test]
        fn poll_parser_survives_mutated_samples(
            pos in 0usize..3000,
            byte in any::<u8>(),
        ) {
            let mut body = fixture!("retaildemand.json").to_vec();
            let i = pos % body.len();
            body[i] = byte;
            let _ = parse_poll(&body);
        }
    }
}

#[test]
fn operation_round_trips_through_serde_json_value() {
    // The fake cloud and the journal may keep operations as `Value`s.
    let parsed = op(fixture!("retaildemand.json"));
    let value = serde_json::to_value(&parsed).unwrap();
    let mut again: Operation = serde_json::from_value(value.clone()).unwrap();
    again.kind = parsed.kind;
    assert_eq!(again, parsed);
    assert_eq!(value["positions"][0]["quantity"], serde_json::json!(2));
    assert_eq!(value["cheque"]["sum"], serde_json::json!(123.6));
}
