//! Driver ↔ emulator over a real PTY pair: every `kkt::Kkt` method, and
//! every injected fault gives the right typed error and the driver (or the
//! caller's recovery through the FN archive) gets back on its feet without
//! printing anything twice.

mod common;

use kkt::{
    DocumentKind, ErrorClass, Kkt, KktError, Money, Operation, PaymentMethod, PaymentObject,
    Payments, Position, Receipt, ReceiptKind, ShiftState, TaxSystem, VatRate,
};
use shtrih::driver::{Baud, DriverConfig, ShtrihDriver};
use shtrih::frame::Code;
use sim_shtrih::{CutPoint, Emulator, EmulatorConfig, EmulatorHandle, doc_type};
use std::time::Duration;

struct Rig {
    _dir: tempfile::TempDir,
    emu: EmulatorHandle,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = EmulatorConfig::new(dir.path().join("kkt"))
        .state_file(dir.path().join("state.json"))
        .baud(0);
    let emu = Emulator::spawn(cfg).expect("emulator");
    Rig { _dir: dir, emu }
}

type Driver = shtrih::driver::SerialDriver;

fn connect(r: &Rig) -> Driver {
    let cfg = DriverConfig {
        busy_poll: Duration::from_millis(20),
        answer_timeout_limit: Some(Duration::from_secs(3)),
        ..DriverConfig::default()
    };
    ShtrihDriver::open(
        &r.emu.link_path().to_string_lossy(),
        Baud::Fixed(115_200),
        cfg,
    )
    .expect("open the emulator's PTY")
}

fn position(name: &str, qty: i64, price: i64, vat: VatRate) -> Position {
    Position {
        vat,
        ..common::receipts::position(name, qty, price)
    }
}

fn sale(kind: ReceiptKind, positions: Vec<Position>) -> Receipt {
    let total: i64 = positions.iter().map(|p| p.sum.0).sum();
    Receipt {
        kind,
        tax_system: TaxSystem::SimplifiedIncome,
        positions,
        payments: Payments {
            cash: Money(total - total / 2),
            electronic: Money(total / 2),
            ..Payments::default()
        },
        buyer_contact: Some("buyer@example.ru".into()),
        cashier: Some("Иванова И.И.".into()),
        header: Vec::new(),
        footer: Vec::new(),
    }
}

fn bread() -> Receipt {
    sale(
        ReceiptKind::Sale,
        vec![position(
            "Хлеб бородинский",
            2_000_000,
            4_550,
            VatRate::Vat10,
        )],
    )
}

fn ensure_shift(d: &mut Driver) {
    if let ShiftState::Closed { .. } = d.shift_state().expect("shift state") {
        d.open_shift("Иванова И.И.").expect("open shift");
    }
}

