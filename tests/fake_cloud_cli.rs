//! `masterkassa fake-cloud` as a user runs it: the real binary on a free
//! port, token from the environment, the "done when" flow with
//! the seed's sample bodies, and the token never printed.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;
use sim_moysklad::samples;

const TOKEN: &str = "6ab89be1ae6ff147753335ee8da948e42612233b";

/// Kills the child when the test ends, pass or fail.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn binary_serves_the_done_when_flow_with_token() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args([
            "fake-cloud",
            "--listen",
            "127.0.0.1:0",
            "--cashier-uid",
            "kassir@321",
        ])
        .env("FAKE_CLOUD_TOKEN", TOKEN)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let mut lines = BufReader::new(stdout).lines();
    let first = lines.next().expect("a line").expect("utf-8");
    let base = first
        .strip_prefix("fake cloud listening: ")
        .unwrap_or_else(|| panic!("unexpected first line: {first}"))
        .to_string();
    let rest: Vec<String> = lines.by_ref().take(2).map_while(Result::ok).collect();
    assert!(!first.contains(TOKEN) && rest.iter().all(|l| !l.contains(TOKEN)));
    assert!(
        rest.iter().any(|l| l.contains("token required")),
        "{rest:?}"
    );

    let _ = rustls::crypto::ring::default_provider().install_default();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let org = "7944ef04-f831-11e5-7a69-971500188b19";

    // Anything without the token: 401 in the seed's format.
    let r = http
        .get(format!("{base}/cheque/rpc/master/poll/{org}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], 1056);

    let authed = |rb: reqwest::RequestBuilder| {
        rb.header("Lognex-Pos-Auth-Token", TOKEN)
            .header("Lognex-Pos-Auth-Cashier-Uid", "kassir@321")
            .header("Content-Type", "application/json")
    };
    let r = authed(http.post(format!("{base}/cheque/minion/entity/retaildemand")))
        .body(samples::MINION_RETAILDEMAND)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let r = authed(http.get(format!("{base}/cheque/rpc/master/poll/{org}/")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let op: Value = r.json().await.unwrap();
    let r = authed(http.put(format!("{base}/rpc/openshift")))
        .body(samples::openshift_for("288bd078-800c-11e6-8a84-bae5000000a2").to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let mut approve = samples::value(samples::APPROVE);
    approve["meta"] = op["meta"].clone();
    let r = authed(http.put(format!("{base}/cheque/rpc/master/approve")))
        .body(approve.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let id = op["meta"]["id"].as_str().unwrap();
    let r = authed(http.get(format!("{base}/cheque/rpc/minion/status/syncid/{id}")))
        .send()
        .await
        .unwrap();
    let st: Value = r.json().await.unwrap();
    assert_eq!(st["fiscalStatus"], "OK");

    // A malformed approve gets the seed's error format.
    let r = authed(http.put(format!("{base}/cheque/rpc/master/approve/")))
        .body("{\"meta\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["errors"][0]["code"], 2001);
    drop(running);
}
