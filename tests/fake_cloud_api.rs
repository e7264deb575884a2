//! The fake cloud over real HTTP (plain reqwest, not the agent's client):
//! the "done when" flow with the seed's sample bodies, validation
//! answers in the seed's `errors[]` format, duplicate and misplaced answers,
//! shifts, state, settings, admin resources, auth, trailing slashes and the
//! control/inspection endpoint.

use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};
use sim_moysklad::{
    FakeCloud, FakeCloudConfig, FakeCloudHandle, FiscalStatus, OpKind, auth, samples,
};

const SHIFT: &str = "288bd078-800c-11e6-8a84-bae5000000a2";
const SAMPLE_DEMAND_ID: &str = "388bd178-800c-11e6-8a84-bae5000000a2";

/// A change made to a good body to break it.
type BodyEdit = Box<dyn Fn(&mut Value)>;

struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    text: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    /// The single seed-format error: (code, parameter).
    fn error(&self) -> (u64, Option<String>) {
        let v = self.json();
        let errors = v["errors"].as_array().expect("errors[]");
        assert_eq!(errors.len(), 1, "{v}");
        assert!(
            errors[0]["error"].as_str().is_some_and(|s| !s.is_empty()),
            "{v}"
        );
        (
            errors[0]["code"].as_u64().expect("code"),
            errors[0]["parameter"].as_str().map(str::to_string),
        )
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    creds: Option<(String, String)>,
}

impl Api {
    fn new(base: String) -> Self {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .expect("client");
        Self {
            http,
            base,
            creds: None,
        }
    }

    fn with_token(mut self, uid: &str, token: &str) -> Self {
        self.creds = Some((uid.to_string(), token.to_string()));
        self
    }

    async fn send(&self, method: Method, path: &str, body: Option<&Value>) -> Answer {
        let mut rb = self.http.request(method, format!("{}{}", self.base, path));
        if let Some((uid, token)) = &self.creds {
            rb = rb
                .header("Lognex-Pos-Auth-Token", token)
                .header("Lognex-Pos-Auth-Cashier-Uid", uid);
        }
        if let Some(b) = body {
            rb = rb
                .header("Content-Type", "application/json")
                .body(serde_json::to_vec(b).expect("body"));
        }
        let resp = rb.send().await.expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body text");
        Answer {
            status,
            headers,
            text,
        }
    }

    async fn raw(&self, method: Method, path: &str, body: &str) -> Answer {
        let resp = self
            .http
            .request(method, format!("{}{}", self.base, path))
            .header("Content-Type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .expect("request");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Answer {
            status,
            headers,
            text: resp.text().await.expect("text"),
        }
    }
}

async fn start(config: FakeCloudConfig) -> (FakeCloudHandle, Api) {
    let fake = FakeCloud::start(config).await.expect("fake cloud starts");
    let api = Api::new(fake.base_url());
    (fake, api)
}

