//! Driver against an in-memory device (`link::responder::Responder`) that
//! answers like a Shtrih-M: checks the command sequences the driver sends
//! and how it maps answers and errors, without a PTY.

mod common;

use common::model::{Model, t0};
use common::receipts::{cash_receipt, position};
use kkt::{
    DocumentKind, ErrorClass, Kkt, KktError, Money, Operation, PaymentObject, Position, Receipt,
    ShiftState,
};
use shtrih::commands::*;
use shtrih::driver::{DriverConfig, ShtrihDriver};
use shtrih::frame::Frame;
use shtrih::link::responder::Responder;
use shtrih::link::{Link, LinkConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Driver = ShtrihDriver<Responder<Box<dyn FnMut(&Frame) -> Frame + Send>>>;

fn driver(model: Arc<Mutex<Model>>) -> Driver {
    let handler: Box<dyn FnMut(&Frame) -> Frame + Send> =
        Box::new(move |f| model.lock().expect("model lock").handle(f));
    let link = Link::new(
        Responder::new(handler),
        LinkConfig {
            byte_timeout: Duration::from_millis(5),
            ..LinkConfig::default()
        },
    );
    ShtrihDriver::new(
        link,
        DriverConfig {
            busy_poll: Duration::from_millis(1),
            ..DriverConfig::default()
        },
    )
}

fn codes(d: &Driver) -> Vec<u16> {
    d.link().port().requests.iter().map(|f| f.code.0).collect()
}

fn receipt(positions: Vec<Position>) -> Receipt {
    Receipt {
        buyer_contact: Some("+79001234567".into()),
        cashier: Some("Иванова".into()),
        ..cash_receipt(positions)
    }
}

fn open_model() -> Arc<Mutex<Model>> {
    Arc::new(Mutex::new(Model {
        last_fd: 10,
        shift_open: true,
        shift: 5,
        ..Model::default()
    }))
}

#[test]
fn sale_sends_open_positions_tlvs_close_and_returns_fn_data() {
    let model = open_model();
    let mut d = driver(model.clone());
    let r = receipt(vec![
        position("Хлеб", 1_000_000, 5_000),
        position("Сыр", 250_000, 80_000),
    ]);
    let printed = d.print_receipt(&r).expect("printed");
    assert_eq!(printed.doc.number, 11);
    assert_eq!(printed.doc.fiscal_sign, 1_000_077);
    assert_eq!(printed.doc.time, t0());
    assert_eq!(printed.receipt_number, 1);
    assert_eq!(printed.shift_number, 5);
    assert_eq!(printed.total, Money(25_000));
    assert_eq!(
        codes(&d),
        vec![
            0x10, 0xFF01, 0x8D, 0xFF0C, 0xFF46, 0xFF46, 0xFF0C, 0xFF45, 0xFF40
        ]
    );
    let reqs = &d.link().port().requests;
    // Cashier tag 1021 then buyer contact tag 1008, CP1251.
    assert_eq!(&reqs[3].payload[4..6], &1021u16.to_le_bytes());
    assert_eq!(&reqs[6].payload[4..8], &[0xF0, 0x03, 12, 0]);
    let (_, op) = parse_request::<OperationV2>(&reqs[5]).unwrap();
    assert_eq!(
        (op.operation, op.quantity, op.price, op.sum, op.tax),
        (1, 250_000, 80_000, Some(20_000), 1)
    );
    let (_, close) = parse_request::<CloseReceiptV2>(&reqs[7]).unwrap();
    assert_eq!(close.payments[0], 25_000);
    assert_eq!(close.tax_system, 0x02);
}

#[test]
fn marked_position_is_checked_accepted_registered_then_bound() {
    let model = open_model();
    let mut d = driver(model);
    let mut p = position("Молоко", 1_000_000, 9_900);
    p.object = PaymentObject::MARKED;
    p.marking_code = Some("0104600439931256215Abc\u{1d}93dGVz".into());
    let mut r = receipt(vec![p]);
    r.cashier = None;
    r.buyer_contact = None;
    d.print_receipt(&r).expect("printed");
    assert_eq!(
        codes(&d),
        vec![
            0x10, 0xFF01, 0x8D, 0xFF61, 0xFF69, 0xFF46, 0xFF67, 0xFF45, 0xFF40
        ]
    );
    let reqs = &d.link().port().requests;
    let (_, check) = parse_request::<CheckMarkingCode>(&reqs[3]).unwrap();
    assert_eq!(check.item_status, item_status::PIECE_SOLD);
    assert_eq!(check.code, b"0104600439931256215Abc\x1d93dGVz");
}

#[test]
fn paper_out_after_the_fn_signed_is_still_a_printed_receipt() {
    let model = open_model();
    model.lock().unwrap().close_signs_then_fails = Some(0x6B);
    let mut d = driver(model.clone());
    let r = receipt(vec![position("Хлеб", 2_000_000, 5_000)]);
    let printed = d.print_receipt(&r).expect("fiscalised despite paper out");
    assert_eq!(printed.doc.number, 11);
    assert_eq!(printed.total, Money(10_000));
    let st = d.status().unwrap();
    assert!(st.awaiting_continue);
    // The next receipt resumes printing first (0xB0) and never repeats the sale.
    d.link_mut().port_mut().requests.clear();
    let again = d.print_receipt(&r).expect("second receipt");
    assert_eq!(again.doc.number, 12);
    assert_eq!(codes(&d)[..2], [0x10, 0xB0]);
    assert_eq!(model.lock().unwrap().last_fd, 12);
}

#[test]
fn close_refused_before_signing_is_the_device_error() {
    let model = open_model();
    model.lock().unwrap().fail_once.push((0xFF45, 0x45));
    let mut d = driver(model.clone());
    let err = d
        .print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .unwrap_err();
    match &err {
        KktError::Device {
            code, class, text, ..
        } => {
            assert_eq!((*code, *class), (0x45, ErrorClass::BadData));
            assert!(text.contains("оплаты"), "{text}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(model.lock().unwrap().last_fd, 10);
    // The receipt is left open for the caller to cancel.
    assert!(d.status().unwrap().receipt_open);
    d.cancel_receipt().unwrap();
    assert!(!d.status().unwrap().receipt_open);
    assert!(matches!(d.cancel_receipt(), Err(KktError::BadReceipt(_))));
}

#[test]
fn failure_inside_the_receipt_cancels_it() {
    let model = open_model();
    model.lock().unwrap().fail_once.push((0xFF46, 0x6B));
    let mut d = driver(model.clone());
    let err = d
        .print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .unwrap_err();
    assert_eq!(err.class(), ErrorClass::Paper);
    assert!(err.is_recoverable());
    assert!(!model.lock().unwrap().receipt_open);
    assert_eq!(*codes(&d).last().unwrap(), 0x88);
}

#[test]
fn busy_printing_is_waited_out_by_resending() {
    let model = open_model();
    model.lock().unwrap().fail_once.push((0x8D, 0x50));
    let mut d = driver(model);
    d.print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .expect("printed after busy");
    assert_eq!(codes(&d)[2..4], [0x8D, 0x8D]);
}

#[test]
fn bad_receipts_are_refused_before_anything_is_sent() {
    let model = open_model();
    let mut d = driver(model);
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.payments.cash = Money(100);
    assert!(matches!(d.print_receipt(&r), Err(KktError::BadReceipt(_))));
    let mut r = receipt(vec![position("Хлеб", 0, 5_000)]);
    r.payments.cash = Money(0);
    assert!(matches!(d.print_receipt(&r), Err(KktError::BadReceipt(_))));
    assert!(matches!(
        d.print_receipt(&receipt(vec![])),
        Err(KktError::BadReceipt(_))
    ));
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.buyer_contact = Some(format!("{}@example.ru", "a".repeat(80)));
    assert!(matches!(d.print_receipt(&r), Err(KktError::BadReceipt(_))));
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.positions[0].marking_code = Some("0".repeat(300));
    assert!(matches!(d.print_receipt(&r), Err(KktError::BadReceipt(_))));
    assert!(codes(&d).is_empty());
}

#[test]
fn shifts_open_and_close_with_fn_data_read_back() {
    let model = Arc::new(Mutex::new(Model {
        last_fd: 3,
        shift: 1,
        ..Model::default()
    }));
    let mut d = driver(model.clone());
    assert_eq!(
        d.shift_state().unwrap(),
        ShiftState::Closed { last_number: 1 }
    );
    let opened = d.open_shift("Иванова").unwrap();
    assert_eq!(opened.shift_number, 2);
    assert_eq!(opened.doc.number, 4);
    assert_eq!(codes(&d)[1..4], [0xFF41, 0xFF0C, 0xE0]);
    d.print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .unwrap();
    let closed = d.close_shift("Иванова").unwrap();
    assert_eq!(closed.shift_number, 2);
    assert_eq!(closed.doc.number, 6);
    assert_eq!(closed.receipts_in_shift, 1);
    assert_eq!(closed.documents_in_shift, 3);
    let doc = d.read_document(5).unwrap();
    assert_eq!(doc.kind, DocumentKind::Receipt);
    assert_eq!(doc.operation, Some(Operation::Income));
    assert_eq!(doc.total, Some(Money(5_000)));
    let missing = d.read_document(99).unwrap_err();
    assert!(matches!(missing, KktError::Device { code: 0x08, .. }));
}

#[test]
fn unsupported_command_is_permanent() {
    let model = open_model();
    let mut d = driver(model);
    let err = d.x_report().unwrap_err();
    assert_eq!(err.class(), ErrorClass::Unsupported);
    assert!(!err.is_recoverable());
    assert!(err.message_ru().contains("не поддерживается"));
}

#[test]
fn a_receipt_left_open_is_cancelled_before_the_next_one() {
    let model = open_model();
    model.lock().unwrap().receipt_open = true;
    let mut d = driver(model.clone());
    let printed = d
        .print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .expect("printed");
    assert_eq!(printed.doc.number, 11);
    assert_eq!(codes(&d)[..3], [0x10, 0x88, 0x10]);
}

#[test]
fn open_shift_state_reports_when_it_was_opened() {
    let model = Arc::new(Mutex::new(Model {
        last_fd: 3,
        shift: 1,
        ..Model::default()
    }));
    let mut d = driver(model);
    d.open_shift("Иванова").unwrap();
    for _ in 0..3 {
        d.print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
            .unwrap();
    }
    d.link_mut().port_mut().requests.clear();
    let st = d.shift_state().unwrap();
    assert_eq!(
        st,
        ShiftState::Open {
            number: 2,
            opened_at: Some(t0()),
            receipts: 3
        }
    );
    // One archive lookup: the open document sits `receipts` below the last FD.
    assert_eq!(codes(&d).iter().filter(|c| **c == 0xFF0A).count(), 1);
}

/// 0xFF46 tax bytes the vendor driver sends (`getVatCodeShtrih`,
/// `getVatCodeShtrihNano`), in `initVatRates` order.
const VENDOR_TAX_BYTES: [u8; 12] = [
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x81, 0x82, 0x84, 0x88, 0xCB, 0xCC,
];
const VENDOR_TAX_BYTES_NANO: [u8; 12] = [
    0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x81, 0x82, 0x84, 0x88, 0x90, 0xA0,
];
fn tax_bytes_on_the_wire(model_id: Option<u8>) -> (Vec<u8>, Vec<u16>) {
    let model = open_model();
    model.lock().unwrap().model_id = model_id;
    let mut d = driver(model);
    let positions = shtrih::tax_code::RATES
        .iter()
        .map(|v| {
            let mut p = position("Товар", 1_000_000, 100);
            p.vat = *v;
            p
        })
        .collect();
    d.print_receipt(&receipt(positions)).expect("printed");
    let reqs = &d.link().port().requests;
    let bytes = reqs
        .iter()
        .filter(|f| f.code.0 == 0xFF46)
        .map(|f| parse_request::<OperationV2>(f).unwrap().1.tax)
        .collect();
    (bytes, codes(&d))
}

#[test]
fn every_tax_byte_on_the_wire_is_the_vendor_drivers() {
    let (bytes, codes) = tax_bytes_on_the_wire(None);
    assert_eq!(bytes, VENDOR_TAX_BYTES);
    // The model is asked once, before the receipt opens.
    assert_eq!(codes.iter().filter(|c| **c == 0xFC).count(), 1);
    let fc = codes.iter().position(|c| *c == 0xFC).unwrap();
    let open = codes.iter().position(|c| *c == 0x8D).unwrap();
    assert!(fc < open);
}

#[test]
fn shtrih_nano_f_gets_its_own_22_percent_codes() {
    let (bytes, _) = tax_bytes_on_the_wire(Some(152));
    assert_eq!(bytes, VENDOR_TAX_BYTES_NANO);
}

#[test]
fn a_receipt_without_22_percent_does_not_ask_the_model() {
    let model = open_model();
    let mut d = driver(model);
    d.print_receipt(&receipt(vec![position("Хлеб", 1_000_000, 5_000)]))
        .expect("printed");
    assert!(!codes(&d).contains(&0xFC));
}

fn measured_receipt() -> Receipt {
    let mut p = position("Сыр", 250_000, 80_000);
    p.measure = Some(kkt::MeasureUnit::KILOGRAM);
    let mut r = receipt(vec![p, position("Хлеб", 1_000_000, 5_000)]);
    r.cashier = None;
    r.buyer_contact = None;
    r
}

#[test]
fn measure_goes_right_after_its_operation_on_ffd_1_2() {
    let model = open_model();
    model.lock().unwrap().ffd = Some(4);
    let mut d = driver(model);
    d.print_receipt(&measured_receipt()).expect("printed");
    assert_eq!(
        codes(&d),
        vec![
            0x10, 0x1F, 0xFF01, 0x8D, 0xFF46, 0xFF4D, 0xFF46, 0xFF45, 0xFF40
        ]
    );
    let reqs = &d.link().port().requests;
    // Table 17, row 1, field 17: the FFD version.
    assert_eq!(&reqs[1].payload[4..], &[17, 1, 0, 17]);
    // Password, then tag 2108 (0x083C), length 1, 11 = kilogram.
    assert_eq!(reqs[5].payload, vec![30, 0, 0, 0, 0x3C, 0x08, 1, 0, 11]);
}

#[test]
fn pieces_are_left_to_the_devices_default() {
    // The vendor's FFD 1.2 note: 2108 defaults to 0 (pieces); its JavaPOS
    // driver sends the tag only for another measure. A receipt of pieces
    // sends no 0xFF4D and need not even ask the FFD version.
    let model = open_model();
    model.lock().unwrap().ffd = Some(4);
    let mut d = driver(model);
    let mut r = measured_receipt();
    for p in &mut r.positions {
        p.measure = Some(kkt::MeasureUnit::PIECE);
    }
    d.print_receipt(&r).expect("printed");
    assert_eq!(
        codes(&d),
        vec![0x10, 0xFF01, 0x8D, 0xFF46, 0xFF46, 0xFF45, 0xFF40]
    );
}

#[test]
fn measure_is_not_sent_to_an_older_ffd() {
    for ffd in [Some(2), None] {
        let model = open_model();
        model.lock().unwrap().ffd = ffd;
        let mut d = driver(model);
        d.print_receipt(&measured_receipt()).expect("printed");
        assert!(!codes(&d).contains(&0xFF4D), "ffd {ffd:?}");
    }
}

#[test]
fn header_before_the_receipt_footer_after_it_then_a_cut() {
    let model = open_model();
    let mut d = driver(model);
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.cashier = None;
    r.buyer_contact = None;
    r.header = vec!["Магазин «Ромашка»".into(), "Я".repeat(45)];
    r.footer = vec!["Спасибо за покупку!".into()];
    d.print_receipt(&r).expect("printed");
    assert_eq!(
        codes(&d),
        vec![
            0x10, 0x17, 0x17, 0x17, 0xFF01, 0x8D, 0xFF46, 0xFF45, 0x17, 0x25, 0xFF40
        ]
    );
    let reqs = &d.link().port().requests;
    let lines: Vec<String> = reqs
        .iter()
        .filter(|f| f.code.0 == 0x17)
        .map(|f| parse_request::<PrintLine>(f).unwrap().1.text)
        .collect();
    assert_eq!(
        lines,
        vec![
            "Магазин «Ромашка»".to_string(),
            "Я".repeat(40),
            "Я".repeat(5),
            "Спасибо за покупку!".to_string()
        ]
    );
    // Receipt tape (flag bit 1).
    assert_eq!(reqs[1].payload[4], 0x02);
}

#[test]
fn a_footer_that_fails_to_print_does_not_unprint_the_receipt() {
    let model = open_model();
    model.lock().unwrap().fail_once.push((0x17, 0x6B));
    let mut d = driver(model.clone());
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.footer = vec!["Спасибо!".into()];
    let printed = d.print_receipt(&r).expect("the receipt is fiscal");
    assert_eq!(printed.doc.number, 11);
}

#[test]
fn a_header_that_fails_stops_before_anything_fiscal() {
    let model = open_model();
    model.lock().unwrap().fail_once.push((0x17, 0x6B));
    let mut d = driver(model.clone());
    let mut r = receipt(vec![position("Хлеб", 1_000_000, 5_000)]);
    r.header = vec!["Магазин".into()];
    assert!(d.print_receipt(&r).is_err());
    assert!(!codes(&d).contains(&0x8D));
    assert_eq!(model.lock().unwrap().last_fd, 10);
}

#[test]
fn a_long_cyrillic_name_is_cut_to_128_characters() {
    let model = open_model();
    let mut d = driver(model);
    let name = format!("{}₽", "Ж".repeat(127));
    d.print_receipt(&receipt(vec![position(&name, 1_000_000, 5_000)]))
        .expect("printed");
    let reqs = &d.link().port().requests;
    let op = reqs.iter().find(|f| f.code.0 == 0xFF46).unwrap();
    // 4 password + 26 fixed bytes, then 127 × 'Ж' (0xC6): "₽" would need
    // two bytes ("р.") and is dropped whole rather than halved.
    assert_eq!(op.payload.len(), 4 + 26 + 127);
    assert!(op.payload[30..].iter().all(|b| *b == 0xC6));
}
