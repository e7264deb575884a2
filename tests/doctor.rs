//! `masterkassa doctor` against an installation broken at one rung at a
//! time: it must stop at that rung, name it, and say what to do; on a good
//! installation without the daemon it climbs to the last rung and says the
//! daemon is not running.

mod crash_support;

use sim_moysklad::{FakeCloud, FakeCloudConfig};
use sim_shtrih::{Emulator, EmulatorConfig};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

const TOKEN: &str = "0123456789abcdef0123456789abcdef01234567";

/// The rungs doctor reported (`--json`), and its exit status.
fn doctor(config: &Path, token: Option<&str>) -> (bool, serde_json::Value) {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"));
    cmd.args(["doctor", "--json", "--config"])
        .arg(config)
        .env_remove("MASTERKASSA_TEST_TOKEN")
        .env_remove("MASTERKASSA_JOURNAL_PATH")
        .env_remove("MASTERKASSA_CONTROL_SOCKET");
    if let Some(t) = token {
        cmd.env("MASTERKASSA_TEST_TOKEN", t);
    }
    let out = cmd.output().unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.success(), json)
}

/// Id of the failing (last) rung, and its detail and fix.
fn stopped_at(report: &serde_json::Value) -> (String, String, String) {
    let last = report["rungs"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["ok"], false, "{report:#}");
    (
        last["id"].as_str().unwrap().to_string(),
        last["detail"].as_str().unwrap_or_default().to_string(),
        last["fix"].as_str().unwrap_or_default().to_string(),
    )
}

/// Breaks a copy of the good config.
type Breakage = Box<dyn Fn(&Path)>;

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in {text}");
    std::fs::write(path, text.replace(from, to)).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_stops_at_the_first_broken_rung_and_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let _emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    // The PTY is the user's own 0620; the service user must reach it too.
    std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o666)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig {
        token: Some(TOKEN.into()),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap();
    let cfg = crash_support::config(dir.path(), &cloud.base_url(), &link);
    edit(&cfg, "cashier@test", "cashier@myorg");

    // A healthy installation, daemon not started: only the last rung fails.
    let c = cfg.clone();
    let (ok, report) = tokio::task::spawn_blocking(move || doctor(&c, Some(TOKEN)))
        .await
        .unwrap();
    assert!(!ok);
    let ids: Vec<&str> = report["rungs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "config",
            "token",
            "journal",
            "cloud",
            "auth",
            "clock",
            "port",
            "port_access",
            "device",
            "fn",
            "shift",
            "daemon"
        ],
        "{report:#}"
    );
    let (_, _, fix) = stopped_at(&report);
    assert!(fix.contains("systemctl enable --now masterkassa"), "{fix}");

    // One breakage at a time, bottom rung first.
    // (rung expected to fail, token, how to break the config, in detail, in fix)
    let cases: Vec<(&str, Option<&str>, Breakage, &str, &str)> = vec![
        (
            "token",
            None,
            Box::new(|_| {}),
            "MASTERKASSA_TEST_TOKEN",
            "токен",
        ),
        (
            "auth",
            Some("ffffffffffffffffffffffffffffffffffffffff"),
            Box::new(|_| {}),
            "401",
            "masterkassa attach",
        ),
        (
            "port",
            Some(TOKEN),
            Box::new(|c: &Path| edit(c, "/kkt\"", "/no-such-tty\"")),
            "no-such-tty",
            "ls /dev/ttyUSB* /dev/ttyACM*",
        ),
        (
            "cloud",
            Some(TOKEN),
            Box::new(|c: &Path| {
                let text = std::fs::read_to_string(c).unwrap();
                let url = text
                    .lines()
                    .find_map(|l| l.strip_prefix("api_url = "))
                    .unwrap()
                    .to_string();
                edit(c, &url, "\"http://127.0.0.1:1/api/posap/1.0\"");
            }),
            "127.0.0.1:1",
            "интернет",
        ),
        (
            "config",
            Some(TOKEN),
            Box::new(|c: &Path| edit(c, "baud = 115200", "baud = \"fast\"")),
            "kassa[0].device.baud",
            "masterkassa config check",
        ),
    ];
    for (rung, token, breakage, in_detail, in_fix) in cases {
        let broken = dir.path().join(format!("broken-{rung}.toml"));
        std::fs::copy(&cfg, &broken).unwrap();
        breakage(&broken);
        let token = token.map(str::to_string);
        let (ok, report) = tokio::task::spawn_blocking(move || doctor(&broken, token.as_deref()))
            .await
            .unwrap();
        assert!(!ok, "{rung}: {report:#}");
        let (id, detail, fix) = stopped_at(&report);
        assert_eq!(id, rung, "{report:#}");
        assert!(detail.contains(in_detail), "{rung}: {detail}");
        assert!(fix.contains(in_fix), "{rung}: {fix}");
    }
}

#[test]
fn a_port_where_no_device_answers_stops_at_the_device_rung() {
    let dir = tempfile::tempdir().unwrap();
    // A PTY nobody answers on.
    let pty = sim_shtrih::pty::open().unwrap();
    let link = dir.path().join("silent");
    std::os::unix::fs::symlink(&pty.slave_path, &link).unwrap();
    std::fs::set_permissions(&link, std::fs::Permissions::from_mode(0o666)).unwrap();
    // Kassatka skips the MoySklad cloud rungs (no network needed here).
    let cfg = dir.path().join("config.toml");
    std::fs::write(
        &cfg,
        format!(
            "[journal]\npath = \"{j}\"\n[control]\nsocket = \"{s}\"\n\
             [[kassa]]\nname = \"k\"\nsource = \"kassatka\"\n\
             [kassa.kassatka]\napi_url = \"http://127.0.0.1:1/api\"\n\
             token_env = \"MASTERKASSA_TEST_TOKEN\"\ncash_box_code = \"1\"\n\
             [kassa.device]\nport = \"{p}\"\nbaud = 115200\n",
            j = dir.path().join("journal.db").display(),
            s = dir.path().join("control.sock").display(),
            p = link.display()
        ),
    )
    .unwrap();
    let (ok, report) = doctor(&cfg, Some(TOKEN));
    assert!(!ok);
    let (id, _, fix) = stopped_at(&report);
    assert_eq!(id, "device", "{report:#}");
    assert!(fix.contains("masterkassa device --port"), "{fix}");
}
