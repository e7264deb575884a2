//! A killed agent can leave bytes in the printer's port: its ENQ's NAK, or
//! a whole answer it never read. Taken as the answer to the next command,
//! such a byte makes the link resend a command the device already executed
//! (a position registered twice, so the receipt's payments no longer cover
//! its total). The device opener drains the port first; every receipt
//! after such a death prints once with the right total.

use masterkassa::receipt::{OperationInput, RenderContext, render};
use masterkassa::worker::queue::samples;
use shtrih::driver::{Baud, DriverConfig};
use sim_shtrih::{Emulator, EmulatorConfig, doc_type};
use std::io::Write;
use std::time::Duration;

fn receipt() -> kkt::Receipt {
    let op = masterkassa::cloud::models::parse_operation(samples::PREPAYMENT.as_bytes()).unwrap();
    render(&OperationInput::from_cloud(&op), &RenderContext::default()).unwrap()
}

#[test]
fn receipts_print_correctly_after_a_dead_agent_left_bytes_in_the_port() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let path = link.to_string_lossy().to_string();
    let mut open = masterkassa::device::shtrih_opener(
        path.clone(),
        Baud::Fixed(115_200),
        DriverConfig::default(),
    );
    let mut kkt = open().unwrap();
    kkt.open_shift("Кассир").unwrap();
    drop(kkt);
    let status = shtrih::commands::request_frame(30, &shtrih::commands::ShortStatus)
        .encode()
        .unwrap();
    let leftovers: [Vec<u8>; 3] = [vec![0x05], status.clone(), [vec![0x05], status].concat()];
    for (i, bytes) in leftovers.iter().enumerate() {
        let mut port = shtrih::serial::SerialLine::open(&path, 115_200).unwrap();
        port.write_all(bytes).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        drop(port); // dies without reading the device's answer
        let mut kkt = open().unwrap();
        let printed = kkt.print_receipt(&receipt());
        assert!(printed.is_ok(), "leftover {i}: {printed:?}");
        assert_eq!(printed.unwrap().total, kkt::Money(1000));
    }
    let receipts: Vec<_> = emu
        .archive()
        .into_iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    assert_eq!(receipts.len(), 3);
    assert!(receipts.iter().all(|d| d.total == Some(1000)));
}
