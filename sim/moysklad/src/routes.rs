//! The HTTP face of the fake cloud: the axum router with every POS API path
//! (each with and without a trailing slash, under `/api/posap/1.0` and at the
//! root), the gate every request passes (faults → auth → rate limits →
//! request log) and the handlers, which parse, validate (`validate`) and
//! update the memory (`store`). The control endpoints live in `control`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, Path, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post, put};
use serde::Serialize;
use serde_json::{Value, json};

use super::api_error::{ApiError, JSON_UTF8};
use super::auth;
use super::catalogue::FakeCatalogue;
use super::config::{FakeCloudConfig, FakeStore};
use super::faults::{Action, EmptyPollForm, FaultBook};
use super::json_checks::parse_object;
use super::rate_limit::{Admission, RateLimiter, Refusal};
use super::samples;
use super::store::{OpKind, Store};
use super::validate;

/// The API's path prefix on the real cloud.
pub const API_PREFIX: &str = "/api/posap/1.0";

/// How many requests the log keeps (the older half is dropped when full).
pub const MAX_LOGGED_REQUESTS: usize = 200_000;

/// One request as the fake saw it (never with credentials).
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// Milliseconds since the fake started.
    pub at_ms: u64,
    #[serde(skip)]
    pub at: Instant,
    pub method: String,
    pub path: String,
    /// The user the rate limit counted it against.
    pub user: String,
    pub status: u16,
}

/// Everything the handlers share.
pub struct Shared {
    pub config: FakeCloudConfig,
    pub started: Instant,
    pub stores: Mutex<Vec<FakeStore>>,
    pub store: Mutex<Store>,
    pub limiter: Mutex<RateLimiter>,
    pub faults: Mutex<FaultBook>,
    pub requests: Mutex<Vec<RequestRecord>>,
    pub catalogue: Mutex<FakeCatalogue>,
}

/// Locks a mutex, recovering from a poisoned one (a panicking test thread
/// must not take the whole fake down with it).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub fn new(config: FakeCloudConfig) -> Self {
        Self {
            catalogue: Mutex::new(FakeCatalogue::new(config.catalogue_size)),
            stores: Mutex::new(config.stores()),
            limiter: Mutex::new(RateLimiter::new(config.rate_limit)),
            config,
            started: Instant::now(),
            store: Mutex::new(Store::default()),
            faults: Mutex::new(FaultBook::default()),
            requests: Mutex::new(Vec::new()),
        }
    }
}

/// Set by the connection loop: closes this request's connection unanswered.
#[derive(Clone)]
pub struct ConnectionKill(pub Arc<tokio::sync::Notify>);

/// The store a request acts for, decided by the gate.
#[derive(Clone, Debug)]
struct Caller {
    store: FakeStore,
}

type Shr = State<Arc<Shared>>;

/// A JSON answer with the API's content type.
pub fn json_response(status: StatusCode, value: &Value) -> Response {
    let body = serde_json::to_vec(value).unwrap_or_default();
    let mut resp = (status, body).into_response();
    resp.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
    resp
}

fn no_content() -> Response {
    StatusCode::NO_CONTENT.into_response()
}

/// Registers `path` and `path/`.
fn both<S: Clone + Send + Sync + 'static>(
    r: Router<S>,
    path: &str,
    m: MethodRouter<S>,
) -> Router<S> {
    r.route(path, m.clone()).route(&format!("{path}/"), m)
}

/// The POS API routes (without the prefix).
fn api_routes() -> Router<Arc<Shared>> {
    let mut r = Router::new();
    r = both(r, "/cheque/minion/entity/{kind}", post(minion_create));
    r = both(
        r,
        "/cheque/rpc/minion/status/syncid/{id}",
        get(minion_status),
    );
    r = both(r, "/cheque/rpc/master/poll/{org}", get(master_poll));
    r = both(r, "/cheque/rpc/master/approve", put(master_approve));
    r = both(r, "/cheque/rpc/master/reject", put(master_reject));
    r = both(r, "/rpc/openshift", put(open_shift));
    r = both(r, "/rpc/closeshift", put(close_shift));
    r = both(r, "/state", post(post_state));
    r = both(r, "/settings/retailstore", get(settings_retailstore));
    r = both(r, "/admin/retailstore", get(admin_retailstore));
    r = both(r, "/entity/assortment", get(assortment));
    r = both(r, "/entity/{kind}/{id}", get(assortment_item));
    r = both(
        r,
        "/entity/{kind}/syncid/{id}",
        get(assortment_item_by_sync_id),
    );
    r = both(r, "/admin/attach/{id}", post(admin_attach));
    r
}

