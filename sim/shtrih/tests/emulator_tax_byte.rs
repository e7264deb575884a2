//! The emulator reads the 0xFF46 tax byte as a device does: a bit mask
//! with exactly one rate, or one of its model's 2025–26 codes; anything
//! else is refused with "bad parameters" (0x33) and nothing is registered.

mod emulator_support;

use emulator_support::*;

fn op_v2(tax: u8) -> Vec<u8> {
    let mut d = vec![1];
    d.extend_from_slice(&1_000_000u64.to_le_bytes()[..6]);
    d.extend_from_slice(&money(10_000));
    d.extend_from_slice(&[0xFF; 10]);
    d.extend_from_slice(&[tax, 1, 4, 1]);
    d.extend_from_slice(&text("Товар", 5));
    d
}

fn open_receipt_mode(p: &mut RawPort) -> bool {
    let a = p.ok(&[0x10], &SYSADMIN, &[]);
    a[3] & 0x0F == 8
}

fn bench(model_id: u8) -> (Bench, RawPort) {
    let b = Bench::start_with(|mut c| {
        c.identity.model_id = model_id;
        c
    });
    let mut p = b.port();
    p.ok(&[0xE0], &SYSADMIN, &[]);
    (b, p)
}

#[test]
fn a_desktop_model_refuses_what_is_not_one_of_its_rates() {
    let (_b, mut p) = bench(252);
    // Row numbers the agent used to send for 0 % and 22/122, two rate
    // bits, no bit, and ШТРИХ-NANO-Ф's 22 %.
    for tax in [0x03, 0x0C, 0x00, 0x41, 0x90, 0xA0, 0x80, 0xFF] {
        assert_eq!(
            p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(tax)),
            vec![0x33],
            "tax byte {tax:#04x}"
        );
        assert!(!open_receipt_mode(&mut p), "{tax:#04x} registered nothing");
    }
    for tax in [0x01, 0x08, 0x20, 0x81, 0x88, 0xCB, 0xCC] {
        assert_eq!(p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(tax)), vec![0x00]);
    }
    assert!(open_receipt_mode(&mut p));
}

#[test]
fn shtrih_nano_f_takes_its_own_22_percent_codes_only() {
    let (_b, mut p) = bench(152);
    assert_eq!(p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(0xCB)), vec![0x33]);
    assert_eq!(p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(0x90)), vec![0x00]);
    assert_eq!(p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(0xA0)), vec![0x00]);
}

#[test]
fn firmware_without_close_v3_v4_says_unsupported() {
    let b = Bench::start_with(|mut c| {
        c.identity.close_v3_v4 = false;
        c
    });
    let mut p = b.port();
    let mut close = money(0).repeat(16);
    close.push(0);
    close.extend(money(0).repeat(10));
    close.push(1);
    assert_eq!(p.call(&[0xFF, 0x76], &SYSADMIN, &close), vec![0x37]);
}
