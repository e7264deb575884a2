//! The driver against the `sim-atol` Web-server stand-in over real HTTP on
//! loopback: every `Kkt` method, every fault, and the exactly-once paths
//! (repeated posts, lost results, a server restart with requests in flight).

use atol::driver::request_uuid;
use atol::envelope::TaskStatus;
use atol::receipt_task::receipt_task;
use atol::transport::WebServer;
use atol::{AtolDriver, WebServerConfig};
use kkt::{
    DocumentKind, ErrorClass, Kkt, MeasureUnit, Money, Operation, PaymentMethod, PaymentObject,
    Payments, Position, Quantity, Receipt, ReceiptKind, ShiftState, TaxSystem, VatRate,
};
use sim_atol::{AtolServer, Faults, ServerOptions};
use std::time::Duration;

fn server() -> AtolServer {
    AtolServer::start(ServerOptions::loopback()).expect("stand-in starts")
}

fn config(url: &str) -> WebServerConfig {
    let mut cfg = WebServerConfig::new(url);
    cfg.poll_interval = Duration::from_millis(5);
    cfg.task_timeout = Duration::from_secs(10);
    cfg
}

fn driver(s: &AtolServer) -> AtolDriver {
    AtolDriver::new(config(&s.url())).expect("driver")
}

fn position(name: &str, price: i64, qty_millionths: i64, vat: VatRate) -> Position {
    Position::commodity(name, Quantity(qty_millionths), Money(price), vat).expect("sum")
}

fn sale(kind: ReceiptKind) -> Receipt {
    let mut p2 = position("Бананы", 7315, 1_100_000, VatRate::Vat22);
    p2.measure = Some(MeasureUnit::KILOGRAM);
    let positions = vec![position("Хлеб", 4550, 1_000_000, VatRate::Vat10), p2];
    let total = positions.iter().map(|p| p.sum.0).sum();
    Receipt {
        kind,
        tax_system: TaxSystem::General,
        positions,
        payments: Payments {
            cash: Money(total),
            ..Payments::default()
        },
        buyer_contact: Some("buyer@example.com".into()),
        cashier: Some("Кассир Иванова".into()),
        header: vec!["Магазин «Ромашка»".into()],
        footer: vec!["Спасибо за покупку".into()],
    }
}

fn open_shift(d: &mut AtolDriver) {
    d.open_shift("Кассир").expect("shift opens");
}

#[test]
fn queries_describe_the_device_fn_and_shift() {
    let s = server();
    let mut d = driver(&s);
    let info = d.device_info().unwrap();
    assert_eq!(info.model, "АТОЛ 30Ф");
    assert_eq!(info.ffd_version, "1.2");
    assert!(info.clock.is_some());
    let st = d.status().unwrap();
    assert!(st.paper_present && !st.cover_open && !st.awaiting_continue && !st.receipt_open);
    let fi = d.fn_info().unwrap();
    assert_eq!(fi.serial, "9960440300000001");
    assert_eq!(fi.last_fd_number, 1, "registration report only");
    assert!(fi.valid_until.is_some());
    assert_eq!(fi.ofd_unsent_count, 0);
    assert_eq!(
        d.shift_state().unwrap(),
        ShiftState::Closed { last_number: 0 }
    );
}

