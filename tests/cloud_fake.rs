//! The MoySklad client against the fake cloud (`sim_moysklad`):
//! every endpoint, every fault the fake can inject, its rate limits, and
//! `attach` end to end.

use std::sync::Arc;
use std::time::{Duration, Instant};

use jiff::civil::DateTime;
use kkt::Money;
use masterkassa::cloud::models::{
    self, Approve, Cheque, ChequePrinter, CloseShift, FiscalStatus, Meta, MetaRef, OpenShift,
    OperationKind, Reject, ShiftCheque, ShiftDocument, StateReport, TaxSystemCode,
};
use masterkassa::cloud::{
    ClientConfig, CloudError, ErrorClass, Limits, PosApi, PosClient, RateLimiter, RetryPolicy,
    Secret,
};
use sim_moysklad::{
    FakeCloud, FakeCloudConfig, FakeCloudHandle, Fault, FaultKind, OpKind, samples,
};

const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";
const UID: &str = "kassir@321";

async fn fake() -> FakeCloudHandle {
    FakeCloud::start(FakeCloudConfig {
        token: Some(TOKEN.into()),
        cashier_uid: UID.into(),
        ..FakeCloudConfig::default()
    })
    .await
    .expect("fake cloud")
}

fn quick_retry() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 4,
        min_delay: Duration::from_millis(20),
        max_delay: Duration::from_millis(200),
        ..RetryPolicy::default()
    }
}

fn client_for(fake: &FakeCloudHandle, limits: Limits) -> PosClient {
    let config = ClientConfig {
        request_timeout: Duration::from_secs(5),
        retry: quick_retry(),
        ..ClientConfig::with_base_url(fake.base_url())
    };
    PosClient::new(&config, Secret::new(TOKEN), UID, RateLimiter::new(limits)).expect("client")
}

