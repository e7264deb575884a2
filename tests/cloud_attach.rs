//! `masterkassa attach` end to end, as a process, against a scripted
//! loopback cloud: password from the environment, store chosen by
//! `--store`, config and token files written with mode 0600.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

use serde_json::Value;
use test_support::scripted::{Reply, ScriptedServer, fixture};

const TOKEN: &str = "6ab89be1ae6ff147755625ee8da948e42612233b";
const STORE_ID: &str = "5d4d2ca2-7b1d-11e6-8a84-bae500000060";

/// The seed's settings with `fiscalType` set (the sample omits it).
fn settings_with(fiscal_type: &str) -> String {
    let mut v: Value = serde_json::from_str(&fixture("settings_retailstore.json")).unwrap();
    v["fiscalType"] = Value::String(fiscal_type.into());
    v["defaultTaxSystem"] = Value::String("SIMPLIFIED_TAX_SYSTEM_INCOME".into());
    v.to_string()
}

async fn cloud(fiscal_type: &'static str) -> ScriptedServer {
    ScriptedServer::start(move |_, req| {
        let basic_ok =
            req.header("authorization").as_deref() == Some("Basic YWRtaW5AbXlvcmc6czNjcmV0"); // admin@myorg:s3cret
        let token_ok = req.header("lognex-pos-auth-token").as_deref() == Some(TOKEN)
            && req.header("lognex-pos-auth-cashier-uid").as_deref() == Some("kassir@321");
        let path = req.path.trim_end_matches('/');
        let unauthorized = Reply::new(
            401,
            r#"{"errors":[{"error":"Ошибка аутентификации","code":1056}]}"#,
        );
        if path.ends_with("/admin/retailstore") && req.method == "GET" {
            if basic_ok {
                Reply::new(200, fixture("admin_retailstore.json"))
            } else {
                unauthorized
            }
        } else if path.ends_with(&format!("/admin/attach/{STORE_ID}")) && req.method == "POST" {
            if basic_ok {
                Reply::new(200, fixture("admin_attach.json"))
            } else {
                unauthorized
            }
        } else if path.ends_with("/settings/retailstore") && req.method == "GET" {
            if token_ok {
                Reply::new(200, settings_with(fiscal_type))
            } else {
                unauthorized
            }
        } else {
            Reply::new(
                404,
                r#"{"errors":[{"error":"Неопознанный путь","code":1002}]}"#,
            )
        }
    })
    .await
}

fn attach(
    base_url: &str,
    config: &std::path::Path,
    password: &str,
    extra: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_masterkassa"));
    cmd.args([
        "attach",
        "--login",
        "admin@myorg",
        "--api-url",
        base_url,
        "--config",
    ])
    .arg(config)
    .args(extra)
    .env("MASTERKASSA_PASSWORD", password)
    .stdin(std::process::Stdio::null());
    cmd.output().expect("run masterkassa")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_writes_config_and_token_0600() {
    let server = cloud("MASTER").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("etc/config.toml");
    let base = server.base_url();
    let cfg = config.clone();
    let out = tokio::task::spawn_blocking(move || {
        attach(
            &base,
            &cfg,
            "s3cret",
            &["--store", "Точка продаж", "--yes", "--name", "front"],
        )
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout: {stdout}\nstderr: {stderr}");
    assert!(!stderr.contains("ВНИМАНИЕ"), "{stderr}");
    // The token never reaches the terminal.
    assert!(!stdout.contains(TOKEN) && !stderr.contains(TOKEN));

    let text = std::fs::read_to_string(&config).unwrap();
    assert!(!text.contains(TOKEN), "token inside the config:\n{text}");
    let doc: toml::Table = toml::from_str(&text).unwrap();
    let k = &doc["kassa"].as_array().unwrap()[0];
    assert_eq!(k["name"].as_str(), Some("front"));
    assert_eq!(k["api_url"].as_str(), Some(server.base_url().as_str()));
    assert_eq!(k["cashier_uid"].as_str(), Some("kassir@321"));
    assert_eq!(
        k["org_id"].as_str(),
        Some("5d0f5e3e-7b1d-11e6-8a84-bae500000051")
    );
    let token_file = std::path::PathBuf::from(k["token_file"].as_str().unwrap());
    assert_eq!(token_file, dir.path().join(format!("etc/{STORE_ID}.token")));
    assert_eq!(std::fs::read_to_string(&token_file).unwrap().trim(), TOKEN);
    assert_eq!(
        doc["journal"]["path"].as_str(),
        Some("/var/lib/masterkassa/journal.db")
    );
    // No masterkassa group on a test machine: owner-only, and the exact
    // command that lets the service read them.
    for f in [&config, &token_file] {
        let mode = std::fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    assert!(
        stdout.contains(&format!(
            "sudo chgrp masterkassa {0} {1} && sudo chmod 0640 {0} {1}",
            config.display(),
            token_file.display()
        )),
        "{stdout}"
    );
    let paths: Vec<_> = server
        .requests()
        .iter()
        .map(|r| (r.method.to_string(), r.path.clone()))
        .collect();
    assert_eq!(
        paths,
        [
            (
                "GET".to_owned(),
                "/api/posap/1.0/admin/retailstore".to_owned()
            ),
            (
                "POST".to_owned(),
                format!("/api/posap/1.0/admin/attach/{STORE_ID}")
            ),
            (
                "GET".to_owned(),
                "/api/posap/1.0/settings/retailstore/".to_owned()
            ),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_warns_when_the_store_is_not_master() {
    let server = cloud("STANDARD").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    let base = server.base_url();
    let cfg = config.clone();
    let out = tokio::task::spawn_blocking(move || {
        attach(&base, &cfg, "s3cret", &["--store", STORE_ID, "--yes"])
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("ВНИМАНИЕ") && stderr.contains("STANDARD"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_refusals_write_nothing() {
    let server = cloud("MASTER").await;
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");

    // The store already has a device and there is no terminal to ask.
    let (base, cfg) = (server.base_url(), config.clone());
    let out =
        tokio::task::spawn_blocking(move || attach(&base, &cfg, "s3cret", &["--store", STORE_ID]))
            .await
            .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("добавьте --yes"), "{stderr}");
    assert!(stderr.contains("уже подключено устройство"), "{stderr}");

    // No password and no terminal to ask it on: one Russian sentence
    // naming the variable; nothing is sent.
    let before = server.requests().len();
    let (base, cfg) = (server.base_url(), config.clone());
    let out = tokio::task::spawn_blocking(move || attach(&base, &cfg, "", &["--store", STORE_ID]))
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("нет терминала, чтобы спросить пароль")
            && stderr.contains("MASTERKASSA_PASSWORD"),
        "{stderr}"
    );
    assert_eq!(server.requests().len(), before);

    // Wrong password: the cloud's 401 with its message; nothing attached.
    let (base, cfg) = (server.base_url(), config.clone());
    let out = tokio::task::spawn_blocking(move || {
        attach(&base, &cfg, "wrong", &["--store", STORE_ID, "--yes"])
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("401") && stderr.contains("Ошибка аутентификации"),
        "{stderr}"
    );
    assert!(!stderr.contains("wrong"), "password echoed: {stderr}");
    assert!(!config.exists());
    assert!(
        server
            .requests()
            .iter()
            .all(|r| !r.path.contains("/admin/attach/"))
    );
}
