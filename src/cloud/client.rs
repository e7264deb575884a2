//! The real POS API clients: [`PosClient`] (one kassa's token) implements
//! [`PosApi`], [`AdminClient`] (the account login) implements [`AdminApi`].
//! Both go through [`super::transport`] for limits, timeouts and retries;
//! this module knows the resources: paths, bodies, and what each answer
//! means.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use reqwest::{Method, StatusCode, Url};
use serde::Serialize;

use super::api::{AdminApi, PosApi};
use super::error::CloudError;
use super::limiter::RateLimiter;
use super::models::{
    self, Approve, AssortmentItem, AssortmentPage, Attached, CloseShift, Meta, ModelError,
    OpenShift, Operation, OperationStatus, Reject, RetailStore, RetailStoreList, StateReport,
};
use super::secret::Secret;
use super::transport::{Answer, Auth, RetryPolicy, Transport};

/// MoySklad's production POS API.
pub const DEFAULT_BASE_URL: &str = "https://online.moysklad.ru/api/posap/1.0";

/// Settings shared by both clients.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The API root, e.g. [`DEFAULT_BASE_URL`] or a fake cloud's
    /// `http://127.0.0.1:PORT/api/posap/1.0`.
    pub base_url: String,
    /// Whole-request timeout (connect, send, read the body).
    pub request_timeout: Duration,
    /// TCP/TLS connect timeout.
    pub connect_timeout: Duration,
    pub retry: RetryPolicy,
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            base_url: DEFAULT_BASE_URL.to_owned(),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
        }
    }
}

impl ClientConfig {
    /// Defaults with another API root.
    pub fn with_base_url(base_url: impl Into<String>) -> ClientConfig {
        ClientConfig {
            base_url: base_url.into(),
            ..ClientConfig::default()
        }
    }
}