#[test]
fn every_trait_method_against_the_emulator() {
    let r = rig();
    let mut d = connect(&r);

    let info = d.device_info().expect("device info");
    assert!(!info.model.is_empty());
    assert_eq!(info.ffd_version, "1.2");
    let st = d.status().expect("status");
    assert!(st.paper_present && !st.cover_open && !st.receipt_open);
    let fi = d.fn_info().expect("fn info");
    assert_eq!(fi.serial, r.emu.fn_serial());
    assert_eq!(fi.last_fd_number, r.emu.last_fd());
    assert!(fi.valid_until.is_some());

    if let ShiftState::Open { .. } | ShiftState::Expired { .. } = d.shift_state().unwrap() {
        d.close_shift("Иванова И.И.").unwrap();
    }
    let opened = d.open_shift("Иванова И.И.").expect("open shift");
    let doc = r.emu.document(opened.doc.number).expect("in archive");
    assert_eq!(doc.kind, doc_type::SHIFT_OPEN);
    assert_eq!(doc.fiscal_sign, opened.doc.fiscal_sign);
    assert_eq!(u32::from(doc.shift_number), opened.shift_number);
    match d.shift_state().unwrap() {
        ShiftState::Open {
            number,
            receipts,
            opened_at,
        } => {
            assert_eq!((number, receipts), (opened.shift_number, 0));
            assert_eq!(opened_at, Some(opened.doc.time));
        }
        other => panic!("shift should be open: {other:?}"),
    }

    // Sale with a marked position, return, prepayment.
    let mut marked = position("Молоко 3,2%", 1_000_000, 9_990, VatRate::Vat20);
    marked.object = PaymentObject::MARKED;
    marked.marking_code = Some("0104600439931256215Abc123\u{1d}93dGVz".into());
    let r1 = sale(
        ReceiptKind::Sale,
        vec![position("Сыр", 350_000, 89_900, VatRate::Vat22), marked],
    );
    let p1 = d.print_receipt(&r1).expect("sale");
    let doc = r.emu.document(p1.doc.number).expect("sale in archive");
    assert_eq!(doc.kind, doc_type::RECEIPT);
    assert_eq!(doc.fiscal_sign, p1.doc.fiscal_sign);
    assert_eq!(doc.total, Some(r1.total().unwrap().0 as u64));
    assert_eq!(doc.operation, Some(1));
    assert_eq!(p1.receipt_number, 1);
    assert_eq!(p1.shift_number, opened.shift_number);

    let back = d.read_document(p1.doc.number).expect("read back");
    assert_eq!(back.kind, DocumentKind::Receipt);
    assert_eq!(back.doc, p1.doc);
    assert_eq!(back.operation, Some(Operation::Income));
    assert_eq!(back.total, r1.total());

    let ret = d
        .print_receipt(&sale(
            ReceiptKind::SaleReturn,
            vec![position("Сыр", 350_000, 89_900, VatRate::Vat22)],
        ))
        .expect("return");
    assert_eq!(r.emu.document(ret.doc.number).unwrap().operation, Some(2));
    assert_eq!(ret.receipt_number, 2);

    let mut pre = sale(
        ReceiptKind::Prepayment,
        vec![position(
            "Предоплата за торт",
            1_000_000,
            150_000,
            VatRate::Vat20_120,
        )],
    );
    pre.positions[0].method = PaymentMethod::FullPrepayment;
    pre.positions[0].object = PaymentObject::PAYMENT;
    let p3 = d.print_receipt(&pre).expect("prepayment");
    assert_eq!(p3.doc.number, r.emu.last_fd());

    d.x_report().expect("x report");
    let cash0 = r.emu.cash();
    d.cash_in(Money(100_000)).expect("cash in");
    d.cash_out(Money(30_000)).expect("cash out");
    assert_eq!(r.emu.cash(), cash0 + 70_000);
    assert!(matches!(d.cash_in(Money(0)), Err(KktError::BadReceipt(_))));

    assert!(matches!(d.cancel_receipt(), Err(KktError::BadReceipt(_))));

    let closed = d.close_shift("Иванова И.И.").expect("close shift");
    assert_eq!(closed.shift_number, opened.shift_number);
    assert_eq!(closed.receipts_in_shift, 3);
    assert_eq!(
        closed.documents_in_shift,
        closed.doc.number - opened.doc.number + 1
    );
    assert_eq!(
        r.emu.document(closed.doc.number).unwrap().kind,
        doc_type::SHIFT_CLOSE
    );
    assert!(
        matches!(d.shift_state().unwrap(), ShiftState::Closed { last_number } if last_number == closed.shift_number)
    );
}

#[test]
fn paper_out_refuses_the_receipt_and_paper_in_recovers() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    r.emu.faults().set_paper_out(true);
    assert!(!d.status().unwrap().paper_present);
    let err = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Paper, "{err}");
    assert!(err.is_recoverable());
    assert_eq!(r.emu.last_fd(), before, "nothing may be signed");
    r.emu.faults().set_paper_out(false);
    let p = d.print_receipt(&bread()).expect("after refill");
    assert_eq!(p.doc.number, before + 1);
}

#[test]
fn paper_running_out_mid_print_is_fiscalised_then_continued() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    r.emu.faults().paper_runs_out_during_next_print();
    let p = d
        .print_receipt(&bread())
        .expect("the FN signed it: printed");
    assert_eq!(p.doc.number, r.emu.last_fd());
    let st = d.status().unwrap();
    assert!(st.awaiting_continue && !st.paper_present, "{st:?}");
    // Out of paper: a new receipt is refused, the signed one stays single.
    let err = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Paper);
    assert_eq!(r.emu.last_fd(), p.doc.number);
    r.emu.faults().set_paper_out(false);
    // The next receipt resumes the interrupted one first.
    let p2 = d.print_receipt(&bread()).expect("after refill");
    assert_eq!(p2.doc.number, p.doc.number + 1);
    assert!(!d.status().unwrap().awaiting_continue);
    assert!(r.emu.printed_document(p.doc.number).is_some());
}

