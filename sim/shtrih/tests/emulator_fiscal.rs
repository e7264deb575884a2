//! Shifts, receipts and the FN archive over a real PTY, with hand-built
//! requests: the classic command set (0xE0, 0x80, 0x82, 0x85, 0x88, 0x40,
//! 0x41) and the FN-era one (0xFF41/0xFF0B, 0x8D, 0xFF46, 0xFF0C, 0xFF45,
//! 0xFF42/0xFF43), archive search 0xFF0A and TLV read-back 0xFF3A/0xFF3B.

mod emulator_support;

use emulator_support::*;

fn short_mode(p: &mut RawPort) -> (u8, u8) {
    let a = p.ok(&[0x10], &SYSADMIN, &[]);
    (a[3], a[4])
}

/// Classic 0x80 / 0x82 data: qty (thousandths), price, department,
/// taxes 1–4, 40-byte text.
fn classic_item(qty_thousandths: u64, price: u64, tax: u8, name: &str) -> Vec<u8> {
    let mut d = money(qty_thousandths).to_vec();
    d.extend_from_slice(&money(price));
    d.push(1);
    d.extend_from_slice(&[tax, 0, 0, 0]);
    d.extend_from_slice(&text(name, 40));
    d
}

/// Classic 0x85 data: cash, types 2–4, discount, taxes, text.
fn classic_close(cash: u64, card: u64) -> Vec<u8> {
    let mut d = money(cash).to_vec();
    d.extend_from_slice(&money(card));
    d.extend_from_slice(&money(0));
    d.extend_from_slice(&money(0));
    d.extend_from_slice(&[0, 0]);
    d.extend_from_slice(&[0, 0, 0, 0]);
    d.extend_from_slice(&text("", 40));
    d
}

/// 0xFF46 data.
fn op_v2(kind: u8, qty_millionths: u64, price: u64, tax: u8, name: &str) -> Vec<u8> {
    let mut d = vec![kind];
    d.extend_from_slice(&qty_millionths.to_le_bytes()[..6]);
    d.extend_from_slice(&money(price));
    d.extend_from_slice(&[0xFF; 5]); // sum: computed
    d.extend_from_slice(&[0xFF; 5]); // tax amount: computed
    d.extend_from_slice(&[tax, 1, 4, 1]); // tax, department, 1214 full payment, 1212 goods
    d.extend_from_slice(&text(name, name.len()));
    d
}

/// 0xFF45 data: cash and card payments, tax system mask.
fn close_v2(cash: u64, card: u64, tax_system: u8) -> Vec<u8> {
    let mut d = money(cash).to_vec();
    d.extend_from_slice(&money(card));
    for _ in 2..16 {
        d.extend_from_slice(&money(0));
    }
    d.push(0);
    for _ in 0..6 {
        d.extend_from_slice(&money(0));
    }
    d.push(tax_system);
    d
}

fn tlv(tag: u16, value: &[u8]) -> Vec<u8> {
    let mut d = tag.to_le_bytes().to_vec();
    d.extend_from_slice(&(value.len() as u16).to_le_bytes());
    d.extend_from_slice(value);
    d
}

