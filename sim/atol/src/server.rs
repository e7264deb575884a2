//! The HTTP side of the stand-in: ATOL Web-server request queue with its
//! asynchronous task states, executed one task at a time by a background
//! executor, with fault switches and an optional state file so a restart
//! keeps the FN and the requests in flight.
//!
//! One server may serve several printers, each with its own FN, picked by
//! the `deviceID` header as on ATOL's own Web-server. Faults are switched
//! from Rust ([`AtolServer`]) or over HTTP (`POST /sim/control`, one text
//! command per request: [`crate::control`]).

use crate::device::{AtolDevice, Faults};
use atol::envelope::{ErrorBody, REQUESTS_PATH, RequestBody, RequestState, TaskResult, TaskStatus};
use atol::task::Task;
use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sim_fn::clock::Clock;
use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// How the stand-in is set up.
#[derive(Debug, Clone)]
pub struct ServerOptions {
    pub listen: SocketAddr,
    pub state_file: Option<PathBuf>,
    /// Required HTTP Basic credentials, if any.
    pub credentials: Option<(String, String)>,
    /// Pause before and while executing each task, so `wait` and
    /// `inProgress` are observable.
    pub step: Duration,
    pub clock: Clock,
    /// `deviceID`s of the printers served. Empty: one printer answering
    /// every request (a `deviceID` header is not looked at). Otherwise the
    /// first is the printer for requests without the header, and a request
    /// naming another id is refused.
    pub device_ids: Vec<String>,
}

