//! The daemon as a shop runs it: `masterkassa run --config FILE` against
//! the fake cloud and the emulated printer; `masterkassa status` (human and
//! `--json`) asks it over the control socket; `masterkassa shift close`
//! closes the shift through it; after SIGTERM, `status` reads the journal
//! and says the daemon is not running.

mod crash_support;

use masterkassa::control::DaemonStatus;
use masterkassa::worker::queue::samples;
use sim_moysklad::{FakeCloud, FakeCloudConfig, OpKind};
use sim_shtrih::{Emulator, EmulatorConfig};
use std::process::Command;
use std::time::{Duration, Instant};

fn cli(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_masterkassa"))
        .args(args)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn run_status_shift_close_and_status_without_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let link = dir.path().join("kkt");
    let emu = Emulator::spawn(EmulatorConfig::new(&link)).unwrap();
    let cloud = FakeCloud::start(FakeCloudConfig::default()).await.unwrap();
    for body in samples::ALL {
        let v: serde_json::Value = serde_json::from_str(body).unwrap();
        let kind = OpKind::parse(v["meta"]["type"].as_str().unwrap()).unwrap();
        cloud.enqueue(kind, v).unwrap();
    }
    let cfg = crash_support::config(dir.path(), &cloud.base_url(), &link);
    // Prometheus metrics on a free loopback port.
    let metrics_addr = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut text = std::fs::read_to_string(&cfg).unwrap();
    text.push_str(&format!("[metrics]\nlisten = \"{metrics_addr}\"\n"));
    std::fs::write(&cfg, text).unwrap();
    let cfg_arg = cfg.to_string_lossy().to_string();
    let mut daemon = crash_support::spawn_agent(&cfg, dir.path());

    let deadline = Instant::now() + Duration::from_secs(60);
    while !cloud.operations().iter().all(|o| o.answered()) {
        assert!(
            Instant::now() < deadline,
            "operations not answered; see {}",
            dir.path().join("agent.log").display()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let (ok, json) = cli(&["status", "--config", &cfg_arg, "--json"]);
    assert!(ok, "{json}");
    let status: DaemonStatus = serde_json::from_str(&json).unwrap();
    assert!(status.daemon_running);
    let k = &status.kassas[0];
    assert_eq!(k.name, "crash");
    assert_eq!((k.counts.approved_today, k.counts.rejected_today), (4, 1));
    assert_eq!(k.fn_serial.as_deref(), Some(emu.fn_serial().as_str()));
    assert_eq!(k.printer.as_ref().unwrap().serial, "12345678");
    assert_eq!(k.shift.as_ref().unwrap().state, "open");
    // Every time in the JSON carries its offset (RFC 3339).
    let raw: serde_json::Value = serde_json::from_str(&json).unwrap();
    let opened = raw["kassas"][0]["shift"]["opened_at"].as_str().unwrap();
    assert!(opened.ends_with("+03:00"), "{opened}");
    opened.parse::<jiff::Timestamp>().unwrap();
    let polled = raw["kassas"][0]["last_poll"].as_str().unwrap();
    polled.parse::<jiff::Timestamp>().unwrap();

    // The same figures, scraped over HTTP and read by a Prometheus parser.
    let scrape = tokio::task::spawn_blocking(move || scrape(metrics_addr))
        .await
        .unwrap();
    let gauge = |name: &str| {
        scrape
            .samples
            .iter()
            .find(|s| s.metric == name && s.labels.get("kassa") == Some("crash"))
            .map(|s| match s.value {
                prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                _ => f64::NAN,
            })
    };
    assert_eq!(gauge("masterkassa_receipts_approved_today"), Some(4.0));
    assert_eq!(gauge("masterkassa_receipts_rejected_today"), Some(1.0));
    assert_eq!(gauge("masterkassa_shift_open"), Some(1.0));
    assert_eq!(gauge("masterkassa_kassa_halted"), Some(0.0));
    assert!(gauge("masterkassa_fn_days_left").is_some_and(|d| d > 30.0));
    assert!(gauge("masterkassa_last_poll_age_seconds").is_some_and(|a| a < 60.0));
    // Events counted where they happen: receipts by kind and outcome,
    // print durations, cloud requests by endpoint (ids folded) and status.
    let value = |s: &prometheus_parse::Sample| match s.value {
        prometheus_parse::Value::Counter(v)
        | prometheus_parse::Value::Gauge(v)
        | prometheus_parse::Value::Untyped(v) => v,
        _ => f64::NAN,
    };
    let total = |name: &str, pairs: &[(&str, &str)]| -> f64 {
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == name && pairs.iter().all(|(k, v)| s.labels.get(k) == Some(*v)))
            .map(value)
            .sum()
    };
    assert_eq!(
        total(
            "masterkassa_receipts_total",
            &[("kassa", "crash"), ("outcome", "printed")]
        ),
        4.0
    );
    assert_eq!(
        total(
            "masterkassa_receipts_total",
            &[("kassa", "crash"), ("outcome", "rejected")]
        ),
        1.0
    );
    assert_eq!(
        total(
            "masterkassa_receipts_total",
            &[("kind", "retaildemand"), ("outcome", "approved")]
        ),
        scrape
            .samples
            .iter()
            .filter(|s| s.metric == "masterkassa_receipts_total"
                && s.labels.get("kind") == Some("retaildemand")
                && s.labels.get("outcome") == Some("printed"))
            .map(value)
            .sum::<f64>()
    );
    let printed_count = scrape.samples.iter().find_map(|s| match &s.value {
        prometheus_parse::Value::Histogram(h)
            if s.metric == "masterkassa_print_duration_seconds" =>
        {
            h.iter()
                .map(|b| b.count)
                .fold(None, |m: Option<f64>, c| Some(m.map_or(c, |m| m.max(c))))
        }
        _ => None,
    });
    assert_eq!(printed_count, Some(4.0), "{:?}", scrape.samples);
    let polls: Vec<_> = scrape
        .samples
        .iter()
        .filter(|s| s.metric == "masterkassa_cloud_requests_total")
        .filter(|s| {
            s.labels
                .get("endpoint")
                .is_some_and(|e| e.contains("/cheque/rpc/master/poll/"))
        })
        .collect();
    assert!(!polls.is_empty(), "{:?}", scrape.samples);
    for p in &polls {
        assert!(
            p.labels
                .get("endpoint")
                .is_some_and(|e| e.ends_with("/poll/:id")),
            "{p:?}"
        );
    }
    assert!(polls.iter().map(|s| value(s)).sum::<f64>() >= 5.0);

    let (ok, human) = cli(&["status", "--config", &cfg_arg]);
    assert!(ok, "{human}");
    assert!(human.contains("демон работает"), "{human}");
    assert!(
        human.contains("Сегодня: подтверждено 4, отклонено 1"),
        "{human}"
    );

    let (ok, closed) = cli(&["shift", "close", "--config", &cfg_arg]);
    assert!(ok, "{closed}");
    assert!(closed.contains("смена №1 закрыта"), "{closed}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while cloud
        .shifts()
        .first()
        .and_then(|s| s.close_body.clone())
        .is_none()
    {
        assert!(
            Instant::now() < deadline,
            "closeshift never reached the cloud"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let close = cloud.shifts()[0].close_body.clone().unwrap();
    assert_eq!(close["cheque"]["end"]["chequesTotal"], 4);
    assert!(!emu.shift().open);

    // SIGTERM: a clean stop.
    // SAFETY: kill(2) with a pid we spawned and still own (not yet reaped),
    // no memory is shared with the callee.
    let rc = unsafe { libc::kill(daemon.id() as libc::pid_t, libc::SIGTERM) };
    assert_eq!(rc, 0);
    let exit = daemon.wait().unwrap();
    assert!(exit.success(), "daemon exit after SIGTERM: {exit}");

    let (ok, offline) = cli(&["status", "--config", &cfg_arg]);
    assert!(ok, "{offline}");
    assert!(offline.contains("ДЕМОН НЕ ЗАПУЩЕН"), "{offline}");
    assert!(offline.contains("подтверждено 4, отклонено 1"), "{offline}");
    let (_, json) = cli(&["status", "--config", &cfg_arg, "--json"]);
    let status: DaemonStatus = serde_json::from_str(&json).unwrap();
    assert!(!status.daemon_running);

    // stderr went to a file: plain lines, Moscow time with its offset.
    let log = std::fs::read_to_string(dir.path().join("agent.log")).unwrap();
    assert!(!log.contains("\x1b["), "ANSI escapes in a log file");
    let first = log.lines().next().unwrap_or_default();
    let stamp = first.split_whitespace().next().unwrap_or_default();
    assert!(stamp.ends_with("+03:00"), "{first}");
}

/// `GET /metrics` over plain HTTP/1.1, parsed as Prometheus text.
fn scrape(addr: std::net::SocketAddr) -> prometheus_parse::Scrape {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let (head, body) = answer.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(
        head.to_lowercase()
            .contains("content-type: application/openmetrics-text"),
        "{head}"
    );
    let lines: Vec<std::io::Result<String>> = body.lines().map(|l| Ok(l.to_string())).collect();
    prometheus_parse::Scrape::parse(lines.into_iter()).unwrap()
}
