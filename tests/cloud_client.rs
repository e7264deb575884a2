//! The MoySklad client against scripted loopback servers: what goes on the
//! wire (paths, auth headers, bodies) and how every fault is handled.

use std::sync::Arc;
use std::time::Duration;

use masterkassa::cloud::models::{self, Approve, OpenShift, Reject, StateReport};
use masterkassa::cloud::{
    AdminApi, AdminClient, ClientConfig, CloudError, ErrorClass, Limits, PosApi, PosClient,
    RateLimiter, RetryPolicy, Secret,
};
use serde_json::Value;
use test_support::scripted::{Reply, ScriptedServer, fixture};

const TOKEN: &str = "6ab89be1ae6ff147755625ee8da948e42612233b";
const ORG: &str = "5d0f5e3e-7b1d-11e6-8a84-bae500000051";

fn fast_config(base: String) -> ClientConfig {
    ClientConfig {
        base_url: base,
        request_timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            min_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            max_rate_limited: 4,
            default_rate_limit_wait: Duration::from_millis(100),
            max_rate_limit_wait: Duration::from_secs(5),
        },
    }
}

fn client(server: &ScriptedServer) -> PosClient {
    client_with(fast_config(server.base_url()))
}

fn client_with(config: ClientConfig) -> PosClient {
    PosClient::new(
        &config,
        Secret::new(TOKEN),
        "kassir@321",
        RateLimiter::new(Limits::moysklad()),
    )
    .expect("client")
}

fn json(text: &[u8]) -> Value {
    serde_json::from_slice(text).expect("json")
}

#[tokio::test]
async fn poll_sends_token_headers_and_parses_the_operation() {
    let server = ScriptedServer::start(|_, _| Reply::new(200, fixture("retaildemand.json"))).await;
    let op = client(&server)
        .poll(ORG)
        .await
        .unwrap()
        .expect("an operation");
    assert_eq!(op.kind, models::OperationKind::RetailDemand);
    assert_eq!(op.sync_id(), Some("388bd178-800c-11e6-8a84-bae5000000a2"));
    let req = &server.requests()[0];
    assert_eq!(req.method, "GET");
    assert_eq!(
        req.path,
        format!("/api/posap/1.0/cheque/rpc/master/poll/{ORG}")
    );
    assert_eq!(req.header("lognex-pos-auth-token").as_deref(), Some(TOKEN));
    assert_eq!(
        req.header("lognex-pos-auth-cashier-uid").as_deref(),
        Some("kassir@321")
    );
    assert_eq!(req.header("authorization"), None);
}