#[test]
fn classic_sale_from_shift_open_to_z_report() {
    let b = Bench::start();
    let mut p = b.port();
    assert_eq!(short_mode(&mut p), (4, 0));
    // Selling with the shift closed is refused.
    assert_eq!(
        p.call(&[0x80], &CASHIER, &classic_item(1000, 10_000, 1, "Хлеб")),
        vec![0x3D]
    );
    // 0xE0 opens the shift: the answer carries the operator, as a real
    // ШТРИХ-ЛАЙТ-02Ф's did (tests/data/shtrih_captures.txt).
    assert_eq!(p.call(&[0xE0], &CASHIER, &[]), vec![0x00, 1]);
    assert_eq!(short_mode(&mut p), (2, 0));
    // Sale of 1.500 × 100.00 and 2 × 12.34 (first sale opens the receipt).
    assert_eq!(
        p.ok(&[0x80], &CASHIER, &classic_item(1500, 10_000, 1, "Хлеб")),
        vec![1]
    );
    assert_eq!(
        p.ok(&[0x80], &CASHIER, &classic_item(2000, 1_234, 2, "Соль")),
        vec![1]
    );
    let st = p.ok(&[0x10], &SYSADMIN, &[]);
    assert_eq!(st[3], 0x08, "mode 8, sale receipt open");
    assert_eq!(st[5], 2, "two operations in the receipt");
    // A return inside a sale receipt is refused.
    assert_eq!(
        p.call(&[0x82], &CASHIER, &classic_item(1000, 100, 1, "x")),
        vec![0x49]
    );
    // Not enough paid.
    assert_eq!(
        p.call(&[0x85], &CASHIER, &classic_close(100, 0)),
        vec![0x45]
    );
    // 150.00 + 24.68 = 174.68; pay 200.00 cash → change 25.32.
    let a = p.ok(&[0x85], &CASHIER, &classic_close(20_000, 0));
    assert_eq!(a[0], 1);
    assert_eq!(le(&a[1..6]), 2_532);
    assert_eq!(short_mode(&mut p), (2, 0));
    assert_eq!(b.emu.cash(), 17_468);

    // The FN signed it: FN status names it as the last document.
    let st = p.ok(&[0xFF, 0x01], &SYSADMIN, &[]);
    let last_fd = le(&st[26..30]) as u32;
    assert_eq!(last_fd, 3, "registration, shift open, receipt");
    assert_eq!(st[3], 1, "shift open");
    assert_eq!(&st[10..26], b"9999078900012345");

    // Archive: type 3 receipt, operation 1 (sale), total 174.68.
    let d = p.ok(&[0xFF, 0x0A], &SYSADMIN, &3u32.to_le_bytes());
    assert_eq!(d[0], 3);
    assert_eq!(le(&d[7..11]), 3, "FD number");
    let fp = le(&d[11..15]) as u32;
    assert_eq!(d[15], 1);
    assert_eq!(le(&d[16..21]), 17_468);
    let doc = b.emu.document(3).unwrap();
    assert_eq!(doc.fiscal_sign, fp);
    let printed = b.emu.printed_document(3).unwrap().lines.join("\n");
    assert!(
        printed.contains("Хлеб") && printed.contains("=174.68"),
        "{printed}"
    );
    assert!(printed.contains(&fp.to_string()), "{printed}");

    // Return of one loaf: cash leaves the drawer.
    assert_eq!(
        p.ok(&[0x82], &CASHIER, &classic_item(1000, 10_000, 1, "Хлеб")),
        vec![1]
    );
    assert_eq!(short_mode(&mut p).0, 0x28, "mode 8, sale return");
    let a = p.ok(&[0x85], &CASHIER, &classic_close(10_000, 0));
    assert_eq!(le(&a[1..6]), 0);
    assert_eq!(b.emu.cash(), 7_468);
    let d = p.ok(&[0xFF, 0x0A], &SYSADMIN, &4u32.to_le_bytes());
    assert_eq!((d[0], d[15], le(&d[16..21])), (3, 2, 10_000));

    // Cancelled receipts leave no FN document.
    p.ok(&[0x80], &CASHIER, &classic_item(1000, 500, 1, "Спички"));
    assert_eq!(p.ok(&[0x88], &CASHIER, &[]), vec![1]);
    assert_eq!(p.call(&[0x88], &CASHIER, &[]), vec![0x55]);
    assert_eq!(b.emu.last_fd(), 4);

    // X-report needs an administrator; Z closes the shift.
    assert_eq!(p.ok(&[0x40], &[29, 0, 0, 0], &[]), vec![29]);
    assert_eq!(p.ok(&[0x41], &SYSADMIN, &[]), vec![30]);
    assert_eq!(short_mode(&mut p), (4, 0));
    let d = p.ok(&[0xFF, 0x0A], &SYSADMIN, &5u32.to_le_bytes());
    assert_eq!(d[0], 5, "shift close report");
    assert_eq!(le(&d[15..17]), 1, "shift 1");
    assert!(b.emu.tape_text().contains("ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"));
    // No such document.
    assert_eq!(
        p.call(&[0xFF, 0x0A], &SYSADMIN, &99u32.to_le_bytes()),
        vec![0x08]
    );
}