fn build_transport(
    config: &ClientConfig,
    limiter: Arc<RateLimiter>,
) -> Result<Transport, CloudError> {
    // reqwest is built without a default crypto provider; install ring
    // once per process. "Already installed" is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let base = Url::parse(config.base_url.trim_end_matches('/'))
        .map_err(|e| CloudError::Setup(format!("API URL {:?}: {e}", config.base_url)))?;
    if !matches!(base.scheme(), "http" | "https") {
        return Err(CloudError::Setup(format!(
            "API URL {:?} is not http(s)",
            config.base_url
        )));
    }
    let http = reqwest::Client::builder()
        .connect_timeout(config.connect_timeout)
        .timeout(config.request_timeout)
        // Never follow: the token header would go along to wherever the
        // redirect points (reqwest strips Authorization, not our header).
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("masterkassa/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| CloudError::Setup(format!("HTTP client: {e}")))?;
    Ok(Transport {
        http,
        base,
        limiter,
        retry: config.retry,
        timeout: config.request_timeout,
    })
}

fn to_body<T: Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, CloudError> {
    serde_json::to_vec(value).map_err(|e| CloudError::Malformed {
        endpoint: what.to_owned(),
        source: ModelError::Invalid {
            what,
            path: String::new(),
            message: format!("cannot serialise the request body: {e}"),
        },
    })
}

/// A kassa's client: one retail store token and cashier uid.
#[derive(Debug, Clone)]
pub struct PosClient {
    transport: Transport,
    auth: Auth,
}

impl PosClient {
    /// A client for one store's token. Share `limiter` between every
    /// client of the same MoySklad account.
    pub fn new(
        config: &ClientConfig,
        token: Secret,
        cashier_uid: impl Into<String>,
        limiter: Arc<RateLimiter>,
    ) -> Result<PosClient, CloudError> {
        Ok(PosClient {
            transport: build_transport(config, limiter)?,
            auth: Auth::Token {
                token,
                cashier_uid: cashier_uid.into(),
            },
        })
    }

    /// The API root this client talks to.
    pub fn base_url(&self) -> &str {
        self.transport.base.as_str()
    }

    async fn get(&self, segments: &[&str]) -> Result<(String, Answer), CloudError> {
        let url = self.transport.url(segments)?;
        let endpoint = format!("GET {}", url.path());
        let answer = self
            .transport
            .send(Method::GET, url, &self.auth, None)
            .await?;
        Ok((endpoint, answer))
    }

    async fn send_json<T: Serialize + Sync>(
        &self,
        method: Method,
        segments: &[&str],
        what: &'static str,
        body: &T,
    ) -> Result<(), CloudError> {
        let url = self.transport.url(segments)?;
        let endpoint = format!("{method} {}", url.path());
        let body = to_body(what, body)?;
        self.transport
            .send(method, url, &self.auth, Some(body))
            .await?
            .success(&endpoint)?;
        Ok(())
    }
}

fn parse_answer<T: serde::de::DeserializeOwned>(
    what: &'static str,
    endpoint: String,
    answer: Answer,
) -> Result<T, CloudError> {
    let answer = answer.success(&endpoint)?;
    models::parse_json(what, &answer.body)
        .map_err(|source| CloudError::Malformed { endpoint, source })
}

/// Interprets a poll answer: every empty form → `None`; an operation;
/// or an error saying whether the operation can be identified (to reject
/// it) or the answer is garbage.
fn poll_answer(endpoint: String, answer: Answer) -> Result<Option<Operation>, CloudError> {
    if answer.status == StatusCode::NO_CONTENT || answer.status == StatusCode::NOT_FOUND {
        return Ok(None);
    }
    let answer = answer.success(&endpoint)?;
    match models::parse_poll(&answer.body) {
        Ok(models::PollResult::Empty) => Ok(None),
        Ok(models::PollResult::Operation(op)) => Ok(Some(*op)),
        Err(source @ ModelError::Syntax { .. }) => Err(CloudError::Malformed { endpoint, source }),
        Err(source) => {
            #[derive(serde::Deserialize)]
            struct MetaOnly {
                meta: Meta,
            }
            let meta = serde_json::from_slice::<MetaOnly>(&answer.body)
                .ok()
                .map(|m| Box::new(m.meta));
            Err(CloudError::BadOperation { meta, source })
        }
    }
}

#[async_trait]
impl PosApi for PosClient {
    async fn poll(&self, org_id: &str) -> Result<Option<Operation>, CloudError> {
        let (endpoint, answer) = self
            .get(&["cheque", "rpc", "master", "poll", org_id])
            .await?;
        poll_answer(endpoint, answer)
    }

    async fn approve(&self, approve: &Approve) -> Result<(), CloudError> {
        self.send_json(
            Method::PUT,
            &["cheque", "rpc", "master", "approve"],
            "approve",
            approve,
        )
        .await
    }

    async fn reject(&self, reject: &Reject) -> Result<(), CloudError> {
        self.send_json(
            Method::PUT,
            &["cheque", "rpc", "master", "reject"],
            "reject",
            reject,
        )
        .await
    }

    async fn open_shift(&self, shift: &OpenShift) -> Result<(), CloudError> {
        // The seed writes these two with a trailing slash.
        self.send_json(Method::PUT, &["rpc", "openshift", ""], "openshift", shift)
            .await
    }

    async fn close_shift(&self, shift: &CloseShift) -> Result<(), CloudError> {
        self.send_json(Method::PUT, &["rpc", "closeshift", ""], "closeshift", shift)
            .await
    }

    async fn post_state(&self, state: &StateReport) -> Result<(), CloudError> {
        self.send_json(Method::POST, &["state"], "state", state)
            .await
    }

    async fn settings_retailstore(&self) -> Result<RetailStore, CloudError> {
        let (endpoint, answer) = self.get(&["settings", "retailstore", ""]).await?;
        parse_answer("settings/retailstore", endpoint, answer)
    }

    async fn assortment(
        &self,
        limit: u32,
        offset_id: Option<String>,
    ) -> Result<AssortmentPage, CloudError> {
        let mut url = self.transport.url(&["entity", "assortment"])?;
        {
            let mut q = url.query_pairs_mut();
            q.append_pair("limit", &limit.to_string());
            if let Some(offset) = &offset_id {
                q.append_pair("offsetId", offset);
                q.append_pair("direction", "forward");
            }
        }
        let endpoint = format!("GET {}", url.path());
        let answer = self
            .transport
            .send(Method::GET, url, &self.auth, None)
            .await?;
        parse_answer("assortment", endpoint, answer)
    }

    async fn assortment_item(&self, href: &str) -> Result<Option<AssortmentItem>, CloudError> {
        let meta = Meta::from_href(href);
        let (Some(entity), Some(id)) = (meta.entity(), meta.last_id()) else {
            return Ok(None);
        };
        let mut segments = vec!["entity", entity];
        if meta.sync_id().is_some() {
            segments.push("syncid");
        }
        segments.push(id);
        let (endpoint, answer) = self.get(&segments).await?;
        if answer.status == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        parse_answer("assortment item", endpoint, answer).map(Some)
    }

    async fn operation_status(&self, sync_id: &str) -> Result<OperationStatus, CloudError> {
        let (endpoint, answer) = self
            .get(&["cheque", "rpc", "minion", "status", "syncid", sync_id])
            .await?;
        parse_answer("status", endpoint, answer)
    }
}

/// The account owner's client (Basic auth), for `attach`.
#[derive(Debug, Clone)]
pub struct AdminClient {
    transport: Transport,
    auth: Auth,
}

impl AdminClient {
    pub fn new(
        config: &ClientConfig,
        login: impl Into<String>,
        password: Secret,
        limiter: Arc<RateLimiter>,
    ) -> Result<AdminClient, CloudError> {
        Ok(AdminClient {
            transport: build_transport(config, limiter)?,
            auth: Auth::Basic {
                login: login.into(),
                password,
            },
        })
    }
}

#[async_trait]
impl AdminApi for AdminClient {
    async fn list_stores(&self) -> Result<RetailStoreList, CloudError> {
        let url = self.transport.url(&["admin", "retailstore"])?;
        let endpoint = format!("GET {}", url.path());
        let answer = self
            .transport
            .send(Method::GET, url, &self.auth, None)
            .await?;
        parse_answer("admin/retailstore", endpoint, answer)
    }

    async fn attach(&self, store_id: &str) -> Result<Attached, CloudError> {
        let url = self.transport.url(&["admin", "attach", store_id])?;
        let endpoint = format!("POST {}", url.path());
        let answer = self
            .transport
            .send(Method::POST, url, &self.auth, None)
            .await?;
        parse_answer("admin/attach", endpoint, answer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn every_empty_poll_form_is_none() {
        for (status, body) in [
            (204, ""),
            (404, ""),
            (404, r#"{"errors":[{"error":"not found"}]}"#),
            (200, ""),
            (200, "{}"),
            (200, "null"),
            (200, " \n"),
        ] {
            let r = poll_answer("GET /poll".into(), answer(status, body));
            assert!(matches!(r, Ok(None)), "{status} {body:?}: {r:?}");
        }
    }

    #[test]
    fn unreadable_operation_keeps_its_meta_for_a_reject() {
        let body = r#"{"meta":{"href":"https://x/entity/retaildemand/syncid/abc"},"name":"1"}"#;
        match poll_answer("GET /poll".into(), answer(200, body)) {
            Err(e @ CloudError::BadOperation { .. }) => {
                assert_eq!(e.class(), super::super::ErrorClass::Data);
                let CloudError::BadOperation { meta, .. } = e else {
                    unreachable!()
                };
                assert_eq!(meta.unwrap().sync_id(), Some("abc"));
            }
            other => panic!("{other:?}"),
        }
        match poll_answer("GET /poll".into(), answer(200, "{\"meta\": ")) {
            Err(e @ CloudError::Malformed { .. }) => {
                assert_eq!(e.class(), super::super::ErrorClass::Cloud)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn urls_are_built_under_the_base() {
        let limiter = RateLimiter::new(Default::default());
        let t = build_transport(
            &ClientConfig::with_base_url("http://127.0.0.1:9/api/posap/1.0/"),
            limiter,
        )
        .unwrap();
        assert_eq!(
            t.url(&["cheque", "rpc", "master", "poll", "a/b?c"])
                .unwrap()
                .as_str(),
            "http://127.0.0.1:9/api/posap/1.0/cheque/rpc/master/poll/a%2Fb%3Fc"
        );
        assert_eq!(
            t.url(&["rpc", "openshift", ""]).unwrap().as_str(),
            "http://127.0.0.1:9/api/posap/1.0/rpc/openshift/"
        );
        assert!(matches!(
            build_transport(
                &ClientConfig::with_base_url("ftp://x"),
                RateLimiter::new(Default::default())
            ),
            Err(CloudError::Setup(_))
        ));
    }

    #[test]
    fn debug_never_shows_the_token() {
        let c = PosClient::new(
            &ClientConfig::default(),
            Secret::new("6ab89be1ae6ff147755625ee8da948e42612233b"),
            "kassir@321",
            RateLimiter::new(Default::default()),
        )
        .unwrap();
        let dbg = format!("{c:?}");
        assert!(!dbg.contains("6ab89be1"), "{dbg}");
        assert!(dbg.contains("kassir@321"));
    }
}
