//! Driver against an in-memory device (`link::responder::Responder`) that
//! answers like a Shtrih-M: checks the command sequences the driver sends
//! and how it maps answers and errors, without a PTY.

use jiff::civil::date;
use kkt::{
    DocumentKind, ErrorClass, Kkt, KktError, Money, Operation, PaymentMethod, PaymentObject,
    Payments, Position, Quantity, Receipt, ReceiptKind, ShiftState, TaxSystem, VatRate,
};
use shtrih::commands::*;
use shtrih::driver::{DriverConfig, ShtrihDriver};
use shtrih::frame::Frame;
use shtrih::link::responder::Responder;
use shtrih::link::{Link, LinkConfig};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A minimal device model the handler closure works on.
#[derive(Debug, Default)]
struct Model {
    last_fd: u32,
    shift_open: bool,
    shift: u16,
    receipts: u16,
    receipt_open: bool,
    receipt_total: u64,
    receipt_op: u8,
    awaiting_continue: bool,
    /// Error byte to answer the next command with this code (once).
    fail_once: Vec<(u16, u8)>,
    /// 0xFF45 signs the receipt, then answers this error (paper ran out
    /// while printing).
    close_signs_then_fails: Option<u8>,
    docs: Vec<FoundDocument>,
}

fn t0() -> jiff::civil::DateTime {
    date(2026, 11, 24).at(10, 30, 0, 0)
}

impl Model {
    fn sign(&mut self, doc_type: u8, details: DocumentDetails) -> FoundDocument {
        self.last_fd += 1;
        let d = FoundDocument {
            doc_type,
            ofd_receipt_received: false,
            time: t0(),
            number: self.last_fd,
            fiscal_sign: 1_000_000 + self.last_fd * 7,
            details,
        };
        self.docs.push(d.clone());
        d
    }

    fn handle(&mut self, f: &Frame) -> Frame {
        if let Some(i) = self.fail_once.iter().position(|(c, _)| *c == f.code.0) {
            let (_, err) = self.fail_once.remove(i);
            return error_frame(f.code, err);
        }
        match f.code.0 {
            0x10 => answer_frame::<ShortStatus>(&ShortStatusAnswer {
                operator: 30,
                flags: PrinterFlags(0x0003),
                mode: Mode(if self.receipt_open {
                    8
                } else if self.shift_open {
                    2
                } else {
                    4
                }),
                submode: Submode(if self.awaiting_continue { 3 } else { 0 }),
                ..Default::default()
            }),
            0xB0 => {
                self.awaiting_continue = false;
                answer_frame::<ContinuePrint>(&Operator { operator: 30 })
            }
            0xFF01 => answer_frame::<FnStatus>(&FnStatusAnswer {
                phase: 3,
                current_document: if self.receipt_open { 4 } else { 0 },
                shift_open: self.shift_open,
                serial: "9999078900001234".into(),
                last_fd_number: self.last_fd,
                clock: Some(t0()),
                ..Default::default()
            }),
            0xFF40 => answer_frame::<ShiftParams>(&ShiftParamsAnswer {
                shift_open: self.shift_open,
                shift_number: self.shift,
                receipt_number: self.receipts,
            }),
            0xFF0A => {
                let (_, req) = parse_request::<FindDocument>(f).expect("find request");
                match self.docs.iter().find(|d| d.number == req.number) {
                    Some(d) => answer_frame::<FindDocument>(d),
                    None => error_frame(f.code, 0x08),
                }
            }
            0xFF41 | 0xFF42 | 0xFF0C => Frame::new(f.code, vec![0]),
            0xE0 => {
                self.shift_open = true;
                self.shift += 1;
                self.receipts = 0;
                let n = self.shift;
                self.sign(2, DocumentDetails::Shift { number: n });
                Frame::new(f.code, vec![0])
            }
            0x41 => {
                self.shift_open = false;
                let n = self.shift;
                self.sign(5, DocumentDetails::Shift { number: n });
                answer_frame::<ZReport>(&Operator { operator: 30 })
            }
            0x8D => {
                self.receipt_open = true;
                self.receipt_total = 0;
                answer_frame::<OpenReceipt>(&Operator { operator: 30 })
            }
            0xFF46 => {
                let (_, op) = parse_request::<OperationV2>(f).expect("operation request");
                self.receipt_total += op.sum.unwrap_or(0);
                self.receipt_op = op.operation;
                Frame::new(f.code, vec![0])
            }
            0xFF61 => answer_frame::<CheckMarkingCode>(&MarkingCheckAnswer {
                local_result: 3,
                ..Default::default()
            }),
            0xFF69 => answer_frame::<AcceptMarkingCode>(&AcceptMarkingAnswer { result: 3 }),
            0xFF67 => answer_frame::<BindMarkingCode>(&BindMarkingAnswer::default()),
            0xFF45 => {
                self.receipt_open = false;
                self.receipts += 1;
                let (op, total) = (self.receipt_op, self.receipt_total);
                let d = self.sign(
                    3,
                    DocumentDetails::Receipt {
                        operation: op,
                        total,
                    },
                );
                if let Some(err) = self.close_signs_then_fails.take() {
                    self.awaiting_continue = true;
                    return error_frame(f.code, err);
                }
                answer_frame::<CloseReceiptV2>(&CloseReceiptAnswer {
                    change: 0,
                    fd_number: d.number,
                    fiscal_sign: d.fiscal_sign,
                    time: Some(d.time),
                })
            }
            0x88 => {
                self.receipt_open = false;
                answer_frame::<CancelReceipt>(&Operator { operator: 30 })
            }
            _ => error_frame(f.code, 0x37),
        }
    }
}

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

fn position(name: &str, qty: i64, price: i64) -> Position {
    let quantity = Quantity(qty);
    Position {
        name: name.into(),
        quantity,
        price: Money(price),
        sum: quantity.times(Money(price)).expect("sum"),
        vat: VatRate::Vat20,
        method: PaymentMethod::FullPayment,
        object: PaymentObject::COMMODITY,
        marking_code: None,
    }
}

fn receipt(positions: Vec<Position>) -> Receipt {
    let total: i64 = positions.iter().map(|p| p.sum.0).sum();
    Receipt {
        kind: ReceiptKind::Sale,
        tax_system: TaxSystem::SimplifiedIncome,
        positions,
        payments: Payments {
            cash: Money(total),
            ..Payments::default()
        },
        buyer_contact: Some("+79001234567".into()),
        cashier: Some("Иванова".into()),
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
