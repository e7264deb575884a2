//! Every injected fault of the emulator, seen from the wire: paper out
//! (before and during printing) and refill with continue-print, cover open,
//! garbled and dropped answer bytes, slow answers, power cuts before and
//! after the FN commits, and a restart from the state file.

mod emulator_support;

use std::time::{Duration, Instant};

use emulator_support::*;
use shtrih::frame::Code;
use sim_shtrih::{CutPoint, Emulator, EmulatorConfig};

fn op_v2(price: u64, name: &str) -> Vec<u8> {
    let mut d = vec![1];
    d.extend_from_slice(&1_000_000u64.to_le_bytes()[..6]);
    d.extend_from_slice(&money(price));
    d.extend_from_slice(&[0xFF; 10]);
    d.extend_from_slice(&[1, 1, 4, 1]);
    d.extend_from_slice(&text(name, name.len()));
    d
}

fn close_v2(cash: u64) -> Vec<u8> {
    let mut d = money(cash).to_vec();
    d.extend(std::iter::repeat_n(0u8, 15 * 5 + 1 + 6 * 5));
    d.push(1);
    d
}

fn status(p: &mut RawPort) -> (u16, u8, u8) {
    let a = p.ok(&[0x10], &SYSADMIN, &[]);
    (u16::from_le_bytes([a[1], a[2]]), a[3], a[4])
}

fn open_shift_and_receipt(p: &mut RawPort) {
    p.ok(&[0xFF, 0x41], &SYSADMIN, &[]);
    p.ok(&[0xFF, 0x0B], &SYSADMIN, &[]);
    p.ok(&[0x8D], &SYSADMIN, &[0]);
    p.ok(&[0xFF, 0x46], &SYSADMIN, &op_v2(12_300, "Чай"));
}

#[test]
fn paper_out_refuses_printing_until_refilled() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().set_paper_out(true);
    let (flags, mode, sub) = status(&mut p);
    assert_eq!(flags & (1 << 7), 0, "paper sensor says empty");
    assert_eq!((mode, sub), (4, 1));
    assert_eq!(p.call(&[0xFF, 0x0B], &SYSADMIN, &[]), vec![0x6B]);
    assert_eq!(b.emu.last_fd(), 1, "nothing signed");
    b.emu.faults().set_paper_out(false);
    assert_eq!(status(&mut p).2, 0);
    p.ok(&[0xFF, 0x0B], &SYSADMIN, &[]);
}

#[test]
fn paper_running_out_mid_receipt_needs_continue_print() {
    let b = Bench::start();
    let mut p = b.port();
    open_shift_and_receipt(&mut p);
    b.emu.faults().paper_runs_out_during_next_print();
    // The FN signs the receipt; the answer comes; printing stops.
    let a = p.ok(&[0xFF, 0x45], &SYSADMIN, &close_v2(20_000));
    let fd = le(&a[5..9]) as u32;
    assert_eq!(b.emu.document(fd).unwrap().total, Some(12_300));
    assert!(b.emu.printed_document(fd).is_none(), "not on paper yet");
    assert_eq!(status(&mut p).2, 2, "no paper, printing interrupted");
    assert_eq!(p.call(&[0x8D], &SYSADMIN, &[0]), vec![0x6B]);
    b.emu.faults().set_paper_out(false);
    assert_eq!(status(&mut p).2, 3, "paper back, waiting for 0xB0");
    assert_eq!(p.call(&[0x8D], &SYSADMIN, &[0]), vec![0x58]);
    assert_eq!(p.ok(&[0xB0], &SYSADMIN, &[]), vec![30]);
    assert_eq!(status(&mut p).2, 0);
    assert!(b.emu.printed_document(fd).is_some(), "printed after 0xB0");
    p.ok(&[0x8D], &SYSADMIN, &[0]);
}

#[test]
fn cover_open_is_flagged_and_blocks_printing() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().set_cover_open(true);
    let (flags, _, _) = status(&mut p);
    assert_ne!(flags & (1 << 10), 0, "cover flag");
    assert_ne!(flags & (1 << 7), 0, "paper itself is there");
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x6B]);
    b.emu.faults().set_cover_open(false);
    assert_eq!(status(&mut p).0 & (1 << 10), 0);
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x00, 1]);
}

#[test]
fn garbled_answer_fails_its_lrc_and_is_resent_on_enq() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().garble_next(1);
    p.send(&frame(&body(&[0xFF, 0x02], &SYSADMIN, &[])));
    assert_eq!(p.byte(), ACK);
    let head = p.read_n(2, TIMEOUT);
    let rest = p.read_n(head[1] as usize + 1, TIMEOUT);
    let lrc = rest[..rest.len() - 1].iter().fold(head[1], |a, b| a ^ b);
    assert_ne!(
        lrc,
        *rest.last().unwrap(),
        "garbled answer must fail the LRC"
    );
    p.send(&[NAK]);
    enq_recovers_the_serial_number_answer(&mut p);
}

