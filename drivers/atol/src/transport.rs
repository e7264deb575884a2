//! Blocking HTTP client of the ATOL Web-server: posts a request (uuid +
//! tasks) and polls its state until every task is final.
//!
//! A uuid is the request's identity on the server: posting one the server
//! already holds never runs its tasks again (the server answers 409), so the
//! client simply goes on polling it. That makes a repeated post after a crash
//! harmless, and the driver derives uuids from caller keys for that reason.

use crate::envelope::{PostAnswer, REQUESTS_PATH, RequestBody, RequestState};
use crate::task::Task;
use std::time::{Duration, Instant};

/// Where the Web-server is and how to talk to it.
#[derive(Clone)]
pub struct WebServerConfig {
    /// Base URL, e.g. `http://127.0.0.1:16732`.
    pub url: String,
    /// `deviceID` header: which printer of a multi-device server.
    pub device_id: Option<String>,
    /// HTTP Basic credentials (user, password).
    pub credentials: Option<(String, String)>,
    /// Timeout of one HTTP exchange.
    pub http_timeout: Duration,
    /// How long to wait for a request's tasks to finish.
    pub task_timeout: Duration,
    /// Pause between polls.
    pub poll_interval: Duration,
}

impl std::fmt::Debug for WebServerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("WebServerConfig")
            .field("url", &self.url)
            .field("device_id", &self.device_id)
            .field("credentials", &self.credentials.as_ref().map(|(u, _)| u))
            .field("http_timeout", &self.http_timeout)
            .field("task_timeout", &self.task_timeout)
            .finish()
    }
}

impl WebServerConfig {
    pub fn new(url: &str) -> Self {
        WebServerConfig {
            url: url.trim_end_matches('/').to_string(),
            device_id: None,
            credentials: None,
            http_timeout: Duration::from_secs(10),
            task_timeout: Duration::from_secs(120),
            poll_interval: Duration::from_millis(100),
        }
    }
}

/// Transport failures (the server's task errors are not these).
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    #[error("ATOL Web-server at {url} unreachable: {detail}")]
    Unreachable { url: String, detail: String },
    #[error("ATOL Web-server refused {what}: HTTP {status}: {body}")]
    Http {
        what: String,
        status: u16,
        body: String,
    },
    #[error("ATOL Web-server answered {what} with malformed JSON: {detail}")]
    Malformed { what: String, detail: String },
    #[error("ATOL Web-server knows no request {uuid}")]
    UnknownRequest { uuid: String },
    #[error("request {uuid} not finished after {secs} s")]
    Timeout { uuid: String, secs: u64 },
}

/// What posting a request did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// The server queued it now.
    Queued,
    /// The server already had this uuid; nothing new was queued.
    AlreadyKnown,
}

/// A connection to one Web-server.
pub struct WebServer {
    cfg: WebServerConfig,
    http: reqwest::blocking::Client,
}

impl WebServer {
    pub fn new(cfg: WebServerConfig) -> Result<Self, TransportError> {
        // reqwest is built without a default crypto provider; plain-HTTP
        // loopback needs none, but an https URL must not panic.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::blocking::Client::builder()
            .timeout(cfg.http_timeout)
            .build()
            .map_err(|e| TransportError::Unreachable {
                url: cfg.url.clone(),
                detail: e.to_string(),
            })?;
        Ok(WebServer { cfg, http })
    }

    pub fn config(&self) -> &WebServerConfig {
        &self.cfg
    }

    fn decorate(&self, rb: reqwest::blocking::RequestBuilder) -> reqwest::blocking::RequestBuilder {
        let rb = match &self.cfg.device_id {
            Some(id) => rb.header("deviceID", id),
            None => rb,
        };
        match &self.cfg.credentials {
            Some((user, pass)) => rb.basic_auth(user, Some(pass)),
            None => rb,
        }
    }

    fn unreachable(&self, e: reqwest::Error) -> TransportError {
        // reqwest errors carry the URL only, never the credentials.
        TransportError::Unreachable {
            url: self.cfg.url.clone(),
            detail: e.without_url().to_string(),
        }
    }

    /// Posts a request. A uuid the server already holds is not an error.
    pub fn post(&self, uuid: &str, tasks: &[Task]) -> Result<Posted, TransportError> {
        let body = RequestBody {
            uuid: uuid.to_string(),
            request: tasks.to_vec(),
        };
        let url = format!("{}{}", self.cfg.url, REQUESTS_PATH);
        let resp = self
            .decorate(self.http.post(&url).json(&body))
            .send()
            .map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| self.unreachable(e))?;
        match status {
            200..=202 => Ok(Posted::Queued),
            409 => Ok(Posted::AlreadyKnown),
            _ => {
                let detail = serde_json::from_str::<PostAnswer>(&text)
                    .ok()
                    .and_then(|a| a.error)
                    .map(|e| format!("{} ({})", e.description, e.code))
                    .unwrap_or(text);
                Err(TransportError::Http {
                    what: format!("request {uuid}"),
                    status,
                    body: detail.chars().take(300).collect(),
                })
            }
        }
    }

    /// Reads a request's state once.
    pub fn state(&self, uuid: &str) -> Result<RequestState, TransportError> {
        let url = format!("{}{}/{}", self.cfg.url, REQUESTS_PATH, uuid);
        let resp = self
            .decorate(self.http.get(&url))
            .send()
            .map_err(|e| self.unreachable(e))?;
        let status = resp.status().as_u16();
        let text = resp.text().map_err(|e| self.unreachable(e))?;
        match status {
            200 => serde_json::from_str(&text).map_err(|e| TransportError::Malformed {
                what: format!("request {uuid}"),
                detail: e.to_string(),
            }),
            404 => Err(TransportError::UnknownRequest {
                uuid: uuid.to_string(),
            }),
            _ => Err(TransportError::Http {
                what: format!("request {uuid}"),
                status,
                body: text.chars().take(300).collect(),
            }),
        }
    }

    /// Whether the server holds a request with this uuid.
    pub fn knows(&self, uuid: &str) -> Result<bool, TransportError> {
        match self.state(uuid) {
            Ok(_) => Ok(true),
            Err(TransportError::UnknownRequest { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Polls until every task of the request is final.
    pub fn wait(&self, uuid: &str) -> Result<RequestState, TransportError> {
        let deadline = Instant::now() + self.cfg.task_timeout;
        loop {
            let state = self.state(uuid)?;
            if state.is_done() {
                return Ok(state);
            }
            if Instant::now() >= deadline {
                return Err(TransportError::Timeout {
                    uuid: uuid.to_string(),
                    secs: self.cfg.task_timeout.as_secs(),
                });
            }
            std::thread::sleep(self.cfg.poll_interval);
        }
    }

    /// Posts and waits.
    pub fn run(&self, uuid: &str, tasks: &[Task]) -> Result<RequestState, TransportError> {
        self.post(uuid, tasks)?;
        self.wait(uuid)
    }
}