#[test]
fn shift_receipts_reports_and_archive_work_end_to_end() {
    let s = server();
    let mut d = driver(&s);
    let opened = d.open_shift("Кассир Иванова").unwrap();
    assert_eq!(opened.shift_number, 1);
    assert_eq!(opened.doc.number, 2);
    let ShiftState::Open {
        number,
        receipts,
        opened_at,
        ..
    } = d.shift_state().unwrap()
    else {
        panic!("shift not open")
    };
    assert_eq!((number, receipts), (1, 0));
    assert!(opened_at.is_some());

    let mut fds = Vec::new();
    for kind in [
        ReceiptKind::Sale,
        ReceiptKind::SaleReturn,
        ReceiptKind::Prepayment,
        ReceiptKind::PrepaymentReturn,
    ] {
        let mut r = sale(kind);
        if matches!(
            kind,
            ReceiptKind::Prepayment | ReceiptKind::PrepaymentReturn
        ) {
            for p in &mut r.positions {
                p.method = PaymentMethod::FullPrepayment;
            }
        }
        let printed = d.print_receipt(&r).unwrap();
        assert_eq!(printed.total, r.total().unwrap());
        assert_eq!(printed.shift_number, 1);
        let archived = d.read_document(printed.doc.number).unwrap();
        assert_eq!(archived.kind, DocumentKind::Receipt);
        assert_eq!(
            archived.doc, printed.doc,
            "archive agrees with fiscalParams"
        );
        assert_eq!(archived.operation, Some(kind.operation()));
        assert_eq!(archived.total, Some(r.total().unwrap()));
        fds.push(printed.doc.number);
    }
    assert_eq!(fds, vec![3, 4, 5, 6]);
    assert_eq!(
        d.read_document(4).unwrap().operation,
        Some(Operation::IncomeReturn)
    );
    d.x_report().unwrap();
    d.cash_in(Money(100_000)).unwrap();
    d.cash_out(Money(5_000)).unwrap();
    d.print_test(&["проверка печати"]).unwrap();
    let closed = d.close_shift("Кассир").unwrap();
    assert_eq!(closed.shift_number, 1);
    assert_eq!(closed.receipts_in_shift, 4);
    assert_eq!(closed.documents_in_shift, 6, "open + 4 receipts + close");
    assert_eq!(closed.doc.number, 7);
    assert_eq!(d.read_document(7).unwrap().kind, DocumentKind::ShiftClose);
    assert!(d.read_document(99).is_err());
}

#[test]
fn receipt_task_carries_every_ffd_field() {
    let mut r = sale(ReceiptKind::SaleReturn);
    r.positions[0].marking_code = Some("0104606000600021N4N57RSCBUZTQ".into());
    r.positions[0].object = PaymentObject::MARKED;
    r.payments = Payments {
        cash: Money(1000),
        electronic: Money(2000),
        prepayment_offset: Money(3000),
        credit: Money(r.total().unwrap().0 - 6000),
    };
    let json = serde_json::to_value(receipt_task(&r).unwrap()).unwrap();
    assert_eq!(json["type"], "sellReturn");
    assert_eq!(json["taxationType"], "osn");
    assert_eq!(json["operator"]["name"], "Кассир Иванова");
    assert_eq!(json["clientInfo"]["emailOrPhone"], "buyer@example.com");
    let items = json["items"].as_array().unwrap();
    assert_eq!(items[0]["type"], "text");
    assert_eq!(items[0]["text"], "Магазин «Ромашка»");
    assert_eq!(items[3]["text"], "Спасибо за покупку");
    let p = &items[1];
    assert_eq!(p["price"], serde_json::json!(45.5));
    assert_eq!(p["tax"]["type"], "vat10");
    assert_eq!(p["paymentObject"], "commodityWithMarking");
    assert_eq!(p["imcParams"]["itemEstimatedStatus"], "itemPieceReturn");
    let bananas = &items[2];
    assert_eq!(bananas["quantity"], serde_json::json!(1.1));
    assert_eq!(bananas["amount"], serde_json::json!(80.47));
    assert_eq!(bananas["measurementUnit"], 11);
    assert_eq!(bananas["tax"]["type"], "vat22");
    let kinds: Vec<&str> = json["payments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["cash", "electronically", "prepaid", "credit"]);
}

#[test]
fn underpaid_receipt_is_refused_before_posting() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let mut r = sale(ReceiptKind::Sale);
    r.payments.cash = Money(1);
    let e = d.print_receipt(&r).unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadData);
    assert_eq!(d.fn_info().unwrap().last_fd_number, 2, "nothing signed");
}