/// ENQ after a lost or broken answer: the printer must resend the whole
/// serial-number answer (0xFF 0x02) intact, which the host then ACKs.
fn enq_recovers_the_serial_number_answer(p: &mut RawPort) {
    p.send(&[ENQ]);
    assert_eq!(p.byte(), ACK);
    let (_, body) = p.read_frame();
    assert_eq!(&body[3..], b"9999078900012345");
    p.send(&[ACK]);
}

#[test]
fn garbled_request_is_naked_and_not_executed() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().garble_in_next(1);
    let open_shift = frame(&body(&[0xE0], &CASHIER, &[]));
    p.send(&open_shift);
    assert_eq!(p.byte(), NAK);
    assert!(!b.emu.shift().open, "not executed");
    p.send(&open_shift);
    assert_eq!(p.byte(), ACK);
    let (_, body) = p.read_frame();
    p.send(&[ACK]);
    assert_eq!(body, vec![0xE0, 0x00, 1]);
    assert!(b.emu.shift().open);
}

#[test]
fn dropped_byte_times_out_and_enq_recovers_the_answer() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().drop_next(1);
    p.send(&frame(&body(&[0xFF, 0x02], &SYSADMIN, &[])));
    assert_eq!(p.byte(), ACK);
    let head = p.read_n(2, TIMEOUT);
    let partial = p.try_read_n(head[1] as usize + 1, Duration::from_millis(500));
    assert_eq!(
        partial.unwrap_err().len(),
        head[1] as usize,
        "last byte missing"
    );
    enq_recovers_the_serial_number_answer(&mut p);
}

#[test]
fn slow_answers_arrive_late_but_intact() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().set_slow(Some(Duration::from_millis(400)));
    let t = Instant::now();
    assert_eq!(p.call(&[0x10], &SYSADMIN, &[])[0], 0);
    assert!(
        t.elapsed() >= Duration::from_millis(400),
        "{:?}",
        t.elapsed()
    );
    b.emu.faults().set_slow(None);
}

#[test]
fn power_cut_after_the_fn_signed_the_receipt_is_resolved_from_the_archive() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    let b = Bench::start_with(|c| c.state_file(&state));
    let mut p = b.port();
    open_shift_and_receipt(&mut p);
    let before = b.emu.last_fd();
    b.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::AfterCommit);
    p.send(&frame(&body(&[0xFF, 0x45], &SYSADMIN, &close_v2(20_000))));
    assert_eq!(p.byte(), ACK, "frame acknowledged before the cut");
    assert_eq!(
        p.silent(Duration::from_millis(500)),
        Vec::<u8>::new(),
        "no answer"
    );
    p.send(&[ENQ]);
    assert_eq!(
        p.silent(Duration::from_millis(300)),
        Vec::<u8>::new(),
        "dead line"
    );
    assert!(!b.emu.is_powered());
    // The state file already holds the signed receipt.
    let saved: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    let archive = saved["fn_storage"]["archive"].as_array().unwrap();
    assert_eq!(archive.last().unwrap()["number"], before + 1);

    b.emu.power_on().unwrap();
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK, "the unsent answer died with the power");
    let st = p.ok(&[0xFF, 0x01], &SYSADMIN, &[]);
    let last = le(&st[26..30]) as u32;
    assert_eq!(last, before + 1);
    assert_eq!(st[1], 0, "no open FN document");
    let d = p.ok(&[0xFF, 0x0A], &SYSADMIN, &last.to_le_bytes());
    assert_eq!((d[0], d[15], le(&d[16..21])), (3, 1, 12_300));
    assert_eq!(status(&mut p).1, 2, "shift open, no receipt");
}

#[test]
fn power_cut_mid_answer_leaves_a_truncated_frame_and_a_signed_receipt() {
    let b = Bench::start();
    let mut p = b.port();
    open_shift_and_receipt(&mut p);
    let before = b.emu.last_fd();
    b.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::MidAnswer);
    p.send(&frame(&body(&[0xFF, 0x45], &SYSADMIN, &close_v2(20_000))));
    assert_eq!(p.byte(), ACK);
    let got = p.silent(Duration::from_millis(500));
    assert_eq!(got.first(), Some(&STX), "half an answer: {got:02X?}");
    let partial = p.try_read_n(64, Duration::from_millis(300)).unwrap_err();
    let total = 1 + partial.len();
    // Full answer: STX LEN FF 45 ERR + 18 data + LRC = 24 bytes.
    assert!(total < 24, "truncated, got {total} bytes");
    b.emu.power_on().unwrap();
    assert_eq!(b.emu.last_fd(), before + 1, "the FN signed it");
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
}

#[test]
fn power_cut_before_the_fn_commits_loses_the_open_receipt() {
    let b = Bench::start();
    let mut p = b.port();
    open_shift_and_receipt(&mut p);
    let before = b.emu.last_fd();
    b.emu
        .faults()
        .power_cut_at(Code(0xFF45), CutPoint::BeforeCommit);
    p.send(&frame(&body(&[0xFF, 0x45], &SYSADMIN, &close_v2(20_000))));
    assert_eq!(p.byte(), ACK);
    assert_eq!(p.silent(Duration::from_millis(400)), Vec::<u8>::new());
    b.emu.power_on().unwrap();
    assert_eq!(b.emu.last_fd(), before);
    assert!(!b.emu.receipt_open());
    assert_eq!(status(&mut p).1, 2);
}

