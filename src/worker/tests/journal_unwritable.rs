//! A journal that cannot be written (read-only file, full disk): nothing is
//! printed without its PRINTING record, the kassa says so in Russian in
//! status and `/state`, and resumes by itself once writes go through.

use super::*;
use crate::journal::{Journal, Source};
use crate::worker::journal_store::JournalStore;

fn journal_store(dir: &tempfile::TempDir) -> (Arc<Journal>, Arc<JournalStore>) {
    let journal = Arc::new(Journal::open(dir.path().join("journal.db")).unwrap());
    let store = Arc::new(JournalStore::new(journal.clone(), "test", Source::Moysklad));
    (journal, store)
}

/// SQLite answers every write with SQLITE_READONLY, as on a filesystem
/// remounted read-only.
fn set_read_only(journal: &Journal, on: bool) {
    journal.with_connection(|c| c.pragma_update(None, "query_only", on).unwrap());
}

#[tokio::test]
async fn read_only_journal_pauses_printing_says_so_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, store) = journal_store(&dir);
    let (sim, source) = setup();
    source.push("op-0", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    wait_for("first approve", || approves(&source).len() == 1).await;
    run.stop().await;

    // The next operation is journaled, then the journal turns read-only:
    // its PRINTING record cannot be written, so it must not be printed.
    store.insert_received("op-1", "{\"id\":\"op-1\"}").unwrap();
    source.push("op-1", Ok(sale(2000)));
    set_read_only(&journal, true);
    let run = start(&sim, &source, &store);
    wait_for("pause in status", || {
        run.handle.status.get().journal_blocked.is_some()
    })
    .await;
    // Give the loop several retries to prove it keeps not printing.
    tokio::time::sleep(Duration::from_millis(150)).await;
    let status = run.handle.status.get();
    assert_eq!(
        receipts_in_archive(&sim),
        1,
        "printed without a durable PRINTING record"
    );
    let blocked = status.journal_blocked.clone().unwrap();
    assert!(blocked.contains("журнал не записывается"), "{blocked}");
    assert!(blocked.contains("печать остановлена"), "{blocked}");
    let last = status.last_error.clone().unwrap();
    assert_eq!(last.layer, "journal");
    let report = crate::state::build_report(&status, &[]);
    assert_eq!(report.fn_error, Some(("journal".to_string(), blocked)));

    set_read_only(&journal, false);
    wait_for("second approve after the journal is writable", || {
        approves(&source).len() == 2
    })
    .await;
    wait_for("pause cleared", || {
        run.handle.status.get().journal_blocked.is_none()
    })
    .await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 2, "each operation printed once");
    let phase = store.get("op-1").unwrap().unwrap().phase;
    assert!(matches!(phase, OpState::Approved(_)), "{phase:?}");
}

/// A new operation that cannot be journaled is not work: the kassa backs
/// off instead of polling the cloud in a tight loop, prints nothing, and
/// takes the operation once the journal is writable.
#[tokio::test]
async fn unjournaled_operation_is_not_polled_in_a_tight_loop() {
    let dir = tempfile::tempdir().unwrap();
    let (journal, store) = journal_store(&dir);
    let (sim, source) = setup();
    set_read_only(&journal, true);
    source.push("op-1", Ok(sale(1000)));
    let run = start(&sim, &source, &store);
    wait_for("pause in status", || {
        run.handle.status.get().journal_blocked.is_some()
    })
    .await;
    let polls_before = source.lock().polls;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let polls = source.lock().polls - polls_before;
    // Idle backoff caps at 20 ms in these settings: ~10 polls in 200 ms.
    assert!(
        polls <= 20,
        "{polls} polls in 200 ms while the journal is read-only"
    );
    assert_eq!(receipts_in_archive(&sim), 0);
    assert!(
        sim.state().shift_open.is_none(),
        "shift opened without a journal record"
    );
    set_read_only(&journal, false);
    wait_for("approve", || approves(&source).len() == 1).await;
    run.stop().await;
    assert_eq!(receipts_in_archive(&sim), 1);
}