#[test]
fn fn_era_receipt_with_tlv_and_marking() {
    let b = Bench::start();
    let mut p = b.port();
    // Shift open, FN style: begin, cashier TLV, open.
    assert_eq!(p.ok(&[0xFF, 0x41], &SYSADMIN, &[]), Vec::<u8>::new());
    p.ok(&[0xFF, 0x0C], &SYSADMIN, &tlv(1021, &text("Иванов", 6)));
    let a = p.ok(&[0xFF, 0x0B], &SYSADMIN, &[]);
    assert_eq!(le(&a[0..2]), 1, "shift 1");
    assert_eq!(le(&a[2..6]), 2, "FD 2");
    assert_eq!(
        p.call(&[0xFF, 0x0B], &SYSADMIN, &[]),
        vec![0x02],
        "already open"
    );
    // Shift parameters.
    assert_eq!(p.ok(&[0xFF, 0x40], &SYSADMIN, &[]), vec![1, 1, 0, 0, 0]);

    // Receipt: open sale, one marked position, one by weight.
    assert_eq!(p.ok(&[0x8D], &SYSADMIN, &[0]), vec![30]);
    // A real ШТРИХ-ЛАЙТ-02Ф answers 0x73 "not supported in this mode"
    // (vendor log-player capture, tests/data/shtrih_captures.txt).
    assert_eq!(p.call(&[0x8D], &SYSADMIN, &[0]), vec![0x73]);
    let code =
        b"010460043993125621JgXJ5.T\x1d91EE06\x1d92YWCXbmK6SN8vvwoxZFk7WAY8WoJNMGGr6Cgtiuja04c=";
    let mut check = vec![1, 0, code.len() as u8, 0];
    check.extend_from_slice(code);
    let a = p.ok(&[0xFF, 0x61], &SYSADMIN, &check);
    assert_eq!(&a[..2], &[2, 0], "FN check positive");
    assert_eq!(a[3], 2);
    assert_eq!(a[5], 0x0F, "tag 2106: code and status valid");
    assert_eq!(p.ok(&[0xFF, 0x69], &SYSADMIN, &[1]), vec![0x0F]);
    let mut bind = vec![code.len() as u8];
    bind.extend_from_slice(code);
    p.ok(&[0xFF, 0x67], &SYSADMIN, &bind);
    assert_eq!(
        p.ok(
            &[0xFF, 0x46],
            &SYSADMIN,
            &op_v2(1, 1_000_000, 15_990, 1, "Молоко")
        ),
        Vec::<u8>::new()
    );
    p.ok(
        &[0xFF, 0x46],
        &SYSADMIN,
        &op_v2(1, 1_234_000, 10_000, 2, "Сыр"),
    );
    p.ok(&[0xFF, 0x0C], &SYSADMIN, &tlv(1008, b"+79990000000"));
    // A bad code is refused by the FN check.
    let mut bad = vec![1, 0, 7, 0];
    bad.extend_from_slice(b"BADCODE");
    assert_eq!(p.ok(&[0xFF, 0x61], &SYSADMIN, &bad)[..2], [1, 4]);
    assert_eq!(p.ok(&[0xFF, 0x69], &SYSADMIN, &[0]), vec![0]);

    // Total 159.90 + 123.40 = 283.30: card 200.00 + cash 100.00.
    let a = p.ok(&[0xFF, 0x45], &SYSADMIN, &close_v2(10_000, 20_000, 1));
    assert_eq!(le(&a[0..5]), 1_670, "change");
    let fd = le(&a[5..9]) as u32;
    let fp = le(&a[9..13]) as u32;
    assert_eq!(fd, 3);
    assert_eq!(a.len(), 18, "change, FD, FP, date-time");
    let doc = b.emu.document(fd).unwrap();
    assert_eq!(
        (doc.fiscal_sign, doc.total, doc.receipt_number),
        (fp, Some(28_330), Some(1))
    );
    let printed = b.emu.printed_document(fd).unwrap().lines.join("\n");
    for want in [
        "Молоко",
        "Сыр",
        "1.234 x 100.00",
        "=123.40",
        "[М] 0104600439931256",
        "+79990000000",
        "БЕЗНАЛИЧНЫМИ",
    ] {
        assert!(printed.contains(want), "missing {want:?} in\n{printed}");
    }
    assert_eq!(p.ok(&[0xFF, 0x40], &SYSADMIN, &[]), vec![1, 1, 0, 1, 0]);

    // OFD queue: shift open report and receipt unsent.
    let a = p.ok(&[0xFF, 0x39], &SYSADMIN, &[]);
    assert_eq!(le(&a[2..4]), 2);
    assert_eq!(le(&a[4..8]), 2, "first unsent FD");
    assert_eq!(p.ok(&[0xFF, 0x3F], &SYSADMIN, &[]), vec![2, 0]);
    b.emu.ofd_confirm_all();
    assert_eq!(p.ok(&[0xFF, 0x3F], &SYSADMIN, &[]), vec![0, 0]);

    // TLV read-back of the receipt.
    let a = p.ok(&[0xFF, 0x3A], &SYSADMIN, &fd.to_le_bytes());
    assert_eq!(le(&a[0..2]), 3);
    let size = le(&a[2..4]) as usize;
    let mut tlvs = Vec::new();
    loop {
        let r = p.call(&[0xFF, 0x3B], &SYSADMIN, &[]);
        if r[0] == 0x08 {
            break;
        }
        assert_eq!(r[0], 0);
        tlvs.extend_from_slice(&r[1..]);
    }
    assert_eq!(tlvs.len(), size);
    let want = tlv(1040, &fd.to_le_bytes());
    assert!(tlvs.windows(want.len()).any(|w| w == want.as_slice()));

    // Shift close, FN style.
    p.ok(&[0xFF, 0x42], &SYSADMIN, &[]);
    let a = p.ok(&[0xFF, 0x43], &SYSADMIN, &[]);
    assert_eq!((le(&a[0..2]), le(&a[2..6])), (1, 4));
    assert!(!b.emu.shift().open);
    assert_eq!(p.call(&[0xFF, 0x42], &SYSADMIN, &[]), vec![0x02]);
}

