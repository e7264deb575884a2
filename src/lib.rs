//! masterkassa: a headless agent that makes a Russian fiscal printer the
//! *master kassa* of a MoySklad shop (and prints Kassatka receipts too).
//!
//! The binary (`src/main.rs`) only parses the command line and calls into
//! [`cli`]; everything else lives in focused modules:
//! - [`cloud`]: MoySklad POS API models and client;
//! - [`fake_cloud`]: a fake MoySklad server for tests and the demo;
//! - [`kassatka`] / [`fake_kassatka`]: Kassatka 1C API client and fake;
//! - [`config`], [`journal`]: configuration and the durable journal;
//! - drivers live in their own crates (`kkt`, `shtrih`).

pub mod catalogue;
pub mod cloud;
pub mod config;
pub mod control;
pub mod device;
pub mod journal;
pub mod kassatka;
pub mod metrics;
pub mod receipt;
pub mod state;
pub mod worker;