/// The whole application: API (prefixed and not), control, fallbacks.
pub fn app(shared: Arc<Shared>) -> Router {
    let api = api_routes();
    let gated = Router::new()
        .nest(API_PREFIX, api.clone())
        .merge(api)
        .fallback(unknown_path)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(shared.clone(), gate));
    Router::new()
        .nest("/_control", super::control::routes())
        .merge(gated)
        .layer(DefaultBodyLimit::max(10 * 1024 * 1024))
        .with_state(shared)
}

async fn unknown_path(req: Request) -> ApiError {
    ApiError::unknown_path(req.uri().path())
}

async fn method_not_allowed(method: Method) -> ApiError {
    ApiError::method_not_allowed(method.as_str())
}

/// The path without the API prefix.
fn api_path(path: &str) -> &str {
    path.strip_prefix(API_PREFIX).unwrap_or(path)
}

/// Decides who calls: admin paths need the admin's Basic auth; the rest a
/// store's token when that store has one. Returns the rate-limit user.
fn authenticate(
    shared: &Shared,
    path: &str,
    headers: &axum::http::HeaderMap,
) -> Result<(String, Option<Caller>), ApiError> {
    if path.starts_with("/admin/") {
        let Some((user, pass)) = auth::basic(headers) else {
            return Err(auth::no_credentials());
        };
        let cfg = &shared.config;
        if auth::same_secret(&user, &cfg.admin_login)
            && auth::same_secret(&pass, &cfg.admin_password)
        {
            return Ok((user, None));
        }
        return Err(auth::bad_password());
    }
    let presented = auth::pos_credentials(headers);
    let stores = lock(&shared.stores);
    if let Some(token) = &presented.token {
        let hit = stores.iter().find(|s| {
            s.token
                .as_deref()
                .is_some_and(|t| auth::same_secret(t, token))
                && presented.uid.as_deref().is_none_or(|u| u == s.cashier_uid)
        });
        if let Some(s) = hit {
            return Ok((s.cashier_uid.clone(), Some(Caller { store: s.clone() })));
        }
    }
    // Open mode: the main store has no token yet, anyone acts for it.
    if let Some(main) = stores.first()
        && main.token.is_none()
    {
        let user = presented.uid.unwrap_or_else(|| main.cashier_uid.clone());
        return Ok((
            user,
            Some(Caller {
                store: main.clone(),
            }),
        ));
    }
    if presented.token.is_some() {
        Err(auth::bad_token())
    } else {
        Err(auth::no_credentials())
    }
}

fn add_limit_headers(
    resp: &mut Response,
    limit: u32,
    window: Duration,
    remaining: u32,
    reset: Duration,
    retry_after: Option<Duration>,
) {
    let h = resp.headers_mut();
    let mut put = |name: &'static str, v: u128| {
        if let Ok(v) = HeaderValue::from_str(&v.to_string()) {
            h.insert(name, v);
        }
    };
    put("X-RateLimit-Limit", u128::from(limit));
    put("X-Lognex-Retry-TimeInterval", window.as_millis());
    put("X-RateLimit-Remaining", u128::from(remaining));
    // Rounded up: a client that waits the truncated figure comes back
    // before the oldest request has left the window and gets a 429.
    put("X-Lognex-Reset", ceil_ms(reset));
    if let Some(r) = retry_after {
        put("X-Lognex-Retry-After", ceil_ms(r));
    }
}

