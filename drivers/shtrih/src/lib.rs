//! Shtrih-M fiscal printer protocol.
//!
//! Layered bottom-up, each layer testable alone (tokio-modbus style):
//! - [`frame`]: bytes ↔ frames (`STX LEN CMD DATA LRC`), shared by host and device;
//! - [`wire`]: field encodings inside a frame (little-endian integers, 5-byte
//!   money, CP1251 text, dates);
//! - [`link`]: ENQ/ACK/NAK handshake, timeouts, retries over any `Read + Write`;
//! - [`serial`]: the serial port under the link ([`serial::SerialLine`]);
//! - [`commands`]: typed requests and answers;
//! - [`error_codes`]: device error codes → Russian text and error class;
//! - [`tax_code`]: the VAT byte of operation V2, both directions;
//! - [`driver`]: implements `kkt::Kkt`.
//!
//! The device side (the emulator) is the `sim-shtrih` crate.

pub mod commands;
pub mod driver;
pub mod error_codes;
pub mod frame;
pub mod link;
#[cfg(unix)]
pub mod serial;
pub mod tax_code;
pub mod wire;
