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
use super::routes::{JsonObject, Shared, json_response, lock, parse_kind};
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
        .route("/catalogue/items", post(add_item))
        .route("/catalogue/items/{id}", axum::routing::put(rename_item))
        .route("/settings", axum::routing::put(change_settings))
}

fn bad_control_body(e: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::BAD_REQUEST,
        2001,
        format!("неверное тело запроса: {e}"),
    )
}

/// A new assortment item, in short form.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct NewItem {
    id: Option<String>,
    #[serde(rename = "type", default = "default_item_type")]
    kind: String,
    name: String,
    #[serde(default = "default_uom")]
    uom: String,
    #[serde(default = "default_payment_item_type")]
    payment_item_type: String,
    tracking_type: Option<String>,
}

fn default_item_type() -> String {
    "product".into()
}
fn default_uom() -> String {
    "шт".into()
}
fn default_payment_item_type() -> String {
    "GOOD".into()
}

/// `POST /_control/catalogue/items`: adds (or replaces) an item; answers
/// its id.
async fn add_item(State(shared): Shr, body: Bytes) -> Result<Response, ApiError> {
    let new: NewItem = serde_json::from_slice(&body).map_err(bad_control_body)?;
    let id = new.id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let mut row =
        super::catalogue::row(&new.kind, &id, &new.name, &new.uom, &new.payment_item_type);
    if let Some(t) = new.tracking_type {
        row["trackingType"] = json!(t);
    }
    lock(&shared.catalogue).put(row);
    Ok(json_response(StatusCode::OK, &json!({ "id": id })))
}

#[derive(Deserialize)]
struct Rename {
    name: String,
}

/// `PUT /_control/catalogue/items/{id}` with `{"name": …}`.
async fn rename_item(
    State(shared): Shr,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let r: Rename = serde_json::from_slice(&body).map_err(bad_control_body)?;
    if lock(&shared.catalogue).rename(&id, &r.name) {
        Ok(StatusCode::NO_CONTENT.into_response())
    } else {
        Err(ApiError::not_found("product", &id))
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SettingsChange {
    default_tax_system: Option<String>,
    header: Option<String>,
    footer: Option<String>,
}

/// `PUT /_control/settings`: the store's `defaultTaxSystem` and receipt
/// template (fields left out stay as they are; `""` clears one).
async fn change_settings(State(shared): Shr, body: Bytes) -> Result<Response, ApiError> {
    let c: SettingsChange = serde_json::from_slice(&body).map_err(bad_control_body)?;
    let mut cat = lock(&shared.catalogue);
    let t = &mut cat.template;
    let set = |slot: &mut Option<String>, v: Option<String>| {
        if let Some(v) = v {
            *slot = Some(v).filter(|v| !v.is_empty());
        }
    };
    set(&mut t.default_tax_system, c.default_tax_system);
    set(&mut t.header, c.header);
    set(&mut t.footer, c.footer);
    Ok(StatusCode::NO_CONTENT.into_response())
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
    let kind = parse_kind(&kind)?;
    let id = validate::minion_operation(&map, kind)?;
    let org = q.org.unwrap_or_else(|| shared.config.org_id.clone());
    lock(&shared.store).enqueue(&org, kind, &id, Value::Object(map))?;
    Ok(json_response(StatusCode::CREATED, &json!({"id": id})))
}
