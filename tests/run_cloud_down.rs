//! `masterkassa run` with the cloud down at start and no `org_id` in the
//! config: the daemon must answer `status` from the first second, saying
//! the kassa waits for the cloud, instead of looking dead until the cloud
//! comes back.

mod crash_support;

use std::process::Command;
use std::time::{Duration, Instant};

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
        let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
            .args(["status", "--json", "--config", cfg.to_str().unwrap()])
            .output()
            .unwrap();
        let json: Option<serde_json::Value> = serde_json::from_slice(&out.stdout).ok();
        if let Some(json) = json.filter(|j| j["daemon_running"] == true) {
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