#[test]
fn closed_and_expired_shifts_are_reported_with_their_class() {
    let s = server();
    let mut d = driver(&s);
    let e = d.print_receipt(&sale(ReceiptKind::Sale)).unwrap_err();
    assert!(e.is_recoverable(), "closed shift: open one and retry: {e}");
    open_shift(&mut d);
    s.clock().advance(25 * 3600);
    assert!(matches!(
        d.shift_state().unwrap(),
        ShiftState::Expired { .. }
    ));
    let e = d.print_receipt(&sale(ReceiptKind::Sale)).unwrap_err();
    assert_eq!(e.class(), ErrorClass::ShiftExpired);
    d.close_shift("Кассир").unwrap();
    open_shift(&mut d);
    d.print_receipt(&sale(ReceiptKind::Sale)).unwrap();
}

#[test]
fn paper_out_and_cover_open_are_recoverable_and_retry_prints_once() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    s.set_faults(Faults {
        paper_out: true,
        ..Faults::default()
    });
    let e = d.print_receipt(&r).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Paper);
    assert!(e.message_ru().contains("Нет бумаги"), "{}", e.message_ru());
    assert!(!d.status().unwrap().paper_present);
    s.set_faults(Faults {
        cover_open: true,
        ..Faults::default()
    });
    assert_eq!(d.print_receipt(&r).unwrap_err().class(), ErrorClass::Cover);
    assert!(d.status().unwrap().cover_open);
    s.set_faults(Faults::default());
    // The same receipt again: the spent uuids are skipped, one document made.
    let printed = d.print_receipt(&r).unwrap();
    assert_eq!(printed.doc.number, 3);
    assert_eq!(d.fn_info().unwrap().last_fd_number, 3);
}

#[test]
fn paper_out_mid_receipt_keeps_the_document_and_continue_print_resumes() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    s.set_faults(Faults {
        paper_out_mid_receipt: true,
        ..Faults::default()
    });
    let printed = d.print_receipt(&sale(ReceiptKind::Sale)).unwrap();
    assert_eq!(
        printed.doc.number, 3,
        "the FN signed it: it must be approved"
    );
    let st = d.status().unwrap();
    assert!(st.awaiting_continue && !st.paper_present);
    assert_eq!(d.continue_print().unwrap_err().class(), ErrorClass::Paper);
    s.with_device(|dev| dev.faults.paper_out = false);
    d.continue_print().unwrap();
    assert!(!d.status().unwrap().awaiting_continue);
    assert_eq!(d.fn_info().unwrap().last_fd_number, 3);
}

#[test]
fn fn_errors_are_permanent_and_named() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    s.set_faults(Faults {
        fn_error: Some(atol::error_codes::code::FN_EXPIRED),
        ..Faults::default()
    });
    let e = d.print_receipt(&sale(ReceiptKind::Sale)).unwrap_err();
    assert_eq!(e.class(), ErrorClass::FiscalStorage);
    assert!(!e.is_recoverable());
    assert!(
        e.message_ru().contains("срок эксплуатации ФН"),
        "{}",
        e.message_ru()
    );
}

#[test]
fn same_key_twice_prints_one_receipt() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    let first = d.print_receipt_keyed(&r, "op-1/1").unwrap();
    // The agent crashed after the print and asks again with the same key.
    let mut d2 = driver(&s);
    let second = d2.print_receipt_keyed(&r, "op-1/1").unwrap();
    assert_eq!(first, second);
    assert_eq!(d2.fn_info().unwrap().last_fd_number, 3);
    let third = d2.print_receipt_keyed(&r, "op-2/1").unwrap();
    assert_eq!(third.doc.number, 4, "another key is another receipt");
}

#[test]
fn request_posted_before_a_crash_is_waited_for_not_reposted() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    // The agent posts and dies before the server runs the task.
    s.hold(true);
    let web = WebServer::new(config(&s.url())).unwrap();
    let uuid = request_uuid("op-7/1", 0);
    web.post(&uuid, &[receipt_task(&r).unwrap()]).unwrap();
    assert_eq!(s.request_statuses(&uuid), Some(vec![TaskStatus::Wait]));
    // The restarted agent asks again while the task still waits; the
    // server resumes only later, and the agent must wait, not re-post.
    let printed = std::thread::scope(|scope| {
        scope.spawn(|| {
            std::thread::sleep(Duration::from_millis(150));
            assert_eq!(s.request_statuses(&uuid), Some(vec![TaskStatus::Wait]));
            s.hold(false);
        });
        driver(&s).print_receipt_keyed(&r, "op-7/1").unwrap()
    });
    assert_eq!(printed.doc.number, 3);
    assert_eq!(
        d.fn_info().unwrap().last_fd_number,
        3,
        "exactly one receipt"
    );
}