#[tokio::test]
async fn every_empty_poll_form_is_none() {
    let forms: Vec<(u16, &str)> = vec![
        (204, ""),
        (404, ""),
        (404, r#"{"errors":[{"error":"Очередь пуста"}]}"#),
        (200, ""),
        (200, "{}"),
        (200, "null"),
        (200, "  { }\n"),
    ];
    let script = forms.clone();
    let server = ScriptedServer::start(move |n, _| {
        let (status, body) = script[n % script.len()];
        Reply::new(status, body)
    })
    .await;
    let c = client(&server);
    for (status, body) in forms {
        let got = c.poll(ORG).await;
        assert!(matches!(got, Ok(None)), "{status} {body:?}: {got:?}");
    }
    // Nothing retried: one request per poll.
    assert_eq!(server.count(), 7);
}

#[tokio::test]
async fn approve_reject_shift_state_bodies_are_the_seed_shapes() {
    let server = ScriptedServer::start(|_, _| Reply::new(204, "")).await;
    let c = client(&server);
    let approve: Approve =
        models::parse_json("approve", fixture("approve.json").as_bytes()).unwrap();
    let reject: Reject = models::parse_json("reject", fixture("reject.json").as_bytes()).unwrap();
    let open: OpenShift =
        models::parse_json("openshift", fixture("openshift.json").as_bytes()).unwrap();
    let close: models::CloseShift =
        models::parse_json("closeshift", fixture("closeshift.json").as_bytes()).unwrap();
    let state: StateReport = models::parse_json("state", fixture("state.json").as_bytes()).unwrap();
    c.approve(&approve).await.unwrap();
    c.reject(&reject).await.unwrap();
    c.open_shift(&open).await.unwrap();
    c.close_shift(&close).await.unwrap();
    c.post_state(&state).await.unwrap();

    let reqs = server.requests();
    let expect = [
        (
            "PUT",
            "/api/posap/1.0/cheque/rpc/master/approve",
            "approve.json",
        ),
        (
            "PUT",
            "/api/posap/1.0/cheque/rpc/master/reject",
            "reject.json",
        ),
        ("PUT", "/api/posap/1.0/rpc/openshift/", "openshift.json"),
        ("PUT", "/api/posap/1.0/rpc/closeshift/", "closeshift.json"),
        ("POST", "/api/posap/1.0/state", "state.json"),
    ];
    assert_eq!(reqs.len(), expect.len());
    for (req, (method, path, fx)) in reqs.iter().zip(expect) {
        assert_eq!(req.method, method);
        assert_eq!(req.path, path);
        assert_eq!(
            req.header("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(json(&req.body), json(fixture(fx).as_bytes()), "{fx}");
    }
    // The receipt sum goes out as the seed writes it: rubles, 123.6.
    assert!(String::from_utf8_lossy(&reqs[0].body).contains(r#""sum":123.6"#));
}

#[tokio::test]
async fn rate_limited_answer_is_waited_out_then_succeeds() {
    let server = ScriptedServer::start(|n, _| {
        if n == 0 {
            Reply::new(
                429,
                r#"{"errors":[{"error":"Превышен лимит количества запросов","code":1049}]}"#,
            )
            .header("X-Lognex-Retry-After", "400")
            .header("X-Lognex-Reset", "400")
            .header("X-RateLimit-Remaining", "0")
        } else {
            Reply::new(200, fixture("settings_retailstore.json"))
        }
    })
    .await;
    let store = client(&server).settings_retailstore().await.unwrap();
    assert_eq!(store.organization.org_id(), Some(ORG));
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2);
    let gap = reqs[1].at - reqs[0].at;
    assert!(gap >= Duration::from_millis(350), "retried after {gap:?}");
    assert_eq!(reqs[1].path, "/api/posap/1.0/settings/retailstore/");
}

#[tokio::test]
async fn remaining_zero_pauses_the_next_request() {
    let server = ScriptedServer::start(|n, _| {
        if n == 0 {
            Reply::new(204, "")
                .header("X-RateLimit-Remaining", "0")
                .header("X-Lognex-Reset", "300")
        } else {
            Reply::new(204, "")
        }
    })
    .await;
    let c = client(&server);
    assert!(c.poll(ORG).await.unwrap().is_none());
    assert!(c.poll(ORG).await.unwrap().is_none());
    let reqs = server.requests();
    let gap = reqs[1].at - reqs[0].at;
    assert!(
        gap >= Duration::from_millis(250),
        "second request after {gap:?}"
    );
}

#[tokio::test]
async fn endless_429_ends_in_a_typed_error() {
    let server =
        ScriptedServer::start(|_, _| Reply::new(429, "").header("X-Lognex-Retry-After", "20"))
            .await;
    let err = client(&server).poll(ORG).await.unwrap_err();
    assert!(
        matches!(err, CloudError::RateLimited { attempts: 4, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Cloud);
    assert_eq!(server.count(), 4);
}

#[tokio::test]
async fn server_errors_are_retried_then_succeed() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::new(503, ""),
        1 => Reply::new(502, "<html>bad gateway</html>"),
        _ => Reply::new(204, ""),
    })
    .await;
    let approve: Approve =
        models::parse_json("approve", fixture("approve.json").as_bytes()).unwrap();
    client(&server).approve(&approve).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    // The same body every time.
    assert!(reqs.iter().all(|r| r.body == reqs[0].body));
}

/// A proxy's HTML page with 200 is not the cloud's answer: the openshift
/// (or approve) it swallowed is sent again, never counted delivered.
#[tokio::test]
async fn an_html_page_with_200_is_retried_not_taken_for_the_clouds_answer() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::new(200, "<html><body>Welcome to the hotel Wi-Fi</body></html>")
            .header("Content-Type", "text/html; charset=utf-8"),
        _ => Reply::new(204, ""),
    })
    .await;
    let open: OpenShift =
        models::parse_json("openshift", fixture("openshift.json").as_bytes()).unwrap();
    client(&server).open_shift(&open).await.unwrap();
    let reqs = server.requests();
    assert_eq!(reqs.len(), 2, "sent again after the HTML page");
    assert_eq!(reqs[0].body, reqs[1].body);
}