/// An empty poll answer in the given form.
pub fn empty_poll(form: EmptyPollForm) -> Response {
    let with_body = |status: StatusCode, body: &'static str| {
        let mut r = (status, body).into_response();
        r.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        r
    };
    match form {
        EmptyPollForm::NoContent => StatusCode::NO_CONTENT.into_response(),
        EmptyPollForm::NotFound => with_body(StatusCode::NOT_FOUND, ""),
        EmptyPollForm::EmptyBody => with_body(StatusCode::OK, ""),
        EmptyPollForm::EmptyObject => with_body(StatusCode::OK, "{}"),
        EmptyPollForm::Null => with_body(StatusCode::OK, "null"),
    }
}

/// Every API request passes here: faults first (a broken server breaks
/// before it authenticates), then auth, then the rate limits, then the
/// handler; the answer is logged.
async fn gate(State(shared): Shr, mut req: Request, next: Next) -> Response {
    let path = api_path(req.uri().path()).to_string();
    let method = req.method().to_string();
    let is_poll = path.starts_with("/cheque/rpc/master/poll");
    let action = lock(&shared.faults).take(&path, is_poll, Instant::now());
    let log = |user: &str, status: u16| {
        let now = Instant::now();
        let mut requests = lock(&shared.requests);
        // Bounded, so a fake left running for days does not grow forever.
        if requests.len() >= MAX_LOGGED_REQUESTS {
            requests.drain(..MAX_LOGGED_REQUESTS / 2);
        }
        requests.push(RequestRecord {
            at_ms: now.duration_since(shared.started).as_millis() as u64,
            at: now,
            method: method.clone(),
            path: path.clone(),
            user: user.to_string(),
            status,
        });
    };
    match action {
        Some(Action::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            log("-", status.as_u16());
            return ApiError::injected_failure(status).into_response();
        }
        Some(Action::RateLimited(wait)) => {
            log("-", 429);
            let mut r = ApiError::too_many_requests().into_response();
            if let Ok(v) = HeaderValue::from_str(&ceil_ms(wait).to_string()) {
                r.headers_mut().insert("X-Lognex-Retry-After", v);
            }
            return r;
        }
        Some(Action::Drop) => {
            log("-", 0);
            if let Some(kill) = req.extensions().get::<ConnectionKill>() {
                kill.0.notify_one();
                std::future::pending::<()>().await;
            }
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Action::MalformedJson) => {
            log("-", 200);
            let mut r = (StatusCode::OK, "{\"meta\": {\"href\": \"http").into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            return r;
        }
        Some(Action::EmptyPoll(form)) => {
            let r = empty_poll(form);
            log("-", r.status().as_u16());
            return r;
        }
        Some(Action::WrongShape) => {
            log("-", 200);
            let mut r = (StatusCode::OK, "{\"rows\": 5, \"meta\": [true, null]}").into_response();
            r.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
            return r;
        }
        Some(Action::Html(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
            log("-", status.as_u16());
            let mut r = (
                status,
                "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>",
            )
                .into_response();
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            return r;
        }
        Some(Action::Redirect(location)) => {
            log("-", 302);
            let mut r = StatusCode::FOUND.into_response();
            if let Ok(v) = HeaderValue::from_str(&location) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return r;
        }
        Some(Action::Slow(_)) | Some(Action::DropAfter) | None => {}
    }
    let drop_after = action == Some(Action::DropAfter);
    let kill_after = req.extensions().get::<ConnectionKill>().cloned();
    // A slow answer is slow while counted as in flight, like a slow server.
    let delay = match action {
        Some(Action::Slow(d)) => Some(d),
        _ => None,
    };
    let (user, caller) = match authenticate(&shared, &path, req.headers()) {
        Ok(v) => v,
        Err(e) => {
            log("-", e.status.as_u16());
            return e.into_response();
        }
    };
    if let Some(c) = caller {
        req.extensions_mut().insert(c);
    }
    let cfg = lock(&shared.limiter).config();
    let admitted = lock(&shared.limiter).admit(&user, Instant::now());
    let mut resp = match admitted {
        Ok(Admission { remaining, reset }) => {
            // Released even if the client goes away mid-request.
            struct Release<'a>(&'a Shared, &'a str);
            impl Drop for Release<'_> {
                fn drop(&mut self) {
                    lock(&self.0.limiter).finish(self.1);
                }
            }
            let _release = Release(&shared, &user);
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            let mut resp = next.run(req).await;
            add_limit_headers(&mut resp, cfg.requests, cfg.window, remaining, reset, None);
            resp
        }
        Err(Refusal::TooMany { retry_after }) => {
            let mut resp = ApiError::too_many_requests().into_response();
            add_limit_headers(
                &mut resp,
                cfg.requests,
                cfg.window,
                0,
                retry_after,
                Some(retry_after),
            );
            resp
        }
        Err(Refusal::TooParallel) => {
            let mut resp = ApiError::too_many_parallel().into_response();
            let wait = Duration::from_millis(100);
            add_limit_headers(&mut resp, cfg.requests, cfg.window, 0, wait, Some(wait));
            resp
        }
    };
    if resp.status() == StatusCode::UNAUTHORIZED {
        resp.headers_mut().remove(header::WWW_AUTHENTICATE);
    }
    log(&user, resp.status().as_u16());
    if drop_after && let Some(kill) = kill_after {
        // Handled, then the connection dies before the answer leaves.
        drop(resp);
        kill.0.notify_one();
        std::future::pending::<()>().await;
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    resp
}

/// The caller the gate attached (always present behind the gate for
/// non-admin paths).
fn caller(req_caller: Option<axum::Extension<Caller>>) -> Result<FakeStore, ApiError> {
    req_caller
        .map(|c| c.0.store)
        .ok_or_else(auth::no_credentials)
}

/// A request body that must be one JSON object; every failure (too large,
/// unreadable, not JSON, not an object) is the seed's error.
pub struct JsonObject(pub serde_json::Map<String, Value>);

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::too_large()
            } else {
                ApiError::new(
                    StatusCode::BAD_REQUEST,
                    2017,
                    "Ошибка формата: неизвестная ошибка",
                )
            }
        })?;
        parse_object(&bytes).map(JsonObject)
    }
}

