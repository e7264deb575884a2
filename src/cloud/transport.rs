//! One HTTP exchange with the POS API, done politely and robustly: through
//! the account's [`RateLimiter`], with a timeout, honouring 429s and the
//! rate-limit headers, and retrying 5xx / connection failures / timeouts
//! with jittered exponential backoff (backon) up to a bound.
//!
//! Retrying a request whose answer was lost is safe for every resource the
//! agent uses: poll hands out the same operation until it is answered,
//! approve/reject/openshift/closeshift are keyed by syncIds, and state is
//! a snapshot.
//!
//! What a status *means* for a given resource (e.g. 404 on poll = empty
//! queue) is decided by the caller ([`super::client`]); this module only
//! returns the final answer or a [`CloudError`].

use std::sync::Arc;
use std::time::Duration;

use backon::BackoffBuilder;
use reqwest::header::{HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use super::error::CloudError;
use super::limiter::RateLimiter;
use super::models::{ApiErrorBody, parse_json};
use super::secret::Secret;

/// How hard to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts for 5xx, connection errors and timeouts (first included).
    pub max_attempts: u32,
    /// First backoff delay (jittered, doubled each time).
    pub min_delay: Duration,
    /// Longest backoff delay.
    pub max_delay: Duration,
    /// 429 answers tolerated in a row before giving up.
    pub max_rate_limited: u32,
    /// Wait after a 429 that names no time.
    pub default_rate_limit_wait: Duration,
    /// Longest wait a 429's headers are believed for.
    pub max_rate_limit_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_rate_limited: 10,
            default_rate_limit_wait: Duration::from_secs(1),
            max_rate_limit_wait: Duration::from_secs(300),
        }
    }
}

/// How a request authenticates.
#[derive(Clone)]
pub(crate) enum Auth {
    /// `Lognex-Pos-Auth-Token` + `Lognex-Pos-Auth-Cashier-Uid`.
    Token { token: Secret, cashier_uid: String },
    /// Basic auth with the account login (admin resources).
    Basic { login: String, password: Secret },
}

// Hand-written so that a future field can never leak a secret through
// `Debug`.
impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Auth::Token { cashier_uid, .. } => f
                .debug_struct("Token")
                .field("cashier_uid", cashier_uid)
                .finish_non_exhaustive(),
            Auth::Basic { login, .. } => f
                .debug_struct("Basic")
                .field("login", login)
                .finish_non_exhaustive(),
        }
    }
}

/// A final answer below 500 (other than 429): the caller interprets it.
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: StatusCode,
    pub body: Vec<u8>,
}

impl Answer {
    /// `Ok(self)` for 2xx; a typed [`CloudError::Api`] for anything else,
    /// carrying the API's `errors[]`.
    pub fn success(self, endpoint: &str) -> Result<Answer, CloudError> {
        if self.status.is_success() {
            Ok(self)
        } else {
            Err(api_error(endpoint, self.status, &self.body))
        }
    }
}

/// Builds the typed error of a 4xx answer from its `errors[]` body (any
/// other body: the HTTP reason).
pub(crate) fn api_error(endpoint: &str, status: StatusCode, body: &[u8]) -> CloudError {
    let errors = parse_json::<ApiErrorBody>("errors", body)
        .map(|b| b.errors)
        .unwrap_or_default();
    let message = if errors.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("unexpected status")
            .to_owned()
    } else {
        errors
            .iter()
            .map(|e| e.error.as_str())
            .collect::<Vec<_>>()
            .join("; ")
    };
    CloudError::Api {
        endpoint: endpoint.to_owned(),
        status: status.as_u16(),
        code: errors.iter().find_map(|e| e.code),
        message,
        errors,
    }
}

/// The shared machinery of [`super::PosClient`] and [`super::AdminClient`].
#[derive(Debug, Clone)]
pub(crate) struct Transport {
    pub http: reqwest::Client,
    pub base: Url,
    pub limiter: Arc<RateLimiter>,
    pub retry: RetryPolicy,
    pub timeout: Duration,
}

/// What one attempt ended in.
enum Attempt {
    Done(Answer),
    RateLimited(Duration),
    Retry(CloudError),
}

impl Transport {
    /// `base` + path segments (percent-encoded); a trailing `""` segment
    /// gives a trailing slash.
    pub fn url(&self, segments: &[&str]) -> Result<Url, CloudError> {
        let mut url = self.base.clone();
        {
            let mut path = url.path_segments_mut().map_err(|()| {
                CloudError::Setup(format!("base URL {} cannot take a path", self.base))
            })?;
            path.pop_if_empty();
            path.extend(segments);
        }
        Ok(url)
    }