#[test]
fn cover_open_is_recoverable_and_close_recovers() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    r.emu.faults().set_cover_open(true);
    assert!(d.status().unwrap().cover_open);
    let err = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Cover, "{err}");
    assert!(err.is_recoverable());
    assert_eq!(r.emu.last_fd(), before);
    r.emu.faults().set_cover_open(false);
    d.print_receipt(&bread()).expect("after closing the cover");
    assert_eq!(r.emu.last_fd(), before + 1);
}

#[test]
fn garbled_dropped_and_slow_answers_are_survived_without_duplicates() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    r.emu.faults().garble_next(2);
    d.print_receipt(&bread()).expect("garbled answers");
    r.emu.faults().drop_next(2);
    d.print_receipt(&bread()).expect("dropped bytes");
    r.emu.faults().set_slow(Some(Duration::from_millis(150)));
    d.print_receipt(&bread()).expect("slow answers");
    r.emu.faults().set_slow(None);
    assert_eq!(r.emu.last_fd(), before + 3, "exactly three receipts");
    assert!(d.link().stats().retries > 0);
}

#[test]
fn shift_over_24_hours_is_reported_and_fixed_by_reopening() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    r.emu.advance_clock(25 * 3600);
    assert!(matches!(
        d.shift_state().unwrap(),
        ShiftState::Expired { .. }
    ));
    let err = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::ShiftExpired, "{err}");
    d.close_shift("Иванова И.И.").expect("close expired shift");
    d.open_shift("Иванова И.И.").expect("reopen");
    d.print_receipt(&bread()).expect("receipt in the new shift");
}

#[test]
fn power_cut_after_the_fn_signed_is_resolved_from_the_archive() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let expected = d.fn_info().unwrap().last_fd_number + 1;
    let receipt = bread();
    r.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::AfterCommit);
    let err = d.print_receipt(&receipt).unwrap_err();
    assert_eq!(err.class(), ErrorClass::Link, "{err}");
    r.emu.power_on().expect("power on");
    // Recovery as the worker does it, on a fresh connection: the FN's last
    // document is ours.
    drop(d);
    let mut d = connect(&r);
    let fi = d.fn_info().unwrap();
    assert_eq!(fi.last_fd_number, expected);
    let doc = d.read_document(expected).unwrap();
    assert_eq!(doc.kind, DocumentKind::Receipt);
    assert_eq!(doc.total, receipt.total());
    assert_eq!(doc.operation, Some(Operation::Income));
    assert!(!d.status().unwrap().receipt_open);
}

#[test]
fn power_cut_before_the_fn_signed_leaves_nothing_and_reprints_once() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let last = d.fn_info().unwrap().last_fd_number;
    r.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::BeforeCommit);
    assert!(d.print_receipt(&bread()).is_err());
    r.emu.power_on().expect("power on");
    drop(d);
    let mut d = connect(&r);
    assert_eq!(d.fn_info().unwrap().last_fd_number, last);
    // RAM was lost with the power: no receipt open; printing again is safe.
    let p = d.print_receipt(&bread()).expect("reprint");
    assert_eq!(p.doc.number, last + 1);
}

#[test]
fn a_lost_close_answer_is_resolved_by_the_driver_itself() {
    // Power dies right after the FN signs, and is back before the driver
    // gives up waiting: the answer is lost with the device's RAM, so the
    // driver asks the FN, finds its receipt signed, and returns it printed.
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let expected = r.emu.last_fd() + 1;
    let ctl = r.emu.control();
    ctl.faults()
        .power_cut_at(Code(0xFF45), CutPoint::AfterCommit);
    let restorer = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while ctl.is_powered() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        std::thread::sleep(Duration::from_millis(300));
        ctl.power_on().expect("power on");
    });
    let receipt = bread();
    let p = d.print_receipt(&receipt).expect("resolved as printed");
    restorer.join().expect("restorer thread");
    assert_eq!(p.doc.number, expected);
    assert_eq!(p.total, receipt.total().unwrap());
    let doc = r.emu.document(expected).expect("signed");
    assert_eq!(doc.fiscal_sign, p.doc.fiscal_sign);
    assert_eq!(r.emu.last_fd(), expected, "signed exactly once");
}