#[test]
fn restart_from_the_state_file_keeps_counters_archive_and_clock() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("kkt-state.json");
    let link = dir.path().join("kkt");
    let cfg = || EmulatorConfig::new(&link).baud(0).state_file(&state);

    let emu = Emulator::spawn(cfg()).unwrap();
    let (fd, fp, cash) = {
        let mut p = RawPort::open(&link);
        open_shift_and_receipt(&mut p);
        let a = p.ok(&[0xFF, 0x45], &SYSADMIN, &close_v2(20_000));
        (le(&a[5..9]) as u32, le(&a[9..13]) as u32, emu.cash())
    };
    emu.advance_clock(3 * 3600);
    let offset = emu.clock().offset_secs();
    let tape = emu.tape_text();
    emu.shutdown().unwrap();
    assert!(!link.exists(), "link removed on shutdown");

    let emu = Emulator::spawn(cfg()).unwrap();
    let mut p = RawPort::open(&link);
    let st = p.ok(&[0xFF, 0x01], &SYSADMIN, &[]);
    assert_eq!(le(&st[26..30]) as u32, fd);
    assert_eq!(st[3], 1, "shift still open");
    let d = p.ok(&[0xFF, 0x0A], &SYSADMIN, &fd.to_le_bytes());
    assert_eq!(le(&d[11..15]) as u32, fp, "same fiscal sign");
    assert_eq!(p.ok(&[0xFF, 0x40], &SYSADMIN, &[]), vec![1, 1, 0, 1, 0]);
    assert_eq!(emu.cash(), cash);
    assert_eq!(emu.tape_text(), tape);
    assert!((emu.clock().offset_secs() - offset).abs() <= 1);
    // And it keeps counting from there.
    p.ok(&[0x8D], &SYSADMIN, &[0]);
    p.ok(&[0xFF, 0x46], &SYSADMIN, &op_v2(100, "x"));
    let a = p.ok(&[0xFF, 0x45], &SYSADMIN, &close_v2(100));
    assert_eq!(le(&a[5..9]) as u32, fd + 1);
}

#[test]
fn a_broken_state_file_is_a_typed_error() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state.json");
    std::fs::write(&state, b"{ half").unwrap();
    let err = Emulator::spawn(
        EmulatorConfig::new(dir.path().join("kkt"))
            .baud(0)
            .state_file(&state),
    )
    .unwrap_err();
    assert!(err.to_string().contains("state.json"), "{err}");
}

#[test]
fn busy_printer_answers_0x50_until_the_document_is_out() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu
        .faults()
        .set_print_line_time(Some(Duration::from_millis(100)));
    p.ok(&[0xFF, 0x41], &SYSADMIN, &[]);
    p.ok(&[0xFF, 0x0B], &SYSADMIN, &[]); // ~11 lines ≈ 1.1 s of printing
    assert_eq!(status(&mut p).2, 5, "submode 5: printing");
    assert_eq!(p.call(&[0x8D], &SYSADMIN, &[0]), vec![0x50]);
    let t = Instant::now();
    while status(&mut p).2 == 5 {
        assert!(t.elapsed() < Duration::from_secs(10), "printing never ends");
        std::thread::sleep(Duration::from_millis(50));
    }
    b.emu.faults().set_print_line_time(None);
    p.ok(&[0x8D], &SYSADMIN, &[0]);
}

#[test]
fn failed_fn_refuses_documents_with_its_code_and_warnings_show() {
    let b = Bench::start();
    let mut p = b.port();
    b.emu.faults().set_fn_failure(Some(0x06));
    assert_eq!(p.call(&[0xFF, 0x41], &SYSADMIN, &[]), vec![0x06]);
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x06]);
    assert_eq!(b.emu.last_fd(), 1);
    b.emu.faults().set_fn_failure(None);
    p.ok(&[0xE0], &CASHIER, &[]);
    b.emu.faults().set_fn_warnings(0b0100);
    assert_eq!(p.ok(&[0xFF, 0x01], &SYSADMIN, &[])[4], 0b0100);
    b.emu.faults().set_fn_warnings(0);
    // An unsent document older than 30 days raises the OFD-timeout bit.
    b.emu.advance_clock(31 * 24 * 3600);
    assert_eq!(p.ok(&[0xFF, 0x01], &SYSADMIN, &[])[4], 0b1000);
}

#[test]
fn an_unwritable_state_path_fails_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = Emulator::spawn(
        EmulatorConfig::new(dir.path().join("kkt"))
            .baud(0)
            .state_file(dir.path().join("no/such/dir/state.json")),
    )
    .unwrap_err();
    assert!(err.to_string().contains("state.json"), "{err}");
    assert!(!dir.path().join("kkt").exists(), "no link left behind");
}
