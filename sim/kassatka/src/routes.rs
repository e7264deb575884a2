//! HTTP face of the fake Kassatka (axum): the four endpoints of the 1C API
//! under `/1c-api/v1`, with the `api-token` check, request logging and the
//! switchable 5xx fault in one middleware. Handlers only translate between
//! HTTP and [`super::state::FakeState`].

use super::state::{DownloadView, FakeState, ProcessView, RecordedRequest};
use axum::Router;
use axum::extract::{Multipart, Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

/// Path prefix of the API, as in the seed's base URL.
pub const API_PREFIX: &str = "/1c-api/v1";

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    pub state: Arc<Mutex<FakeState>>,
    /// The one token the fake accepts.
    pub token: Arc<str>,
}

impl Shared {
    /// Locks the state; a panic elsewhere while holding it does not make the
    /// fake unusable (its data stays consistent between calls).
    fn lock(&self) -> MutexGuard<'_, FakeState> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The router with every endpoint.
pub fn router(shared: Shared) -> Router {
    let api = Router::new()
        .route("/nomenclature", post(post_nomenclature))
        .route("/receipts", get(get_receipts))
        .route("/process/{key}", get(get_process))
        .route("/download/{key}", get(get_download))
        .fallback(unknown_endpoint)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    Router::new().nest(API_PREFIX, api).with_state(shared)
}

/// Records the request, then answers a pending 5xx fault or a bad token
/// before the handler runs.
async fn gate(State(shared): State<Shared>, request: Request, next: Next) -> Response {
    let token_ok = request
        .headers()
        .get("api-token")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == &*shared.token);
    let server_error = {
        let mut state = shared.lock();
        state.record(RecordedRequest {
            method: request.method().to_string(),
            path: request.uri().path().to_string(),
            query: request.uri().query().map(str::to_string),
            token_ok,
        });
        state.take_server_error()
    };
    if server_error {
        // What the nginx in front of the real API sends when the app is down.
        let mut response = (
            StatusCode::BAD_GATEWAY,
            "<html><head><title>502 Bad Gateway</title></head>\
             <body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx/1.10.3 (Ubuntu)</center></body></html>",
        )
            .into_response();
        response
            .headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html"));
        return response;
    }
    if !token_ok {
        return failure(StatusCode::UNAUTHORIZED, "Неверный api-token");
    }
    next.run(request).await
}

async fn post_nomenclature(State(shared): State<Shared>, mut multipart: Multipart) -> Response {
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => return failure(StatusCode::BAD_REQUEST, &format!("Ошибка multipart: {e}")),
        };
        if field.name() != Some("nomenclature") {
            continue;
        }
        let xml = match field.text().await {
            Ok(xml) => xml,
            Err(e) => {
                return failure(
                    StatusCode::BAD_REQUEST,
                    &format!("Файл nomenclature не прочитан: {e}"),
                );
            }
        };
        let key = shared.lock().start_nomenclature(xml, Instant::now());
        return success(json!({ "process_key": key }));
    }
    failure(StatusCode::BAD_REQUEST, "Не передан файл nomenclature")
}

async fn get_receipts(
    State(shared): State<Shared>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let bound = |name: &str| {
        let text = query.get(name).map(String::as_str).unwrap_or_default();
        DateTime::strptime("%Y-%m-%d %H:%M:%S", text)
            .and_then(|dt| TimeZone::UTC.to_timestamp(dt))
            .map_err(|_| format!("Параметр {name} должен быть датой YYYY-MM-DD HH:MM:SS"))
    };
    let (from, to) = match (bound("from"), bound("to")) {
        (Ok(from), Ok(to)) => (from, to),
        (Err(message), _) | (_, Err(message)) => {
            return failure(StatusCode::BAD_REQUEST, &message);
        }
    };
    let key = shared.lock().start_receipts(from, to, Instant::now());
    success(json!({ "process_key": key }))
}

async fn get_process(State(shared): State<Shared>, Path(key): Path<String>) -> Response {
    let (view, running_unsuccessful) = {
        let mut state = shared.lock();
        (
            state.poll(&key, Instant::now()),
            state.faults.running_unsuccessful,
        )
    };
    match view {
        ProcessView::Unknown => not_found(),
        ProcessView::Running if running_unsuccessful => {
            envelope(StatusCode::OK, false, json!({ "status": "processing" }))
        }
        ProcessView::Running => success(json!({ "status": "processing" })),
        ProcessView::Success => success(json!({ "status": "success" })),
        ProcessView::Failed(message) => success(json!({ "status": "error", "message": message })),
    }
}

async fn get_download(State(shared): State<Shared>, Path(key): Path<String>) -> Response {
    let view = shared.lock().download(&key, Instant::now());
    match view {
        DownloadView::Unknown => not_found(),
        DownloadView::Running => success(json!({ "status": "processing" })),
        DownloadView::Failed(message) => envelope(
            StatusCode::OK,
            false,
            json!({ "status": "error", "message": message }),
        ),
        DownloadView::NoFile => success(json!({ "status": "success" })),
        DownloadView::Xml(xml) => {
            ([(header::CONTENT_TYPE, "application/xml")], xml).into_response()
        }
    }
}

async fn unknown_endpoint() -> Response {
    failure(StatusCode::NOT_FOUND, "Неизвестный метод API")
}

fn not_found() -> Response {
    failure(StatusCode::NOT_FOUND, "Процесс не найден")
}

fn success(response: Value) -> Response {
    envelope(StatusCode::OK, true, response)
}

fn failure(status: StatusCode, message: &str) -> Response {
    envelope(status, false, json!({ "message": message }))
}

fn envelope(status: StatusCode, success: bool, response: Value) -> Response {
    (
        status,
        axum::Json(json!({ "success": success, "response": response })),
    )
        .into_response()
}