#[tokio::test]
async fn seed_samples_flow_to_fiscal_status_ok() {
    let (fake, api) = start(FakeCloudConfig::default()).await;
    let org = fake.org_id();

    // The seed's retaildemand, verbatim, on the minion endpoint.
    let demand: Value = samples::value(samples::MINION_RETAILDEMAND);
    let a = api
        .send(
            Method::POST,
            "/cheque/minion/entity/retaildemand",
            Some(&demand),
        )
        .await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert!(a.text.is_empty());

    let a = api
        .send(
            Method::GET,
            &format!("/cheque/rpc/minion/status/syncid/{SAMPLE_DEMAND_ID}"),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.json()["fiscalStatus"], "PENDING");

    // Poll hands it out, with a full meta, and keeps handing it out.
    let polled = api
        .send(Method::GET, &format!("/cheque/rpc/master/poll/{org}"), None)
        .await;
    assert_eq!(polled.status, 200, "{}", polled.text);
    let op = polled.json();
    assert_eq!(op["meta"]["type"], "retaildemand");
    assert_eq!(op["meta"]["id"], SAMPLE_DEMAND_ID);
    assert_eq!(op["meta"]["idType"], "sync");
    assert_eq!(op["positions"], demand["positions"]);
    assert_eq!(op["cashSum"], 800);
    let again = api
        .send(
            Method::GET,
            &format!("/cheque/rpc/master/poll/{org}/"),
            None,
        )
        .await;
    assert_eq!(again.json()["meta"]["id"], SAMPLE_DEMAND_ID);
    let a = api
        .send(
            Method::GET,
            &format!("/cheque/rpc/minion/status/syncid/{SAMPLE_DEMAND_ID}"),
            None,
        )
        .await;
    assert_eq!(a.json()["fiscalStatus"], "IN_PROGRESS");

    // The seed's openshift (its syncid set to the shift the approve names).
    let open = samples::openshift_for(SHIFT);
    let a = api.send(Method::PUT, "/rpc/openshift/", Some(&open)).await;
    assert_eq!(a.status, 204, "{}", a.text);

    // The seed's approve, answering the polled operation's meta.
    let mut approve = samples::value(samples::APPROVE);
    approve["meta"] = op["meta"].clone();
    let a = api
        .send(Method::PUT, "/cheque/rpc/master/approve", Some(&approve))
        .await;
    assert_eq!(a.status, 204, "{}", a.text);

    let a = api
        .send(
            Method::GET,
            &format!("/cheque/rpc/minion/status/syncid/{SAMPLE_DEMAND_ID}/"),
            None,
        )
        .await;
    let status = a.json();
    assert_eq!(status["fiscalStatus"], "OK");
    assert_eq!(status["operation"]["id"], SAMPLE_DEMAND_ID);
    assert_eq!(status["cheque"]["fiscalDocNumber"], "1234567");

    // The queue is empty now: 204 by default.
    let a = api
        .send(Method::GET, &format!("/cheque/rpc/master/poll/{org}"), None)
        .await;
    assert_eq!(a.status, 204);

    // A duplicate approve is refused in the seed's format and counted.
    let a = api
        .send(Method::PUT, "/cheque/rpc/master/approve/", Some(&approve))
        .await;
    assert_eq!(a.status, 409);
    assert_eq!(a.error().0, 3007);
    let rec = fake.operation(SAMPLE_DEMAND_ID).expect("recorded");
    assert_eq!(rec.fiscal_status, FiscalStatus::Ok);
    assert_eq!((rec.approves_accepted, rec.approves_refused), (1, 1));
    assert_eq!(rec.polled, 2);
    assert_eq!(rec.shift_id.as_deref(), Some(SHIFT));
    assert_eq!(
        rec.approve.as_ref().expect("approve body")["taxSystem"],
        "GENERAL_TAX_SYSTEM"
    );

    // The control endpoint shows the same.
    let ctl = Api::new(fake.control_url());
    let ops = ctl.send(Method::GET, "/operations", None).await.json();
    assert_eq!(ops[0]["id"], SAMPLE_DEMAND_ID);
    assert_eq!(ops[0]["fiscalStatus"], "OK");
    assert_eq!(ops[0]["approvesRefused"], 1);
    assert_eq!(ops[0]["approve"]["cheque"]["number"], "4165132132");
    fake.shutdown().await;
}

