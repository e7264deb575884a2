//! The control endpoint under `/_control` (no auth, no rate limit, no
//! faults): arm and clear faults, enqueue operations without going through
//! the minion API, and inspect operations, shifts, states and the request
//! log. Documented in docs/fake-cloud.md.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};

use super::api_error::ApiError;
use super::faults::Fault;
use super::routes::{JsonObject, Shared, json_response, lock};
use super::store::OpKind;
use super::validate;

type Shr = State<Arc<Shared>>;

pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route(
            "/faults",
            post(arm_fault).get(list_faults).delete(clear_faults),
        )
        .route("/operations", get(operations))
        .route("/shifts", get(shifts))
        .route("/states", get(states))
        .route("/requests", get(requests))
        .route("/enqueue/{kind}", post(enqueue))
}

async fn arm_fault(State(shared): Shr, body: Bytes) -> Result<Response, ApiError> {
    let fault: Fault = serde_json::from_slice(&body).map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            2001,
            format!("неверное описание сбоя: {e}"),
        )
    })?;
    lock(&shared.faults).arm(fault, Instant::now());
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_faults(State(shared): Shr) -> Response {
    let armed = lock(&shared.faults).armed();
    json_response(StatusCode::OK, &json!(armed))
}

async fn clear_faults(State(shared): Shr) -> Response {
    lock(&shared.faults).clear();
    StatusCode::NO_CONTENT.into_response()
}

async fn operations(State(shared): Shr) -> Response {
    let ops = lock(&shared.store).operations();
    json_response(StatusCode::OK, &json!(ops))
}

async fn shifts(State(shared): Shr) -> Response {
    let v = lock(&shared.store).shifts();
    json_response(StatusCode::OK, &json!(v))
}

async fn states(State(shared): Shr) -> Response {
    let v = lock(&shared.store).states();
    json_response(StatusCode::OK, &json!(v))
}

async fn requests(State(shared): Shr) -> Response {
    let v = lock(&shared.requests).clone();
    json_response(StatusCode::OK, &json!(v))
}

#[derive(Deserialize)]
struct EnqueueQuery {
    org: Option<String>,
}

async fn enqueue(
    State(shared): Shr,
    Path(kind): Path<String>,
    Query(q): Query<EnqueueQuery>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let kind = OpKind::parse(&kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            1054,
            format!("Указанный тип {kind} не найден"),
        )
    })?;
    let id = validate::minion_operation(&map, kind)?;
    let org = q.org.unwrap_or_else(|| shared.config.org_id.clone());
    lock(&shared.store).enqueue(&org, kind, &id, Value::Object(map))?;
    Ok(json_response(StatusCode::CREATED, &json!({"id": id})))
}
