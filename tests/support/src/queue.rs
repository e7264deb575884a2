//! A minimal MoySklad master queue over real HTTP (poll, approve, reject,
//! open/close shift, state, product lookup) that records what the agent
//! sent: lighter than the fake cloud, for the crash tests that restart the
//! agent hundreds of times.
//!
//! The queue behaves like the cloud: it hands out the first operation not
//! yet approved or rejected, again and again; a second approve or reject of
//! a settled operation is answered 409, which the agent counts as
//! delivered. Only the first (accepted) answer per operation is kept.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

pub const ORG: &str = "7944ef04-f831-11e5-7a69-971500188b19";

#[derive(Default)]
pub struct QueueState {
    pub ops: Vec<(String, String)>,
    /// Accepted answer per operation: ("approve"|"reject", body).
    pub settled: HashMap<String, (String, serde_json::Value)>,
    pub duplicates: u32,
    /// Operations answered again with another kind or body than the
    /// accepted answer (an approve must be re-sent byte for byte).
    pub differing: Vec<String>,
    pub openshifts: Vec<serde_json::Value>,
    pub closeshifts: Vec<serde_json::Value>,
    pub states: u32,
    /// Answer the next N requests with 503.
    pub fail_next: u32,
    /// The next approve or reject hangs (the agent is killed meanwhile).
    pub stall_next: Option<Stall>,
    /// How many answers hung so far.
    pub stalled: u32,
}

/// Where an answer hangs: before the queue takes it, or after (taken, but
/// the agent never hears so).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stall {
    BeforeSettling,
    AfterSettling,
}

/// How long a stalled answer hangs: longer than any test waits for it.
const STALL: std::time::Duration = std::time::Duration::from_secs(60);

#[derive(Clone, Default)]
pub struct Queue(pub Arc<Mutex<QueueState>>);

impl Queue {
    pub fn lock(&self) -> std::sync::MutexGuard<'_, QueueState> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }
    pub fn push(&self, id: &str, body: String) {
        self.lock().ops.push((id.to_string(), body));
    }
    pub fn unsettled(&self) -> usize {
        let s = self.lock();
        s.ops
            .iter()
            .filter(|(id, _)| !s.settled.contains_key(id))
            .count()
    }
}

fn id_of(body: &serde_json::Value) -> String {
    body["meta"]["href"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string()
}

fn unavailable(q: &Queue) -> Option<Response> {
    let mut s = q.lock();
    if s.fail_next > 0 {
        s.fail_next -= 1;
        return Some((StatusCode::SERVICE_UNAVAILABLE, "down").into_response());
    }
    None
}

async fn poll(State(q): State<Queue>, Path(_org): Path<String>) -> Response {
    if let Some(r) = unavailable(&q) {
        return r;
    }
    let s = q.lock();
    match s.ops.iter().find(|(id, _)| !s.settled.contains_key(id)) {
        Some((_, body)) => (
            StatusCode::OK,
            [("content-type", "application/json")],
            body.clone(),
        )
            .into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

fn settle(q: &Queue, kind: &str, body: Bytes) -> Response {
    if let Some(r) = unavailable(q) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "bad json").into_response();
    };
    let id = id_of(&v);
    let mut s = q.lock();
    if let Some(first) = s.settled.get(&id) {
        if *first != (kind.to_string(), v) {
            s.differing.push(id.clone());
        }
        s.duplicates += 1;
        let err = serde_json::json!({"errors":[{"error":"Операция уже обработана","code":3007}]});
        return (
            StatusCode::CONFLICT,
            [("content-type", "application/json")],
            err.to_string(),
        )
            .into_response();
    }
    s.settled.insert(id, (kind.to_string(), v));
    StatusCode::NO_CONTENT.into_response()
}

/// An approve or reject, hanging first if a stall is armed.
async fn answer(q: &Queue, kind: &str, body: Bytes) -> Response {
    let stall = {
        let mut s = q.lock();
        let stall = s.stall_next.take();
        if stall.is_some() {
            s.stalled += 1;
        }
        stall
    };
    if stall == Some(Stall::BeforeSettling) {
        tokio::time::sleep(STALL).await;
        return StatusCode::SERVICE_UNAVAILABLE.into_response();
    }
    let settled = settle(q, kind, body);
    if stall == Some(Stall::AfterSettling) {
        tokio::time::sleep(STALL).await;
    }
    settled
}

async fn approve(State(q): State<Queue>, body: Bytes) -> Response {
    answer(&q, "approve", body).await
}

async fn reject(State(q): State<Queue>, body: Bytes) -> Response {
    answer(&q, "reject", body).await
}

async fn openshift(State(q): State<Queue>, body: Bytes) -> Response {
    if let Some(r) = unavailable(&q) {
        return r;
    }
    if let Ok(v) = serde_json::from_slice(&body) {
        q.lock().openshifts.push(v);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn closeshift(State(q): State<Queue>, body: Bytes) -> Response {
    if let Some(r) = unavailable(&q) {
        return r;
    }
    if let Ok(v) = serde_json::from_slice(&body) {
        q.lock().closeshifts.push(v);
    }
    StatusCode::NO_CONTENT.into_response()
}

async fn state(State(q): State<Queue>) -> Response {
    q.lock().states += 1;
    StatusCode::NO_CONTENT.into_response()
}

/// The one product every generated operation sells (the agent names it
/// from the catalogue before printing).
async fn product(Path(id): Path<String>) -> Response {
    let row = serde_json::json!({
        "meta": {
            "href": format!("https://online.moysklad.ru/api/posap/1.0/entity/product/{id}"),
            "type": "product",
        },
        "id": id,
        "name": "Пиво",
        "uom": "шт",
        "paymentItemType": "GOOD",
    });
    (StatusCode::OK, axum::Json(row)).into_response()
}

/// Serves the queue on 127.0.0.1; returns its base URL.
pub async fn serve(q: Queue) -> String {
    let app = Router::new()
        .route("/api/posap/1.0/cheque/rpc/master/poll/{org}", get(poll))
        .route("/api/posap/1.0/cheque/rpc/master/approve", put(approve))
        .route("/api/posap/1.0/cheque/rpc/master/reject", put(reject))
        .route("/api/posap/1.0/rpc/openshift/", put(openshift))
        .route("/api/posap/1.0/rpc/openshift", put(openshift))
        .route("/api/posap/1.0/rpc/closeshift/", put(closeshift))
        .route("/api/posap/1.0/rpc/closeshift", put(closeshift))
        .route("/api/posap/1.0/state", post(state))
        .route("/api/posap/1.0/entity/product/{id}", get(product))
        .with_state(q);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/api/posap/1.0")
}
