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

    /// What the trouble is, in Russian for `status` and `/state`: which
    /// kind of failure, never the English detail (that goes to the log).
    pub fn message_ru(&self) -> String {
        match self {
            CloudError::Setup(_) => "не удаётся настроить подключение к облаку (адрес или TLS)".into(),
            CloudError::Api { status, .. } if matches!(status, 401 | 403) => format!(
                "облако не принимает токен (ответ {status}): проверьте токен в настройках"
            ),
            CloudError::Api { status, .. } => format!("облако отказало в запросе (ответ {status})"),
            CloudError::RateLimited { retry_after, .. } => format!(
                "облако просит обращаться реже (ответ 429, превышен лимит запросов); повтор через {} с",
                retry_after.as_secs().max(1)
            ),
            CloudError::Server { status, .. } => {
                format!("облако отвечает ошибкой сервера (ответ {status}); повтор позже")
            }
            CloudError::Timeout { timeout, .. } => format!(
                "облако не отвечает дольше {} с; повтор позже",
                timeout.as_secs().max(1)
            ),
            CloudError::Connection { .. } => {
                "нет связи с облаком (соединение не устанавливается или обрывается); повтор позже"
                    .into()
            }
            CloudError::Redirected { location, .. } => format!(
                "облако перенаправляет запросы на {location}; перенаправление не выполняется \
                 (токен ушёл бы туда же): проверьте api_url в настройках"
            ),
            CloudError::Malformed { .. } | CloudError::BadOperation { .. } => {
                "облако прислало ответ, который не удаётся разобрать (не JSON или не та структура); повтор позже"
                    .into()
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloud::models::ModelError;

    /// Every kind of cloud failure reads in Russian in `status`, names its
    /// kind (timeout, 429, server error, unreadable answer), and leaks no
    /// English detail or endpoint.
    #[test]
    fn every_failure_is_named_in_russian() {
        let endpoint = || "GET /cheque/rpc/master/poll/x".to_string();
        let cases = [
            (
                CloudError::Timeout {
                    endpoint: endpoint(),
                    timeout: Duration::from_secs(30),
                    attempts: 3,
                },
                "не отвечает дольше 30 с",
            ),
            (
                CloudError::RateLimited {
                    endpoint: endpoint(),
                    attempts: 4,
                    retry_after: Duration::from_millis(2500),
                },
                "ответ 429",
            ),
            (
                CloudError::Server {
                    endpoint: endpoint(),
                    status: 502,
                    attempts: 3,
                    message: "Bad Gateway".into(),
                },
                "ошибкой сервера (ответ 502)",
            ),
            (
                CloudError::Malformed {
                    endpoint: endpoint(),
                    source: ModelError::Syntax {
                        what: "poll",
                        line: 1,
                        column: 7,
                        message: "EOF while parsing".into(),
                    },
                },
                "не удаётся разобрать",
            ),
            (
                CloudError::Connection {
                    endpoint: endpoint(),
                    attempts: 3,
                    message: "connection reset by peer".into(),
                },
                "нет связи с облаком",
            ),
            (
                CloudError::Api {
                    endpoint: endpoint(),
                    status: 401,
                    code: Some(1056),
                    message: "Ошибка аутентификации".into(),
                    errors: Vec::new(),
                },
                "не принимает токен",
            ),
        ];
        for (e, expected) in cases {
            let text = e.message_ru();
            assert!(text.contains(expected), "{text}");
            for english in ["poll", "Gateway", "EOF", "reset", "attempts"] {
                assert!(!text.contains(english), "{text}");
            }
        }
    }
}
