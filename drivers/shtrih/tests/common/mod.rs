//! Shared fixtures of the driver tests.

pub mod model;
pub mod pty;
pub mod receipts;
