//! The emulator's link layer over a real PTY, driven with byte sequences
//! written by hand from the protocol reference: ENQ/ACK/NAK handshake, NAK
//! on a bad LRC, re-sending an unacknowledged answer, passwords, pacing.

mod emulator_support;

use std::time::{Duration, Instant};

use emulator_support::*;

#[test]
fn idle_device_answers_enq_with_nak() {
    let b = Bench::start();
    let mut p = b.port();
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
}

#[test]
fn short_status_with_password_30_from_the_reference_bytes() {
    let b = Bench::start();
    let mut p = b.port();
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
    // 02 05 10 1E 00 00 00 LRC — short status, password 30.
    let lrc = 0x05 ^ 0x10 ^ 0x1E;
    p.send(&[0x02, 0x05, 0x10, 0x1E, 0x00, 0x00, 0x00, lrc]);
    assert_eq!(p.byte(), ACK);
    let (raw, body) = p.read_frame();
    p.send(&[ACK]);
    // CMD ERR operator flags(2) mode submode ops_lo battery power fp eklz ops_hi reserved(3)
    assert_eq!(raw[1] as usize, body.len());
    assert_eq!(body.len(), 16, "{body:02X?}");
    assert_eq!(&body[..3], &[0x10, 0x00, 30]);
    let flags = u16::from_le_bytes([body[3], body[4]]);
    assert_ne!(flags & (1 << 7), 0, "receipt paper sensor");
    assert_eq!(flags & (1 << 10), 0, "cover closed");
    assert_eq!(body[5], 4, "mode 4: shift closed");
    assert_eq!(body[6], 0, "submode 0: paper present");
    // Answer acknowledged: the device is idle again.
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
}

#[test]
fn bad_lrc_gets_nak_and_the_resent_frame_is_served() {
    let b = Bench::start();
    let mut p = b.port();
    let mut f = frame(&body(&[0x10], &SYSADMIN, &[]));
    let good = f.clone();
    *f.last_mut().unwrap() ^= 0xFF;
    p.send(&f);
    assert_eq!(p.byte(), NAK);
    p.send(&good);
    assert_eq!(p.byte(), ACK);
    let (_, body) = p.read_frame();
    assert_eq!(&body[..2], &[0x10, 0x00]);
    p.send(&[ACK]);
}

#[test]
fn unacknowledged_answer_is_sent_again_after_enq() {
    let b = Bench::start();
    let mut p = b.port();
    p.send(&frame(&body(&[0xFF, 0x02], &SYSADMIN, &[])));
    assert_eq!(p.byte(), ACK);
    let (first, _) = p.read_frame();
    // No ACK from us: the device still holds the answer.
    p.send(&[ENQ]);
    assert_eq!(p.byte(), ACK);
    let (again, body) = p.read_frame();
    assert_eq!(first, again);
    assert_eq!(&body[..3], &[0xFF, 0x02, 0x00]);
    assert_eq!(&body[3..], b"9999078900012345");
    // Host NAKs it: the device waits for ENQ and repeats.
    p.send(&[NAK]);
    p.send(&[ENQ]);
    assert_eq!(p.byte(), ACK);
    let (third, _) = p.read_frame();
    assert_eq!(first, third);
    p.send(&[ACK]);
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
}

#[test]
fn garbage_before_a_frame_is_skipped() {
    let b = Bench::start();
    let mut p = b.port();
    p.send(&[0x00, 0x33, 0xFE]);
    let a = p.call(&[0x10], &SYSADMIN, &[]);
    assert_eq!(a[0], 0);
}

#[test]
fn half_frame_is_dropped_after_the_byte_timeout() {
    let b = Bench::start();
    let mut p = b.port();
    p.send(&[STX, 0x05, 0x10, 0x1E]);
    std::thread::sleep(Duration::from_millis(400));
    let a = p.call(&[0x10], &SYSADMIN, &[]);
    assert_eq!(a[0], 0);
}

#[test]
fn passwords_are_checked() {
    let b = Bench::start();
    let mut p = b.port();
    // Unknown password.
    assert_eq!(p.call(&[0x10], &[99, 0, 0, 0], &[]), vec![0x4F]);
    // Cashier 1 may ask for status, not for FN data.
    assert_eq!(p.call(&[0x10], &CASHIER, &[])[..2], [0x00, 1]);
    assert_eq!(p.call(&[0xFF, 0x01], &CASHIER, &[]), vec![0x4F]);
    // Cashier cannot print a Z-report; administrator 29 can ask for one.
    assert_eq!(p.call(&[0x41], &CASHIER, &[]), vec![0x4F]);
    // Missing password bytes.
    assert_eq!(p.exchange(&[0x10, 0x1E]), vec![0x10, 0x4F]);
    // Device type needs no password.
    let a = p.call(&[0xFC], &[], &[]);
    assert_eq!(a[0], 0);
    assert_eq!(&a[7..], text("ШТРИХ-М-01Ф", 11).as_slice());
}

#[test]
fn unknown_commands_answer_an_error_not_silence() {
    let b = Bench::start();
    let mut p = b.port();
    assert_eq!(p.call(&[0x9F], &SYSADMIN, &[]), vec![0x37]);
    assert_eq!(p.call(&[0xFF, 0xEE], &SYSADMIN, &[]), vec![0x01]);
}

#[test]
fn answers_are_paced_at_the_configured_baud() {
    let b = Bench::start_with(|c| c.baud(9600));
    let mut p = b.port();
    // Full status: request 8 bytes, answer 1 + 3 + 47 = ~51 bytes, plus
    // ENQ/NAK/ACK: about 62 bytes ≈ 65 ms at 9600 baud.
    let started = Instant::now();
    let a = p.call(&[0x11], &SYSADMIN, &[]);
    let took = started.elapsed();
    assert_eq!(a[0], 0);
    let bytes = 1 + 1 + 8 + 1 + (a.len() + 1 + 3) as u32;
    let wire = Duration::from_secs_f64(bytes as f64 * 10.0 / 9600.0);
    assert!(
        took >= wire.mul_f64(0.9),
        "took {took:?}, wire time {wire:?}"
    );
}

#[test]
fn strict_baud_only_understands_the_configured_speed() {
    let b = Bench::start_with(|c| c.baud(19_200).strict_baud(true));
    {
        let mut p = RawPort::open_at(&b.link(), 9600);
        p.send(&[ENQ]);
        assert!(
            p.silent(Duration::from_millis(300)).is_empty(),
            "noise at 9600"
        );
    }
    let mut p = RawPort::open_at(&b.link(), 19_200);
    p.send(&[ENQ]);
    assert_eq!(p.byte(), NAK);
}