impl ServerOptions {
    pub fn loopback() -> Self {
        ServerOptions {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            state_file: None,
            credentials: None,
            step: Duration::from_millis(5),
            clock: Clock::default(),
            device_ids: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Request {
    tasks: Vec<Task>,
    results: Vec<TaskResult>,
    /// The printer it runs on (`None`: the first).
    #[serde(default)]
    device: Option<String>,
}

/// Everything the state file holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Shared {
    /// The first printer (requests without `deviceID`).
    device: AtolDevice,
    /// The other printers, by `deviceID`.
    #[serde(default)]
    others: BTreeMap<String, AtolDevice>,
    requests: BTreeMap<String, Request>,
    queue: VecDeque<String>,
    #[serde(default)]
    hold: bool,
    #[serde(default)]
    lose_next_result: bool,
    /// The next request that makes a fiscal document stays `blocked`
    /// until released.
    #[serde(default)]
    block_next: bool,
    /// Requests held `blocked` now.
    #[serde(default)]
    blocked: Vec<String>,
}

impl Shared {
    /// The printer a request for `id` runs on.
    /// The tasks of request `uuid` in state `from` move to `to`.
    fn restate(&mut self, uuid: &str, from: TaskStatus, to: TaskStatus) {
        if let Some(r) = self.requests.get_mut(uuid) {
            for t in r.results.iter_mut().filter(|t| t.status == from) {
                t.status = to;
            }
        }
    }

    fn device_mut(&mut self, id: Option<&str>) -> &mut AtolDevice {
        id.and_then(|id| self.others.get_mut(id))
            .unwrap_or(&mut self.device)
    }
}

struct Inner {
    shared: Mutex<Shared>,
    opts: ServerOptions,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        self.shared.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn save(&self, s: &Shared) {
        let Some(path) = &self.opts.state_file else {
            return;
        };
        let result = serde_json::to_vec_pretty(s)
            .map_err(std::io::Error::other)
            .and_then(|bytes| {
                let tmp = path.with_extension("tmp");
                std::fs::write(&tmp, bytes)?;
                std::fs::rename(&tmp, path)
            });
        if let Err(e) = result {
            tracing::error!(path = %path.display(), "cannot save the ATOL stand-in state: {e}");
        }
    }
}

/// Errors starting the stand-in.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot read state file {path}: {detail}")]
    State { path: String, detail: String },
    #[error("cannot listen on {addr}: {detail}")]
    Listen { addr: SocketAddr, detail: String },
}

/// A running stand-in; dropping it stops the server. Its fault switches
/// and inspection are those of [`SimControl`] (through `Deref`).
pub struct AtolServer {
    addr: SocketAddr,
    control: SimControl,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn load(opts: &ServerOptions) -> Result<Shared, ServerError> {
    if let Some(path) = &opts.state_file
        && path.exists()
    {
        let bad = |detail: String| ServerError::State {
            path: path.display().to_string(),
            detail,
        };
        let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut s: Shared = serde_json::from_slice(&bytes).map_err(|e| bad(e.to_string()))?;
        s.device.clock = opts.clock.clone();
        for d in s.others.values_mut() {
            d.clock = opts.clock.clone();
        }
        add_devices(&mut s, opts);
        // A task caught in progress by the restart never ran: the state is
        // saved in one write together with the FN after each task.
        for uuid in s.queue.clone() {
            s.restate(&uuid, TaskStatus::InProgress, TaskStatus::Wait);
        }
        return Ok(s);
    }
    let mut s = Shared {
        device: AtolDevice::new(opts.clock.clone()),
        others: BTreeMap::new(),
        requests: BTreeMap::new(),
        queue: VecDeque::new(),
        hold: false,
        lose_next_result: false,
        block_next: false,
        blocked: Vec::new(),
    };
    add_devices(&mut s, opts);
    Ok(s)
}

/// Gives every configured `deviceID` after the first its own printer.
fn add_devices(s: &mut Shared, opts: &ServerOptions) {
    for (n, id) in (2u32..).zip(opts.device_ids.iter().skip(1)) {
        s.others
            .entry(id.clone())
            .or_insert_with(|| AtolDevice::numbered(opts.clock.clone(), n));
    }
}

/// Which printer a request with these headers is for: `Ok(None)` the
/// first, `Ok(Some(id))` another, `Err` an id the server does not serve.
fn device_for(opts: &ServerOptions, headers: &HeaderMap) -> Result<Option<String>, String> {
    let Some(first) = opts.device_ids.first() else {
        return Ok(None);
    };
    let Some(value) = headers.get("deviceID") else {
        return Ok(None);
    };
    let id = value
        .to_str()
        .map_err(|_| "deviceID is not text".to_string())?;
    if id == first {
        Ok(None)
    } else if opts.device_ids.iter().any(|d| d == id) {
        Ok(Some(id.to_string()))
    } else {
        Err(format!("no device with deviceID {id:?}"))
    }
}

impl AtolServer {
    /// Starts the stand-in on its own thread and runtime.
    pub fn start(opts: ServerOptions) -> Result<AtolServer, ServerError> {
        let shared = load(&opts)?;
        let listener =
            std::net::TcpListener::bind(opts.listen).map_err(|e| ServerError::Listen {
                addr: opts.listen,
                detail: e.to_string(),
            })?;
        let addr = listener.local_addr().map_err(|e| ServerError::Listen {
            addr: opts.listen,
            detail: e.to_string(),
        })?;
        listener
            .set_nonblocking(true)
            .map_err(|e| ServerError::Listen {
                addr,
                detail: e.to_string(),
            })?;
        let inner = Arc::new(Inner {
            shared: Mutex::new(shared),
            opts,
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let for_thread = inner.clone();
        let thread = std::thread::spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    tracing::error!("ATOL stand-in runtime: {e}");
                    return;
                }
            };
            rt.block_on(run(for_thread, listener, rx));
        });
        Ok(AtolServer {
            addr,
            control: SimControl { inner },
            stop: Some(tx),
            thread: Some(thread),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Stops serving (in-flight requests stay in the state file).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl std::ops::Deref for AtolServer {
    type Target = SimControl;

    fn deref(&self) -> &SimControl {
        &self.control
    }
}

/// The stand-in's fault switches and inspection, shared by the Rust API
/// and the HTTP control endpoint.
#[derive(Clone)]
pub struct SimControl {
    inner: Arc<Inner>,
}

impl SimControl {
    pub fn clock(&self) -> Clock {
        self.inner.opts.clock.clone()
    }

    /// Runs `f` on the device (FN, faults) under the lock.
    pub fn with_device<T>(&self, f: impl FnOnce(&mut AtolDevice) -> T) -> T {
        self.with_printer(None, f)
    }

    /// Runs `f` on printer `id` (the first when `id` is not another
    /// configured `deviceID`).
    pub fn with_device_id<T>(&self, id: &str, f: impl FnOnce(&mut AtolDevice) -> T) -> T {
        self.with_printer(Some(id), f)
    }

    /// Runs `f` on printer `id` (`None`: the first) under the lock, then
    /// saves the state.
    pub fn with_printer<T>(&self, id: Option<&str>, f: impl FnOnce(&mut AtolDevice) -> T) -> T {
        let mut s = self.inner.lock();
        let out = f(s.device_mut(id));
        self.inner.save(&s);
        out
    }

    /// The next request that makes a fiscal document is held in the
    /// `blocked` state until [`AtolServer::unblock`]. The public sources
    /// name the state without saying what causes it; what matters to a
    /// client is that a blocked request is not final: it must be waited
    /// for, never posted again.
    pub fn block_next(&self) {
        let mut s = self.inner.lock();
        s.block_next = true;
        self.inner.save(&s);
    }

    /// Lets blocked requests run.
    pub fn unblock(&self) {
        let mut s = self.inner.lock();
        release_blocked(&mut s);
        self.inner.save(&s);
    }

    pub fn set_faults(&self, faults: Faults) {
        self.with_device(|d| d.faults = faults);
    }

    /// Holds the requests that make a fiscal document (receipts, shift
    /// reports): they stay in `wait`, in order; queries and marking checks
    /// still run, as on a printer busy with a long print-out.
    pub fn hold(&self, on: bool) {
        let mut s = self.inner.lock();
        s.hold = on;
        self.inner.save(&s);
    }

    /// The next request executed is forgotten right after it ran, as if the
    /// server lost its result (the document stays in the FN).
    pub fn lose_next_result(&self) {
        self.inner.lock().lose_next_result = true;
    }

    /// Status of a request's tasks as the server holds them.
    pub fn request_statuses(&self, uuid: &str) -> Option<Vec<TaskStatus>> {
        let s = self.inner.lock();
        s.requests
            .get(uuid)
            .map(|r| r.results.iter().map(|t| t.status).collect())
    }

    /// Requests that make a fiscal document and have not finished.
    pub fn pending_documents(&self) -> usize {
        let s = self.inner.lock();
        s.queue
            .iter()
            .filter_map(|u| s.requests.get(u))
            .filter(|r| r.tasks.iter().any(makes_document))
            .count()
    }

    /// The tasks of a request as they were posted.
    pub fn request_tasks(&self, uuid: &str) -> Option<Vec<Task>> {
        self.inner
            .lock()
            .requests
            .get(uuid)
            .map(|r| r.tasks.clone())
    }

    /// Requests held `blocked` now.
    pub fn blocked_requests(&self) -> usize {
        self.inner.lock().blocked.len()
    }

    /// Requests not finished yet (any kind).
    pub fn queued_requests(&self) -> usize {
        self.inner.lock().queue.len()
    }

    /// The `deviceID`s served after the first, in order.
    pub fn other_device_ids(&self) -> Vec<String> {
        self.inner.lock().others.keys().cloned().collect()
    }
}

impl Drop for AtolServer {
    fn drop(&mut self) {
        self.shutdown();
    }
}

async fn run(
    inner: Arc<Inner>,
    listener: std::net::TcpListener,
    stop: tokio::sync::oneshot::Receiver<()>,
) {
    let listener = match tokio::net::TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("ATOL stand-in listener: {e}");
            return;
        }
    };
    let app = Router::new()
        .route(REQUESTS_PATH, post(post_request))
        .route(&format!("{REQUESTS_PATH}/{{uuid}}"), get(get_request))
        .route(CONTROL_PATH, post(post_control))
        .with_state(inner.clone());
    let executor = tokio::spawn(execute_forever(inner));
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = stop.await;
        })
        .await;
    executor.abort();
    if let Err(e) = served {
        tracing::error!("ATOL stand-in stopped: {e}");
    }
}

