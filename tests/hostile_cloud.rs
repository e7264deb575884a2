//! A hostile cloud: `masterkassa run` (the binary) against the fake
//! MoySklad cloud serving, among its right answers, a stream of faults
//! chosen by a seeded generator — 5xx, an nginx HTML page with 502 and
//! with 200, valid JSON of the wrong shape, truncated JSON, connections
//! dropped before the answer, an approve the cloud took whose answer never
//! arrives (the agent re-sends; the second identical approve is harmless),
//! slow answers, empty polls, redirects to another host (never followed),
//! 429 with and without the rate-limit headers, answers slower than the
//! agent's request timeout (1 s here). Meanwhile `masterkassa
//! status` is asked every 300 ms: every cloud trouble it shows is named in
//! Russian, never an English error text.
//! Eight operations of the four kinds on the emulated Shtrih-M: every one
//! is approved, the FN holds exactly one receipt per operation, the agent
//! never dies. `MASTERKASSA_HOSTILE_OPS` and `MASTERKASSA_HOSTILE_SEED` make
//! a longer or another run.

mod crash_support;

use masterkassa::worker::queue::samples;
use rand::{Rng, SeedableRng};
use sim_moysklad::{
    EmptyPollForm, FakeCloud, FakeCloudConfig, FakeCloudHandle, Fault, FaultKind, OpKind,
};
use sim_shtrih::{Emulator, EmulatorConfig, doc_type};
use std::time::{Duration, Instant};

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Queues `body` as a new operation: batch `b` changes its syncid.
fn enqueue(cloud: &FakeCloudHandle, body: &str, b: u64) -> String {
    let mut v: serde_json::Value = serde_json::from_str(body).unwrap();
    let href = v["meta"]["href"].as_str().unwrap().to_string();
    let (base, id) = href.rsplit_once('/').unwrap();
    v["meta"]["href"] = format!("{base}/{:04x}{}", b, &id[4..]).into();
    let kind = OpKind::parse(v["meta"]["type"].as_str().unwrap()).unwrap();
    cloud.enqueue(kind, v).unwrap()
}

