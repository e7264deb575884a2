//! Wire benchmark: one 10-position receipt at 9600 and 115200 baud.
//!
//! Prints, per speed: bytes host→device and device→host per receipt, the
//! theoretical wire time of those bytes (10 bits per byte), the measured
//! wall time per receipt, and the host CPU time the driver thread spent per
//! receipt — against two devices on real PTYs:
//! - `emulator`: the crate's emulator serving a PTY at that baud rate (its
//!   own line pacing);
//! - `paced model`: the test device model behind a PTY that sleeps each
//!   chunk's wire time in both directions.
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
use sim_shtrih::{Emulator, EmulatorConfig};
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
                measure: None,
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
        header: Vec::new(),
        footer: Vec::new(),
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

/// Prints one line of numbers for `receipts` receipts through `d`.
fn measure<P: shtrih::link::Port>(label: &str, d: &mut ShtrihDriver<P>, baud: u32, receipts: u32) {
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
        "{label:<12} {baud:>6} baud | host→device {sent:>5} B | device→host {recv:>4} B | wire {:>7.1} ms | measured {:>7.1} ms | host CPU {:>6.3} ms | {} frames",
        wire.as_secs_f64() * 1e3,
        wall.as_secs_f64() * 1e3,
        cpu.as_secs_f64() * 1e3,
        (s1.frames_sent - s0.frames_sent) / u64::from(receipts),
    );
}

fn against_emulator(baud: u32, receipts: u32) {
    let dir = tempfile::tempdir().expect("tempdir");
    let emu =
        Emulator::spawn(EmulatorConfig::new(dir.path().join("kkt")).baud(baud)).expect("emulator");
    let mut d = ShtrihDriver::open(
        &emu.link_path().to_string_lossy(),
        Baud::Fixed(baud),
        DriverConfig::default(),
    )
    .expect("open");
    d.open_shift("Кассир").expect("open shift");
    measure("emulator", &mut d, baud, receipts);
}

fn against_paced_model(baud: u32, receipts: u32) {
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
    measure("paced model", &mut d, baud, receipts);
}

fn main() {
    println!(
        "10-position receipt (open, cashier TLV, 10 × operation V2, buyer TLV, close V2, shift params)"
    );
    against_emulator(9_600, 3);
    against_emulator(115_200, 10);
    against_paced_model(9_600, 3);
    against_paced_model(115_200, 10);
}