#[tokio::test]
async fn persistent_server_error_gives_up_after_the_bound() {
    let server = ScriptedServer::start(|_, _| {
        Reply::new(
            500,
            r#"{"errors":[{"error":"Внутренняя ошибка","code":1999}]}"#,
        )
    })
    .await;
    let err = client(&server).poll(ORG).await.unwrap_err();
    match &err {
        CloudError::Server {
            status,
            attempts,
            message,
            ..
        } => {
            assert_eq!(*status, 500);
            assert_eq!(*attempts, 3);
            assert_eq!(message, "Внутренняя ошибка");
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_transient());
    assert_eq!(server.count(), 3);
}

#[tokio::test]
async fn slow_answers_time_out_and_are_retried() {
    let server = ScriptedServer::start(|n, _| {
        if n < 2 {
            Reply::new(200, fixture("retaildemand.json")).delayed(Duration::from_secs(3))
        } else {
            Reply::new(204, "")
        }
    })
    .await;
    let mut config = fast_config(server.base_url());
    config.request_timeout = Duration::from_millis(300);
    let c = client_with(config.clone());
    // Two timeouts, then the third attempt answers.
    assert!(c.poll(ORG).await.unwrap().is_none());
    assert_eq!(server.count(), 3);

    let always_slow =
        ScriptedServer::start(|_, _| Reply::new(204, "").delayed(Duration::from_secs(3))).await;
    config.base_url = always_slow.base_url();
    let err = client_with(config).poll(ORG).await.unwrap_err();
    assert!(
        matches!(err, CloudError::Timeout { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Cloud);
}

#[tokio::test]
async fn connection_refused_is_a_typed_cloud_error() {
    // Bind then drop: nothing listens on that port any more.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let c = client_with(fast_config(format!(
        "http://127.0.0.1:{port}/api/posap/1.0"
    )));
    let err = c.poll(ORG).await.unwrap_err();
    assert!(
        matches!(err, CloudError::Connection { attempts: 3, .. }),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Cloud);
}