/// Fault number `n`: the first fifteen go through every kind once, then
/// they are drawn at random.
fn fault(rng: &mut rand::rngs::StdRng, n: u32) -> Fault {
    let pick = if n < 15 { n } else { rng.random_range(0..15) };
    let kind = match pick {
        0 => FaultKind::Status { status: 500 },
        1 => FaultKind::Status {
            status: [502, 503, 504][rng.random_range(0..3)],
        },
        2 => FaultKind::Html { status: 502 },
        3 => FaultKind::Html { status: 200 },
        4 => FaultKind::WrongShape,
        5 => FaultKind::MalformedJson,
        6 => FaultKind::Drop,
        7 => return Fault::new(FaultKind::DropAfter, 1).on_path("master/approve"),
        8 => FaultKind::Slow { ms: 400 },
        9 => FaultKind::EmptyPoll {
            form: EmptyPollForm::Null,
        },
        10 => FaultKind::Redirect {
            location: "http://127.0.0.1:9/api/posap/1.0/steal".into(),
        },
        12 => FaultKind::Status { status: 429 },
        13 => FaultKind::RateLimited {
            retry_after_ms: 300,
        },
        // Longer than the agent's request timeout: an answer that never
        // comes as far as the agent can tell.
        14 => FaultKind::Slow { ms: 2500 },
        _ => return Fault::new(FaultKind::DropAfter, 1),
    };
    Fault::new(kind, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_lost_nothing_twice_under_a_hostile_cloud() {
    let ops = env_or("MASTERKASSA_HOSTILE_OPS", 8);
    let seed = env_or("MASTERKASSA_HOSTILE_SEED", 13);
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    let kinds = [
        samples::SALE,
        samples::SALE_RETURN,
        samples::PREPAYMENT,
        samples::PREPAYMENT_RETURN,
    ];
    let ids: Vec<String> = (0..ops)
        .map(|i| enqueue(&cloud, kinds[(i % 4) as usize], i + 1))
        .collect();
    let cfg = crash_support::config(dir.path(), &cloud.base_url(), &link);
    let text = std::fs::read_to_string(&cfg).unwrap();
    let text = text.replace(
        "tax_system = \"osn\"\n",
        "tax_system = \"osn\"\nrequest_timeout_ms = 1000\n",
    );
    std::fs::write(&cfg, text).unwrap();
    let mut agent = crash_support::spawn_agent(&cfg, dir.path());

    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut armed = 0;
    let mut kinds_served = std::collections::BTreeSet::new();
    let mut last_armed = Instant::now();
    let mut last_status = Instant::now();
    let mut shown = std::collections::BTreeSet::new();
    let started = Instant::now();
    let deadline = started + Duration::from_secs(150);
    loop {
        let settled = cloud.operations().iter().filter(|o| o.answered()).count();
        if settled == ids.len() {
            break;
        }
        if let Some(status) = agent.try_wait().unwrap() {
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
            panic!("the agent died ({status}):\n{log}");
        }
        if Instant::now() > deadline {
            let _ = agent.kill();
            let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(40).collect();
            panic!(
                "{settled} of {} settled; agent log, newest first:\n{}",
                ids.len(),
                tail.join("\n")
            );
        }
        // One fault at a time, a new one at most every 200 ms once the last
        // was served: about one request in three or four is a fault.
        if cloud.armed_faults() == 0 && last_armed.elapsed() > Duration::from_millis(200) {
            let f = fault(&mut rng, armed);
            kinds_served.insert(
                format!("{:?}", f.kind)
                    .split([' ', '{'])
                    .next()
                    .unwrap_or("")
                    .to_string(),
            );
            cloud.add_fault(f);
            armed += 1;
            last_armed = Instant::now();
        }
        if last_status.elapsed() > Duration::from_millis(300) {
            shown.extend(cloud_trouble_shown(&cfg));
            last_status = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(40)).await;
    }
    cloud.clear_faults();
    // Whatever the last dropped answers left queued is delivered too.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let alive = agent.try_wait().unwrap().is_none();
    let _ = agent.kill();
    let _ = agent.wait();
    assert!(alive, "the agent is still running");

    eprintln!("status showed: {shown:#?}");
    assert!(!shown.is_empty(), "status never named a cloud trouble");
    for text in &shown {
        let ascii_words = text
            .split(|c: char| !c.is_ascii_alphabetic())
            .filter(|w| w.len() > 3 && *w != "JSON")
            .collect::<Vec<_>>();
        assert!(
            text.starts_with("облако") || text.starts_with("нет связи"),
            "{text}"
        );
        assert!(
            ascii_words.is_empty() || text.contains("api_url"),
            "English in status: {text}"
        );
    }

    let receipts: Vec<_> = emu
        .archive()
        .into_iter()
        .filter(|d| d.kind == doc_type::RECEIPT)
        .collect();
    assert_eq!(receipts.len(), ids.len(), "one receipt per operation");
    let mut fds = Vec::new();
    for op in cloud.operations() {
        assert_eq!(op.rejects_accepted, 0, "{op:?}");
        assert!(op.approves_accepted >= 1, "{op:?}");
        let approve = op.approve.as_ref().unwrap();
        let fd: u32 = approve["cheque"]["fiscalDocNumber"]
            .as_str()
            .unwrap()
            .parse()
            .unwrap();
        let doc = receipts
            .iter()
            .find(|d| d.number == fd)
            .expect("approved FD in the FN");
        assert_eq!(
            approve["cheque"]["fiscalDocSign"].as_str().unwrap(),
            doc.fiscal_sign.to_string()
        );
        fds.push(fd);
    }
    fds.sort_unstable();
    fds.dedup();
    assert_eq!(fds.len(), ids.len(), "each operation has its own receipt");
    assert!(armed >= 10, "only {armed} faults were served");
    assert!(kinds_served.len() >= 10, "{kinds_served:?}");
    eprintln!(
        "hostile cloud: {} operations, {armed} faults of {} kinds ({}) in {:.1} s, duplicates 0, lost 0",
        ids.len(),
        kinds_served.len(),
        kinds_served.iter().cloned().collect::<Vec<_>>().join(", "),
        started.elapsed().as_secs_f64()
    );
}

/// The cloud-layer trouble `masterkassa status --json` shows now, if any.
fn cloud_trouble_shown(cfg: &std::path::Path) -> Option<String> {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(["status", "--json", "--config"])
        .arg(cfg)
        .output()
        .ok()?;
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    let error = &status["kassas"][0]["last_error"];
    (error["layer"] == "cloud").then(|| error["message"].as_str().unwrap_or_default().to_string())
}