fn client(fake: &FakeCloudHandle) -> PosClient {
    client_for(fake, Limits::moysklad())
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn time(s: &str) -> DateTime {
    models::meta::cloud_time::parse(s).unwrap()
}

fn shift_ref(base: &str, id: &str) -> MetaRef {
    MetaRef::new(Meta::sync(base, "retailshift", id))
}

fn open_shift(base: &str, id: &str) -> OpenShift {
    OpenShift {
        retail_shift: shift_ref(base, id),
        name: "1".into(),
        open_moment: time("2026-11-24 09:00:00"),
        cheque: Some(ShiftCheque {
            start: Some(ShiftDocument {
                fn_number: Some("9999078900004312".into()),
                kkt_reg_number: Some("0000000001002292".into()),
                fiscal_doc_sign: Some("1234567890".into()),
                shift_number: Some("1".into()),
                fiscal_doc_number: Some("10".into()),
                time: Some(time("2026-11-24 09:00:00")),
                ..ShiftDocument::default()
            }),
            end: None,
        }),
    }
}

fn approve_for(op: &models::Operation, base: &str, shift: &str, fd: u32) -> Approve {
    Approve {
        meta: op.meta.clone(),
        cheque: Some(Cheque {
            fiscal: Some(true),
            online: Some(false),
            printed: Some(true),
            number: Some(fd.to_string()),
            sum: Some(Money(12_360)),
            fn_number: Some("9999078900004312".into()),
            fiscal_doc_sign: Some("3087135217".into()),
            fiscal_doc_number: Some(fd.to_string()),
            time: Some(time("2026-11-24 10:00:00")),
            ..Cheque::default()
        }),
        cheque_printer: Some(ChequePrinter {
            vendor: Some("Штрих-М".into()),
            name: "ШТРИХ-М-01Ф".into(),
            ..ChequePrinter::default()
        }),
        tax_system: Some(TaxSystemCode::General),
        retail_shift: shift_ref(base, shift),
    }
}

#[tokio::test]
async fn every_kind_goes_round_the_queue_and_ends_approved_or_rejected() {
    let fake = fake().await;
    let c = client(&fake);
    let org = fake.org_id();
    let base = fake.base_url();

    let mut ids = Vec::new();
    for kind in [
        OpKind::RetailDemand,
        OpKind::RetailSalesReturn,
        OpKind::Prepayment,
        OpKind::PrepaymentReturn,
    ] {
        let id = uuid();
        fake.enqueue(kind, samples::minion_with_id(kind, &id))
            .unwrap();
        ids.push(id);
    }
    let shift = uuid();
    c.open_shift(&open_shift(&base, &shift)).await.unwrap();

    let mut seen = Vec::new();
    while let Some(op) = c.poll(&org).await.unwrap() {
        let id = op.sync_id().unwrap().to_owned();
        assert!(!seen.contains(&id), "{id} handed out after it was answered");
        if op.kind == OperationKind::PrepaymentReturn {
            c.reject(&Reject {
                meta: op.meta.clone(),
                fiscal_err_msg: "Сумма оплат не равна итогу".into(),
            })
            .await
            .unwrap();
        } else {
            let n = seen.len() as u32 + 11;
            c.approve(&approve_for(&op, &base, &shift, n))
                .await
                .unwrap();
        }
        seen.push(id);
    }
    assert_eq!(seen, ids, "queue order");

    let ops = fake.operations();
    for id in &ids[..3] {
        let rec = ops.iter().find(|o| &o.id == id).unwrap();
        assert_eq!(rec.approves_accepted, 1);
        assert_eq!(rec.approves_refused, 0);
        let body = rec.approve.as_ref().unwrap();
        assert_eq!(body["cheque"]["sum"], serde_json::json!(123.6));
        assert_eq!(body["taxSystem"], "GENERAL_TAX_SYSTEM");
        let status = c.operation_status(id).await.unwrap();
        assert_eq!(status.fiscal_status, FiscalStatus::Ok);
        assert_eq!(status.cheque.unwrap().sum, Some(Money(12_360)));
    }
    let rejected = ops.iter().find(|o| o.id == ids[3]).unwrap();
    assert_eq!(rejected.rejects_accepted, 1);
    assert_eq!(
        rejected.reject.as_ref().unwrap()["fiscalErrMsg"],
        "Сумма оплат не равна итогу"
    );

    // Closing the shift, reporting state, reading settings.
    let close = CloseShift {
        retail_shift: shift_ref(&base, &shift),
        close_moment: time("2026-11-24 23:55:00"),
        retail_drawer_cashout: None,
        cheque: Some(ShiftCheque {
            start: None,
            end: Some(ShiftDocument {
                cheques_total: Some(3),
                fiscal_docs_total: Some(5),
                ..ShiftDocument::default()
            }),
        }),
    };
    c.close_shift(&close).await.unwrap();
    let shifts = fake.shifts();
    assert!(shifts.iter().any(|s| s.id == shift && !s.open));

    let state: StateReport = models::parse_json("state", samples::STATE.as_bytes()).unwrap();
    c.post_state(&state).await.unwrap();
    assert_eq!(fake.states().len(), 1);

    let settings = c.settings_retailstore().await.unwrap();
    assert_eq!(settings.organization.org_id(), Some(org.as_str()));
    fake.shutdown().await;
}

#[tokio::test]
async fn refusals_come_back_as_typed_errors_with_the_fake_codes() {
    let fake = fake().await;
    let c = client(&fake);
    let base = fake.base_url();
    let id = uuid();
    fake.enqueue(
        OpKind::RetailDemand,
        samples::minion_with_id(OpKind::RetailDemand, &id),
    )
    .unwrap();
    let op = c.poll(&fake.org_id()).await.unwrap().unwrap();

    // A shift the agent never opened.
    let err = c
        .approve(&approve_for(&op, &base, &uuid(), 1))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(404), "{err}");
    assert!(
        matches!(
            err,
            CloudError::Api {
                code: Some(12012),
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(err.class(), ErrorClass::Data);

    let shift = uuid();
    c.open_shift(&open_shift(&base, &shift)).await.unwrap();
    c.approve(&approve_for(&op, &base, &shift, 1))
        .await
        .unwrap();
    // The same approve again: a duplicate, 409.
    let err = c
        .approve(&approve_for(&op, &base, &shift, 1))
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(409), "{err}");
    assert_eq!(fake.operation(&id).unwrap().approves_accepted, 1);

    // Wrong token: 401, a config problem, and the token is not in it.
    let wrong = PosClient::new(
        &ClientConfig::with_base_url(fake.base_url()),
        Secret::new("ffffffffffffffffffffffffffffffffffffffff"),
        UID,
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    let err = wrong.poll(&fake.org_id()).await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    assert_eq!(err.class(), ErrorClass::Config);
    assert!(!err.to_string().contains("ffffffff"));
    fake.shutdown().await;
}

#[tokio::test]
async fn server_errors_drops_and_slow_answers_are_retried() {
    let fake = fake().await;
    let c = client(&fake);
    let base = fake.base_url();
    let id = uuid();
    fake.enqueue(
        OpKind::Prepayment,
        samples::minion_with_id(OpKind::Prepayment, &id),
    )
    .unwrap();
    let shift = uuid();

    fake.add_fault(Fault::new(FaultKind::Status { status: 503 }, 1).on_path("openshift"));
    fake.add_fault(Fault::new(FaultKind::Status { status: 500 }, 1).on_path("openshift"));
    c.open_shift(&open_shift(&base, &shift)).await.unwrap();

    fake.add_fault(Fault::new(FaultKind::Drop, 2).on_path("master/poll"));
    let op = c.poll(&fake.org_id()).await.unwrap().expect("operation");
    assert_eq!(op.kind, OperationKind::Prepayment);

    // Slower than the client's timeout once: retried, approved once.
    let slow_client = {
        let config = ClientConfig {
            request_timeout: Duration::from_millis(500),
            retry: quick_retry(),
            ..ClientConfig::with_base_url(fake.base_url())
        };
        PosClient::new(
            &config,
            Secret::new(TOKEN),
            UID,
            RateLimiter::new(Limits::moysklad()),
        )
        .unwrap()
    };
    fake.add_fault(Fault::new(FaultKind::Slow { ms: 2_000 }, 1).on_path("master/approve"));
    fake.add_fault(Fault::new(FaultKind::Status { status: 502 }, 1).on_path("master/approve"));
    let result = slow_client
        .approve(&approve_for(&op, &base, &shift, 7))
        .await;
    // The slow request may still have been handled after the client gave up
    // on it; then the retry is the duplicate (409) the worker counts as
    // delivered. Either way exactly one approve was accepted.
    match result {
        Ok(()) => {}
        Err(e) => assert_eq!(e.status(), Some(409), "{e:?}"),
    }
    assert_eq!(fake.operation(&id).unwrap().approves_accepted, 1);

    let statuses: Vec<u16> = fake
        .requests()
        .iter()
        .filter(|r| r.path.contains("openshift"))
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 500, 204]);

    // Still failing after every attempt: a typed, transient error.
    fake.add_fault(Fault::new(FaultKind::Status { status: 503 }, 10).on_path("state"));
    let err = c.post_state(&StateReport::default()).await.unwrap_err();
    assert!(
        matches!(
            err,
            CloudError::Server {
                status: 503,
                attempts: 4,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    fake.shutdown().await;
}

#[tokio::test]
async fn an_outage_is_ridden_out() {
    let fake = fake().await;
    let config = ClientConfig {
        request_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 8,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_millis(800),
            ..RetryPolicy::default()
        },
        ..ClientConfig::with_base_url(fake.base_url())
    };
    let c = PosClient::new(
        &config,
        Secret::new(TOKEN),
        UID,
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    fake.add_fault(Fault::new(
        FaultKind::Outage {
            ms: 1_500,
            status: 503,
        },
        1,
    ));
    let t0 = Instant::now();
    assert!(c.poll(&fake.org_id()).await.unwrap().is_none());
    assert!(t0.elapsed() >= Duration::from_millis(1_000));
    fake.shutdown().await;
}

#[tokio::test]
async fn malformed_answers_and_every_empty_poll_form() {
    let fake = fake().await;
    let c = client(&fake);
    let org = fake.org_id();
    let id = uuid();
    fake.enqueue(
        OpKind::RetailDemand,
        samples::minion_with_id(OpKind::RetailDemand, &id),
    )
    .unwrap();

    fake.add_fault(Fault::new(FaultKind::MalformedJson, 1).on_path("master/poll"));
    let err = c.poll(&org).await.unwrap_err();
    assert!(matches!(err, CloudError::Malformed { .. }), "{err:?}");
    assert_eq!(err.class(), ErrorClass::Cloud);

    fake.add_fault(Fault::new(FaultKind::MalformedJson, 1).on_path("settings"));
    let err = c.settings_retailstore().await.unwrap_err();
    assert!(matches!(err, CloudError::Malformed { .. }), "{err:?}");

    // Every empty form, even with an operation waiting: recognised as empty.
    for form in ["204", "404", "empty", "{}", "null"] {
        let form = serde_json::from_value(serde_json::json!(form)).unwrap();
        fake.add_fault(Fault::new(FaultKind::EmptyPoll { form }, 1));
        assert!(c.poll(&org).await.unwrap().is_none(), "{form:?}");
    }
    // And the operation is still there afterwards.
    let op = c.poll(&org).await.unwrap().expect("operation");
    assert_eq!(op.sync_id(), Some(id.as_str()));
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_limiter_keeps_four_kassas_clear_of_the_fakes_429s() {
    let fake = fake().await;
    let limiter = RateLimiter::new(Limits::moysklad());
    let config = ClientConfig::with_base_url(fake.base_url());
    let org = fake.org_id();
    let t0 = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..4 {
        let c: Arc<dyn PosApi> =
            Arc::new(PosClient::new(&config, Secret::new(TOKEN), UID, limiter.clone()).unwrap());
        let org = org.clone();
        tasks.push(tokio::spawn(async move {
            for _ in 0..40 {
                c.poll(&org).await.unwrap();
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.len(), 160);
    assert!(
        statuses.iter().all(|&s| s == 204),
        "429s seen: {statuses:?}"
    );
    // 160 requests at ≤ 100 per 5 s cannot finish in under 5 s.
    assert!(t0.elapsed() >= Duration::from_secs(5));
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn remaining_header_keeps_even_a_loose_limiter_clear_of_429s() {
    let fake = fake().await;
    // A limiter far looser than the cloud's: only X-RateLimit-Remaining /
    // X-Lognex-Reset hold the client back.
    let c = client_for(
        &fake,
        Limits {
            requests: 10_000,
            window: Duration::from_secs(5),
            in_flight: 5,
        },
    );
    let org = fake.org_id();
    let t0 = Instant::now();
    for _ in 0..130 {
        c.poll(&org).await.unwrap();
    }
    let statuses: Vec<u16> = fake.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses.len(), 130);
    assert!(statuses.iter().all(|&s| s == 204), "{statuses:?}");
    assert!(t0.elapsed() >= Duration::from_secs(4));
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_429_from_the_fake_is_waited_out() {
    let fake = fake().await;
    let org = fake.org_id();
    // Someone else (another program of the same cashier) used the budget.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let raw = reqwest::Client::new();
    let url = format!("{}/cheque/rpc/master/poll/{org}", fake.base_url());
    for _ in 0..100 {
        let r = raw
            .get(&url)
            .header("Lognex-Pos-Auth-Token", TOKEN)
            .header("Lognex-Pos-Auth-Cashier-Uid", UID)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 204);
    }
    let c = client(&fake);
    let t0 = Instant::now();
    assert!(c.poll(&org).await.unwrap().is_none());
    let waited = t0.elapsed();
    let statuses: Vec<u16> = fake.requests().iter().skip(100).map(|r| r.status).collect();
    assert_eq!(statuses.first(), Some(&429), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&204), "{statuses:?}");
    assert!(statuses.len() <= 3, "the client hammered on: {statuses:?}");
    assert!(
        waited >= Duration::from_millis(500),
        "answered after {waited:?}"
    );
    fake.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_end_to_end_against_the_fake() {
    let fake = FakeCloud::start(FakeCloudConfig {
        admin_password: "s3cret-admin".into(),
        cashier_uid: UID.into(),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let (base, cfg) = (fake.base_url(), config.clone());
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
            .args([
                "attach",
                "--login",
                "admin@myorg",
                "--api-url",
                &base,
                "--config",
            ])
            .arg(&cfg)
            .args(["--store", "Точка продаж", "--yes"])
            .env("MASTERKASSA_PASSWORD", "s3cret-admin")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");

    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let k = &doc["kassa"].as_array().unwrap()[0];
    assert_eq!(k["org_id"].as_str(), Some(fake.org_id().as_str()));
    assert_eq!(k["cashier_uid"].as_str(), Some(UID));
    let token = std::fs::read_to_string(k["token_file"].as_str().unwrap()).unwrap();
    let token = token.trim();
    assert_eq!(token.len(), 40);
    assert!(!stderr.contains(token));

    // The store now demands exactly that token: the written config works.
    let c = PosClient::new(
        &ClientConfig::with_base_url(k["api_url"].as_str().unwrap()),
        Secret::new(token),
        k["cashier_uid"].as_str().unwrap(),
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    assert!(c.poll(&fake.org_id()).await.unwrap().is_none());
    let stale = PosClient::new(
        &ClientConfig::with_base_url(fake.base_url()),
        Secret::new(TOKEN),
        UID,
        RateLimiter::new(Limits::moysklad()),
    )
    .unwrap();
    assert_eq!(
        stale.poll(&fake.org_id()).await.unwrap_err().status(),
        Some(401)
    );
    fake.shutdown().await;
}
