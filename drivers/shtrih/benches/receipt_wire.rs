//! Wire benchmark: one 10-position receipt at 9600 and 115200 baud.
//!
//! Prints, per speed: bytes host→device and device→host per receipt, the
//! theoretical wire time of those bytes (10 bits per byte), the measured
//! wall time per receipt against a device on a real PTY that paces its line
//! at that speed, and the host CPU time the driver thread spent per receipt.
//!
//! Run: `cargo bench -p shtrih --bench receipt_wire`.

#[path = "../tests/common/model.rs"]
mod model;
#[path = "../tests/common/pty.rs"]
mod pty;

use kkt::{
    Kkt, Money, PaymentMethod, PaymentObject, Payments, Position, Quantity, Receipt, ReceiptKind,
    TaxSystem, VatRate,
};
use shtrih::driver::{Baud, DriverConfig, ShtrihDriver};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn ten_position_receipt() -> Receipt {
    let positions: Vec<Position> = (1..=10)
        .map(|i| {
            let quantity = Quantity(i * 500_000);
            let price = Money(10_000 + i * 137);
            Position {
                name: format!("Товар номер {i} — молоко 3,2% 1 л"),
                quantity,
                price,
                sum: quantity.times(price).unwrap_or(Money::ZERO),
                vat: VatRate::Vat22,
                method: PaymentMethod::FullPayment,
                object: PaymentObject::COMMODITY,
                marking_code: None,
            }
        })
        .collect();
    let total = positions.iter().map(|p| p.sum.0).sum();
    Receipt {
        kind: ReceiptKind::Sale,
        tax_system: TaxSystem::General,
        positions,
        payments: Payments {
            cash: Money(total),
            ..Payments::default()
        },
        buyer_contact: Some("buyer@example.ru".into()),
        cashier: Some("Кассир Иванова".into()),
    }
}

/// CPU time of the calling thread.
fn thread_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: ts is a valid timespec the call writes into.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

fn run(baud: u32, receipts: u32) {
    let model = Arc::new(Mutex::new(model::Model {
        last_fd: 1,
        shift_open: true,
        shift: 1,
        ..model::Model::default()
    }));
    let m = model.clone();
    let dev = pty::PtyDevice::spawn(move |f| m.lock().expect("model").handle(f), Some(baud))
        .expect("pty device");
    let mut d = ShtrihDriver::open(&dev.path_str(), Baud::Fixed(baud), DriverConfig::default())
        .expect("open");
    let r = ten_position_receipt();
    // Warm-up receipt, not measured.
    d.print_receipt(&r).expect("warm-up receipt");
    let s0 = d.link().stats();
    let cpu0 = thread_cpu();
    let t0 = Instant::now();
    for _ in 0..receipts {
        d.print_receipt(&r).expect("receipt");
    }
    let wall = t0.elapsed() / receipts;
    let cpu = (thread_cpu() - cpu0) / receipts;
    let s1 = d.link().stats();
    let sent = (s1.bytes_sent - s0.bytes_sent) / u64::from(receipts);
    let recv = (s1.bytes_received - s0.bytes_received) / u64::from(receipts);
    let wire = Duration::from_micros((sent + recv) * 10 * 1_000_000 / u64::from(baud));
    println!(
        "{baud:>6} baud | host→device {sent:>5} B | device→host {recv:>4} B | wire {:>7.1} ms | measured {:>7.1} ms | host CPU {:>6.3} ms | {} frames/receipt",
        wire.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        (s1.frames_sent - s0.frames_sent) / u64::from(receipts),
    );
}

fn main() {
    println!(
        "10-position receipt (open, cashier TLV, 10 × operation V2, buyer TLV, close V2, shift params)"
    );
    run(9_600, 3);
    run(115_200, 10);
}
