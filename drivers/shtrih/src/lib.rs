//! Shtrih-M fiscal printer protocol.
//!
//! Layered bottom-up, each layer testable alone (tokio-modbus style):
//! - [`frame`]: bytes ↔ frames (`STX LEN CMD DATA LRC`), shared by host and device;
//! - [`wire`]: field encodings inside a frame (little-endian integers, 5-byte
//!   money, CP1251 text, BCD-free dates);

pub mod frame;
pub mod wire;
