//! One kassa failing does not stall another: `masterkassa run` with four
//! kassas, each with its own cloud queue and printer — one unplugged (no
//! port), one out of paper, one whose shift has been open for 25 hours, one
//! healthy. The healthy kassa prints all its sales, each exactly once, while
//! the others wait; the shift-expired one closes and reopens its shift and
//! prints too; nothing prints twice anywhere. The healthy kassa's time is
//! reported beside the same sales printed by a kassa running alone.

mod crash_support;

use masterkassa::worker::queue::samples;
use sim_moysklad::{FakeCloud, FakeCloudConfig, FakeCloudHandle, OpKind};
use sim_shtrih::{Emulator, EmulatorConfig, EmulatorHandle, doc_type};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use test_support::config::{KassaEntry, config_text};

const SALES: u32 = 6;

/// `SALES` sales with their own syncids; their ids.
fn enqueue(cloud: &FakeCloudHandle, tag: u32) -> Vec<String> {
    (0..SALES)
        .map(|i| {
            let mut v: serde_json::Value = serde_json::from_str(samples::SALE).unwrap();
            let href = v["meta"]["href"].as_str().unwrap().to_string();
            let (base, id) = href.rsplit_once('/').unwrap();
            v["meta"]["href"] = format!("{base}/{tag:02x}{i:02x}{}", &id[4..]).into();
            cloud.enqueue(OpKind::RetailDemand, v).unwrap()
        })
        .collect()
}

fn receipts(emu: &EmulatorHandle) -> usize {
    emu.archive()
        .iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .count()
}

fn approved(cloud: &FakeCloudHandle) -> usize {
    cloud
        .operations()
        .iter()
        .filter(|o| o.approves_accepted > 0)
        .count()
}

/// Runs the agent on `kassas` until `done` says so; the time `timed`
/// took to become true.
async fn run(
    dir: &Path,
    kassas: &[KassaEntry],
    timed: impl Fn() -> bool,
    done: impl Fn() -> bool,
) -> Duration {
    let cfg: PathBuf = dir.join("config.toml");
    std::fs::write(&cfg, config_text(dir, kassas)).unwrap();
    let started = Instant::now();
    let mut agent = crash_support::spawn_agent(&cfg, dir);
    let deadline = started + Duration::from_secs(90);
    let mut took = None;
    while !(done() && took.is_some()) && Instant::now() < deadline {
        if took.is_none() && timed() {
            took = Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(
        done() && took.is_some(),
        "not done in 90 s; agent log:\n{}",
        std::fs::read_to_string(dir.join("agent.log")).unwrap_or_default()
    );
    took.unwrap_or_default()
}

async fn cloud() -> FakeCloudHandle {
    FakeCloud::start(FakeCloudConfig {
        token: Some("0123456789abcdef0123456789abcdef01234567".into()),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_healthy_kassa_prints_while_its_neighbours_fail() {
    // Alone first: the baseline.
    let solo_dir = tempfile::tempdir().unwrap();
    let solo_emu = Emulator::spawn(EmulatorConfig::new(solo_dir.path().join("kkt"))).unwrap();
    let solo_cloud = cloud().await;
    enqueue(&solo_cloud, 1);
    let solo = run(
        solo_dir.path(),
        &[crash_support::fake_cloud_entry(
            "solo",
            &solo_cloud,
            solo_emu.link_path(),
        )],
        || approved(&solo_cloud) == SALES as usize,
        || true,
    )
    .await;
    assert_eq!(receipts(&solo_emu), SALES as usize);

    let dir = tempfile::tempdir().unwrap();
    let clouds = [cloud().await, cloud().await, cloud().await, cloud().await];
    for (i, c) in clouds.iter().enumerate() {
        enqueue(c, 2 + i as u32);
    }
    let paper = Emulator::spawn(EmulatorConfig::new(dir.path().join("paper"))).unwrap();
    paper.faults().set_paper_out(true);
    let expired = Emulator::spawn(EmulatorConfig::new(dir.path().join("expired"))).unwrap();
    let open = std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["device", "--baud", "115200", "--port"])
        .arg(expired.link_path())
        .arg("open-shift")
        .output()
        .unwrap();
    assert!(
        open.status.success(),
        "{}",
        String::from_utf8_lossy(&open.stderr)
    );
    expired.advance_clock(25 * 3600);
    let healthy = Emulator::spawn(EmulatorConfig::new(dir.path().join("healthy"))).unwrap();
    let kassas = [
        crash_support::fake_cloud_entry("unplugged", &clouds[0], &dir.path().join("no-such-tty")),
        crash_support::fake_cloud_entry("paper", &clouds[1], paper.link_path()),
        crash_support::fake_cloud_entry("expired", &clouds[2], expired.link_path()),
        crash_support::fake_cloud_entry("healthy", &clouds[3], healthy.link_path()),
    ];
    let together = run(
        dir.path(),
        &kassas,
        || approved(&clouds[3]) == SALES as usize,
        || approved(&clouds[2]) == SALES as usize,
    )
    .await;

    assert_eq!(
        receipts(&healthy),
        SALES as usize,
        "healthy: one receipt per sale"
    );
    assert_eq!(
        receipts(&expired),
        SALES as usize,
        "expired shift: reopened, one each"
    );
    assert_eq!(receipts(&paper), 0, "no paper: nothing printed");
    assert_eq!(approved(&clouds[0]) + approved(&clouds[1]), 0);
    for c in &clouds {
        assert!(
            c.operations()
                .iter()
                .all(|o| o.approves_accepted <= 1 && o.rejects_accepted == 0)
        );
    }
    eprintln!(
        "kassa isolation: {SALES} sales alone in {:.2} s; beside an unplugged, a paperless and a shift-expired kassa in {:.2} s ({:.2}×)",
        solo.as_secs_f64(),
        together.as_secs_f64(),
        together.as_secs_f64() / solo.as_secs_f64()
    );
}