#[test]
fn a_receipt_reads_back_as_tlv_with_its_fn_data() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let p = d.print_receipt(&bread()).expect("sale");
    let items = d.read_document_tlv(p.doc.number).expect("TLV");
    let value = |tag: u16| {
        items
            .iter()
            .find(|i| i.tag == tag)
            .map(|i| i.value.clone())
            .unwrap_or_else(|| panic!("tag {tag} missing in {items:?}"))
    };
    let le = |b: Vec<u8>| b.iter().rev().fold(0u64, |a, x| (a << 8) | u64::from(*x));
    assert_eq!(le(value(1040)), u64::from(p.doc.number));
    assert_eq!(le(value(1020)), bread().total().unwrap().0 as u64);
    assert_eq!(value(1041), r.emu.fn_serial().as_bytes());
}

#[test]
fn continue_print_finishes_an_interrupted_document() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    r.emu.faults().paper_runs_out_during_next_print();
    let p = d.print_receipt(&bread()).expect("signed");
    r.emu.faults().set_paper_out(false);
    let st = d.status().unwrap();
    assert!(st.awaiting_continue && st.paper_present, "{st:?}");
    d.continue_print().expect("continue printing");
    let st = d.status().unwrap();
    assert!(!st.awaiting_continue, "{st:?}");
    assert!(r.emu.printed_document(p.doc.number).is_some());
    assert_eq!(
        r.emu.last_fd(),
        p.doc.number,
        "continuing prints, never re-signs"
    );
}

fn rig_with(f: impl FnOnce(EmulatorConfig) -> EmulatorConfig) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let cfg = f(EmulatorConfig::new(dir.path().join("kkt")).baud(0));
    let emu = Emulator::spawn(cfg).expect("emulator");
    Rig { _dir: dir, emu }
}

#[test]
fn auto_baud_finds_a_device_that_only_understands_9600() {
    let r = rig_with(|c| c.baud(9_600).strict_baud(true));
    let path = r.emu.link_path().to_string_lossy().into_owned();
    // At a fixed wrong speed the device hears noise: no link.
    let cfg = DriverConfig {
        answer_timeout_limit: Some(Duration::from_secs(1)),
        ..DriverConfig::default()
    };
    let mut wrong = ShtrihDriver::open(&path, Baud::Fixed(115_200), cfg).expect("open");
    assert_eq!(wrong.status().unwrap_err().class(), ErrorClass::Link);
    drop(wrong);
    let mut d = ShtrihDriver::open(&path, Baud::Auto, cfg).expect("autodetect");
    assert_eq!(d.baud(), 9_600);
    assert!(d.status().expect("status at 9600").paper_present);
}

#[test]
fn a_failed_fn_is_a_permanent_error_and_signs_nothing() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    r.emu.faults().set_fn_failure(Some(0x06));
    let err = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(err.class(), ErrorClass::FiscalStorage, "{err}");
    assert!(!err.is_recoverable());
    assert!(
        err.message_ru().contains("архив ФН переполнен"),
        "{}",
        err.message_ru()
    );
    assert_eq!(r.emu.last_fd(), before);
    r.emu.faults().set_fn_failure(None);
    // The failed close left the receipt open; the next one cancels it.
    d.print_receipt(&bread()).expect("healthy again");
    assert_eq!(r.emu.last_fd(), before + 1);
}

#[test]
fn fn_warnings_are_reported() {
    let r = rig();
    let mut d = connect(&r);
    r.emu.faults().set_fn_warnings(0b0101);
    let w = d.fn_info().unwrap().warnings;
    assert!(w.replace_urgent && w.memory_almost_full);
    assert!(!w.resource_exhausted && !w.critical);
}

#[test]
fn slow_printing_busy_answers_are_waited_out() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    r.emu
        .faults()
        .set_print_line_time(Some(Duration::from_millis(15)));
    d.print_receipt(&bread()).expect("first");
    d.print_receipt(&bread())
        .expect("second, while the first still prints");
    r.emu.faults().set_print_line_time(None);
    assert_eq!(r.emu.last_fd(), before + 2);
}