/// Blocked requests go back to `wait`, in their place in the queue.
fn release_blocked(s: &mut Shared) {
    for uuid in std::mem::take(&mut s.blocked) {
        s.restate(&uuid, TaskStatus::Blocked, TaskStatus::Wait);
    }
}

/// A task whose result is a fiscal document (what `hold` holds back).
fn makes_document(task: &Task) -> bool {
    matches!(
        task,
        Task::Sell(_)
            | Task::SellReturn(_)
            | Task::Buy(_)
            | Task::BuyReturn(_)
            | Task::OpenShift(_)
            | Task::CloseShift(_)
    )
}

/// Runs queued tasks one at a time, `wait` → `inProgress` → final.
async fn execute_forever(inner: Arc<Inner>) {
    let step = inner.opts.step;
    loop {
        tokio::time::sleep(step).await;
        // Mark the next task in progress, let a poller see it, then run it.
        let next = {
            let mut s = inner.lock();
            // Held: requests that make a fiscal document wait (in order);
            // queries and marking checks still run.
            let hold = s.hold;
            let Some(uuid) = s
                .queue
                .iter()
                .filter(|u| !s.blocked.contains(u))
                .find(|u| {
                    !hold
                        || s.requests
                            .get(*u)
                            .is_none_or(|r| !r.tasks.iter().any(makes_document))
                })
                .cloned()
            else {
                continue;
            };
            let document = s
                .requests
                .get(&uuid)
                .is_some_and(|r| r.tasks.iter().any(makes_document));
            if document && std::mem::take(&mut s.block_next) {
                s.restate(&uuid, TaskStatus::Wait, TaskStatus::Blocked);
                s.blocked.push(uuid);
                inner.save(&s);
                continue;
            }
            let Some(req) = s.requests.get_mut(&uuid) else {
                s.queue.retain(|u| *u != uuid);
                continue;
            };
            match req
                .results
                .iter()
                .position(|t| t.status == TaskStatus::Wait)
            {
                Some(i) => {
                    req.results[i].status = TaskStatus::InProgress;
                    Some((uuid, i))
                }
                None => {
                    s.queue.retain(|u| *u != uuid);
                    None
                }
            }
        };
        let Some((uuid, i)) = next else { continue };
        tokio::time::sleep(step).await;
        let mut guard = inner.lock();
        let s = &mut *guard;
        let Some((task, device)) = s
            .requests
            .get(&uuid)
            .and_then(|r| Some((r.tasks.get(i)?.clone(), r.device.clone())))
        else {
            continue;
        };
        let outcome = s.device_mut(device.as_deref()).execute(&task);
        let Some(req) = s.requests.get_mut(&uuid) else {
            continue;
        };
        match outcome {
            Ok(result) => {
                req.results[i] = TaskResult {
                    status: TaskStatus::Ready,
                    error: None,
                    result: Some(result),
                };
            }
            Err(error) => {
                req.results[i] = TaskResult {
                    status: TaskStatus::Error,
                    error: Some(error),
                    result: None,
                };
                for later in req.results.iter_mut().skip(i + 1) {
                    later.status = TaskStatus::Interrupted;
                }
            }
        }
        let finished = req.results.iter().all(|t| t.status.is_final());
        if finished {
            s.queue.retain(|u| *u != uuid);
            if std::mem::take(&mut s.lose_next_result) {
                s.requests.remove(&uuid);
            }
        }
        inner.save(s);
    }
}