#[test]
fn shift_expires_after_24_hours_on_the_injected_clock() {
    let b = Bench::start();
    let mut p = b.port();
    p.call(&[0xE0], &CASHIER, &[]);
    b.emu.advance_clock(24 * 3600 + 60);
    assert_eq!(short_mode(&mut p), (3, 0));
    assert_eq!(p.call(&[0x8D], &CASHIER, &[0]), vec![0x4E]);
    assert_eq!(
        p.call(&[0xFF, 0x46], &SYSADMIN, &op_v2(1, 1_000_000, 100, 1, "x")),
        vec![0x4E]
    );
    // Closing is still allowed, then a new shift works.
    p.ok(&[0x41], &SYSADMIN, &[]);
    p.call(&[0xE0], &CASHIER, &[]);
    assert_eq!(short_mode(&mut p), (2, 0));
    assert_eq!(b.emu.shift().number, 2);
}

#[test]
fn service_commands_cash_tables_date() {
    let b = Bench::start();
    let mut p = b.port();
    assert_eq!(p.call(&[0x50], &CASHIER, &money(1_000)), vec![0x3D]);
    p.call(&[0xE0], &CASHIER, &[]);
    let a = p.ok(&[0x50], &CASHIER, &money(50_000));
    assert_eq!(a[0], 1);
    let doc_no = le(&a[1..3]);
    assert_eq!(p.call(&[0x51], &CASHIER, &money(60_000)), vec![0x46]);
    let a = p.ok(&[0x51], &CASHIER, &money(20_000));
    assert_eq!(le(&a[1..3]), doc_no + 1);
    assert_eq!(b.emu.cash(), 30_000);
    // Tables: FFD version (17.1.17 = 4 → 1.2), write and read a field.
    assert_eq!(p.ok(&[0x1F], &SYSADMIN, &[17, 1, 0, 17]), vec![4]);
    p.ok(&[0x1E], &SYSADMIN, &[1, 1, 0, 7, 0]);
    assert_eq!(p.ok(&[0x1F], &SYSADMIN, &[1, 1, 0, 7]), vec![0]);
    assert_eq!(p.call(&[0x1F], &SYSADMIN, &[99, 1, 0, 1]), vec![0x5D]);
    // A new cashier password works, the old one no longer does.
    p.ok(&[0x1E], &SYSADMIN, &[2, 3, 0, 1, 0x39, 0x30, 0, 0]);
    assert_eq!(p.call(&[0x10], &[3, 0, 0, 0], &[]), vec![0x4F]);
    assert_eq!(p.ok(&[0x10], &[0x39, 0x30, 0, 0], &[])[0], 3);
    // Date change needs a closed shift and a confirmation.
    assert_eq!(p.call(&[0x22], &SYSADMIN, &[1, 3, 27]), vec![0x73]);
    p.ok(&[0x41], &SYSADMIN, &[]);
    p.ok(&[0x22], &SYSADMIN, &[1, 3, 27]);
    assert_eq!(short_mode(&mut p).0, 6);
    assert_eq!(p.call(&[0x23], &SYSADMIN, &[2, 3, 27]), vec![0x7C]);
    p.ok(&[0x23], &SYSADMIN, &[1, 3, 27]);
    p.ok(&[0x21], &SYSADMIN, &[10, 30, 0]);
    let st = p.ok(&[0x11], &SYSADMIN, &[]);
    assert_eq!(&st[23..26], &[1, 3, 27], "date DD MM YY");
    assert_eq!(&st[26..28], &[10, 30], "time HH MM");
    // Free text and cut.
    p.ok(&[0x17], &CASHIER, &[2, b'h', b'i']);
    p.ok(&[0x25], &CASHIER, &[1]);
    assert!(b.emu.tape_text().contains("hi\n"));
}
