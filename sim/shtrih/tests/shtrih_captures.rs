//! Real device exchanges (tests/data/shtrih_captures.txt, sources named
//! there) as test vectors: our framing accepts every recorded frame, our
//! encoders produce the recorded requests byte for byte, our decoders read
//! the recorded answers, and the emulator answers the recorded requests as
//! the real device did.

mod emulator_support;

use emulator_support::Bench;
use shtrih::commands::*;
use shtrih::frame::{Decoder, Frame, Token};
use shtrih::tax_code::{TaxCodeTable, tax_byte};

struct Capture {
    name: String,
    from_host: bool,
    bytes: Vec<u8>,
}

fn captures() -> Vec<Capture> {
    let text = include_str!("data/shtrih_captures.txt");
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(name), Some(who), Some(_source)) = (words.next(), words.next(), words.next())
        else {
            panic!("line {}: name, sender and source expected", n + 1);
        };
        let bytes = words
            .map(|w| u8::from_str_radix(w, 16).unwrap_or_else(|_| panic!("line {}: {w}", n + 1)))
            .collect();
        out.push(Capture {
            name: name.to_string(),
            from_host: match who {
                "host" => true,
                "device" => false,
                other => panic!("line {}: sender {other}", n + 1),
            },
            bytes,
        });
    }
    out
}

fn recorded(name: &str, from_host: bool) -> Vec<u8> {
    captures()
        .into_iter()
        .find(|c| c.name == name && c.from_host == from_host)
        .unwrap_or_else(|| panic!("capture {name} missing"))
        .bytes
}

fn frame_of(bytes: &[u8]) -> Frame {
    let tokens = Decoder::new().push_all(bytes);
    match tokens.as_slice() {
        [Token::Frame(f)] => f.clone(),
        other => panic!("{bytes:02X?} decodes to {other:?}"),
    }
}

fn request(name: &str) -> Frame {
    frame_of(&recorded(name, true))
}

fn answer(name: &str) -> Frame {
    frame_of(&recorded(name, false))
}

fn encoded<C: Command>(cmd: &C) -> Vec<u8> {
    request_frame(30, cmd).encode().expect("fits a frame")
}

#[test]
fn every_recorded_frame_is_one_good_frame() {
    let all = captures();
    assert!(all.len() >= 30);
    for c in &all {
        let f = frame_of(&c.bytes);
        assert_eq!(f.encode().unwrap(), c.bytes, "{}", c.name);
    }
}

#[test]
fn our_requests_are_the_recorded_bytes() {
    assert_eq!(encoded(&DeviceType), recorded("device_type", true));
    assert_eq!(encoded(&ShortStatus), recorded("status_shift_closed", true));
    assert_eq!(encoded(&OpenShift), recorded("open_shift", true));
    assert_eq!(
        encoded(&OpenReceipt {
            receipt_type: OpenReceipt::SALE_RETURN
        }),
        recorded("open_receipt_sale_return", true)
    );
    assert_eq!(
        encoded(&OperationV2 {
            operation: 2,
            quantity: 1_000_000,
            price: 10_000,
            sum: Some(10_000),
            tax_amount: Some(1_000),
            tax: tax_byte(kkt::VatRate::Vat22, TaxCodeTable::Standard),
            department: 1,
            payment_method: 1,
            payment_object: 33,
            name: "Товар".into(),
        }),
        recorded("operation_v2_vat22", true)
    );
    assert_eq!(
        encoded(&WriteOperationTlv {
            tlv: tlv(1293, &1u64.to_le_bytes())
        }),
        recorded("operation_tlv_1293", true)
    );
    assert_eq!(
        encoded(&ReadTable {
            table: 17,
            row: 1,
            field: 63
        }),
        recorded("read_table_17_1_63", true)
    );
    assert_eq!(encoded(&CancelReceipt), recorded("cancel_receipt", true));
    assert_eq!(encoded(&FnStatus), recorded("fn_status", true));
}

