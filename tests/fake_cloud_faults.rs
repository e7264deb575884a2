//! Faults and rate limits of the fake cloud over real HTTP: every fault kind
//! (status, slow, dropped connection, malformed JSON, each empty-poll form,
//! outage), armed through the handle and through `/_control/faults`, and the
//! seed's limits (100 requests / 5 s, 5 in flight) with real 429s and the
//! retry headers. Timing assertions are lower bounds only.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sim_moysklad::{
    EmptyPollForm, FakeCloud, FakeCloudConfig, FakeCloudHandle, Fault, FaultKind, OpKind, samples,
};

const OP: &str = "11111111-1111-4111-8111-111111111111";

fn client() -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

async fn start() -> (FakeCloudHandle, reqwest::Client) {
    let fake = FakeCloud::start(FakeCloudConfig::default())
        .await
        .expect("start");
    (fake, client())
}

fn poll_url(fake: &FakeCloudHandle) -> String {
    format!(
        "{}/cheque/rpc/master/poll/{}",
        fake.base_url(),
        fake.org_id()
    )
}

async fn get(http: &reqwest::Client, url: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let r = http.get(url).send().await.expect("request");
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    (status, headers, r.text().await.expect("text"))
}

/// GET a control endpoint and parse its JSON answer.
async fn get_json(http: &reqwest::Client, url: &str) -> Value {
    http.get(url).send().await.unwrap().json().await.unwrap()
}

fn error_code(body: &str) -> u64 {
    let v: Value = serde_json::from_str(body).expect("JSON error body");
    v["errors"][0]["code"].as_u64().expect("code")
}

