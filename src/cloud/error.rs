//! Errors of the MoySklad client, each with the [`ErrorClass`] the worker
//! needs to decide what to do: wait and retry (cloud), reject the
//! operation (data), or stop and tell the operator (config).
//!
//! No variant ever holds the token or a password: requests are described by
//! their method and path only.

use std::time::Duration;

use super::models::{ApiErrorEntry, Meta, ModelError};

/// Who can fix an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorClass {
    /// Bad setup: wrong token or login (401/403), bad URL, TLS set-up. The
    /// operator must act; retrying will not help.
    Config,
    /// The cloud or the network: outage, 5xx, timeouts, 429, a malformed
    /// answer. Retry later.
    Cloud,
    /// This request cannot succeed as it is: the cloud refused it with a 4xx
    /// (bad body, unknown or finished operation, shift not open), or a
    /// polled operation does not parse. Permanent for that request; for a
    /// polled operation, reject it.
    Data,
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            ErrorClass::Config => "config",
            ErrorClass::Cloud => "cloud",
            ErrorClass::Data => "data",
        })
    }
}

/// A failed call to the POS API. `endpoint` is `METHOD /path`.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// The client could not be built (bad base URL, TLS).
    #[error("cloud client set-up: {0}")]
    Setup(String),

    /// A 4xx answer (other than 429), with the API's `errors[]`.
    #[error("{endpoint}: HTTP {status}{}: {message}", code.map(|c| format!(" (code {c})")).unwrap_or_default())]
    Api {
        endpoint: String,
        status: u16,
        /// The first error's `code`, if any.
        code: Option<i64>,
        /// The errors' texts joined, or the HTTP reason.
        message: String,
        errors: Vec<ApiErrorEntry>,
    },

    /// Still 429 after the allowed number of waits.
    #[error("{endpoint}: rate limited {attempts} times in a row (last wait {retry_after:?})")]
    RateLimited {
        endpoint: String,
        attempts: u32,
        retry_after: Duration,
    },

    /// 5xx on every attempt.
    #[error("{endpoint}: server error HTTP {status} after {attempts} attempts: {message}")]
    Server {
        endpoint: String,
        status: u16,
        attempts: u32,
        message: String,
    },

    /// No answer within the timeout on every attempt.
    #[error("{endpoint}: no answer within {timeout:?} ({attempts} attempts)")]
    Timeout {
        endpoint: String,
        timeout: Duration,
        attempts: u32,
    },

    /// Connection refused / reset / DNS failure on every attempt.
    #[error("{endpoint}: connection failed after {attempts} attempts: {message}")]
    Connection {
        endpoint: String,
        attempts: u32,
        message: String,
    },

    /// A 3xx answer. Redirects are never followed: the token travels in
    /// its own header, which an HTTP client does not strip when it follows
    /// a redirect to another host. Usually a wrong `api_url` (http for
    /// https, an old host).
    #[error("{endpoint}: HTTP {status} redirect to {location} (not followed; check api_url)")]
    Redirected {
        endpoint: String,
        status: u16,
        /// Scheme, host and port of `Location`, never its query.
        location: String,
    },

    /// A 2xx answer whose body is not what the API documents.
    #[error("{endpoint}: malformed answer: {source}")]
    Malformed {
        endpoint: String,
        #[source]
        source: ModelError,
    },

    /// A polled operation that is JSON with a `meta` but does not fit the
    /// model (missing required field, fractional kopecks, unknown kind).
    /// `meta` lets the worker reject it.
    #[error("polled operation {} cannot be read: {source}", meta.as_ref().map(|m| m.href.as_str()).unwrap_or("(no meta)"))]
    BadOperation {
        meta: Option<Box<Meta>>,
        #[source]
        source: ModelError,
    },
}

impl CloudError {
    /// Who can fix it.
    pub fn class(&self) -> ErrorClass {
        match self {
            CloudError::Setup(_) | CloudError::Redirected { .. } => ErrorClass::Config,
            CloudError::Api { status, .. } => match status {
                401 | 403 => ErrorClass::Config,
                // Wrong method or an API version gone: our set-up is wrong.
                405 | 410 => ErrorClass::Config,
                _ => ErrorClass::Data,
            },
            CloudError::RateLimited { .. }
            | CloudError::Server { .. }
            | CloudError::Timeout { .. }
            | CloudError::Connection { .. }
            | CloudError::Malformed { .. } => ErrorClass::Cloud,
            CloudError::BadOperation { meta, .. } => {
                if meta.is_some() {
                    ErrorClass::Data
                } else {
                    ErrorClass::Cloud
                }
            }
        }
    }

    /// True for errors that may go away by themselves (retry later).
    pub fn is_transient(&self) -> bool {
        self.class() == ErrorClass::Cloud
    }

    /// The HTTP status, when there was an answer.
    pub fn status(&self) -> Option<u16> {
        match self {
            CloudError::Api { status, .. }
            | CloudError::Server { status, .. }
            | CloudError::Redirected { status, .. } => Some(*status),
            CloudError::RateLimited { .. } => Some(429),
            _ => None,
        }
    }
}