#[test]
fn lost_result_falls_back_to_the_fn_archive() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    s.lose_next_result();
    let printed = d.print_receipt_keyed(&r, "op-9/1").unwrap();
    assert_eq!(printed.doc.number, 3);
    assert_eq!(printed.total, r.total().unwrap());
    assert_eq!(printed.receipt_number, 1);
    assert_eq!(d.fn_info().unwrap().last_fd_number, 3);
}

#[test]
fn restart_with_requests_in_flight_keeps_fn_and_queue() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("atol.json");
    let mut opts = ServerOptions::loopback();
    opts.state_file = Some(state.clone());
    let s = AtolServer::start(opts.clone()).unwrap();
    let mut d = driver(&s);
    open_shift(&mut d);
    s.hold(true);
    let web = WebServer::new(config(&s.url())).unwrap();
    let uuid = request_uuid("op-r/1", 0);
    let r = sale(ReceiptKind::Sale);
    web.post(&uuid, &[receipt_task(&r).unwrap()]).unwrap();
    s.stop();

    let s = AtolServer::start(opts).unwrap();
    assert_eq!(s.request_statuses(&uuid), Some(vec![TaskStatus::Wait]));
    s.hold(false);
    let mut d = driver(&s);
    let printed = d.print_receipt_keyed(&r, "op-r/1").unwrap();
    assert_eq!(printed.doc.number, 3, "shift and FN survived the restart");
    assert_eq!(d.fn_info().unwrap().last_fd_number, 3);
}

#[test]
fn basic_auth_is_sent_and_checked() {
    let mut opts = ServerOptions::loopback();
    opts.credentials = Some(("kassa".into(), "s3cret".into()));
    let s = AtolServer::start(opts).unwrap();
    let mut anonymous = driver(&s);
    let e = anonymous.status().unwrap_err();
    assert!(e.to_string().contains("401"), "{e}");
    assert!(!e.to_string().contains("s3cret"));
    let mut cfg = config(&s.url());
    cfg.credentials = Some(("kassa".into(), "s3cret".into()));
    cfg.device_id = Some("kkt-1".into());
    assert!(!format!("{cfg:?}").contains("s3cret"));
    let mut d = AtolDriver::new(cfg).unwrap();
    assert!(d.status().unwrap().paper_present);
}

#[test]
fn unreachable_server_is_a_recoverable_link_error() {
    let s = server();
    let url = s.url();
    s.stop();
    let mut cfg = config(&url);
    cfg.http_timeout = Duration::from_secs(2);
    let mut d = AtolDriver::new(cfg).unwrap();
    let e = d.status().unwrap_err();
    assert_eq!(e.class(), ErrorClass::Link);
    assert!(e.is_recoverable());
}

