//! A `source = "kassatka"` kassa as a shop runs it: `masterkassa run`
//! against the fake Kassatka server and the emulated printer on a PTY.
//! Each of today's receipts of the configured cash box is printed exactly
//! once, also after the agent is killed with SIGKILL and started again
//! (the restarted agent downloads the same window again).

mod crash_support;

use jiff::{SignedDuration, Timestamp};
use sim_kassatka::{FakeKassatka, FakeKassatkaConfig, ProcessPace, seed_receipts};
use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle, doc_type};
use std::path::Path;
use std::time::{Duration, Instant};

const TOKEN: &str = "run-kassatka-token";

fn config(dir: &Path, api_url: &str, port: &Path) -> std::path::PathBuf {
    std::fs::write(dir.join("cafe.token"), format!("{TOKEN}\n")).unwrap();
    let text = format!(
        r#"[journal]
path = "{journal}"
[control]
socket = "{socket}"
[[kassa]]
name = "cafe"
source = "kassatka"
poll_interval_ms = 200
tax_system = "usn_income"
[kassa.kassatka]
api_url = "{api_url}"
token_file = "{token}"
cash_box_code = "189"
[kassa.device]
driver = "shtrih"
port = "{port}"
baud = 115200
"#,
        journal = dir.join("journal.db").display(),
        socket = dir.join("control.sock").display(),
        token = dir.join("cafe.token").display(),
        port = port.display(),
    );
    let path = dir.join("config.toml");
    std::fs::write(&path, text).unwrap();
    path
}

fn receipts_printed(emu: &EmulatorHandle) -> usize {
    emu.archive()
        .iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .count()
}

async fn wait_until(what: &str, dir: &Path, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while !done() {
        assert!(
            Instant::now() < deadline,
            "{what}: timed out; see {}",
            dir.join("agent.log").display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kassatka_receipts_print_once_across_kill_9() {
    let mut receipts = seed_receipts().unwrap();
    // Dated a minute ago: the daemon downloads from the start of today.
    let recent = Timestamp::now() - SignedDuration::from_mins(1);
    for r in &mut receipts {
        r.head.date = recent;
    }
    let mut other = receipts[0].clone();
    other.head.cash_box_code = "190".into();
    receipts.push(other);
    let ours = receipts
        .iter()
        .filter(|r| r.head.cash_box_code == "189")
        .count();
    assert!(ours > 0);

    let mut fake_config = FakeKassatkaConfig::new(TOKEN);
    fake_config.pace = ProcessPace {
        duration: Duration::from_millis(100),
        polls: 1,
    };
    fake_config.receipts = Some(receipts);
    let fake = FakeKassatka::start(fake_config).await.unwrap();

    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cfg = config(dir.path(), &fake.base_url(), &link);

    let mut agent = crash_support::spawn_agent(&cfg, dir.path());
    wait_until("every receipt of cash box 189 printed", dir.path(), || {
        receipts_printed(&emu) >= ours
    })
    .await;
    agent.kill().unwrap();
    agent.wait().unwrap();

    // The restarted agent downloads the same receipts again and must
    // recognise every one of them.
    let before = fake.requests().len();
    let mut agent = crash_support::spawn_agent(&cfg, dir.path());
    wait_until("the restarted agent downloaded again", dir.path(), || {
        fake.requests()[before..]
            .iter()
            .filter(|r| r.path.contains("download"))
            .count()
            >= 1
    })
    .await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    agent.kill().unwrap();
    agent.wait().unwrap();

    assert_eq!(
        receipts_printed(&emu),
        ours,
        "each receipt of cash box 189 printed exactly once; tape:\n{}",
        emu.tape_text()
    );
    assert!(
        !emu.tape_text().is_empty(),
        "the emulator printed nothing at all"
    );
}