#[tokio::test]
async fn every_kind_is_queued_in_order_and_reject_finishes_it() {
    let (fake, api) = start(FakeCloudConfig::default()).await;
    let ids = [
        "11111111-1111-4111-8111-111111111111",
        "22222222-2222-4222-8222-222222222222",
        "33333333-3333-4333-8333-333333333333",
        "44444444-4444-4444-8444-444444444444",
    ];
    for (kind, id) in OpKind::ALL.into_iter().zip(ids) {
        let a = api
            .send(
                Method::POST,
                &format!("/cheque/minion/entity/{}/", kind.as_str()),
                Some(&samples::minion_with_id(kind, id)),
            )
            .await;
        assert_eq!(a.status, 201, "{kind:?}: {}", a.text);
    }
    let org = fake.org_id();
    api.send(
        Method::PUT,
        "/rpc/openshift",
        Some(&samples::openshift_for(SHIFT)),
    )
    .await;
    for (kind, id) in OpKind::ALL.into_iter().zip(ids) {
        let op = api
            .send(Method::GET, &format!("/cheque/rpc/master/poll/{org}"), None)
            .await
            .json();
        assert_eq!(op["meta"]["type"], kind.as_str());
        assert_eq!(op["meta"]["id"], id);
        let a = api
            .send(
                Method::PUT,
                "/cheque/rpc/master/reject",
                Some(&samples::reject_for(kind, id)),
            )
            .await;
        assert_eq!(a.status, 204, "{}", a.text);
        // A second answer (either kind) is refused.
        let a = api
            .send(
                Method::PUT,
                "/cheque/rpc/master/approve",
                Some(&samples::approve_for(kind, id, SHIFT)),
            )
            .await;
        assert_eq!((a.status, a.error().0), (409, 3007));
    }
    let st = api
        .send(
            Method::GET,
            &format!("/cheque/rpc/minion/status/syncid/{}", ids[0]),
            None,
        )
        .await
        .json();
    assert_eq!(st["fiscalStatus"], "REJECTED");
    assert_eq!(st["fiscalErrMsg"], "ФН переполнен");
    assert!(
        fake.operations()
            .iter()
            .all(|o| o.rejects_accepted == 1 && o.approves_refused == 1)
    );
    // Same syncid twice on the minion side: uniqueness error.
    let a = api
        .send(
            Method::POST,
            "/cheque/minion/entity/retaildemand",
            Some(&samples::minion_with_id(OpKind::RetailDemand, ids[0])),
        )
        .await;
    assert_eq!((a.status, a.error().0), (409, 3006));
}