#[test]
fn power_cut_mid_answer_is_resolved_from_the_archive() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let expected = r.emu.last_fd() + 1;
    r.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::MidAnswer);
    let receipt = bread();
    assert_eq!(
        d.print_receipt(&receipt).unwrap_err().class(),
        ErrorClass::Link
    );
    r.emu.power_on().expect("power on");
    drop(d);
    let mut d = connect(&r);
    assert_eq!(d.fn_info().unwrap().last_fd_number, expected);
    let doc = d.read_document(expected).unwrap();
    assert_eq!(
        (doc.kind, doc.total),
        (DocumentKind::Receipt, receipt.total())
    );
}

#[test]
fn requests_garbled_on_the_way_in_are_resent_and_run_once() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let before = r.emu.last_fd();
    let frames = d.link().stats().frames_sent;
    r.emu.faults().garble_in_next(2);
    d.print_receipt(&bread())
        .expect("printed despite NAKed requests");
    assert_eq!(r.emu.last_fd(), before + 1, "exactly one receipt");
    assert_eq!(d.link().stats().frames_sent - frames, 8 + 2, "two resends");
}

/// The driver binds a marking code after registering its position
/// (0xFF46 then 0xFF67): the code must land on that position, not on the
/// next one.
#[test]
fn marking_code_stays_on_its_own_position() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    let mut marked = position("Молоко", 1_000_000, 9_990, VatRate::Vat20);
    marked.object = PaymentObject::MARKED;
    marked.marking_code = Some("0104600439931256215Abc123\u{1d}93dGVz".into());
    let receipt = sale(
        ReceiptKind::Sale,
        vec![marked, position("Хлеб", 1_000_000, 5_000, VatRate::Vat10)],
    );
    let printed = d.print_receipt(&receipt).expect("sale");
    let entry = r.emu.printed_document(printed.doc.number).expect("on tape");
    let line_of = |needle: &str| {
        entry
            .lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} on the tape: {:#?}", entry.lines))
    };
    let (milk, bread, code) = (line_of("Молоко"), line_of("Хлеб"), line_of("[М]"));
    assert!(
        milk < code && code < bread,
        "marking code printed under the wrong position: {:#?}",
        entry.lines
    );
}

/// A receipt right after a clean one trusts what the last one left known
/// (next FD, shift, receipt counter): no short status, FN status or shift
/// parameters, three exchanges fewer; its numbers are still the FN's own.
/// Anything else run on the device in between ends that trust.
#[test]
fn a_receipt_right_after_a_clean_one_skips_three_reads_and_keeps_its_numbers() {
    let r = rig();
    let mut d = connect(&r);
    ensure_shift(&mut d);
    d.print_receipt(&bread()).expect("first");
    let frames = |d: &Driver| d.link().stats().frames_sent;
    let before = frames(&d);
    let chained = d.print_receipt(&bread()).expect("second, chained");
    let chained_frames = frames(&d) - before;
    // Anything else on the device ends the chain.
    d.fn_info().expect("fn info");
    let before = frames(&d);
    let fresh = d.print_receipt(&bread()).expect("third, after a read");
    let fresh_frames = frames(&d) - before;
    assert_eq!(
        fresh_frames - chained_frames,
        3,
        "{fresh_frames} vs {chained_frames}"
    );
    for printed in [&chained, &fresh] {
        let doc = r.emu.document(printed.doc.number).expect("archived");
        assert_eq!(doc.kind, doc_type::RECEIPT);
        assert_eq!(printed.doc.fiscal_sign, doc.fiscal_sign);
        assert_eq!(Some(printed.receipt_number as u16), doc.receipt_number);
        assert_eq!(printed.shift_number as u16, doc.shift_number);
    }
    assert_eq!(fresh.receipt_number, chained.receipt_number + 1);
    assert_eq!(fresh.doc.number, chained.doc.number + 1);

    // Paper gone right after a clean receipt: the skipped status would have
    // said so; the receipt's own first command says it instead, nothing is
    // signed, and the next receipt reads the status again.
    d.print_receipt(&bread()).expect("a clean one again");
    let last = r.emu.last_fd();
    r.emu.faults().set_paper_out(true);
    let e = d.print_receipt(&bread()).unwrap_err();
    assert_eq!(e.class(), ErrorClass::Paper, "{e}");
    assert_eq!(r.emu.last_fd(), last, "nothing signed");
    r.emu.faults().set_paper_out(false);
    d.print_receipt(&bread())
        .expect("prints after the paper is back");
}