/// The operation kind in a URL path, or the cloud's 1054 "type not found".
pub(crate) fn parse_kind(kind: &str) -> Result<OpKind, ApiError> {
    OpKind::parse(kind).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            1054,
            format!("Указанный тип {kind} не найден"),
        )
    })
}

async fn minion_create(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    Path(kind): Path<String>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    let kind = parse_kind(&kind)?;
    let id = validate::minion_operation(&map, kind)?;
    lock(&shared.store).enqueue(&store.org_id, kind, &id, Value::Object(map))?;
    Ok(StatusCode::CREATED.into_response())
}

async fn minion_status(State(shared): Shr, Path(id): Path<String>) -> Result<Response, ApiError> {
    let v = lock(&shared.store).status(&id)?;
    Ok(json_response(StatusCode::OK, &v))
}

async fn master_poll(State(shared): Shr, Path(org): Path<String>) -> Result<Response, ApiError> {
    let known = lock(&shared.stores).iter().any(|s| s.org_id == org);
    if !known {
        return Err(ApiError::not_found("organization", &org));
    }
    let op = lock(&shared.store).poll(&org, shared.config.poll_lease, Instant::now());
    Ok(match op {
        Some(v) => json_response(StatusCode::OK, &v),
        None => empty_poll(shared.config.empty_poll),
    })
}

async fn master_approve(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    let refs = validate::approve(&map)?;
    lock(&shared.store).approve(
        &store.id,
        refs.kind,
        &refs.operation_id,
        &refs.shift_id,
        Value::Object(map),
    )?;
    Ok(no_content())
}

async fn master_reject(
    State(shared): Shr,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let (kind, id, _) = validate::reject(&map)?;
    lock(&shared.store).reject(kind, &id, Value::Object(map))?;
    Ok(no_content())
}

async fn open_shift(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    let (id, name) = validate::open_shift(&map)?;
    lock(&shared.store).open_shift(&store.id, &id, &name, Value::Object(map))?;
    Ok(no_content())
}

async fn close_shift(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    let id = validate::close_shift(&map)?;
    lock(&shared.store).close_shift(&store.id, &id, Value::Object(map))?;
    Ok(no_content())
}

async fn post_state(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    JsonObject(map): JsonObject,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    validate::state(&map)?;
    lock(&shared.store).record_state(&store.id, Value::Object(map));
    Ok(no_content())
}

