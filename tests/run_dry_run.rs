//! `masterkassa run --dry-run` on onboarding: every queued operation is
//! polled, rendered and validated; the receipt it would print and the
//! reject reason are shown; nothing is printed (no port is opened) and the
//! cloud gets no approve or reject.

mod crash_support;

use sim_moysklad::{FakeCloud, FakeCloudConfig, OpKind};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_receipts_and_rejections_and_answers_nothing() {
    let cloud = FakeCloud::start(FakeCloudConfig {
        // Skip an operation just handed out, so the walk sees the next.
        poll_lease: Some(Duration::from_secs(60)),
        ..FakeCloudConfig::default()
    })
    .await
    .unwrap();
    let good = include_str!("../src/worker/samples/retaildemand.json");
    let bad = good
        .replace("\"price\": 500", "\"price\": 100.12345")
        .replace(
            "388bd178-800c-11e6-8a84-bae5000000a2",
            "488bd178-800c-11e6-8a84-bae5000000a2",
        );
    for body in [good, bad.as_str()] {
        cloud
            .enqueue(OpKind::RetailDemand, serde_json::from_str(body).unwrap())
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    // The port does not exist: a dry run must not need it.
    let cfg = crash_support::config(dir.path(), &cloud.base_url(), &dir.path().join("no-tty"));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_masterkassa"))
            .args(["run", "--dry-run", "--config"])
            .arg(&cfg)
            .env(
                "MASTERKASSA_TEST_TOKEN",
                "0123456789abcdef0123456789abcdef01234567",
            )
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("retaildemand 388bd178-800c-11e6-8a84-bae5000000a2: будет напечатан чек"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "retaildemand 488bd178-800c-11e6-8a84-bae5000000a2: БУДЕТ ОТКЛОНЕНА: Ошибка данных: операция не читается (поле positions[0].price = «100.12345»"
        ),
        "{stdout}"
    );
    // Names from the store's catalogue, as the daemon prints them.
    assert!(stdout.contains("    Пиво × "), "{stdout}");
    assert!(stdout.contains("    Яблоки Гренни Смит × "), "{stdout}");
    assert!(!stdout.contains("Товар 1"), "{stdout}");
    assert!(
        stdout.contains("будет напечатано 1, будет отклонено 1"),
        "{stdout}"
    );
    for op in cloud.operations() {
        assert_eq!(
            op.approves_accepted + op.rejects_accepted,
            0,
            "answered: {op:?}"
        );
    }
    assert!(
        !dir.path().join("journal.db").exists(),
        "dry run wrote a journal"
    );
}