#[tokio::test]
async fn malformed_json_is_a_typed_error() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::new(200, r#"{"meta": {"href": "x""#),
        1 => Reply::new(200, "{\"meta\": "),
        _ => Reply::new(
            200,
            r#"{"meta":{"href":"https://x/api/posap/1.0/entity/retaildemand/syncid/s1"},"name":"1","moment":"2016-09-06 21:41:46","positions":[{"assortment":{"meta":{"href":"h"}},"quantity":1,"price":10.5}]}"#,
        ),
    })
    .await;
    let c = client(&server);
    let err = c.settings_retailstore().await.unwrap_err();
    assert!(matches!(err, CloudError::Malformed { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Cloud);
    assert!(err.to_string().contains("settings/retailstore"), "{err}");

    let err = c.poll(ORG).await.unwrap_err();
    assert!(matches!(err, CloudError::Malformed { .. }), "{err:?}");

    // Valid JSON, but a price with a fraction of a kopeck: the operation is
    // identified so the worker can reject it.
    let err = c.poll(ORG).await.unwrap_err();
    assert_eq!(err.class(), ErrorClass::Data);
    match err {
        CloudError::BadOperation {
            meta: Some(meta),
            source,
        } => {
            assert_eq!(meta.sync_id(), Some("s1"));
            assert!(matches!(
                source,
                models::ModelError::FractionalKopecks { .. }
            ));
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn client_errors_carry_the_api_code_and_are_not_retried() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::new(
            412,
            r#"{"errors":[{"error":"Не указан обязательный параметр: retailShift","code":3000,"parameter":"retailShift"}]}"#,
        ),
        _ => Reply::new(
            401,
            r#"{"errors":[{"error":"Ошибка аутентификации: Неправильный токен","code":1056}]}"#,
        )
        .header("X-Lognex-Auth", "1056"),
    })
    .await;
    let c = client(&server);
    let reject: Reject = models::parse_json("reject", fixture("reject.json").as_bytes()).unwrap();
    let err = c.reject(&reject).await.unwrap_err();
    match &err {
        CloudError::Api {
            status,
            code,
            message,
            errors,
            ..
        } => {
            assert_eq!(*status, 412);
            assert_eq!(*code, Some(3000));
            assert!(message.contains("retailShift"));
            assert_eq!(errors[0].parameter.as_deref(), Some("retailShift"));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(err.class(), ErrorClass::Data);
    assert_eq!(server.count(), 1);

    let err = c.poll(ORG).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.class(), ErrorClass::Config);
    // The token never shows in what gets logged.
    assert!(!err.to_string().contains(TOKEN));
    assert!(!format!("{err:?}").contains(TOKEN));
    assert_eq!(server.count(), 2);
}

#[tokio::test]
async fn assortment_pages_follow_next_href() {
    let server = ScriptedServer::start(|n, _| match n {
        0 => Reply::new(
            200,
            r#"{"meta":{"href":"h","size":3,"limit":2,"nextHref":"http://x/api/posap/1.0/entity/assortment?limit=2&offsetId=p2&direction=forward"},"rows":[{"meta":{"href":"h/1"},"name":"Товар1","salePrices":[{"value":1000,"priceType":"Цена продажи"}]},{"meta":{"href":"h/2"},"name":"Товар2"}]}"#,
        ),
        _ => Reply::new(
            200,
            r#"{"meta":{"href":"h","size":3,"limit":2},"rows":[{"meta":{"href":"h/3"},"name":"Услуга"}]}"#,
        ),
    })
    .await;
    let c = client(&server);
    let all = masterkassa::cloud::fetch_assortment(&c, 2).await.unwrap();
    let names: Vec<_> = all.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Товар1", "Товар2", "Услуга"]);
    assert_eq!(all[0].sale_prices[0].value, kkt::Money(1000));
    let reqs = server.requests();
    assert_eq!(reqs[0].path, "/api/posap/1.0/entity/assortment");
    assert_eq!(reqs[0].query.as_deref(), Some("limit=2"));
    assert_eq!(
        reqs[1].query.as_deref(),
        Some("limit=2&offsetId=p2&direction=forward")
    );
}

#[tokio::test]
async fn admin_uses_basic_auth_and_attaches() {
    let server = ScriptedServer::start(|_, req| {
        if req.path.ends_with("/admin/retailstore") {
            Reply::new(200, fixture("admin_retailstore.json"))
        } else {
            Reply::new(200, fixture("admin_attach.json"))
        }
    })
    .await;
    let admin = AdminClient::new(
        &fast_config(server.base_url()),
        "admin@myorg",
        Secret::new("s3cret-pass"),
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    let stores = admin.list_stores().await.unwrap();
    assert_eq!(stores.rows[0].name, "Точка продаж");
    let attached = admin.attach(&stores.rows[0].id).await.unwrap();
    assert_eq!(attached.uid, "kassir@321");
    assert_eq!(attached.token.expose(), TOKEN);
    assert!(!format!("{admin:?}").contains("s3cret-pass"));

    let reqs = server.requests();
    assert_eq!(reqs[0].method, "GET");
    assert_eq!(reqs[1].method, "POST");
    assert_eq!(
        reqs[1].path,
        "/api/posap/1.0/admin/attach/5d4d2ca2-7b1d-11e6-8a84-bae500000060"
    );
    // "admin@myorg:s3cret-pass" in base64.
    let expected = "Basic YWRtaW5AbXlvcmc6czNjcmV0LXBhc3M=";
    for r in &reqs {
        assert_eq!(r.header("authorization").as_deref(), Some(expected));
        assert_eq!(r.header("lognex-pos-auth-token"), None);
    }
}

#[tokio::test]
async fn operation_status_reads_fiscal_status() {
    let server = ScriptedServer::start(|_, _| Reply::new(200, fixture("status.json"))).await;
    let status = client(&server)
        .operation_status("a4a94924-ab7a-447e-b1ae-6b874242cbdd")
        .await
        .unwrap();
    assert_eq!(status.fiscal_status, models::FiscalStatus::Ok);
    assert_eq!(
        server.requests()[0].path,
        "/api/posap/1.0/cheque/rpc/minion/status/syncid/a4a94924-ab7a-447e-b1ae-6b874242cbdd"
    );
}

#[tokio::test]
async fn dropped_connection_is_retried() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = served.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = sock.read(&mut buf).await;
                if n == 0 {
                    // Hang up mid-exchange: no answer at all.
                    drop(sock);
                } else {
                    let _ = sock
                        .write_all(b"HTTP/1.1 204 No Content\r\nconnection: close\r\n\r\n")
                        .await;
                }
            });
        }
    });
    let c = client_with(fast_config(format!("http://{addr}/api/posap/1.0")));
    assert!(c.poll(ORG).await.unwrap().is_none());
    assert!(served.load(std::sync::atomic::Ordering::SeqCst) >= 2);
}

/// A redirect is not followed: the token travels in its own header, which
/// an HTTP client keeps when it follows a redirect to another host. The
/// error names where the redirect pointed (no query), never the token.
#[tokio::test]
async fn a_redirect_is_not_followed_and_the_token_stays_home() {
    let elsewhere = ScriptedServer::start(|_, _| Reply::new(200, "{}")).await;
    let target = format!("{}/steal?secret=1", elsewhere.base_url());
    let server =
        ScriptedServer::start(move |_, _| Reply::new(302, "").header("location", target.clone()))
            .await;
    let err = client(&server).poll(ORG).await.unwrap_err();
    assert_eq!(elsewhere.count(), 0, "the other host was asked");
    assert_eq!(server.count(), 1, "one request, no retries of a redirect");
    let text = err.to_string();
    assert!(
        matches!(err, CloudError::Redirected { status: 302, .. }),
        "{text}"
    );
    assert!(text.contains(&elsewhere.addr.to_string()), "{text}");
    assert!(!text.contains(TOKEN) && !text.contains("secret"), "{text}");
}
