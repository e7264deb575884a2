//! HTTP client of the Kassatka 1C API: one method per endpoint, plus the
//! two complete flows (push the nomenclature and wait; request receipts,
//! wait, download and parse). Every request carries the `api-token` header;
//! answers are decoded from the JSON envelope into typed results or errors.

use super::documents::{KassatkaReceipt, parse_documents};
use super::envelope::{self, Envelope, ProcessStatus};
use super::error::KassatkaError;
use super::nomenclature::ProductsGroups;
use super::waiting::{Poll, WaitPolicy, WaitProgress, poll_until};
use jiff::civil::DateTime;
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderValue};
use reqwest::{Method, StatusCode, Url};
use std::fmt;
use std::time::Duration;

/// Kassatka's production base URL, from the API description.
pub const DEFAULT_BASE_URL: &str = "http://api.kassatka.link/1c-api/v1";

/// The `api-token`. Its `Debug` and `Display` never show the value.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiToken(String);

impl ApiToken {
    /// Wraps a token; surrounding whitespace (a trailing newline in a token
    /// file) is dropped.
    pub fn new(token: impl Into<String>) -> Result<Self, KassatkaError> {
        let token = token.into().trim().to_string();
        if token.is_empty() {
            return Err(KassatkaError::BadToken("empty"));
        }
        if HeaderValue::from_str(&token).is_err() {
            return Err(KassatkaError::BadToken(
                "contains characters not allowed in an HTTP header",
            ));
        }
        Ok(ApiToken(token))
    }

    /// The secret itself, for the header (and the fake server's check).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiToken(<redacted>)")
    }
}

/// A process key returned by `POST /nomenclature` or `GET /receipts`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ProcessKey(pub String);

impl fmt::Display for ProcessKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What `GET /download/{key}` gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Download {
    /// The result file (XML for receipts).
    Ready(Vec<u8>),
    /// Not prepared yet; what the server said.
    NotReady(String),
}

/// Settings of a [`KassatkaClient`].
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Base URL up to the API version, e.g. [`DEFAULT_BASE_URL`].
    pub base_url: String,
    pub token: ApiToken,
    /// Limit for one HTTP exchange (a download may be large).
    pub request_timeout: Duration,
}

impl ClientConfig {
    pub fn new(base_url: impl Into<String>, token: ApiToken) -> Self {
        ClientConfig {
            base_url: base_url.into(),
            token,
            request_timeout: Duration::from_secs(60),
        }
    }
}

/// The warning to show when `url` would send the token in clear text over
/// the network (plain http to a host other than loopback).
pub fn plain_http_warning(url: &Url) -> Option<String> {
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str().unwrap_or_default();
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "the Kassatka API token will travel unencrypted over plain http to {}; \
             use https if the server offers it",
            url.host_str().unwrap_or("?")
        )
    })
}

/// Client of one Kassatka account.
#[derive(Debug, Clone)]
pub struct KassatkaClient {
    http: reqwest::Client,
    base: Url,
    token: HeaderValue,
}

