//! Driver ↔ emulator over a real PTY: what a real receipt shows for every
//! VAT rate (tape label, tag 1199 in the FN archive), the ШТРИХ-NANO-Ф
//! codes, a 128-character Cyrillic name, measure of quantity (tag 2108)
//! and the template's header and footer lines.

mod common;

use kkt::{Kkt, MeasureUnit, Money, Position, Quantity, Receipt, ShiftState, VatRate};
use shtrih::commands::parse_tlv;
use shtrih::driver::{Baud, DriverConfig, ShtrihDriver};
use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle};
use std::time::Duration;

struct Rig {
    _dir: tempfile::TempDir,
    emu: EmulatorHandle,
    d: shtrih::driver::SerialDriver,
}

fn rig(model_id: u8) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut cfg = EmulatorConfig::new(dir.path().join("kkt")).baud(0);
    cfg.identity.model_id = model_id;
    let emu = Emulator::spawn(cfg).expect("emulator");
    let mut d = ShtrihDriver::open(
        &emu.link_path().to_string_lossy(),
        Baud::Fixed(115_200),
        DriverConfig {
            busy_poll: Duration::from_millis(20),
            answer_timeout_limit: Some(Duration::from_secs(3)),
            ..DriverConfig::default()
        },
    )
    .expect("open the emulator's PTY");
    if let ShiftState::Closed { .. } = d.shift_state().expect("shift state") {
        d.open_shift("Иванова И.И.").expect("open shift");
    }
    Rig { _dir: dir, emu, d }
}

fn position(name: &str, vat: VatRate) -> Position {
    Position {
        vat,
        ..common::receipts::position(name, 1_000_000, 10_000)
    }
}

fn receipt(positions: Vec<Position>) -> Receipt {
    common::receipts::cash_receipt(positions)
}

/// (rate, label on a real receipt, FFD tag 1199 value).
const RATES: [(VatRate, &str, u8); 12] = [
    (VatRate::Vat20, "НДС 20%", 1),
    (VatRate::Vat10, "НДС 10%", 2),
    (VatRate::Vat0, "НДС 0%", 5),
    (VatRate::NoVat, "БЕЗ НДС", 6),
    (VatRate::Vat20_120, "НДС 20/120", 3),
    (VatRate::Vat10_110, "НДС 10/110", 4),
    (VatRate::Vat5, "НДС 5%", 7),
    (VatRate::Vat7, "НДС 7%", 8),
    (VatRate::Vat5_105, "НДС 5/105", 9),
    (VatRate::Vat7_107, "НДС 7/107", 10),
    (VatRate::Vat22, "НДС 22%", 1),
    (VatRate::Vat22_122, "НДС 22/122", 3),
];

fn every_rate_prints_and_archives_as_a_real_receipt(model_id: u8) {
    let mut r = rig(model_id);
    let positions = RATES
        .iter()
        .enumerate()
        .map(|(i, (v, _, _))| position(&format!("Товар {}", i + 1), *v))
        .collect();
    let printed = r.d.print_receipt(&receipt(positions)).expect("printed");
    let doc = r.emu.document(printed.doc.number).expect("archived");
    let vats: Vec<Option<u8>> = doc.positions.iter().map(|p| p.vat).collect();
    let want: Vec<Option<u8>> = RATES.iter().map(|(_, _, t)| Some(*t)).collect();
    assert_eq!(vats, want);
    let tape = r
        .emu
        .printed_document(printed.doc.number)
        .expect("printed copy")
        .lines
        .join("\n");
    for (i, (_, label, _)) in RATES.iter().enumerate() {
        let item = format!("{}. Товар {}", i + 1, i + 1);
        let at = tape
            .find(&item)
            .unwrap_or_else(|| panic!("{item} in\n{tape}"));
        let next = tape[at..].lines().nth(2).unwrap_or_default();
        assert_eq!(next.trim(), *label, "position {}", i + 1);
    }
}

#[test]
fn every_rate_prints_and_archives_as_a_real_receipt_on_a_desktop_model() {
    every_rate_prints_and_archives_as_a_real_receipt(252);
}

#[test]
fn every_rate_prints_and_archives_as_a_real_receipt_on_shtrih_nano_f() {
    every_rate_prints_and_archives_as_a_real_receipt(152);
}

#[test]
fn pieces_reach_the_archive_as_the_devices_default_measure() {
    // The driver leaves 2108 = 0 to the device (vendor FFD 1.2 note); the
    // FN document still carries it in the position.
    let mut r = rig(252);
    let mut bread = position("Хлеб", VatRate::Vat10);
    bread.measure = Some(MeasureUnit::PIECE);
    let printed = r.d.print_receipt(&receipt(vec![bread])).expect("printed");
    assert_eq!(
        r.emu
            .document(printed.doc.number)
            .expect("archived")
            .positions[0]
            .measure,
        Some(0)
    );
    let tlv = r.d.read_document_tlv(printed.doc.number).expect("TLV");
    let pos = tlv.iter().find(|i| i.tag == 1059).expect("position 1059");
    let inner = parse_tlv(&pos.value).expect("STLV");
    assert_eq!(
        inner
            .iter()
            .find(|i| i.tag == 2108)
            .map(|i| i.value.clone()),
        Some(vec![0])
    );
}

#[test]
fn long_name_measure_header_and_footer_reach_tape_and_archive() {
    let mut r = rig(252);
    let name: String = "Сыр российский ".repeat(10); // 150 characters
    let mut cheese = position(&name, VatRate::Vat10);
    cheese.measure = Some(MeasureUnit::KILOGRAM);
    cheese.quantity = Quantity(250_000);
    cheese.sum = Money(2_500);
    let mut rc = receipt(vec![cheese]);
    rc.header = vec!["Магазин «Ромашка»".into()];
    rc.footer = vec!["Спасибо за покупку!".into()];
    let printed = r.d.print_receipt(&rc).expect("printed");

    let cut: String = name.chars().take(128).collect();
    let doc = r.emu.document(printed.doc.number).expect("archived");
    assert_eq!(doc.positions[0].name, cut);
    assert_eq!(doc.positions[0].measure, Some(11));

    // The FN's TLV as the driver reads it back: tag 1059 holds the
    // position with its name (128 CP1251 bytes), 1199 and 2108.
    let tlv = r.d.read_document_tlv(printed.doc.number).expect("TLV");
    let pos = tlv.iter().find(|i| i.tag == 1059).expect("position 1059");
    let inner = parse_tlv(&pos.value).expect("STLV");
    let value = |tag: u16| inner.iter().find(|i| i.tag == tag).map(|i| i.value.clone());
    assert_eq!(value(1030).map(|v| v.len()), Some(128));
    assert_eq!(value(1199), Some(vec![2]));
    assert_eq!(value(2108), Some(vec![11]));
    assert_eq!(value(1023), Some(vec![2, 25])); // 0.25, two decimals

    let tape = r.emu.tape_text();
    let header = tape.find("Магазин «Ромашка»").expect("header on tape");
    let title = tape.find("КАССОВЫЙ ЧЕК").expect("receipt on tape");
    let footer = tape.find("Спасибо за покупку!").expect("footer on tape");
    assert!(header < title && title < footer, "{tape}");
    assert!(tape.contains(&format!("1. {cut}\n")), "{tape}");
    assert!(tape.contains("0.25 кг x 100.00"), "{tape}");
}
