//! Runs the fake cloud: binds the listener, serves each connection with
//! hyper (so a "drop" fault can close a connection without an answer), and
//! hands back a [`FakeCloudHandle`] for tests and the demo to feed the queue,
//! arm faults, inspect what the agent said, and shut down.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::net::TcpListener;
use tokio::sync::Notify;
use tokio::task::{JoinHandle, JoinSet};
use tower::ServiceExt;

use super::api_error::ApiError;
use super::config::FakeCloudConfig;
use super::faults::Fault;
use super::json_checks::parse_object;
use super::routes::{self, ConnectionKill, RequestRecord, Shared, lock};
use super::store::{OpKind, OperationRecord, ShiftRecord, StateRecord};
use super::validate;

/// Why the fake could not start.
#[derive(Debug, thiserror::Error)]
pub enum FakeCloudError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// The fake MoySklad POS API server.
pub struct FakeCloud;

impl FakeCloud {
    /// Binds `config.listen` and serves until the handle is shut down or
    /// dropped. Must be called inside a tokio runtime.
    pub async fn start(config: FakeCloudConfig) -> Result<FakeCloudHandle, FakeCloudError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| FakeCloudError::Bind {
                    addr: config.listen,
                    source,
                })?;
        let addr = listener
            .local_addr()
            .map_err(|source| FakeCloudError::Bind {
                addr: config.listen,
                source,
            })?;
        let shared = Arc::new(Shared::new(config));
        let app = routes::app(shared.clone());
        let stop = Arc::new(Notify::new());
        let task = tokio::spawn(accept_loop(listener, app, stop.clone()));
        Ok(FakeCloudHandle {
            addr,
            shared,
            stop,
            task: Some(task),
        })
    }
}

async fn accept_loop(listener: TcpListener, app: axum::Router, stop: Arc<Notify>) {
    let mut connections = JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a,
            () = stop.notified() => break,
        };
        // Reap finished connections so the set does not grow forever.
        while connections.try_join_next().is_some() {}
        let Ok((stream, _)) = accepted else {
            // Out of file descriptors and the like: back off briefly.
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
            continue;
        };
        let app = app.clone();
        connections.spawn(async move {
            let kill = Arc::new(Notify::new());
            let kill_for_requests = kill.clone();
            let service = hyper::service::service_fn(
                move |mut req: hyper::Request<hyper::body::Incoming>| {
                    req.extensions_mut()
                        .insert(ConnectionKill(kill_for_requests.clone()));
                    app.clone().oneshot(req.map(axum::body::Body::new))
                },
            );
            let conn = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service);
            tokio::select! {
                _ = conn => {}
                () = kill.notified() => {}
            }
        });
    }
    connections.abort_all();
}

/// A running fake cloud.
pub struct FakeCloudHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Arc<Notify>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for FakeCloudHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeCloudHandle")
            .field("addr", &self.addr)
            .finish()
    }
}

impl FakeCloudHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The API base URL, like `https://online.moysklad.ru/api/posap/1.0`
    /// (the same paths are also served without the prefix).
    pub fn base_url(&self) -> String {
        format!("http://{}{}", self.addr, routes::API_PREFIX)
    }

    /// The control endpoint's URL (`…/_control`).
    pub fn control_url(&self) -> String {
        format!("http://{}/_control", self.addr)
    }

    /// The main store's organisation (what poll is asked about).
    pub fn org_id(&self) -> String {
        self.shared.config.org_id.clone()
    }

    /// The main store's cashier uid.
    pub fn cashier_uid(&self) -> String {
        self.shared.config.cashier_uid.clone()
    }

    /// The main store's current token (changes after `/admin/attach`).
    pub fn token(&self) -> Option<String> {
        lock(&self.shared.stores)
            .first()
            .and_then(|s| s.token.clone())
    }

    /// Queues an operation for the main store's organisation, validated as
    /// the minion endpoint would; returns its syncid.
    pub fn enqueue(&self, kind: OpKind, body: Value) -> Result<String, ApiError> {
        self.enqueue_for(&self.shared.config.org_id, kind, body)
    }

    /// Queues an operation for organisation `org_id`.
    pub fn enqueue_for(&self, org_id: &str, kind: OpKind, body: Value) -> Result<String, ApiError> {
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let map = parse_object(&bytes)?;
        let id = validate::minion_operation(&map, kind)?;
        lock(&self.shared.store).enqueue(org_id, kind, &id, Value::Object(map))?;
        Ok(id)
    }

    /// Every operation with what the agent answered, in queue order.
    pub fn operations(&self) -> Vec<OperationRecord> {
        lock(&self.shared.store).operations()
    }

    /// Runs `f` over the operations in queue order without copying them,
    /// for a poller that only counts: the queue's lock is held meanwhile,
    /// so keep `f` short.
    pub fn inspect_operations<R>(&self, f: impl FnOnce(&[OperationRecord]) -> R) -> R {
        f(lock(&self.shared.store).operations_ref())
    }

    /// One operation by syncid.
    pub fn operation(&self, id: &str) -> Option<OperationRecord> {
        self.operations().into_iter().find(|o| o.id == id)
    }

    /// Every retail shift the agent opened.
    pub fn shifts(&self) -> Vec<ShiftRecord> {
        lock(&self.shared.store).shifts()
    }

    /// Every `/state` the agent posted.
    pub fn states(&self) -> Vec<StateRecord> {
        lock(&self.shared.store).states()
    }

    /// Every API request seen (control requests excluded), in order.
    pub fn requests(&self) -> Vec<RequestRecord> {
        lock(&self.shared.requests).clone()
    }

    /// Adds (or replaces) an assortment row (it must carry `id`).
    pub fn put_item(&self, row: Value) -> Option<String> {
        lock(&self.shared.catalogue).put(row)
    }

    /// Renames an assortment item; false when there is none.
    pub fn rename_item(&self, id: &str, name: &str) -> bool {
        lock(&self.shared.catalogue).rename(id, name)
    }

    /// The store's tax system and receipt template from now on.
    pub fn set_store_template(&self, template: super::catalogue::StoreTemplate) {
        lock(&self.shared.catalogue).template = template;
    }

    /// Arms a fault.
    pub fn add_fault(&self, fault: Fault) {
        lock(&self.shared.faults).arm(fault, Instant::now());
    }

    /// Faults armed and not yet served.
    pub fn armed_faults(&self) -> usize {
        lock(&self.shared.faults).armed().len()
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Stops accepting, closes every connection and waits for the server.
    pub async fn shutdown(mut self) {
        self.stop.notify_one();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    /// Serves until the task ends (for the CLI).
    pub async fn wait(mut self) {
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for FakeCloudHandle {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}