/// The seed's store sample with this store's id, name and organisation.
fn store_json(s: &FakeStore) -> Value {
    let mut v: Value =
        serde_json::from_str(samples::SETTINGS_RETAILSTORE).unwrap_or_else(|_| json!({}));
    v["id"] = json!(s.id);
    v["name"] = json!(s.name);
    v["meta"] = json!({
        "href": format!("https://online.moysklad.ru/api/posap/1.0/entity/retailstore/{}", s.id),
        "mediaType": "application/json",
        "type": "retailstore",
        "id": s.id,
        "idType": "native",
    });
    v["authTokenAttached"] = json!(s.token.is_some());
    if let Some(org) = v.get_mut("organization") {
        org["id"] = json!(s.org_id);
        org["meta"]["id"] = json!(s.org_id);
        org["meta"]["href"] = json!(format!(
            "https://online.moysklad.ru/api/posap/1.0/entity/organization/{}",
            s.org_id
        ));
    }
    if let Some(rows) = v.pointer_mut("/cashiers/rows/0") {
        rows["uid"] = json!(s.cashier_uid);
    }
    v
}

async fn settings_retailstore(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
) -> Result<Response, ApiError> {
    let store = caller(c)?;
    let mut v = store_json(&store);
    let t = lock(&shared.catalogue).template.clone();
    if let Some(tax) = t.default_tax_system {
        v["defaultTaxSystem"] = json!(tax);
    }
    v["receiptTemplate"] = json!({ "header": t.header, "footer": t.footer });
    Ok(json_response(StatusCode::OK, &v))
}

#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct PageQuery {
    limit: Option<usize>,
    offset_id: Option<String>,
}

async fn assortment(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    axum::extract::Query(q): axum::extract::Query<PageQuery>,
) -> Result<Response, ApiError> {
    caller(c)?;
    let page = lock(&shared.catalogue).page(
        q.limit.unwrap_or(super::catalogue::MAX_LIMIT),
        q.offset_id.as_deref(),
    );
    Ok(json_response(StatusCode::OK, &page))
}

async fn assortment_item(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller(c)?;
    match lock(&shared.catalogue).item(&kind, &id) {
        Some(row) => Ok(json_response(StatusCode::OK, row)),
        None => Err(ApiError::not_found(&kind, &id)),
    }
}

async fn assortment_item_by_sync_id(
    State(shared): Shr,
    c: Option<axum::Extension<Caller>>,
    Path((kind, id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller(c)?;
    match lock(&shared.catalogue).item_by_sync_id(&kind, &id) {
        Some(row) => Ok(json_response(StatusCode::OK, row)),
        None => Err(ApiError::not_found(&kind, &id)),
    }
}

async fn admin_retailstore(State(shared): Shr) -> Response {
    let rows: Vec<Value> = lock(&shared.stores).iter().map(store_json).collect();
    let v = json!({
        "meta": {
            "href": "https://online.moysklad.ru/api/posap/1.0/admin/retailstore",
            "mediaType": "application/json",
            "size": rows.len(),
            "limit": 1000,
            "offsetId": "00000000-0000-0000-0000-000000000000",
            "direction": "forward",
        },
        "rows": rows,
    });
    json_response(StatusCode::OK, &v)
}

/// A fresh 40-hex-digit token, the real cloud's shape.
fn new_token() -> String {
    let a = uuid::Uuid::new_v4().simple().to_string();
    let b = uuid::Uuid::new_v4().simple().to_string();
    format!("{a}{b}")[..40].to_string()
}

async fn admin_attach(State(shared): Shr, Path(id): Path<String>) -> Result<Response, ApiError> {
    let mut stores = lock(&shared.stores);
    let Some(s) = stores.iter_mut().find(|s| s.id == id) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            12015,
            "Ошибка получения токена: не найдена точка продаж",
        ));
    };
    // Every earlier token of the store is annulled, as the seed says.
    let token = new_token();
    s.token = Some(token.clone());
    let v = json!({"token": token, "uid": s.cashier_uid});
    Ok(json_response(StatusCode::CREATED, &v))
}

/// Whole milliseconds, rounded up.
fn ceil_ms(d: Duration) -> u128 {
    d.as_nanos().div_ceil(1_000_000)
}
