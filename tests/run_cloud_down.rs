//! `masterkassa run` with the cloud down at start and no `org_id` in the
//! config: the daemon must answer `status` from the first second, saying
//! the kassa waits for the cloud, instead of looking dead until the cloud
//! comes back.

mod crash_support;

use std::process::Command;
use std::time::{Duration, Instant};

/// `masterkassa status --json` for `cfg`, when the daemon answered.
fn daemon_status(cfg: &std::path::Path) -> Option<serde_json::Value> {
    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["status", "--json", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    serde_json::from_slice::<serde_json::Value>(&out.stdout)
        .ok()
        .filter(|j| j["daemon_running"] == true)
}

#[test]
fn status_answers_and_says_waiting_for_the_cloud() {
    let dir = tempfile::tempdir().unwrap();
    // Nothing listens on port 1: every request is refused (transient).
    let cfg = crash_support::config(
        dir.path(),
        "http://127.0.0.1:1/api/posap/1.0",
        &dir.path().join("no-such-tty"),
    );
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("org_id"))
        .map(|l| format!("{l}\n"))
        .collect();
    std::fs::write(&cfg, text).unwrap();
    let mut daemon = crash_support::spawn_agent(&cfg, dir.path());

    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(json) = daemon_status(&cfg) {
            break json;
        }
        if Instant::now() > deadline {
            let _ = daemon.kill();
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
            panic!("the daemon never answered status while the cloud was down:\n{log}");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let human = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["status", "--config", cfg.to_str().unwrap()])
        .output()
        .unwrap();
    let _ = daemon.kill();
    let _ = daemon.wait();
    let kassa = &status["kassas"][0];
    assert_eq!(kassa["name"], "crash");
    let message = kassa["last_error"]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("ожидание облака"), "{status}");
    let human = String::from_utf8_lossy(&human.stdout);
    assert!(human.contains("демон работает"), "{human}");
    assert!(human.contains("ожидание облака"), "{human}");
}

/// A token the cloud refuses at start (HTTP 401 on the store's settings)
/// used to end the daemon, so systemd restarted it in a loop and `status`
/// said "not running"; it also held up every kassa listed after it. Now
/// the refused kassa waits and says why, and the next kassa prints.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_parks_its_kassa_and_the_next_one_prints() {
    use sim_moysklad::{FakeCloud, FakeCloudConfig, OpKind};
    use test_support::config::config_text;
    let dir = tempfile::tempdir().unwrap();
    let refusing = FakeCloud::start(FakeCloudConfig {
        token: Some("ffffffffffffffffffffffffffffffffffffffff".into()),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap();
    let healthy = FakeCloud::start(FakeCloudConfig {
        token: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap();
    let emu = sim_shtrih::Emulator::spawn(
        sim_shtrih::EmulatorConfig::new(dir.path().join("kkt")).baud(115_200),
    )
    .unwrap();
    let entry = crash_support::fake_cloud_entry;
    let text = config_text(
        dir.path(),
        &[
            entry("refused", &refusing, &dir.path().join("no-such-tty")),
            entry("healthy", &healthy, emu.link_path()),
        ],
    );
    // Only the refused kassa asks the cloud for its organisation.
    let org_line = format!("org_id = \"{}\"\n", refusing.org_id());
    let text = text.replacen(&org_line, "", 1);
    let cfg = dir.path().join("config.toml");
    std::fs::write(&cfg, text).unwrap();
    let body: serde_json::Value =
        serde_json::from_str(masterkassa::worker::queue::samples::SALE).unwrap();
    let id = healthy.enqueue(OpKind::RetailDemand, body).unwrap();
    let mut daemon = crash_support::spawn_agent(&cfg, dir.path());

    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        let json = daemon_status(&cfg);
        let approved = healthy
            .operations()
            .iter()
            .any(|o| o.id == id && o.approves_accepted == 1);
        if let Some(json) = json
            && approved
            && json["kassas"][0]["last_error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("не приняло токен"))
        {
            break json;
        }
        if Instant::now() > deadline || daemon.try_wait().unwrap().is_some() {
            let _ = daemon.kill();
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
            panic!("the refused kassa stopped the daemon or the healthy one:\n{log}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = daemon.kill();
    let _ = daemon.wait();
    let message = status["kassas"][0]["last_error"]["message"]
        .as_str()
        .unwrap();
    assert!(message.contains("HTTP 401"), "{status}");
    assert!(message.contains("masterkassa attach"), "{status}");
    assert_eq!(status["kassas"][1]["name"], "healthy");
    // The healthy kassa's receipt is in its FN, once.
    let receipts = emu
        .control()
        .archive()
        .iter()
        .filter(|d| d.kind == sim_shtrih::doc_type::RECEIPT)
        .count();
    assert_eq!(receipts, 1);
}