#[tokio::test]
async fn malformed_and_incomplete_approves_get_seed_errors() {
    let (fake, api) = start(FakeCloudConfig::default()).await;
    let id = fake
        .enqueue(
            OpKind::RetailDemand,
            samples::minion_with_id(OpKind::RetailDemand, SAMPLE_DEMAND_ID),
        )
        .expect("enqueue");
    api.send(
        Method::PUT,
        "/rpc/openshift",
        Some(&samples::openshift_for(SHIFT)),
    )
    .await;
    api.send(
        Method::GET,
        &format!("/cheque/rpc/master/poll/{}", fake.org_id()),
        None,
    )
    .await;

    // Not JSON at all: 400 / 2001 with the parser's position.
    let a = api
        .raw(
            Method::PUT,
            "/cheque/rpc/master/approve",
            "{\"meta\": {\n  \"href\": ,}",
        )
        .await;
    assert_eq!(a.status, 400);
    assert_eq!(a.headers["content-type"], "application/json;charset=utf-8");
    assert_eq!(a.error().0, 2001);
    assert_eq!(a.json()["errors"][0]["line"], 2);
    // Empty body, an array.
    assert_eq!(
        api.raw(Method::PUT, "/cheque/rpc/master/approve", "")
            .await
            .error()
            .0,
        1027
    );
    assert_eq!(
        api.raw(Method::PUT, "/cheque/rpc/master/approve", "[]")
            .await
            .error()
            .0,
        2009
    );

    let good = samples::approve_for(OpKind::RetailDemand, &id, SHIFT);
    let cases: Vec<(BodyEdit, u16, u64, &str)> = vec![
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("meta");
            }),
            412,
            3000,
            "meta",
        ),
        (
            Box::new(|v| {
                v["cheque"].as_object_mut().unwrap().remove("fiscalDocSign");
            }),
            412,
            3000,
            "cheque.fiscalDocSign",
        ),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("cheque");
            }),
            412,
            3000,
            "cheque",
        ),
        (
            Box::new(|v| v["cheque"]["sum"] = json!("123.60")),
            400,
            2016,
            "cheque.sum",
        ),
        (
            Box::new(|v| v["cheque"]["fiscal"] = json!("yes")),
            400,
            2016,
            "cheque.fiscal",
        ),
        (
            Box::new(|v| v["cheque"]["time"] = json!("06.09.2016 21:41")),
            400,
            2025,
            "cheque.time",
        ),
        (
            Box::new(|v| {
                v["chequePrinter"].as_object_mut().unwrap().remove("name");
            }),
            412,
            3000,
            "chequePrinter.name",
        ),
        (
            Box::new(|v| v["taxSystem"] = json!("USN")),
            400,
            3005,
            "taxSystem",
        ),
        (
            Box::new(|v| {
                v.as_object_mut().unwrap().remove("retailShift");
            }),
            412,
            3000,
            "retailShift",
        ),
        (
            Box::new(|v| v["retailShift"] = json!({"meta": {}})),
            400,
            2010,
            "retailShift",
        ),
        (
            Box::new(|v| {
                v["meta"]["href"] = json!("https://x/api/posap/1.0/entity/retaildemand/syncid/nope")
            }),
            400,
            1052,
            "meta",
        ),
    ];
    for (i, (edit, status, code, param)) in cases.iter().enumerate() {
        let mut body = good.clone();
        edit(&mut body);
        let a = api
            .send(Method::PUT, "/cheque/rpc/master/approve", Some(&body))
            .await;
        assert_eq!(a.status, *status, "case {i}: {}", a.text);
        assert_eq!(a.error(), (*code, Some(param.to_string())), "case {i}");
    }
    // An approve naming a shift that was never opened, then a closed one.
    let other = "99999999-800c-11e6-8a84-bae5000000a2";
    let a = api
        .send(
            Method::PUT,
            "/cheque/rpc/master/approve",
            Some(&samples::approve_for(OpKind::RetailDemand, &id, other)),
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 12012));
    assert_eq!(
        api.send(
            Method::PUT,
            "/rpc/closeshift",
            Some(&samples::closeshift_for(SHIFT))
        )
        .await
        .status,
        204
    );
    let a = api
        .send(Method::PUT, "/cheque/rpc/master/approve", Some(&good))
        .await;
    assert_eq!((a.status, a.error().0), (409, 3007));
    // Wrong kind for the operation, and an unknown operation.
    let a = api
        .send(
            Method::PUT,
            "/cheque/rpc/master/reject",
            Some(&samples::reject_for(OpKind::Prepayment, &id)),
        )
        .await;
    assert_eq!((a.status, a.error().0), (400, 1051));
    let a = api
        .send(
            Method::PUT,
            "/cheque/rpc/master/reject",
            Some(&samples::reject_for(OpKind::RetailDemand, other)),
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 1021));
    // Nothing was accepted; the refusals that named the operation are counted.
    let rec = fake.operation(&id).expect("op");
    assert_eq!(rec.fiscal_status, FiscalStatus::InProgress);
    assert_eq!((rec.approves_accepted, rec.approves_refused), (0, 2));
}