#[test]
fn marking_codes_are_checked_accepted_and_sent_with_their_verdict() {
    use atol::task::{Item, Task, imc_base64};
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    // A code with its crypto tail after a GS separator, and one the OISM
    // says was withdrawn from circulation.
    let good = "0104606203084625215Nd/hUQS!\u{1d}93dGVz";
    let withdrawn = "010460620308462521WITHDRAWN";
    let mut r = sale(ReceiptKind::Sale);
    r.positions = vec![
        position("Молоко", 9990, 1_000_000, VatRate::Vat10),
        position("Пиво", 12000, 1_000_000, VatRate::Vat22),
    ];
    for (p, code) in r.positions.iter_mut().zip([good, withdrawn]) {
        p.marking_code = Some(code.into());
        p.object = PaymentObject::MARKED;
    }
    r.payments.cash = Money(9990 + 12000);
    let printed = d.print_receipt_keyed(&r, "op-m/1").expect("printed");

    let tasks = s
        .request_tasks(&request_uuid("op-m/1", 0))
        .expect("the sell request");
    let Some(Task::Sell(sell)) = tasks.first() else {
        panic!("not a sell: {tasks:?}")
    };
    let imcs: Vec<_> = sell
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Position(p) => p.imc_params.clone(),
            Item::Text(_) => None,
        })
        .collect();
    assert_eq!(imcs.len(), 2);
    assert_eq!(
        imcs[0].code.imc,
        imc_base64(good),
        "Base64 keeps the GS byte"
    );
    assert_eq!(imcs[0].code.imc_type, "auto");
    let verdict = |i: usize| imcs[i].item_info_check_result.expect("verdict sent");
    assert!(verdict(0).imc_check_result && verdict(0).imc_estimated_status_correct);
    assert!(verdict(1).imc_check_flag && !verdict(1).imc_estimated_status_correct);
    assert!(
        s.with_device(|dev| dev.marking.accepted.is_empty()),
        "the receipt used both accepted codes"
    );

    // Asked again with the same key after a crash: the same receipt, and no
    // code is checked (and left accepted) a second time.
    let again = driver(&s)
        .print_receipt_keyed(&r, "op-m/1")
        .expect("same receipt");
    assert_eq!(again, printed);
    assert!(s.with_device(|dev| dev.marking.accepted.is_empty()));

    // A code the FN's own check refuses: nothing is signed.
    let last = d.fn_info().unwrap().last_fd_number;
    r.positions[1].marking_code = Some("010460620308462521BAD".into());
    let e = d.print_receipt_keyed(&r, "op-m/2").unwrap_err();
    assert_eq!(e.class(), ErrorClass::BadData);
    assert!(
        e.message_ru()
            .contains("код маркировки позиции «Пиво» не прошёл проверку ФН"),
        "{}",
        e.message_ru()
    );
    assert_eq!(d.fn_info().unwrap().last_fd_number, last);
    assert!(s.with_device(|dev| dev.marking.accepted.is_empty()));
}

#[test]
fn a_marked_position_nobody_checked_is_refused_by_the_stand_in() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let mut r = sale(ReceiptKind::Sale);
    r.positions[0].marking_code = Some("0104606203084625215Nd".into());
    r.positions[0].object = PaymentObject::MARKED;
    // Posted straight to the Web-server, skipping the driver's check.
    let task = receipt_task(&r).unwrap();
    let ws = WebServer::new(config(&s.url())).unwrap();
    let state = ws.run("unchecked-1", &[task]).unwrap();
    assert_eq!(state.results[0].status, TaskStatus::Error);
    let text = state.results[0]
        .error
        .as_ref()
        .map(|e| e.description.clone())
        .unwrap_or_default();
    assert!(text.contains("не проверен"), "{text}");
}

/// `blocked` is not a final state: a receipt request the server holds
/// blocked is waited for, never posted again, and printed once when the
/// server lets it run.
#[test]
fn a_blocked_request_is_waited_for_not_reposted() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    s.block_next();
    let uuid = request_uuid("op-b/1", 0);
    let printed = std::thread::scope(|scope| {
        scope.spawn(|| {
            let deadline = std::time::Instant::now() + Duration::from_secs(5);
            while s.blocked_requests() == 0 {
                assert!(std::time::Instant::now() < deadline, "never blocked");
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(s.request_statuses(&uuid), Some(vec![TaskStatus::Blocked]));
            // The driver keeps asking meanwhile; nothing is signed or posted.
            std::thread::sleep(Duration::from_millis(200));
            assert_eq!(s.queued_requests(), 1);
            assert_eq!(s.with_device(|dev| dev.fn_storage.last_fd()), 2);
            s.unblock();
        });
        driver(&s).print_receipt_keyed(&r, "op-b/1").unwrap()
    });
    assert_eq!(printed.doc.number, 3);
    assert_eq!(s.request_statuses(&uuid), Some(vec![TaskStatus::Ready]));
    assert_eq!(
        d.fn_info().unwrap().last_fd_number,
        3,
        "exactly one receipt"
    );
}

