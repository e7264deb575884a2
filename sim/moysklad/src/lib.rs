//! A fake MoySklad POS API (posap 1.0) on loopback, for tests, the demo and
//! `masterkassa fake-cloud`. It behaves like the real cloud as the seed
//! (`001_…`) describes it: a per-organisation queue fed by the minion
//! endpoints, poll / approve / reject, fiscal status, shifts, `/state`,
//! settings and the admin resources, the seed's `errors[]` answers, token and
//! Basic auth, and real rate limits with the seed's headers. Faults can be
//! switched on at run time. It validates what the agent sends with plain
//! `serde_json::Value` checks, independent of the agent's typed models (`masterkassa::cloud`).
//!
//! Layout: [`config`] (setup), [`store`] (queue and shifts, pure),
//! [`validate`] + [`json_checks`] (body checks, pure), [`api_error`] (the
//! error answer), [`auth`], [`rate_limit`], [`faults`] (pure), [`routes`]
//! and [`control`] (HTTP), [`server`] (listener and handle), [`samples`]
//! (the seed's bodies).

pub mod api_error;
pub mod auth;
pub mod catalogue;
pub mod config;
pub mod control;
pub mod faults;
pub mod json_checks;
pub mod rate_limit;
pub mod routes;
pub mod samples;
pub mod server;
pub mod store;
pub mod validate;

pub use api_error::{ApiError, ErrorBody, ErrorItem};
pub use config::{FakeCloudConfig, FakeStore};
pub use faults::{EmptyPollForm, Fault, FaultKind};
pub use rate_limit::RateLimitConfig;
pub use routes::RequestRecord;
pub use server::{FakeCloud, FakeCloudError, FakeCloudHandle};
pub use store::{FiscalStatus, OpKind, OperationRecord, ShiftRecord, StateRecord};