/// The three close variants the vendor driver sent, decoded and encoded
/// back to the same bytes.
#[test]
fn recorded_close_requests_decode_and_re_encode() {
    let expect_payments = |p: &[u64; 16]| {
        assert_eq!(p[0], 10_000);
        assert_eq!(p[1], 100);
        assert_eq!(p[15], 400);
    };
    let (_, v2) =
        parse_request::<CloseReceiptV2>(&request("close_v2_cashless_over_total")).unwrap();
    expect_payments(&v2.payments);
    assert_eq!(v2.taxes, [100, 200, 300, 400, 500, 600]);
    assert_eq!((v2.tax_system, v2.text.as_str()), (1, "Строка для печати"));
    assert_eq!(encoded(&v2), recorded("close_v2_cashless_over_total", true));

    let (_, v3) = parse_request::<CloseReceiptV3>(&request("close_v3")).unwrap();
    expect_payments(&v3.payments);
    assert_eq!(
        v3.taxes,
        [100, 200, 300, 400, 500, 600, 700, 800, 900, 1_000]
    );
    assert_eq!(encoded(&v3), recorded("close_v3", true));

    let (_, v4) =
        parse_request::<CloseReceiptV4>(&request("close_v4_cashless_over_total")).unwrap();
    expect_payments(&v4.payments);
    assert_eq!(v4.taxes[11], 1_200);
    assert_eq!(encoded(&v4), recorded("close_v4_cashless_over_total", true));
}

#[test]
fn recorded_answers_decode() {
    let t = parse_answer::<DeviceType>(&answer("device_type"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (t.protocol_version, t.protocol_subversion, t.model),
        (1, 14, 252)
    );
    assert_eq!(t.name, "ШТРИХ-ЛАЙТ-02Ф");
    assert_eq!(TaxCodeTable::for_model(t.model), TaxCodeTable::Standard);

    let s = parse_answer::<ShortStatus>(&answer("status_receipt_open"))
        .unwrap()
        .unwrap();
    assert_eq!((s.operator, s.mode.0, s.submode.0), (30, 0x28, 0));
    assert!(s.mode.document_open());
    let s = parse_answer::<ShortStatus>(&answer("status_shift_closed"))
        .unwrap()
        .unwrap();
    assert_eq!((s.mode.0, s.mode.document_open()), (0x04, false));
    let s = parse_answer::<ShortStatus>(&answer("status_receipt_open_b"))
        .unwrap()
        .unwrap();
    assert!(s.mode.document_open());

    let c = parse_answer::<CloseReceiptV3>(&answer("close_v3"))
        .unwrap()
        .unwrap();
    assert_eq!(
        (c.change, c.fd_number, c.fiscal_sign, c.time),
        (2_000, 208, 0xB500_3DE9, None)
    );
    assert_eq!(
        parse_answer::<CloseReceiptV2>(&answer("close_v2_cashless_over_total")).unwrap(),
        Err(DeviceErrorCode(0x4D))
    );
    assert_eq!(
        parse_answer::<CloseReceiptV4>(&answer("close_v4_cashless_over_total")).unwrap(),
        Err(DeviceErrorCode(0x4D))
    );
    assert_eq!(
        parse_answer::<OpenReceipt>(&answer("open_receipt_again")).unwrap(),
        Err(DeviceErrorCode(0x73))
    );
    assert!(
        parse_answer::<OperationV2>(&answer("operation_v2_vat22"))
            .unwrap()
            .is_ok()
    );
    assert!(
        parse_answer::<WriteOperationTlv>(&answer("operation_tlv_1293"))
            .unwrap()
            .is_ok()
    );
    let op = parse_answer::<OpenShift>(&answer("open_shift")).unwrap();
    assert!(op.is_ok());

    let fs = parse_answer::<FnStatus>(&answer("fn_status"))
        .unwrap()
        .unwrap();
    assert_eq!(fs.serial, "9287440301120991");
    assert_eq!(fs.last_fd_number, 0x1A9);
    let v = parse_answer::<ReadTable>(&answer("read_table_17_1_63"))
        .unwrap()
        .unwrap();
    assert_eq!(v.as_uint(), 2);
}

/// The recorded session, request by request, against the emulator: each
/// answer must be the device's, byte for byte.
#[test]
fn the_emulator_answers_the_recorded_session_as_the_device_did() {
    let bench = Bench::start();
    let mut port = bench.port();
    for name in [
        "open_shift",
        "open_receipt_sale_return",
        "operation_v2_vat22",
        "operation_tlv_1293",
        "open_receipt_again",
        "close_v2_cashless_over_total",
        "close_v4_cashless_over_total",
    ] {
        let req = recorded(name, true);
        let got = port.exchange(&req[2..req.len() - 1]);
        let want = recorded(name, false);
        assert_eq!(got, want[2..want.len() - 1], "{name}");
    }
    // The second fractional-quantity TLV has no recorded answer of its own;
    // the device took it like the first.
    let req = recorded("operation_tlv_1294", true);
    assert_eq!(
        port.exchange(&req[2..req.len() - 1]),
        vec![0xFF, 0x4D, 0x00]
    );
}
