//! An ATOL Web-server stand-in: the JSON task API of ATOL Driver 10 over
//! HTTP (`POST /api/v2/requests`, `GET /api/v2/requests/{uuid}`), executing
//! tasks on the simulated FN of `sim-fn`.
//!
//! - [`device`]: one ATOL printer with its FN, paper, cover and faults;
//!   executes one task (pure state, no I/O);
//! - [`marking`]: FFD 1.2 marking-code checks and the codes accepted for
//!   the next receipt;
//! - [`server`]: the HTTP side: request queue with ATOL's asynchronous
//!   states, the executor, several printers by `deviceID`, fault switches,
//!   the optional state file;
//! - [`control`]: the fault switches as text commands, served at
//!   `POST /sim/control`.

pub mod control;
pub mod device;
pub mod marking;
pub mod server;

pub use device::{AtolDevice, Faults};
pub use server::{AtolServer, ServerOptions, SimControl};