#[tokio::test]
async fn shifts_and_state_are_recorded_and_checked() {
    let (fake, api) = start(FakeCloudConfig::default()).await;
    let mut no_name = samples::openshift_for(SHIFT);
    no_name.as_object_mut().unwrap().remove("name");
    let a = api
        .send(Method::PUT, "/rpc/openshift", Some(&no_name))
        .await;
    assert_eq!((a.status, a.error().0), (400, 12008));
    let a = api
        .send(Method::PUT, "/rpc/openshift", Some(&json!({"name": "1"})))
        .await;
    assert_eq!((a.status, a.error().0), (400, 12006));
    assert_eq!(
        api.send(
            Method::PUT,
            "/rpc/openshift",
            Some(&samples::openshift_for(SHIFT))
        )
        .await
        .status,
        204
    );
    // A retry of the same open is accepted.
    assert_eq!(
        api.send(
            Method::PUT,
            "/rpc/openshift",
            Some(&samples::openshift_for(SHIFT))
        )
        .await
        .status,
        204
    );
    let a = api
        .send(
            Method::PUT,
            "/rpc/closeshift",
            Some(&samples::closeshift_for(
                "77777777-800c-11e6-8a84-bae5000000a2",
            )),
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 12012));
    let mut no_moment = samples::closeshift_for(SHIFT);
    no_moment.as_object_mut().unwrap().remove("closemoment");
    assert_eq!(
        api.send(Method::PUT, "/rpc/closeshift", Some(&no_moment))
            .await
            .error()
            .0,
        12010
    );
    assert_eq!(
        api.send(
            Method::PUT,
            "/rpc/closeshift/",
            Some(&samples::closeshift_for(SHIFT))
        )
        .await
        .status,
        204
    );
    let shifts = fake.shifts();
    assert_eq!(shifts.len(), 1);
    assert!(!shifts[0].open);
    assert_eq!(shifts[0].name, "0001");
    assert_eq!(shifts[0].opens, 2);
    assert_eq!(
        shifts[0].close_body.as_ref().unwrap()["cheque"]["end"]["chequesTotal"],
        samples::value(samples::CLOSESHIFT)["cheque"]["end"]["chequesTotal"]
    );

    let state = samples::value(samples::STATE);
    assert_eq!(
        api.send(Method::POST, "/state", Some(&state)).await.status,
        204
    );
    let mut bad = state.clone();
    bad["state"]["fiscalMemory"]["notSendDocCount"] = json!("25");
    assert_eq!(
        api.send(Method::POST, "/state/", Some(&bad)).await.error(),
        (2016, Some("state.fiscalMemory.notSendDocCount".into()))
    );
    assert_eq!(fake.states().len(), 1);
    assert_eq!(fake.states()[0].body, state);
}

