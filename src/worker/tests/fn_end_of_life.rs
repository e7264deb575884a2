//! The FN at the end of its life: expired, blocked by a 30-day OFD
//! backlog, memory full. Printing pauses with a Russian reason in status
//! and `/state` before the device is asked, the operation waits (never
//! rejected, never half printed), and printing resumes once the FN can
//! sign. Validity warnings show 30 and 3 days ahead.

use super::sim::SimState;
use super::*;

fn moscow_today() -> kkt::Date {
    crate::worker::moscow_now().date()
}

/// Runs one sale with the FN in the state `fault(.., true)` sets: printing
/// must pause with a reason containing `reason` (also in `/state`), the
/// sale must wait unprinted and unrejected, and once `fault(.., false)`
/// lifts it the sale is printed once and the pause cleared.
async fn pauses_then_resumes(fault: impl Fn(&mut SimState, bool), reason: &str) {
    let (sim, source) = setup();
    let journal = test_journal();
    let store = journal.store.clone();
    fault(&mut sim.state(), true);
    source.push("op-1", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    wait_for(reason, || {
        run.handle
            .status
            .get()
            .fn_blocked
            .is_some_and(|b| b.contains(reason))
    })
    .await;
    let status = run.handle.status.get();
    let report = crate::state::build_report(&status, &[]);
    assert_eq!(
        report.fn_error,
        Some(("fn".to_string(), status.fn_blocked.clone().unwrap()))
    );
    // Several retries of the loop.
    tokio::time::sleep(Duration::from_millis(120)).await;
    assert_eq!(receipts_in_archive(&sim), 0);
    assert!(!sim.state().receipt_open, "a receipt was left open");
    // Waiting: RECEIVED, or PRINTING for the moment a retry is refused
    // and recovery puts it back; never settled.
    let phase = store.get("op-1").unwrap().unwrap().phase;
    assert!(phase.is_pending_print(), "{phase:?}");
    assert!(!delivered(&source, |m| matches!(
        m,
        OutboxMessage::Reject { .. }
    )));

    fault(&mut sim.state(), false);
    wait_for("approve", || approves(&source).len() == 1).await;
    wait_for("pause cleared", || {
        run.handle.status.get().fn_blocked.is_none()
    })
    .await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}

#[tokio::test]
async fn expired_fn_pauses_printing_until_it_is_valid() {
    let today = moscow_today();
    pauses_then_resumes(
        |s, on| {
            s.fn_valid_until = if on {
                today.yesterday().ok()
            } else {
                Some(today)
            }
        },
        "срок действия ФН истёк",
    )
    .await;
}

#[tokio::test]
async fn ofd_backlog_of_30_days_pauses_printing_until_sent() {
    let first = crate::worker::moscow_now() - jiff::SignedDuration::from_hours(24 * 31);
    pauses_then_resumes(
        |s, on| s.ofd_backlog = on.then_some((12, first)),
        "ФН заблокирован",
    )
    .await;
}

#[tokio::test]
async fn full_fn_memory_pauses_instead_of_rejecting() {
    pauses_then_resumes(|s, on| s.fn_full = on, "исчерпан ресурс хранения").await;
}

#[tokio::test]
async fn fn_validity_is_warned_30_and_3_days_ahead_while_printing_goes_on() {
    for (days, word) in [(30, "подготовьте замену"), (3, "срочно замените ФН")]
    {
        let (sim, source) = setup();
        let journal = test_journal();
        let store = journal.store.clone();
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
