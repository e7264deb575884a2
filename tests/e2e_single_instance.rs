//! Only one daemon runs on a journal: a second `masterkassa run` with the
//! same config refuses to start, says why, and leaves the first daemon's
//! control socket alone; two kassas on one organisation queue are refused.

mod crash_support;

use sim_moysklad::{FakeCloud, FakeCloudConfig};
use sim_shtrih::{Emulator, EmulatorConfig};
use std::time::{Duration, Instant};

/// `masterkassa run --config cfg` in the foreground, until it exits.
fn run_to_exit(cfg: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .arg("run")
        .arg("--config")
        .arg(cfg)
        .env(
            "MASTERKASSA_TEST_TOKEN",
            "0123456789abcdef0123456789abcdef01234567",
        )
        .output()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_daemon_on_the_same_journal_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let _emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let cfg = crash_support::config(dir.path(), &cloud.base_url(), &link);
    let socket = dir.path().join("control.sock");

    let mut first = crash_support::spawn_agent(&cfg, dir.path());
    let deadline = Instant::now() + Duration::from_secs(60);
    while !socket.exists() {
        assert!(Instant::now() < deadline, "the first daemon never served");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let second = tokio::task::spawn_blocking({
        let cfg = cfg.clone();
        move || run_to_exit(&cfg)
    });
    let out = tokio::time::timeout(Duration::from_secs(60), second)
        .await
        .expect("the second daemon must exit by itself")
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "second daemon started: {stderr}");
    assert!(
        stderr.contains("another masterkassa daemon is already running"),
        "{stderr}"
    );
    assert!(socket.exists(), "the first daemon's socket was removed");
    assert!(first.try_wait().unwrap().is_none(), "the first daemon died");
    first.kill().unwrap();
    first.wait().unwrap();
}

/// Two kassas polling one organisation's master queue would both be handed
/// each operation and both print it: the daemon refuses such a config.
#[test]
fn two_kassas_on_one_organisation_queue_refuse_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let kassa = |name: &str| {
        format!(
            r#"[[kassa]]
name = "{name}"
api_url = "http://127.0.0.1:9/api/posap/1.0"
cashier_uid = "cashier@test"
org_id = "7944ef04-f831-11e5-7a69-971500188b19"
token_env = "MASTERKASSA_TEST_TOKEN"
[kassa.device]
driver = "shtrih"
port = "{port}"
baud = 115200
"#,
            port = dir.path().join(name).display()
        )
    };
    let text = format!(
        "[journal]\npath = \"{}\"\n[control]\nsocket = \"{}\"\n{}{}",
        dir.path().join("journal.db").display(),
        dir.path().join("control.sock").display(),
        kassa("front"),
        kassa("back")
    );
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    let out = run_to_exit(&cfg);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("kassas front and back both serve organisation"),
        "{stderr}"
    );
}
