//! The FN at the end of its life: expired, blocked by a 30-day OFD
//! backlog, memory full. Printing pauses with a Russian reason in status
//! and `/state` before the device is asked, the operation waits (never
//! rejected, never half printed), and printing resumes once the FN can
//! sign. Validity warnings show 30 and 3 days ahead.

use super::*;

fn moscow_today() -> kkt::Date {
    crate::worker::moscow_now().date()
}

async fn paused_with(run: &Running, what: &str) -> String {
    wait_for(what, || {
        run.handle
            .status
            .get()
            .fn_blocked
            .is_some_and(|b| b.contains(what))
    })
    .await;
    let status = run.handle.status.get();
    let blocked = status.fn_blocked.clone().unwrap_or_default();
    let report = crate::state::build_report(&status, &[]);
    assert_eq!(report.fn_error, Some(("fn".to_string(), blocked.clone())));
    blocked
}

/// No receipt while paused, the operation still waits, nothing rejected.
async fn stays_unprinted(sim: &SimKkt, source: &ScriptedSource, store: &MemoryStore) {
    // Several retries of the loop.
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(receipts_in_archive(sim), 0);
    assert!(!sim.state().receipt_open, "a receipt was left open");
    let phase = store.get("op-1").unwrap().unwrap().phase;
    assert_eq!(phase, Phase::Received);
    assert!(
        source
            .lock()
            .delivered
            .iter()
            .all(|m| !matches!(m, OutboxMessage::Reject { .. }))
    );
}

#[tokio::test]
async fn expired_fn_pauses_printing_until_it_is_valid() {
    let (sim, source) = setup();
    let store = Arc::new(MemoryStore::new());
    let yesterday = moscow_today().yesterday().unwrap();
    sim.state().fn_valid_until = Some(yesterday);
    source.push("op-1", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    let blocked = paused_with(&run, "срок действия ФН истёк").await;
    assert!(blocked.contains("печать остановлена"), "{blocked}");
    stays_unprinted(&sim, &source, &store).await;
    sim.state().fn_valid_until = Some(moscow_today());
    wait_for("approve", || approves(&source).len() == 1).await;
    wait_for("pause cleared", || {
        run.handle.status.get().fn_blocked.is_none()
    })
    .await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}

#[tokio::test]
async fn ofd_backlog_of_30_days_pauses_printing_until_sent() {
    let (sim, source) = setup();
    let store = Arc::new(MemoryStore::new());
    let first = crate::worker::moscow_now() - jiff::SignedDuration::from_hours(24 * 31);
    sim.state().ofd_backlog = Some((12, first));
    source.push("op-1", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    paused_with(&run, "ФН заблокирован").await;
    stays_unprinted(&sim, &source, &store).await;
    sim.state().ofd_backlog = None;
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}

#[tokio::test]
async fn full_fn_memory_pauses_instead_of_rejecting() {
    let (sim, source) = setup();
    let store = Arc::new(MemoryStore::new());
    sim.state().fn_full = true;
    source.push("op-1", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    paused_with(&run, "исчерпан ресурс хранения").await;
    stays_unprinted(&sim, &source, &store).await;
    sim.state().fn_full = false;
    wait_for("approve", || approves(&source).len() == 1).await;
    wait_for("pause cleared", || {
        run.handle.status.get().fn_blocked.is_none()
    })
    .await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}

#[tokio::test]
async fn fn_validity_is_warned_30_and_3_days_ahead_while_printing_goes_on() {
    for (days, word) in [(30, "подготовьте замену"), (3, "срочно замените ФН")]
    {
        let (sim, source) = setup();
        let store = Arc::new(MemoryStore::new());
        sim.state().fn_valid_until = moscow_today()
            .checked_add(jiff::Span::new().days(days))
            .ok();
        source.push("op-1", Ok(sale(1000)));
        let run = start(&sim, &source, &store);
        wait_for("approve", || approves(&source).len() == 1).await;
        let status = run.handle.status.get();
        run.stop().await;
        assert!(
            status.fn_warnings.iter().any(|w| w.contains(word)),
            "{days} days: {:?}",
            status.fn_warnings
        );
        assert_eq!(status.fn_blocked, None);
        let report = crate::state::build_report(&status, &[]);
        assert!(
            report
                .fn_error
                .is_some_and(|(code, text)| code == "warning" && text.contains(word)),
            "{days} days"
        );
    }
}