fn error_response(status: StatusCode, code: i32, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": ErrorBody { code, description: description.to_string() }})),
    )
        .into_response()
}

fn authorised(inner: &Inner, headers: &HeaderMap) -> bool {
    let Some((user, pass)) = &inner.opts.credentials else {
        return true;
    };
    sim_moysklad::auth::basic(headers).is_some_and(|(u, p)| {
        sim_moysklad::auth::same_secret(&u, user) && sim_moysklad::auth::same_secret(&p, pass)
    })
}

async fn post_request(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorised(&inner, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, 401, "Unauthorized");
    }
    let req: RequestBody = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error_response(StatusCode::BAD_REQUEST, 9, &format!("invalid request: {e}"));
        }
    };
    if req.uuid.trim().is_empty() || req.request.is_empty() {
        return error_response(StatusCode::BAD_REQUEST, 8, "uuid and request are required");
    }
    let device = match device_for(&inner.opts, &headers) {
        Ok(d) => d,
        Err(e) => return error_response(StatusCode::NOT_FOUND, 404, &e),
    };
    let mut s = inner.lock();
    if s.requests.contains_key(&req.uuid) {
        return error_response(StatusCode::CONFLICT, 409, "request with this uuid exists");
    }
    let results = req
        .request
        .iter()
        .map(|_| TaskResult {
            status: TaskStatus::Wait,
            error: None,
            result: None,
        })
        .collect();
    s.requests.insert(
        req.uuid.clone(),
        Request {
            tasks: req.request,
            results,
            device,
        },
    );
    s.queue.push_back(req.uuid.clone());
    let number = s.queue.len();
    inner.save(&s);
    (
        StatusCode::CREATED,
        axum::Json(json!({"uuid": req.uuid, "number": number})),
    )
        .into_response()
}

/// Where the fault switches are served (not part of ATOL's API).
pub const CONTROL_PATH: &str = "/sim/control";

/// `POST /sim/control`: one command per line ([`crate::control`]); 200
/// with the replies, or 400 at the first command refused.
async fn post_control(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !authorised(&inner, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, 401, "Unauthorized");
    }
    let device = match device_for(&inner.opts, &headers) {
        Ok(d) => d,
        Err(e) => return (StatusCode::NOT_FOUND, format!("error: {e}\n")).into_response(),
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "error: the body is not UTF-8\n").into_response();
    };
    let ctl = SimControl { inner };
    let mut reply = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match crate::control::parse(line) {
            Ok(cmd) => reply.push_str(&crate::control::execute(&ctl, device.as_deref(), &cmd)),
            Err(e) => {
                reply.push_str(&format!("error: {e}\n"));
                return (StatusCode::BAD_REQUEST, reply).into_response();
            }
        }
    }
    if reply.is_empty() {
        return (StatusCode::BAD_REQUEST, "error: no command; try help\n").into_response();
    }
    (StatusCode::OK, reply).into_response()
}

async fn get_request(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Path(uuid): Path<String>,
) -> Response {
    if !authorised(&inner, &headers) {
        return error_response(StatusCode::UNAUTHORIZED, 401, "Unauthorized");
    }
    let s = inner.lock();
    match s.requests.get(&uuid) {
        Some(r) => axum::Json(RequestState {
            results: r.results.clone(),
        })
        .into_response(),
        None => error_response(StatusCode::NOT_FOUND, 404, "request not found"),
    }
}
