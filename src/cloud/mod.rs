//! MoySklad POS API (posap 1.0): typed models ([`models`]) and, around them,
//! the HTTP client the worker uses to poll the master queue and report back.

pub mod models;
pub mod secret;

pub use secret::Secret;