/// One Web-server, two printers: `deviceID` picks the printer, each has
/// its own FN; no header means the first; an id it does not serve is
/// refused without touching either.
#[test]
fn several_printers_behind_one_server_keep_their_own_fn() {
    let mut opts = ServerOptions::loopback();
    opts.device_ids = vec!["kkt-1".into(), "kkt-2".into()];
    let s = AtolServer::start(opts).unwrap();
    let on = |id: Option<&str>| {
        let mut cfg = config(&s.url());
        cfg.device_id = id.map(str::to_string);
        AtolDriver::new(cfg).unwrap()
    };
    let (mut first, mut second, mut plain) = (on(Some("kkt-1")), on(Some("kkt-2")), on(None));
    let fn1 = first.fn_info().unwrap().serial;
    let fn2 = second.fn_info().unwrap().serial;
    assert_ne!(fn1, fn2);
    assert_eq!(plain.fn_info().unwrap().serial, fn1);
    assert_ne!(
        first.device_info().unwrap().serial,
        second.device_info().unwrap().serial
    );
    open_shift(&mut second);
    let printed = second.print_receipt(&sale(ReceiptKind::Sale)).unwrap();
    assert_eq!(printed.doc.number, 3);
    assert!(matches!(
        second.shift_state().unwrap(),
        ShiftState::Open { .. }
    ));
    assert!(matches!(
        first.shift_state().unwrap(),
        ShiftState::Closed { .. }
    ));
    assert_eq!(first.fn_info().unwrap().last_fd_number, 1);
    assert_eq!(s.with_device_id("kkt-2", |d| d.fn_storage.last_fd()), 3);
    let e = on(Some("kkt-9")).status().unwrap_err();
    assert!(e.to_string().contains("kkt-9"), "{e}");
    assert_eq!(s.queued_requests(), 0);
}

/// Sends `body` to the stand-in's control endpoint; (HTTP status, reply).
fn control(s: &AtolServer, device: Option<&str>, body: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut tcp = std::net::TcpStream::connect(s.addr()).unwrap();
    let device = device.map_or(String::new(), |d| format!("deviceID: {d}\r\n"));
    write!(
        tcp,
        "POST {} HTTP/1.1\r\nHost: x\r\n{device}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        sim_atol::server::CONTROL_PATH,
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    tcp.read_to_string(&mut answer).unwrap();
    let status = answer[9..12].parse().unwrap();
    let reply = answer
        .split("\r\n\r\n")
        .nth(1)
        .unwrap_or_default()
        .to_string();
    (status, reply)
}

/// The fault switches over HTTP, as an engineer drives `emulate atol`:
/// paper out refuses the receipt, paper in lets the same one print once,
/// `status` and `archive` describe the printer, a bad command is a 400.
#[test]
fn faults_are_switched_over_http() {
    let s = server();
    let mut d = driver(&s);
    open_shift(&mut d);
    let r = sale(ReceiptKind::Sale);
    assert_eq!(control(&s, None, "paper-out\n"), (200, "ok\n".into()));
    assert_eq!(d.print_receipt(&r).unwrap_err().class(), ErrorClass::Paper);
    let (code, reply) = control(&s, None, "paper-in\nstatus");
    assert_eq!(code, 200);
    assert!(
        reply.contains("fn 9960440300000001 last-fd 2 shift 1 open"),
        "{reply}"
    );
    assert!(reply.contains("paper ok"), "{reply}");
    assert_eq!(d.print_receipt(&r).unwrap().doc.number, 3);
    let (_, archive) = control(&s, None, "archive");
    assert_eq!(archive.lines().filter(|l| l.starts_with("FD ")).count(), 3);
    assert!(archive.contains("FD 3 type 3"), "{archive}");
    let (code, reply) = control(&s, None, "paper-out now");
    assert_eq!(code, 400);
    assert!(reply.starts_with("error: too many arguments"), "{reply}");
    assert!(s.with_device(|dev| !dev.faults.paper_out), "nothing ran");
    let (code, reply) = control(&s, Some("kkt-7"), "paper-out");
    assert_eq!(
        (code, reply.as_str()),
        (200, "ok\n"),
        "one printer: deviceID not looked at"
    );
}
