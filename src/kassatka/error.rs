//! Errors of the Kassatka client. Messages name the endpoint and carry the
//! server's own text; they never contain the API token.

use super::documents::DocumentsError;
use std::time::Duration;
use thiserror::Error;

/// Everything that can go wrong talking to Kassatka.
#[derive(Debug, Error)]
pub enum KassatkaError {
    #[error("Kassatka API URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    #[error("Kassatka API token: {0}")]
    BadToken(&'static str),
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    #[error("Kassatka {endpoint}: request failed: {message}")]
    Transport { endpoint: String, message: String },
    #[error("Kassatka {endpoint}: the API token was refused (HTTP {status}): {message}")]
    Unauthorized {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("Kassatka {endpoint}: server error (HTTP {status}): {message}")]
    Server {
        endpoint: String,
        status: u16,
        message: String,
    },
    #[error("Kassatka {endpoint}: HTTP {status}: {message}")]
    Http {
        endpoint: String,
        status: u16,
        message: String,
    },
    /// The envelope said `"success": false`.
    #[error("Kassatka {endpoint}: request refused: {message}")]
    Refused { endpoint: String, message: String },
    #[error("Kassatka {endpoint}: unexpected answer: {detail}")]
    BadResponse { endpoint: String, detail: String },
    #[error("Kassatka process {key} failed: {message}")]
    ProcessFailed { key: String, message: String },
    #[error("Kassatka process {key} not finished after {} s (last status: {last})", waited.as_secs())]
    Timeout {
        key: String,
        waited: Duration,
        last: String,
    },
    #[error(transparent)]
    Documents(#[from] DocumentsError),
}

impl KassatkaError {
    /// Worth retrying while waiting for a process: the network or the server
    /// hiccuped, nothing says the request itself is wrong.
    pub fn is_transient(&self) -> bool {
        match self {
            KassatkaError::Transport { .. } | KassatkaError::Server { .. } => true,
            KassatkaError::Http { status, .. } => *status == 429 || *status == 408,
            _ => false,
        }
    }
}