#[tokio::test]
async fn status_faults_hit_the_next_n_requests() {
    let (fake, http) = start().await;
    let url = format!("{}/settings/retailstore", fake.base_url());
    fake.add_fault(Fault::new(FaultKind::Status { status: 503 }, 2));
    for _ in 0..2 {
        let (s, h, b) = get(&http, &url).await;
        assert_eq!((s, error_code(&b)), (503, 1074));
        assert_eq!(h["content-type"], "application/json;charset=utf-8");
    }
    assert_eq!(get(&http, &url).await.0, 200);
    fake.add_fault(Fault::new(FaultKind::Status { status: 500 }, 1));
    let (s, _, b) = get(&http, &url).await;
    assert_eq!((s, error_code(&b)), (500, 1999));
    fake.add_fault(Fault::new(FaultKind::Status { status: 502 }, 1));
    assert_eq!(get(&http, &url).await.0, 502);
    // Restricted to a path: other paths pass.
    fake.add_fault(Fault::new(FaultKind::Status { status: 503 }, 1).on_path("master/approve"));
    assert_eq!(get(&http, &url).await.0, 200);
    let r = http
        .put(format!("{}/cheque/rpc/master/approve", fake.base_url()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 503);
    assert_eq!(get(&http, &url).await.0, 200);
}

#[tokio::test]
async fn control_endpoint_arms_lists_and_clears() {
    let (fake, http) = start().await;
    let ctl = fake.control_url();
    let r = http
        .post(format!("{ctl}/faults"))
        .body(r#"{"kind":"status","status":502,"count":3,"path":"/state"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let listed: Value = get_json(&http, &format!("{ctl}/faults")).await;
    assert_eq!(
        listed,
        json!([{"kind": "status", "status": 502, "count": 3, "path": "/state"}])
    );
    let r = http
        .post(format!("{ctl}/faults"))
        .body(r#"{"kind":"bogus"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let state_url = format!("{}/state", fake.base_url());
    let r = http.post(&state_url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        http.delete(format!("{ctl}/faults"))
            .send()
            .await
            .unwrap()
            .status(),
        204
    );
    let r = http.post(&state_url).body("{}").send().await.unwrap();
    assert_eq!(r.status(), 204);
    // Enqueue through control, inspect through control.
    let r = http
        .post(format!("{ctl}/enqueue/prepayment"))
        .body(samples::minion_with_id(OpKind::Prepayment, OP).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let ops: Value = get_json(&http, &format!("{ctl}/operations")).await;
    assert_eq!(ops[0]["kind"], "prepayment");
    assert_eq!(ops[0]["fiscalStatus"], "PENDING");
    let reqs: Value = get_json(&http, &format!("{ctl}/requests")).await;
    assert_eq!(
        reqs.as_array().unwrap().len(),
        2,
        "control requests are not logged: {reqs}"
    );
}

#[tokio::test]
async fn slow_fault_delays_the_answer() {
    let (fake, http) = start().await;
    fake.add_fault(Fault::new(FaultKind::Slow { ms: 400 }, 1));
    let t = Instant::now();
    assert_eq!(get(&http, &poll_url(&fake)).await.0, 204);
    assert!(t.elapsed() >= Duration::from_millis(400));
}

#[tokio::test]
async fn drop_fault_closes_the_connection_unanswered() {
    let (fake, http) = start().await;
    fake.add_fault(Fault::new(FaultKind::Drop, 1).on_path("/poll/"));
    let err = http
        .get(poll_url(&fake))
        .send()
        .await
        .expect_err("no answer");
    assert!(!err.is_status() && !err.is_timeout(), "{err:?}");
    // The next request (a new connection) is served.
    assert_eq!(get(&http, &poll_url(&fake)).await.0, 204);
}

#[tokio::test]
async fn malformed_json_fault() {
    let (fake, http) = start().await;
    fake.enqueue(
        OpKind::RetailDemand,
        samples::minion_with_id(OpKind::RetailDemand, OP),
    )
    .unwrap();
    fake.add_fault(Fault::new(FaultKind::MalformedJson, 1));
    let (s, h, body) = get(&http, &poll_url(&fake)).await;
    assert_eq!(s, 200);
    assert_eq!(h["content-type"], "application/json;charset=utf-8");
    assert!(serde_json::from_str::<Value>(&body).is_err(), "{body}");
    assert_eq!(
        fake.operation(OP).unwrap().polled,
        0,
        "a garbled answer hands nothing out"
    );
    let (_, _, body) = get(&http, &poll_url(&fake)).await;
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap()["meta"]["id"],
        OP
    );
}

#[tokio::test]
async fn every_empty_poll_form() {
    let (fake, http) = start().await;
    fake.enqueue(
        OpKind::RetailDemand,
        samples::minion_with_id(OpKind::RetailDemand, OP),
    )
    .unwrap();
    let forms = [
        (EmptyPollForm::NoContent, 204, ""),
        (EmptyPollForm::NotFound, 404, ""),
        (EmptyPollForm::EmptyBody, 200, ""),
        (EmptyPollForm::EmptyObject, 200, "{}"),
        (EmptyPollForm::Null, 200, "null"),
    ];
    for (form, status, body) in forms {
        fake.add_fault(Fault::new(FaultKind::EmptyPoll { form }, 1));
        // An empty-poll fault never hits other paths.
        let settings = get(&http, &format!("{}/settings/retailstore", fake.base_url())).await;
        assert_eq!(settings.0, 200);
        let (s, _, b) = get(&http, &poll_url(&fake)).await;
        assert_eq!((s, b.as_str()), (status, body), "{form:?}");
    }
    assert_eq!(fake.operation(OP).unwrap().polled, 0);
    let (s, _, b) = get(&http, &poll_url(&fake)).await;
    assert_eq!(s, 200);
    assert!(b.contains(OP));
}

#[tokio::test]
async fn configured_empty_form_is_used_for_a_real_empty_queue() {
    let config = FakeCloudConfig {
        empty_poll: EmptyPollForm::Null,
        ..Default::default()
    };
    let fake = FakeCloud::start(config).await.unwrap();
    let (s, _, b) = get(&client(), &poll_url(&fake)).await;
    assert_eq!((s, b.as_str()), (200, "null"));
}

#[tokio::test]
async fn outage_fails_everything_for_a_while() {
    let (fake, http) = start().await;
    fake.add_fault(Fault::new(
        FaultKind::Outage {
            ms: 1500,
            status: 503,
        },
        1,
    ));
    let t = Instant::now();
    let (s, _, b) = get(&http, &poll_url(&fake)).await;
    if t.elapsed() < Duration::from_millis(1400) {
        assert_eq!((s, error_code(&b)), (503, 1074));
    }
    tokio::time::sleep(Duration::from_millis(1600)).await;
    assert_eq!(get(&http, &poll_url(&fake)).await.0, 204);
}

#[tokio::test]
async fn burst_of_150_gets_429_with_retry_headers() {
    let (fake, http) = start().await;
    let url = poll_url(&fake);
    let t = Instant::now();
    let mut ok = 0;
    let mut limited = Vec::new();
    for _ in 0..150 {
        let (s, h, b) = get(&http, &url).await;
        match s {
            204 => {
                ok += 1;
                assert_eq!(h["x-ratelimit-limit"], "100");
                assert!(h.contains_key("x-ratelimit-remaining"));
            }
            429 => limited.push((h, b)),
            other => panic!("unexpected {other}: {b}"),
        }
    }
    let elapsed = t.elapsed();
    assert!(!limited.is_empty(), "no 429 in a burst of 150");
    if elapsed < Duration::from_secs(5) {
        assert_eq!((ok, limited.len()), (100, 50), "burst took {elapsed:?}");
    }
    let (h, b) = &limited[0];
    assert_eq!(error_code(b), 1049);
    assert_eq!(h["x-ratelimit-limit"], "100");
    assert_eq!(h["x-ratelimit-remaining"], "0");
    assert_eq!(h["x-lognex-retry-timeinterval"], "5000");
    let retry: u64 = h["x-lognex-retry-after"].to_str().unwrap().parse().unwrap();
    let reset: u64 = h["x-lognex-reset"].to_str().unwrap().parse().unwrap();
    assert!((1..=5000).contains(&retry), "{retry}");
    assert_eq!(retry, reset);
    // The server's own log: never more than 100 accepted in any 5 s.
    let accepted: Vec<Instant> = fake
        .requests()
        .iter()
        .filter(|r| r.status != 429)
        .map(|r| r.at)
        .collect();
    for (i, t0) in accepted.iter().enumerate() {
        let in_window = accepted[i..]
            .iter()
            .take_while(|t| t.duration_since(*t0) < Duration::from_secs(5))
            .count();
        assert!(in_window <= 100);
    }
    // Another user has its own budget.
    let r = http
        .get(&url)
        .header("Lognex-Pos-Auth-Cashier-Uid", "other@shop")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // After Retry-After the same user is served again.
    tokio::time::sleep(Duration::from_millis(retry + 50)).await;
    assert_eq!(get(&http, &url).await.0, 204);
}

#[tokio::test]
async fn more_than_five_in_flight_gets_1073() {
    let (fake, http) = start().await;
    fake.add_fault(Fault::new(FaultKind::Slow { ms: 1500 }, 8));
    let url = poll_url(&fake);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let http = http.clone();
        let url = url.clone();
        tasks.push(tokio::spawn(async move { get(&http, &url).await }));
    }
    let mut codes = Vec::new();
    for t in tasks {
        let (s, _, b) = t.await.unwrap();
        codes.push(if s == 429 {
            error_code(&b)
        } else {
            u64::from(s)
        });
    }
    let parallel = codes.iter().filter(|c| **c == 1073).count();
    assert!(parallel >= 1, "{codes:?}");
    assert!(
        codes.iter().filter(|c| **c == 204).count() <= 5,
        "{codes:?}"
    );
}