    /// Sends one request, retrying as the policy says, and returns the
    /// final answer with status < 500 (429 excluded).
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        auth: &Auth,
        body: Option<Vec<u8>>,
    ) -> Result<Answer, CloudError> {
        let endpoint = format!("{method} {}", url.path());
        let mut backoff = backon::ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(self.retry.min_delay)
            .with_max_delay(self.retry.max_delay)
            .with_max_times(self.retry.max_attempts.saturating_sub(1) as usize)
            .build();
        let mut attempts = 0u32;
        let mut rate_limited = 0u32;
        loop {
            attempts += 1;
            let outcome = self
                .attempt(&method, &url, auth, body.as_deref(), &endpoint, attempts)
                .await?;
            match outcome {
                Attempt::Done(answer) => return Ok(answer),
                Attempt::RateLimited(wait) => {
                    rate_limited += 1;
                    tracing::warn!(%endpoint, wait_ms = wait.as_millis() as u64, "429 from the cloud");
                    if rate_limited >= self.retry.max_rate_limited {
                        return Err(CloudError::RateLimited {
                            endpoint,
                            attempts: rate_limited,
                            retry_after: wait,
                        });
                    }
                    // The limiter holds every kassa of the account back,
                    // this one included; no extra backoff needed.
                    self.limiter.pause_for(wait).await;
                    attempts -= 1; // 429s have their own bound
                }
                Attempt::Retry(err) => match backoff.next() {
                    Some(delay) => {
                        tracing::warn!(%endpoint, attempt = attempts, delay_ms = delay.as_millis() as u64, error = %err, "retrying");
                        tokio::time::sleep(delay).await;
                    }
                    None => return Err(err),
                },
            }
        }
    }

    async fn attempt(
        &self,
        method: &Method,
        url: &Url,
        auth: &Auth,
        body: Option<&[u8]>,
        endpoint: &str,
        attempts: u32,
    ) -> Result<Attempt, CloudError> {
        let mut request = self
            .http
            .request(method.clone(), url.clone())
            .timeout(self.timeout)
            .header(reqwest::header::ACCEPT, "application/json");
        request = match auth {
            Auth::Token { token, cashier_uid } => {
                let mut value = HeaderValue::from_str(token.expose()).map_err(|_| {
                    CloudError::Setup("the token has characters not allowed in a header".into())
                })?;
                value.set_sensitive(true);
                let uid = HeaderValue::from_str(cashier_uid).map_err(|_| {
                    CloudError::Setup(format!(
                        "cashier uid {cashier_uid:?} has characters not allowed in a header"
                    ))
                })?;
                request
                    .header("Lognex-Pos-Auth-Token", value)
                    .header("Lognex-Pos-Auth-Cashier-Uid", uid)
            }
            Auth::Basic { login, password } => request.basic_auth(login, Some(password.expose())),
        };
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.to_vec());
        }

        let permit = self.limiter.acquire().await;
        let result = async {
            let response = request.send().await?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = response.bytes().await?;
            Ok::<_, reqwest::Error>((status, headers, body))
        }
        .await;
        drop(permit);

        let counters = crate::metrics::counters();
        let (status, headers, body) = match result {
            Ok(r) => r,
            Err(e) => {
                counters.cloud_request(method.as_str(), url.path(), None);
                return Ok(Attempt::Retry(self.transport_error(endpoint, attempts, &e)));
            }
        };
        counters.cloud_request(method.as_str(), url.path(), Some(status.as_u16()));
        tracing::debug!(%endpoint, status = status.as_u16(), attempt = attempts, "cloud answered");
        if let Some(wait) = exhausted_wait(&headers) {
            self.limiter
                .pause_for(wait.min(self.retry.max_rate_limit_wait))
                .await;
        }
        if status.is_redirection() {
            return Err(CloudError::Redirected {
                endpoint: endpoint.to_owned(),
                status: status.as_u16(),
                location: redirect_target(&headers),
            });
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            let wait = retry_after(&headers)
                .unwrap_or(self.retry.default_rate_limit_wait)
                .min(self.retry.max_rate_limit_wait);
            return Ok(Attempt::RateLimited(wait));
        }
        if status.is_server_error() {
            let message = match api_error(endpoint, status, &body) {
                CloudError::Api { message, .. } => message,
                other => other.to_string(),
            };
            return Ok(Attempt::Retry(CloudError::Server {
                endpoint: endpoint.to_owned(),
                status: status.as_u16(),
                attempts,
                message,
            }));
        }
        if status.is_success() && is_html(&headers) {
            // The API never answers HTML: a proxy or captive portal did, and
            // whatever was sent (an approve, an openshift) did not reach the
            // cloud. Taking its 200 for the cloud's would lose the message.
            return Ok(Attempt::Retry(CloudError::Malformed {
                endpoint: endpoint.to_owned(),
                source: crate::cloud::models::ModelError::Syntax {
                    what: "answer",
                    line: 1,
                    column: 1,
                    message: format!(
                        "an HTML page (HTTP {}) instead of the API's answer",
                        status.as_u16()
                    ),
                },
            }));
        }
        Ok(Attempt::Done(Answer {
            status,
            body: body.to_vec(),
        }))
    }

    /// Turns a reqwest failure into a typed error. The message is reqwest's
    /// own chain of causes; it names the URL (which holds no secret) but
    /// never the headers, where the token travels.
    fn transport_error(&self, endpoint: &str, attempts: u32, e: &reqwest::Error) -> CloudError {
        if e.is_timeout() {
            return CloudError::Timeout {
                endpoint: endpoint.to_owned(),
                timeout: self.timeout,
                attempts,
            };
        }
        let mut message = e.to_string();
        let mut source = std::error::Error::source(e);
        while let Some(s) = source {
            message.push_str(": ");
            message.push_str(&s.to_string());
            source = s.source();
        }
        CloudError::Connection {
            endpoint: endpoint.to_owned(),
            attempts,
            message,
        }
    }
}