#[tokio::test]
async fn token_mode_settings_and_admin_attach() {
    let config = FakeCloudConfig {
        token: Some("0123456789abcdef0123456789abcdef01234567".into()),
        cashier_uid: "kassir@shop".into(),
        org_id: "5d0f5e3e-7b1d-11e6-8a84-bae500000051".into(),
        ..Default::default()
    };
    let (fake, anon) = start(config).await;
    // Without the token: 401 in the seed's format, no WWW-Authenticate.
    let a = anon.send(Method::GET, "/settings/retailstore", None).await;
    assert_eq!(a.status, 401);
    assert_eq!(a.error().0, 1056);
    assert!(a.headers.get("www-authenticate").is_none());
    let wrong = Api::new(fake.base_url())
        .with_token("kassir@shop", "ffffffffffffffffffffffffffffffffffffffff");
    let a = wrong
        .send(
            Method::GET,
            "/cheque/rpc/master/poll/5d0f5e3e-7b1d-11e6-8a84-bae500000051",
            None,
        )
        .await;
    assert_eq!((a.status, a.error().0), (401, 12017));
    assert!(!a.text.contains("ffffffff"));

    let api = Api::new(fake.base_url())
        .with_token("kassir@shop", "0123456789abcdef0123456789abcdef01234567");
    let a = api.send(Method::GET, "/settings/retailstore/", None).await;
    assert_eq!(a.status, 200);
    let s = a.json();
    assert_eq!(
        s["organization"]["id"],
        "5d0f5e3e-7b1d-11e6-8a84-bae500000051"
    );
    assert_eq!(s["id"], "5d4d2ca2-7b1d-11e6-8a84-bae500000060");
    assert_eq!(s["cashiers"]["rows"][0]["uid"], "kassir@shop");

    // Basic uid:token and the cookie work too.
    let basic = reqwest::Client::new()
        .get(format!("{}/settings/retailstore", fake.base_url()))
        .header(
            "Authorization",
            auth::basic_header("kassir@shop", "0123456789abcdef0123456789abcdef01234567"),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let cookie = reqwest::Client::new()
        .get(format!("{}/settings/retailstore", fake.base_url()))
        .header(
            "Cookie",
            "Lognex-Pos-Auth=kassir@shop:0123456789abcdef0123456789abcdef01234567",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(cookie.status(), 200);

    // Admin: Basic login/password.
    let admin = |path: &str, method: Method, pw: &str| {
        reqwest::Client::new()
            .request(method, format!("{}{path}", fake.base_url()))
            .header("Authorization", auth::basic_header("admin@myorg", pw))
            .send()
    };
    let a = admin("/admin/retailstore", Method::GET, "wrong")
        .await
        .unwrap();
    assert_eq!(a.status(), 401);
    let a = admin("/admin/retailstore/", Method::GET, "admin")
        .await
        .unwrap();
    assert_eq!(a.status(), 200);
    let list: Value = a.json().await.unwrap();
    assert_eq!(list["meta"]["size"], 1);
    assert_eq!(list["rows"][0]["name"], "Точка продаж");
    let a = admin(
        "/admin/attach/00000000-0000-0000-0000-000000000000",
        Method::POST,
        "admin",
    )
    .await
    .unwrap();
    assert_eq!(a.status(), 404);
    let a = admin(
        "/admin/attach/5d4d2ca2-7b1d-11e6-8a84-bae500000060",
        Method::POST,
        "admin",
    )
    .await
    .unwrap();
    assert_eq!(a.status(), 201);
    let attached: Value = a.json().await.unwrap();
    let token = attached["token"].as_str().unwrap().to_string();
    assert_eq!(token.len(), 40);
    assert_eq!(attached["uid"], "kassir@shop");
    // The old token is annulled; the new one works.
    assert_eq!(
        api.send(Method::GET, "/settings/retailstore", None)
            .await
            .status,
        401
    );
    let fresh = Api::new(fake.base_url()).with_token("kassir@shop", &token);
    assert_eq!(
        fresh
            .send(Method::GET, "/settings/retailstore", None)
            .await
            .status,
        200
    );
    assert_eq!(fake.token().as_deref(), Some(token.as_str()));
}

#[tokio::test]
async fn unknown_paths_methods_and_orgs() {
    let (fake, api) = start(FakeCloudConfig::default()).await;
    let a = api.send(Method::GET, "/entity/nothing", None).await;
    assert_eq!((a.status, a.error().0), (404, 1002));
    let a = api
        .send(Method::DELETE, "/cheque/rpc/master/approve", None)
        .await;
    assert_eq!((a.status, a.error().0), (405, 1039));
    let a = api
        .send(
            Method::GET,
            "/cheque/rpc/master/poll/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 1021));
    let a = api
        .send(
            Method::POST,
            "/cheque/minion/entity/retaildrawercashin",
            Some(&json!({})),
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 1054));
    let a = api
        .send(
            Method::GET,
            "/cheque/rpc/minion/status/syncid/00000000-0000-0000-0000-000000000000",
            None,
        )
        .await;
    assert_eq!((a.status, a.error().0), (404, 1021));
    // Also served without the /api/posap/1.0 prefix.
    let bare = Api::new(format!("http://{}", fake.addr()));
    let a = bare
        .send(
            Method::GET,
            &format!("/cheque/rpc/master/poll/{}/", fake.org_id()),
            None,
        )
        .await;
    assert_eq!(a.status, 204);
}

#[tokio::test]
async fn lease_lets_a_second_operation_out() {
    let config = FakeCloudConfig {
        poll_lease: Some(Duration::from_secs(600)),
        ..Default::default()
    };
    let (fake, api) = start(config).await;
    let a = fake
        .enqueue(
            OpKind::RetailDemand,
            samples::minion_with_id(OpKind::RetailDemand, "11111111-1111-4111-8111-111111111111"),
        )
        .unwrap();
    let b = fake
        .enqueue(
            OpKind::Prepayment,
            samples::minion_with_id(OpKind::Prepayment, "22222222-2222-4222-8222-222222222222"),
        )
        .unwrap();
    let poll = format!("/cheque/rpc/master/poll/{}", fake.org_id());
    assert_eq!(
        api.send(Method::GET, &poll, None).await.json()["meta"]["id"],
        a.as_str()
    );
    assert_eq!(
        api.send(Method::GET, &poll, None).await.json()["meta"]["id"],
        b.as_str()
    );
    assert_eq!(api.send(Method::GET, &poll, None).await.status, 204);
}

#[tokio::test]
async fn body_over_10_mb_gets_413_in_seed_format() {
    let (_fake, api) = start(FakeCloudConfig::default()).await;
    let big = format!("{{\"pad\": \"{}\"}}", "x".repeat(11 * 1024 * 1024));
    let resp = api
        .http
        .post(format!("{}/state", api.base))
        .header("Content-Type", "application/json")
        .body(big)
        .send()
        .await;
    // axum refuses on Content-Length, before reading the body, and the
    // client reads that early answer.
    let r = resp.expect("an answer, not a broken connection");
    assert_eq!(r.status(), 413);
    let v: Value = r.json().await.expect("json");
    assert_eq!(v["errors"][0]["code"], 1044);
}

#[tokio::test]
async fn two_stores_keep_their_own_queues_and_shifts() {
    use sim_moysklad::FakeStore;
    let org_b = "bbbbbbbb-7b1d-11e6-8a84-bae500000051";
    let config = FakeCloudConfig {
        token: Some("a".repeat(40)),
        cashier_uid: "a@shop".into(),
        extra_stores: vec![FakeStore {
            id: "bbbbbbbb-7b1d-11e6-8a84-bae500000060".into(),
            name: "Второй магазин".into(),
            org_id: org_b.into(),
            cashier_uid: "b@shop".into(),
            token: Some("b".repeat(40)),
        }],
        ..Default::default()
    };
    let (fake, _) = start(config).await;
    let a = Api::new(fake.base_url()).with_token("a@shop", &"a".repeat(40));
    let b = Api::new(fake.base_url()).with_token("b@shop", &"b".repeat(40));
    let op = samples::minion_with_id(OpKind::RetailDemand, SAMPLE_DEMAND_ID);
    assert_eq!(
        b.send(
            Method::POST,
            "/cheque/minion/entity/retaildemand",
            Some(&op)
        )
        .await
        .status,
        201
    );
    assert_eq!(
        a.send(
            Method::GET,
            &format!("/cheque/rpc/master/poll/{}", fake.org_id()),
            None
        )
        .await
        .status,
        204
    );
    let polled = b
        .send(
            Method::GET,
            &format!("/cheque/rpc/master/poll/{org_b}"),
            None,
        )
        .await;
    assert_eq!(polled.json()["meta"]["id"], SAMPLE_DEMAND_ID);
    assert_eq!(fake.operations()[0].org_id, org_b);
    // Store A's shift is not store B's: B cannot approve into it.
    assert_eq!(
        a.send(
            Method::PUT,
            "/rpc/openshift",
            Some(&samples::openshift_for(SHIFT))
        )
        .await
        .status,
        204
    );
    let approve = samples::approve_for(OpKind::RetailDemand, SAMPLE_DEMAND_ID, SHIFT);
    let r = b
        .send(Method::PUT, "/cheque/rpc/master/approve", Some(&approve))
        .await;
    assert_eq!((r.status, r.error().0), (404, 12012));
    let r = b
        .send(
            Method::PUT,
            "/rpc/closeshift",
            Some(&samples::closeshift_for(SHIFT)),
        )
        .await;
    assert_eq!((r.status, r.error().0), (400, 12021));
    let settings = b
        .send(Method::GET, "/settings/retailstore", None)
        .await
        .json();
    assert_eq!(settings["name"], "Второй магазин");
    assert_eq!(settings["organization"]["id"], org_b);
}
