//! MoySklad POS API (posap 1.0): typed models ([`models`]), the trait
//! boundary the worker codes against ([`PosApi`], [`AdminApi`]), the real
//! HTTP clients ([`PosClient`], [`AdminClient`]) with their shared
//! per-account [`RateLimiter`], and the errors they return ([`CloudError`]
//! with an [`ErrorClass`]).

pub mod api;
pub mod client;
pub mod error;
pub mod limiter;
pub mod models;
pub mod secret;
mod transport;

pub use api::{AdminApi, PosApi, fetch_assortment};
#[cfg(test)]
pub use api::{MockAdminApi, MockPosApi};
pub use client::{AdminClient, ClientConfig, DEFAULT_BASE_URL, PosClient};
pub use error::{CloudError, ErrorClass};
pub use limiter::{Limits, RateLimiter};
pub use secret::Secret;
pub use transport::RetryPolicy;