/// Milliseconds in a header, if it is a non-negative integer.
fn header_ms(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let text = headers.get(name)?.to_str().ok()?.trim();
    text.parse::<u64>().ok().map(Duration::from_millis)
}

/// How long a 429 says to wait: `X-Lognex-Retry-After` (ms), else
/// `X-Lognex-Reset` (ms), else the standard `Retry-After` (seconds).
/// Where a redirect points, as scheme://host[:port] only: a `Location`
/// may carry a query with anything in it.
/// True when the answer says it is an HTML page.
fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim_start().to_ascii_lowercase().starts_with("text/html"))
}

fn redirect_target(headers: &HeaderMap) -> String {
    headers
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|l| Url::parse(l).ok())
        .map(|u| match (u.host_str(), u.port()) {
            (Some(h), Some(p)) => format!("{}://{h}:{p}", u.scheme()),
            (Some(h), None) => format!("{}://{h}", u.scheme()),
            _ => "(no host)".to_string(),
        })
        .unwrap_or_else(|| "(a relative or missing Location)".to_string())
}

pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    header_ms(headers, "X-Lognex-Retry-After")
        .filter(|d| !d.is_zero())
        .or_else(|| header_ms(headers, "X-Lognex-Reset").filter(|d| !d.is_zero()))
        .or_else(|| {
            let text = headers.get(reqwest::header::RETRY_AFTER)?.to_str().ok()?;
            text.trim().parse::<u64>().ok().map(Duration::from_secs)
        })
}

/// When an answer says no requests remain (`X-RateLimit-Remaining: 0`),
/// how long until the limit resets (`X-Lognex-Reset`, ms).
pub(crate) fn exhausted_wait(headers: &HeaderMap) -> Option<Duration> {
    let remaining: u64 = headers
        .get("X-RateLimit-Remaining")?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    if remaining > 0 {
        return None;
    }
    header_ms(headers, "X-Lognex-Reset").filter(|d| !d.is_zero())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn retry_after_prefers_lognex_headers() {
        let h = headers(&[("X-Lognex-Retry-After", "1500"), ("X-Lognex-Reset", "4000")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(1500)));
        let h = headers(&[("X-Lognex-Reset", "4000")]);
        assert_eq!(retry_after(&h), Some(Duration::from_millis(4000)));
        let h = headers(&[("Retry-After", "2")]);
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        let h = headers(&[("X-Lognex-Retry-After", "soon")]);
        assert_eq!(retry_after(&h), None);
    }

    #[test]
    fn exhausted_only_at_zero_remaining() {
        let h = headers(&[("X-RateLimit-Remaining", "0"), ("X-Lognex-Reset", "800")]);
        assert_eq!(exhausted_wait(&h), Some(Duration::from_millis(800)));
        let h = headers(&[("X-RateLimit-Remaining", "3"), ("X-Lognex-Reset", "800")]);
        assert_eq!(exhausted_wait(&h), None);
        assert_eq!(exhausted_wait(&HeaderMap::new()), None);
    }

    #[test]
    fn api_error_reads_errors_body() {
        let body = br#"{"errors":[{"error":"bad meta","code":3000,"parameter":"meta"},{"error":"and more"}]}"#;
        match api_error("PUT /x", StatusCode::PRECONDITION_FAILED, body) {
            CloudError::Api {
                status,
                code,
                message,
                errors,
                ..
            } => {
                assert_eq!(status, 412);
                assert_eq!(code, Some(3000));
                assert_eq!(message, "bad meta; and more");
                assert_eq!(errors.len(), 2);
            }
            other => panic!("{other:?}"),
        }
        match api_error("GET /x", StatusCode::FORBIDDEN, b"<html>") {
            CloudError::Api { message, code, .. } => {
                assert_eq!(message, "Forbidden");
                assert_eq!(code, None);
            }
            other => panic!("{other:?}"),
        }
    }
}
