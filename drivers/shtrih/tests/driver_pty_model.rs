//! Driver over a real PTY pair (serial port opened by path, termios, read
//! timeouts) against the in-test device model: proves the serial transport
//! and baud handling work end to end, independently of the emulator.

mod common;

use common::model::Model;
use common::pty::PtyDevice;
use kkt::{
    Kkt, Money, PaymentMethod, PaymentObject, Payments, Position, Quantity, Receipt, ReceiptKind,
    TaxSystem, VatRate,
};
use shtrih::driver::{Baud, DriverConfig, ShtrihDriver};
use std::sync::{Arc, Mutex};

fn device() -> (PtyDevice, Arc<Mutex<Model>>) {
    let model = Arc::new(Mutex::new(Model {
        last_fd: 20,
        shift_open: true,
        shift: 3,
        ..Model::default()
    }));
    let m = model.clone();
    let dev = PtyDevice::spawn(move |f| m.lock().expect("model").handle(f), None).expect("pty");
    (dev, model)
}

fn sale() -> Receipt {
    Receipt {
        kind: ReceiptKind::Sale,
        tax_system: TaxSystem::General,
        positions: vec![Position {
            name: "Чай зелёный".into(),
            quantity: Quantity(2_000_000),
            price: Money(15_050),
            sum: Money(30_100),
            vat: VatRate::Vat22,
            method: PaymentMethod::FullPayment,
            object: PaymentObject::COMMODITY,
            marking_code: None,
            measure: None,
        }],
        payments: Payments {
            electronic: Money(30_100),
            ..Payments::default()
        },
        buyer_contact: None,
        cashier: None,
        header: Vec::new(),
        footer: Vec::new(),
    }
}

#[test]
fn receipt_over_a_real_pty_at_a_fixed_speed() {
    let (dev, model) = device();
    let mut d = ShtrihDriver::open(
        &dev.path_str(),
        Baud::Fixed(115_200),
        DriverConfig::default(),
    )
    .expect("open pty");
    let printed = d.print_receipt(&sale()).expect("printed");
    assert_eq!(printed.doc.number, 21);
    assert_eq!(model.lock().unwrap().last_fd, 21);
    assert!(dev.from_host.load(std::sync::atomic::Ordering::Relaxed) > 200);
}

#[test]
fn auto_baud_finds_a_device_on_a_pty() {
    let (dev, _model) = device();
    let mut d = ShtrihDriver::open(&dev.path_str(), Baud::Auto, DriverConfig::default())
        .expect("open pty with auto baud");
    // A PTY has no speed: the first rate tried answers.
    assert_eq!(d.baud(), shtrih::link::STANDARD_BAUD_RATES[0]);
    assert!(d.status().expect("status").paper_present);
}

#[test]
fn missing_port_is_a_link_error() {
    let err = ShtrihDriver::open(
        "/nonexistent/tty",
        Baud::Fixed(9600),
        DriverConfig::default(),
    )
    .err()
    .expect("must fail");
    assert_eq!(err.class(), kkt::ErrorClass::Link);
    assert!(err.to_string().contains("/nonexistent/tty"), "{err}");
}