impl KassatkaClient {
    /// Checks the URL and builds the HTTP client (rustls with ring). Logs a
    /// warning if the token would travel over plain http.
    pub fn new(config: ClientConfig) -> Result<Self, KassatkaError> {
        let base = parse_base_url(&config.base_url)?;
        if let Some(warning) = plain_http_warning(&base) {
            tracing::warn!("{warning}");
        }
        // Another part of the program may have installed it already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(15))
            // The api-token header would follow a redirect to any host.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("masterkassa/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| KassatkaError::Client(e.to_string()))?;
        let mut token = HeaderValue::from_str(config.token.expose())
            .map_err(|_| KassatkaError::BadToken("not a valid header value"))?;
        token.set_sensitive(true);
        Ok(KassatkaClient { http, base, token })
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &Url {
        &self.base
    }

    /// `POST /nomenclature`: uploads the catalogue as the multipart file
    /// field `nomenclature`; returns the process key.
    pub async fn push_nomenclature(
        &self,
        nomenclature: &ProductsGroups,
    ) -> Result<ProcessKey, KassatkaError> {
        let endpoint = "POST /nomenclature";
        let part = reqwest::multipart::Part::bytes(nomenclature.to_xml().into_bytes())
            .file_name("nomenclature.xml")
            .mime_str("application/xml; charset=utf-8")
            .map_err(|e| KassatkaError::Client(e.to_string()))?;
        let form = reqwest::multipart::Form::new().part("nomenclature", part);
        let request = self
            .request(Method::POST, &["nomenclature"])
            .multipart(form);
        let envelope = self.envelope(endpoint, request).await?;
        process_key(endpoint, &envelope)
    }

    /// `GET /receipts?from=…&to=…`: asks for the receipts of a period;
    /// returns the process key.
    pub async fn request_receipts(
        &self,
        from: DateTime,
        to: DateTime,
    ) -> Result<ProcessKey, KassatkaError> {
        let endpoint = "GET /receipts";
        let format = "%Y-%m-%d %H:%M:%S";
        let query = [
            ("from", from.strftime(format).to_string()),
            ("to", to.strftime(format).to_string()),
        ];
        let request = self.request(Method::GET, &["receipts"]).query(&query);
        let envelope = self.envelope(endpoint, request).await?;
        process_key(endpoint, &envelope)
    }

    /// `GET /process/{key}`: the status of a process.
    pub async fn process_status(&self, key: &ProcessKey) -> Result<ProcessStatus, KassatkaError> {
        let endpoint = "GET /process";
        let request = self.request(Method::GET, &["process", &key.0]);
        let (_, _, body) = self.send(endpoint, request).await?;
        let envelope = decode(endpoint, &body)?;
        // A status wins over the success flag: "not finished yet" may come
        // with `success: false`, and it still only means "running".
        match envelope.process_status() {
            Some(status) => Ok(status),
            None if !envelope.success => Err(refused(endpoint, &envelope)),
            None => Err(KassatkaError::BadResponse {
                endpoint: endpoint.into(),
                detail: format!("no response.status in {}", envelope.response),
            }),
        }
    }

    /// `GET /download/{key}`: the result file, or "not ready" when the
    /// server answers with an envelope instead of a file.
    pub async fn download(&self, key: &ProcessKey) -> Result<Download, KassatkaError> {
        let endpoint = "GET /download";
        let request = self.request(Method::GET, &["download", &key.0]);
        let (status, content_type, body) = self.send(endpoint, request).await?;
        if status == StatusCode::ACCEPTED {
            return Ok(Download::NotReady("HTTP 202".into()));
        }
        let looks_json = content_type.contains("json")
            || body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{');
        if !looks_json {
            return Ok(Download::Ready(body));
        }
        let envelope = decode(endpoint, &body)?;
        // A status in the envelope wins over the success flag: servers say
        // "not ready" both with `success: true` and `success: false`.
        match envelope.process_status() {
            Some(ProcessStatus::Failed(message)) => Err(KassatkaError::ProcessFailed {
                key: key.0.clone(),
                message,
            }),
            Some(ProcessStatus::Running(s)) => Ok(Download::NotReady(s)),
            _ if !envelope.success => Err(refused(endpoint, &envelope)),
            _ => Ok(Download::NotReady(format!(
                "download answered {} instead of a file",
                envelope.response
            ))),
        }
    }

    /// Waits until process `key` succeeds (nomenclature import).
    pub async fn wait_for_process(
        &self,
        key: &ProcessKey,
        policy: &WaitPolicy,
        progress: &mut dyn WaitProgress,
    ) -> Result<(), KassatkaError> {
        poll_until(&key.0, policy, progress, || async {
            self.poll_status(key).await.map(|p| match p {
                Poll::Done(()) => Poll::Done(()),
                Poll::Pending(s) => Poll::Pending(s),
            })
        })
        .await
    }

    /// Pushes the nomenclature and waits for Kassatka to import it.
    pub async fn push_nomenclature_and_wait(
        &self,
        nomenclature: &ProductsGroups,
        policy: &WaitPolicy,
        progress: &mut dyn WaitProgress,
    ) -> Result<ProcessKey, KassatkaError> {
        let key = self.push_nomenclature(nomenclature).await?;
        self.wait_for_process(&key, policy, progress).await?;
        Ok(key)
    }

    /// Requests the receipts of `[from, to]`, waits for the process, downloads
    /// and parses them (sums checked).
    pub async fn fetch_receipts(
        &self,
        from: DateTime,
        to: DateTime,
        policy: &WaitPolicy,
        progress: &mut dyn WaitProgress,
    ) -> Result<Vec<KassatkaReceipt>, KassatkaError> {
        let key = self.request_receipts(from, to).await?;
        self.wait_and_download_receipts(&key, policy, progress)
            .await
    }

    /// Waits for receipts process `key` to succeed, then downloads and
    /// parses its Documents XML (sums checked). A download that is not ready
    /// yet counts as still running.
    pub async fn wait_and_download_receipts(
        &self,
        key: &ProcessKey,
        policy: &WaitPolicy,
        progress: &mut dyn WaitProgress,
    ) -> Result<Vec<KassatkaReceipt>, KassatkaError> {
        let body = self.wait_and_download_body(key, policy, progress).await?;
        Ok(parse_documents(&body)?)
    }

    /// Waits for process `key` to succeed, then downloads its result file
    /// as it came (the caller parses it).
    pub async fn wait_and_download_body(
        &self,
        key: &ProcessKey,
        policy: &WaitPolicy,
        progress: &mut dyn WaitProgress,
    ) -> Result<Vec<u8>, KassatkaError> {
        poll_until(&key.0, policy, progress, || async move {
            if let Poll::Pending(s) = self.poll_status(key).await? {
                return Ok(Poll::Pending(s));
            }
            Ok(match self.download(key).await? {
                Download::Ready(body) => Poll::Done(body),
                Download::NotReady(s) => Poll::Pending(format!("result not ready: {s}")),
            })
        })
        .await
    }

    async fn poll_status(&self, key: &ProcessKey) -> Result<Poll<()>, KassatkaError> {
        match self.process_status(key).await? {
            ProcessStatus::Success => Ok(Poll::Done(())),
            ProcessStatus::Running(s) => Ok(Poll::Pending(s)),
            ProcessStatus::Failed(message) => Err(KassatkaError::ProcessFailed {
                key: key.0.clone(),
                message,
            }),
        }
    }

    fn request(&self, method: Method, segments: &[&str]) -> reqwest::RequestBuilder {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            // Keys go through push(), which percent-encodes them.
            path.pop_if_empty().extend(segments);
        }
        self.http
            .request(method, url)
            .header("api-token", self.token.clone())
            .header(ACCEPT, "application/json")
    }

    /// Sends and returns status, content type and body of a 2xx answer;
    /// turns anything else into a typed error with the server's message.
    async fn send(
        &self,
        endpoint: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<(StatusCode, String, Vec<u8>), KassatkaError> {
        let response = request.send().await.map_err(|e| transport(endpoint, e))?;
        let status = response.status();
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_ascii_lowercase();
        let body = response
            .bytes()
            .await
            .map_err(|e| transport(endpoint, e))?
            .to_vec();
        if status.is_success() {
            return Ok((status, content_type, body));
        }
        let message = match envelope::decode(&body) {
            Ok(envelope) => envelope.message(),
            Err(_) => body_excerpt(&body),
        };
        let (endpoint, code) = (endpoint.to_string(), status.as_u16());
        Err(match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => KassatkaError::Unauthorized {
                endpoint,
                status: code,
                message,
            },
            s if s.is_server_error() => KassatkaError::Server {
                endpoint,
                status: code,
                message,
            },
            _ => KassatkaError::Http {
                endpoint,
                status: code,
                message,
            },
        })
    }

    /// Sends and decodes a JSON envelope; `success: false` is an error.
    async fn envelope(
        &self,
        endpoint: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<Envelope, KassatkaError> {
        let (_, _, body) = self.send(endpoint, request).await?;
        let envelope = decode(endpoint, &body)?;
        if !envelope.success {
            return Err(refused(endpoint, &envelope));
        }
        Ok(envelope)
    }
}

fn parse_base_url(text: &str) -> Result<Url, KassatkaError> {
    let bad = |reason: &str| KassatkaError::BadUrl {
        url: text.to_string(),
        reason: reason.to_string(),
    };
    let url = Url::parse(text.trim()).map_err(|e| bad(&e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("only http and https are supported"));
    }
    if url.cannot_be_a_base() || url.host().is_none() {
        return Err(bad("not a base URL"));
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        return Err(bad("must not contain credentials or a query"));
    }
    Ok(url)
}

fn decode(endpoint: &str, body: &[u8]) -> Result<Envelope, KassatkaError> {
    envelope::decode(body).map_err(|detail| KassatkaError::BadResponse {
        endpoint: endpoint.into(),
        detail: format!("{detail}; body starts with {:?}", body_excerpt(body)),
    })
}

fn process_key(endpoint: &str, envelope: &Envelope) -> Result<ProcessKey, KassatkaError> {
    envelope
        .process_key()
        .map(|k| ProcessKey(k.to_string()))
        .ok_or_else(|| KassatkaError::BadResponse {
            endpoint: endpoint.into(),
            detail: format!("no response.process_key in {}", envelope.response),
        })
}

fn refused(endpoint: &str, envelope: &Envelope) -> KassatkaError {
    KassatkaError::Refused {
        endpoint: endpoint.into(),
        message: envelope.message(),
    }
}

fn transport(endpoint: &str, error: reqwest::Error) -> KassatkaError {
    // The reqwest error carries the URL (never the token, which is a header).
    let mut message = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    KassatkaError::Transport {
        endpoint: endpoint.into(),
        message,
    }
}

fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let excerpt: String = trimmed.chars().take(200).collect();
    if excerpt.is_empty() {
        "empty body".into()
    } else {
        excerpt
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn warns_only_for_plain_http_off_loopback() {
        let w = |u: &str| plain_http_warning(&Url::parse(u).unwrap());
        assert!(w(DEFAULT_BASE_URL).is_some());
        assert!(w("https://api.kassatka.link/1c-api/v1").is_none());
        assert!(w("http://127.0.0.1:8080/1c-api/v1").is_none());
        assert!(w("http://[::1]:8080/").is_none());
        assert!(w("http://localhost/").is_none());
    }

    #[test]
    fn base_urls_are_checked() {
        assert!(parse_base_url("ftp://x/").is_err());
        assert!(parse_base_url("not a url").is_err());
        assert!(parse_base_url("https://u:p@x/").is_err());
        assert!(parse_base_url("https://x/1c-api/v1").is_ok());
    }

    #[test]
    fn token_never_shows() {
        let t = ApiToken::new("6d4fbe2d-secret\n").unwrap();
        assert_eq!(t.expose(), "6d4fbe2d-secret");
        let config = ClientConfig::new(DEFAULT_BASE_URL, t);
        assert!(!format!("{config:?}").contains("secret"));
        assert!(ApiToken::new("  ").is_err());
        assert!(ApiToken::new("a\u{7f}b").is_err());
    }

    #[test]
    fn paths_are_appended_to_the_base() {
        let client = KassatkaClient::new(ClientConfig::new(
            "http://127.0.0.1:1/1c-api/v1/",
            ApiToken::new("t").unwrap(),
        ))
        .unwrap();
        let request = client
            .request(Method::GET, &["process", "a/b c"])
            .build()
            .unwrap();
        assert_eq!(
            request.url().as_str(),
            "http://127.0.0.1:1/1c-api/v1/process/a%2Fb%20c"
        );
        assert!(request.headers()["api-token"].is_sensitive());
    }
}
