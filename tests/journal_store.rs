//! The journal on disk: every transition and its refusal as stored state,
//! reopen, outbox FIFO and delivery effects, shifts, read-only mode,
//! schema versions.

use jiff::Timestamp;
use kkt::{DateTime, FiscalDoc, Money, ReceiptKind, ShiftClosed, ShiftOpened};
use masterkassa::journal::{
    Event, Journal, JournalError, OpKey, OpState, OutboxKind, OutboxRequest, OutboxStatus,
    PrintedReceipt, ReceiptSummary, Received, ShiftEvent, ShiftState, ShiftStateName, Source,
    StateName, TransitionError,
};

fn key(op: &str) -> OpKey {
    OpKey::new("shop1", Source::Moysklad, op)
}

fn summary() -> ReceiptSummary {
    ReceiptSummary {
        kind: ReceiptKind::Sale,
        total: Money(15_000),
    }
}

fn start_printing(fd: u32) -> Event {
    Event::StartPrinting {
        expected_fd: fd,
        fn_serial: "9960440300000001".into(),
        summary: summary(),
    }
}

fn printed(fd: u32) -> PrintedReceipt {
    PrintedReceipt {
        fn_serial: "9960440300000001".into(),
        fd_number: fd,
        fiscal_sign: 3_512_345_678,
        time: DateTime::constant(2026, 11, 24, 15, 1, 2, 0),
        shift_number: 12,
        receipt_number: 4,
        total: Money(15_000),
    }
}

fn approve() -> OutboxRequest {
    OutboxRequest::new(OutboxKind::Approve, r#"{"fiscalDocNumber":"101"}"#)
}

fn reject() -> OutboxRequest {
    OutboxRequest::new(
        OutboxKind::Reject,
        r#"{"fiscalErrMsg":"Сумма не сходится"}"#,
    )
}

fn open(dir: &tempfile::TempDir) -> Journal {
    Journal::open(dir.path().join("journal.db")).unwrap()
}

/// Drives an operation to APPROVED, returning the approve outbox id.
fn approve_fully(j: &Journal, k: &OpKey, fd: u32) -> i64 {
    j.receive(k, "{}").unwrap();
    j.apply(k, &start_printing(fd)).unwrap();
    j.apply(k, &Event::Printed(printed(fd))).unwrap();
    let (_, entry) = j
        .apply_and_enqueue(k, &Event::StartApproving, &approve())
        .unwrap();
    j.outbox_delivered(entry).unwrap();
    entry
}

#[test]
fn the_happy_path_is_stored_step_by_step_with_its_history() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("op-1");
    let raw = r#"{"meta":{"type":"retaildemand"},"sum":15000}"#;
    let rec = j.receive(&k, raw).unwrap();
    assert!(matches!(rec, Received::New(_)));
    assert_eq!(j.get(&k).unwrap().unwrap().raw, raw);

    let r = j.apply(&k, &start_printing(101)).unwrap();
    assert_eq!(r.state.name(), StateName::Printing);
    let r = j.apply(&k, &Event::Printed(printed(101))).unwrap();
    assert_eq!(r.state, OpState::Printed(printed(101)));
    let (r, entry) = j
        .apply_and_enqueue(&k, &Event::StartApproving, &approve())
        .unwrap();
    assert_eq!(r.state, OpState::Approving(printed(101)));
    let queued = j.outbox_next("shop1").unwrap().unwrap();
    assert_eq!(queued.id, entry);
    assert_eq!(queued.kind, OutboxKind::Approve);
    assert_eq!(queued.operation.as_ref(), Some(&k));
    assert_eq!(queued.body, approve().body);

    let done = j.outbox_delivered(entry).unwrap();
    assert_eq!(done.status, OutboxStatus::Delivered);
    assert_eq!(
        j.get(&k).unwrap().unwrap().state,
        OpState::Approved(printed(101))
    );
    assert!(j.outbox_next("shop1").unwrap().is_none());

    let history: Vec<StateName> = j
        .history(&k)
        .unwrap()
        .iter()
        .map(|t| t.state.name())
        .collect();
    assert_eq!(
        history,
        [
            StateName::Received,
            StateName::Printing,
            StateName::Printed,
            StateName::Approving,
            StateName::Approved
        ]
    );
}

#[test]
fn an_operation_already_journaled_is_known_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("op-dup");
    approve_fully(&j, &k, 7);
    match j.receive(&k, "другое тело").unwrap() {
        Received::Known(r) => {
            assert_eq!(r.raw, "{}");
            assert_eq!(r.state, OpState::Approved(printed(7)));
        }
        other => panic!("expected Known, got {other:?}"),
    }
    // Same op id from another source or kassa is a different operation.
    let other_source = OpKey::new("shop1", Source::Kassatka, "op-dup");
    let other_kassa = OpKey::new("shop2", Source::Moysklad, "op-dup");
    assert!(matches!(
        j.receive(&other_source, "x").unwrap(),
        Received::New(_)
    ));
    assert!(matches!(
        j.receive(&other_kassa, "x").unwrap(),
        Received::New(_)
    ));
}

#[test]
fn reject_path_goes_through_the_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("bad");
    j.receive(&k, "{}").unwrap();
    let message = "Сумма позиций не равна сумме чека";
    let (r, entry) = j
        .apply_and_enqueue(
            &k,
            &Event::Reject {
                message: message.into(),
            },
            &reject(),
        )
        .unwrap();
    assert_eq!(
        r.state,
        OpState::Rejecting {
            message: message.into()
        }
    );
    j.outbox_delivered(entry).unwrap();
    assert_eq!(
        j.get(&k).unwrap().unwrap().state,
        OpState::Rejected {
            message: message.into()
        }
    );
}

#[test]
fn illegal_transitions_are_typed_errors_and_write_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("op-ill");
    j.receive(&k, "{}").unwrap();

    // Printed before printing started.
    let err = j.apply(&k, &Event::Printed(printed(5))).unwrap_err();
    assert!(matches!(
        err,
        JournalError::Transition {
            source: TransitionError::NotAllowed {
                from: StateName::Received,
                ..
            },
            ..
        }
    ));
    // Reject / StartApproving without their outbox request.
    let err = j
        .apply(
            &k,
            &Event::Reject {
                message: "нет".into(),
            },
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::OutboxRequired { .. }), "{err}");
    // ... or with the wrong one.
    let err = j
        .apply_and_enqueue(
            &k,
            &Event::Reject {
                message: "нет".into(),
            },
            &approve(),
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::OutboxMismatch { .. }), "{err}");
    let err = j
        .apply_and_enqueue(&k, &start_printing(5), &approve())
        .unwrap_err();
    assert!(matches!(err, JournalError::OutboxMismatch { .. }), "{err}");

    j.apply(&k, &start_printing(5)).unwrap();
    // A second StartPrinting: never print twice.
    assert!(matches!(
        j.apply(&k, &start_printing(6)).unwrap_err(),
        JournalError::Transition {
            source: TransitionError::NotAllowed {
                from: StateName::Printing,
                ..
            },
            ..
        }
    ));
    // Another FN, an older FD, another total.
    let mut other_fn = printed(5);
    other_fn.fn_serial = "9960440300000002".into();
    assert!(matches!(
        j.apply(&k, &Event::Printed(other_fn)).unwrap_err(),
        JournalError::Transition {
            source: TransitionError::FnMismatch { .. },
            ..
        }
    ));
    assert!(matches!(
        j.apply(&k, &Event::Printed(printed(4))).unwrap_err(),
        JournalError::Transition {
            source: TransitionError::FdMismatch { .. },
            ..
        }
    ));
    let mut other_total = printed(5);
    other_total.total = Money(1);
    assert!(matches!(
        j.apply(&k, &Event::Printed(other_total)).unwrap_err(),
        JournalError::Transition {
            source: TransitionError::TotalMismatch { .. },
            ..
        }
    ));
    // Nothing of that reached the disk.
    let history = j.history(&k).unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(
        j.get(&k).unwrap().unwrap().state.name(),
        StateName::Printing
    );
    assert!(j.outbox_pending("shop1").unwrap().is_empty());

    // Once printed, an operation cannot go back or be rejected.
    j.apply(&k, &Event::Printed(printed(5))).unwrap();
    assert!(j.apply(&k, &Event::NotPrinted).is_err());
    assert!(
        j.apply_and_enqueue(
            &k,
            &Event::Reject {
                message: "нет".into()
            },
            &reject()
        )
        .is_err()
    );
    assert!(j.outbox_pending("shop1").unwrap().is_empty());

    // Unknown operation.
    assert!(matches!(
        j.apply(&key("nope"), &Event::NotPrinted).unwrap_err(),
        JournalError::UnknownOperation(_)
    ));
}

#[test]
fn recovery_paths_not_printed_and_device_refusal() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("op-rec");
    j.receive(&k, "{}").unwrap();
    j.apply(&k, &start_printing(9)).unwrap();
    assert_eq!(
        j.ops_in_state("shop1", StateName::Printing).unwrap().len(),
        1
    );
    let r = j.apply(&k, &Event::NotPrinted).unwrap();
    assert_eq!(r.state, OpState::Received);
    j.apply(&k, &start_printing(9)).unwrap();
    let (r, _) = j
        .apply_and_enqueue(
            &k,
            &Event::Reject {
                message: "ФН переполнен".into(),
            },
            &reject(),
        )
        .unwrap();
    assert_eq!(r.state.name(), StateName::Rejecting);
}

#[test]
fn reopening_keeps_operations_shifts_outbox_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    let sync_id;
    {
        let j = Journal::open(&path).unwrap();
        approve_fully(&j, &key("a"), 1);
        j.receive(&key("b"), "body-b").unwrap();
        j.apply(&key("b"), &start_printing(2)).unwrap();
        j.receive(&key("c"), "body-c").unwrap();
        j.apply(&key("c"), &start_printing(3)).unwrap();
        j.apply(&key("c"), &Event::Printed(printed(3))).unwrap();
        j.apply_and_enqueue(&key("c"), &Event::StartApproving, &approve())
            .unwrap();
        let shift = j.begin_shift("shop1", "9960440300000001", 10).unwrap();
        sync_id = shift.sync_id.clone();
        j.record_error("shop1", "Нет бумаги").unwrap();
    }
    let j = Journal::open(&path).unwrap();
    assert_eq!(
        j.get(&key("a")).unwrap().unwrap().state,
        OpState::Approved(printed(1))
    );
    let printing = j.ops_in_state("shop1", StateName::Printing).unwrap();
    assert_eq!(printing.len(), 1);
    assert_eq!(printing[0].key, key("b"));
    assert_eq!(printing[0].raw, "body-b");
    assert_eq!(
        printing[0].state,
        OpState::Printing {
            expected_fd: 2,
            fn_serial: "9960440300000001".into(),
            summary: summary()
        }
    );
    let pending = j.outbox_pending("shop1").unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].operation, Some(key("c")));
    let shift = j.active_shift("shop1").unwrap().unwrap();
    assert_eq!(shift.sync_id, sync_id);
    assert_eq!(shift.state, ShiftState::Opening { expected_fd: 10 });
    assert_eq!(j.last_error("shop1").unwrap().unwrap().1, "Нет бумаги");
    j.integrity_check().unwrap();
}

#[test]
fn outbox_is_fifo_per_kassa_counts_attempts_and_keeps_permanent_failures() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let mut ids = Vec::new();
    for (i, op) in ["o1", "o2", "o3"].iter().enumerate() {
        let k = key(op);
        let fd = u32::try_from(i).unwrap() + 1;
        j.receive(&k, "{}").unwrap();
        j.apply(&k, &start_printing(fd)).unwrap();
        j.apply(&k, &Event::Printed(printed(fd))).unwrap();
        ids.push(
            j.apply_and_enqueue(&k, &Event::StartApproving, &approve())
                .unwrap()
                .1,
        );
    }
    // Another kassa's queue is separate.
    let other = OpKey::new("shop2", Source::Moysklad, "x");
    j.receive(&other, "{}").unwrap();
    j.apply_and_enqueue(
        &other,
        &Event::Reject {
            message: "нет".into(),
        },
        &reject(),
    )
    .unwrap();

    let pending: Vec<i64> = j
        .outbox_pending("shop1")
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(pending, ids);
    assert_eq!(j.outbox_next("shop1").unwrap().unwrap().id, ids[0]);

    assert_eq!(j.outbox_attempt_failed(ids[0], "HTTP 503").unwrap(), 1);
    assert_eq!(j.outbox_attempt_failed(ids[0], "timeout").unwrap(), 2);
    let e = j.outbox_next("shop1").unwrap().unwrap();
    assert_eq!((e.id, e.attempts), (ids[0], 2));
    assert_eq!(e.last_error.as_deref(), Some("timeout"));
    assert!(e.last_attempt_at.is_some());

    j.outbox_failed_permanently(ids[0], "HTTP 400: неверный ФПД")
        .unwrap();
    assert_eq!(j.outbox_next("shop1").unwrap().unwrap().id, ids[1]);
    let failed = j.outbox_failed("shop1").unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, OutboxStatus::Failed);
    assert_eq!(
        failed[0].last_error.as_deref(),
        Some("HTTP 400: неверный ФПД")
    );
    // The operation stays APPROVING (shown by status), never reprinted.
    assert_eq!(
        j.get(&key("o1")).unwrap().unwrap().state.name(),
        StateName::Approving
    );

    // Put back: it regains its place at the head.
    j.outbox_retry(ids[0]).unwrap();
    assert_eq!(j.outbox_next("shop1").unwrap().unwrap().id, ids[0]);

    j.outbox_delivered(ids[0]).unwrap();
    // Delivering twice is harmless.
    j.outbox_delivered(ids[0]).unwrap();
    assert_eq!(
        j.get(&key("o1")).unwrap().unwrap().state.name(),
        StateName::Approved
    );
    assert!(matches!(
        j.outbox_delivered(9999).unwrap_err(),
        JournalError::UnknownOutboxEntry(9999)
    ));
}

#[test]
fn resending_approve_for_a_known_operation_does_not_touch_its_state() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let k = key("again");
    approve_fully(&j, &k, 3);
    let entry = j.enqueue_for_operation(&k, &approve()).unwrap();
    j.outbox_delivered(entry).unwrap();
    assert_eq!(
        j.get(&k).unwrap().unwrap().state,
        OpState::Approved(printed(3))
    );
}

fn doc(number: u32) -> FiscalDoc {
    FiscalDoc {
        number,
        fiscal_sign: 77,
        time: DateTime::constant(2026, 11, 24, 8, 0, 0, 0),
    }
}

#[test]
fn shift_lifecycle_with_cloud_sync() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let shift = j.begin_shift("shop1", "FN1", 50).unwrap();
    assert_eq!(shift.state.name(), ShiftStateName::Opening);
    assert_eq!(
        uuid::Uuid::parse_str(&shift.sync_id)
            .unwrap()
            .get_version_num(),
        4
    );
    assert!(matches!(
        j.begin_shift("shop1", "FN1", 50).unwrap_err(),
        JournalError::ShiftAlreadyActive { active, .. } if active == shift.id
    ));
    let opened = ShiftOpened {
        shift_number: 12,
        doc: doc(50),
    };
    let (s, open_entry) = j
        .apply_shift_and_enqueue(
            shift.id,
            &ShiftEvent::Opened(opened),
            &OutboxRequest::new(OutboxKind::OpenShift, "{}"),
        )
        .unwrap();
    assert_eq!(s.state, ShiftState::Open { opened });
    assert!(!s.open_synced);
    j.outbox_delivered(open_entry).unwrap();
    assert!(j.shift(shift.id).unwrap().open_synced);

    j.apply_shift(shift.id, &ShiftEvent::StartClosing { expected_fd: 80 })
        .unwrap();
    let closed = ShiftClosed {
        shift_number: 12,
        doc: doc(80),
        receipts_in_shift: 28,
        documents_in_shift: 30,
    };
    // Illegal: opening again while closing.
    assert!(matches!(
        j.apply_shift(shift.id, &ShiftEvent::Opened(opened))
            .unwrap_err(),
        JournalError::ShiftTransition { .. }
    ));
    let (s, close_entry) = j
        .apply_shift_and_enqueue(
            shift.id,
            &ShiftEvent::Closed(closed),
            &OutboxRequest::new(OutboxKind::CloseShift, "{}"),
        )
        .unwrap();
    assert_eq!(s.state.closed(), Some(&closed));
    assert_eq!(s.state.opened(), Some(&opened));
    assert!(j.active_shift("shop1").unwrap().is_none());
    j.outbox_delivered(close_entry).unwrap();
    let last = j.last_shift("shop1").unwrap().unwrap();
    assert!(last.close_synced && last.open_synced);
    // A new shift can begin once the old one is closed, with a new syncId.
    let next = j.begin_shift("shop1", "FN1", 81).unwrap();
    assert_ne!(next.sync_id, shift.sync_id);
}

#[test]
fn adopting_a_shift_open_on_the_device_queues_openshift() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let opened = ShiftOpened {
        shift_number: 3,
        doc: doc(20),
    };
    let (s, entry) = j
        .adopt_open_shift(
            "shop1",
            "FN1",
            opened,
            &OutboxRequest::new(OutboxKind::OpenShift, "{}"),
        )
        .unwrap();
    assert_eq!(s.state, ShiftState::Open { opened });
    assert_eq!(j.outbox_next("shop1").unwrap().unwrap().shift, Some(s.id));
    j.outbox_delivered(entry).unwrap();
    assert!(j.active_shift("shop1").unwrap().unwrap().open_synced);
}

#[test]
fn summary_counts_states_finished_today_and_outbox() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    let day_start = Timestamp::now() - jiff::SignedDuration::from_secs(60);
    approve_fully(&j, &key("a1"), 1);
    approve_fully(&j, &key("a2"), 2);
    j.receive(&key("r1"), "{}").unwrap();
    let (_, e) = j
        .apply_and_enqueue(
            &key("r1"),
            &Event::Reject {
                message: "нет".into(),
            },
            &reject(),
        )
        .unwrap();
    j.outbox_delivered(e).unwrap();
    j.receive(&key("w1"), "{}").unwrap();
    j.receive(&key("p1"), "{}").unwrap();
    j.apply(&key("p1"), &start_printing(5)).unwrap();
    j.apply(&key("p1"), &Event::Printed(printed(5))).unwrap();
    j.apply_and_enqueue(&key("p1"), &Event::StartApproving, &approve())
        .unwrap();
    j.record_error("shop1", "Крышка открыта").unwrap();

    let s = j.kassa_summary("shop1", day_start).unwrap();
    // Settled operations are counted per day (below), not over all of
    // history.
    assert_eq!(s.count(StateName::Approved), 0);
    assert_eq!(s.count(StateName::Rejected), 0);
    assert_eq!(j.counts_by_state("shop1").unwrap()[&StateName::Approved], 2);
    assert_eq!(s.count(StateName::Received), 1);
    assert_eq!(s.count(StateName::Approving), 1);
    assert_eq!(s.count(StateName::Printing), 0);
    assert_eq!((s.today.approved, s.today.rejected), (2, 1));
    assert_eq!(s.outbox_pending.len(), 1);
    assert_eq!(s.last_error.unwrap().1, "Крышка открыта");
    // Nothing finished "since" the future.
    let later = Timestamp::now() + jiff::SignedDuration::from_secs(3600);
    assert_eq!(j.finished_since("shop1", later).unwrap().approved, 0);
    assert_eq!(j.kassas().unwrap(), ["shop1"]);
}

#[test]
fn read_only_mode_reads_everything_and_refuses_writes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let j = Journal::open(&path).unwrap();
        approve_fully(&j, &key("a"), 1);
    }
    let ro = Journal::open_read_only(&path).unwrap();
    assert!(ro.is_read_only());
    assert_eq!(
        ro.get(&key("a")).unwrap().unwrap().state.name(),
        StateName::Approved
    );
    let err = ro.receive(&key("b"), "{}").unwrap_err();
    assert!(matches!(err, JournalError::ReadOnly { .. }));
    assert!(err.to_string().contains("journal.db"), "{err}");

    // While the daemon holds it open and writes, a reader sees commits.
    let rw = Journal::open(&path).unwrap();
    rw.receive(&key("c"), "{}").unwrap();
    let ro = Journal::open_read_only(&path).unwrap();
    assert!(ro.get(&key("c")).unwrap().is_some());
}

#[test]
fn read_only_open_of_a_missing_file_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nowhere.db");
    let err = Journal::open_read_only(&path).unwrap_err();
    assert!(err.to_string().contains("nowhere.db"), "{err}");
    assert!(!path.exists(), "read-only open must not create the file");
}

#[test]
fn a_journal_from_a_newer_version_is_refused_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
    }
    let err = Journal::open(&path).unwrap_err();
    assert!(
        matches!(err, JournalError::SchemaTooNew { found: 99, .. }),
        "{err}"
    );
}

#[test]
fn a_garbage_file_is_an_error_naming_it_not_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    std::fs::write(&path, vec![0x5a; 8192]).unwrap();
    let err = Journal::open(&path).unwrap_err();
    assert!(err.to_string().contains("journal.db"), "{err}");
}

#[test]
fn the_file_is_in_wal_mode_with_the_current_schema_version() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("journal.db");
    drop(Journal::open(&path).unwrap());
    let conn = rusqlite::Connection::open(&path).unwrap();
    let mode: String = conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
}

/// Opens and closes a shift through the journal; the cloud accepts
/// openshift, and closeshift if `close_delivered`.
fn closed_shift(j: &Journal, first_fd: u32, close_delivered: bool) -> i64 {
    let shift = j.begin_shift("shop1", "FN1", first_fd).unwrap();
    let opened = ShiftOpened {
        shift_number: first_fd,
        doc: doc(first_fd),
    };
    let (_, open_entry) = j
        .apply_shift_and_enqueue(
            shift.id,
            &ShiftEvent::Opened(opened),
            &OutboxRequest::new(OutboxKind::OpenShift, "{}"),
        )
        .unwrap();
    j.outbox_delivered(open_entry).unwrap();
    j.apply_shift(
        shift.id,
        &ShiftEvent::StartClosing {
            expected_fd: first_fd + 1,
        },
    )
    .unwrap();
    let closed = ShiftClosed {
        shift_number: first_fd,
        doc: doc(first_fd + 1),
        receipts_in_shift: 0,
        documents_in_shift: 2,
    };
    let (_, close_entry) = j
        .apply_shift_and_enqueue(
            shift.id,
            &ShiftEvent::Closed(closed),
            &OutboxRequest::new(OutboxKind::CloseShift, "{}"),
        )
        .unwrap();
    if close_delivered {
        j.outbox_delivered(close_entry).unwrap();
    }
    shift.id
}

/// Retention removes settled, delivered operations and synced shifts older
/// than `keep_days`, and nothing unsettled or undelivered however old.
#[test]
fn prune_removes_only_settled_and_delivered_history() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    // Settled and delivered: both kinds of answer.
    approve_fully(&j, &key("approved"), 101);
    j.receive(&key("rejected"), "{}").unwrap();
    let (_, rejected) = j
        .apply_and_enqueue(
            &key("rejected"),
            &Event::Reject {
                message: "Ошибка данных".into(),
            },
            &reject(),
        )
        .unwrap();
    j.outbox_delivered(rejected).unwrap();
    // Never to be removed: waiting, printing, printed, approve pending,
    // approve refused and parked.
    j.receive(&key("received"), "{}").unwrap();
    j.receive(&key("printing"), "{}").unwrap();
    j.apply(&key("printing"), &start_printing(102)).unwrap();
    j.receive(&key("printed"), "{}").unwrap();
    j.apply(&key("printed"), &start_printing(103)).unwrap();
    j.apply(&key("printed"), &Event::Printed(printed(103)))
        .unwrap();
    j.receive(&key("approving"), "{}").unwrap();
    j.apply(&key("approving"), &start_printing(104)).unwrap();
    j.apply(&key("approving"), &Event::Printed(printed(104)))
        .unwrap();
    j.apply_and_enqueue(&key("approving"), &Event::StartApproving, &approve())
        .unwrap();
    let parked = approve_fully(&j, &key("resent"), 105);
    let again = j.enqueue_for_operation(&key("resent"), &approve()).unwrap();
    j.outbox_failed_permanently(again, "400: refused").unwrap();
    // Shifts: synced and old, close not delivered, and the latest one.
    let synced = closed_shift(&j, 10, true);
    let unsynced = closed_shift(&j, 20, false);
    let latest = closed_shift(&j, 30, true);

    // Within keep_days nothing goes.
    let now = Timestamp::now();
    assert_eq!(j.prune(400, now).unwrap(), Default::default());
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(401 * 24))
        .unwrap();
    let pruned = j.prune(400, later).unwrap();
    assert_eq!((pruned.operations, pruned.shifts), (2, 1));

    for gone in ["approved", "rejected"] {
        assert!(j.get(&key(gone)).unwrap().is_none(), "{gone} kept");
    }
    let file = rusqlite::Connection::open(dir.path().join("journal.db")).unwrap();
    let orphans: i64 = file
        .query_row(
            "SELECT (SELECT COUNT(*) FROM transitions WHERE operation NOT IN (SELECT id FROM operations))
                  + (SELECT COUNT(*) FROM outbox WHERE operation IS NOT NULL
                                                 AND operation NOT IN (SELECT id FROM operations))
                  + (SELECT COUNT(*) FROM outbox WHERE shift IS NOT NULL
                                                 AND shift NOT IN (SELECT id FROM shifts))",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        orphans, 0,
        "history or outbox rows of removed records left behind"
    );
    for kept in ["received", "printing", "printed", "approving", "resent"] {
        assert!(j.get(&key(kept)).unwrap().is_some(), "{kept} removed");
    }
    assert_eq!(
        j.outbox_entry(parked).unwrap().status,
        OutboxStatus::Delivered
    );
    assert_eq!(j.outbox_failed("shop1").unwrap().len(), 1);
    assert_eq!(j.outbox_pending("shop1").unwrap().len(), 2);
    assert!(j.shift(synced).is_err(), "synced old shift kept");
    assert!(j.shift(unsynced).is_ok(), "undelivered closeshift removed");
    assert!(j.shift(latest).is_ok(), "the kassa's latest shift removed");
    j.integrity_check().unwrap();
    // Pruning again removes nothing more, and the journal still works.
    assert_eq!(j.prune(400, later).unwrap(), Default::default());
    approve_fully(&j, &key("after"), 106);
    assert!(j.size_bytes().unwrap() > 0);
}

#[test]
fn the_download_cursor_survives_a_reopen_and_never_moves_back() {
    let dir = tempfile::tempdir().unwrap();
    let j = open(&dir);
    assert_eq!(j.download_cursor("cafe").unwrap(), None);
    let t1: Timestamp = "2026-12-01T10:00:00Z".parse().unwrap();
    let t0: Timestamp = "2026-12-01T09:00:00Z".parse().unwrap();
    j.advance_download_cursor("cafe", t1).unwrap();
    j.advance_download_cursor("cafe", t0).unwrap();
    drop(j);
    let j = open(&dir);
    assert_eq!(j.download_cursor("cafe").unwrap(), Some(t1));
    assert_eq!(j.download_cursor("other").unwrap(), None);
}

/// The cloud says it does not know a retail shift the agent counted as
/// opened: the openshift is queued again, byte for byte, once (a second
/// call while the copy waits adds nothing), and a shift this kassa never
/// opened is not invented.
#[test]
fn a_lost_openshift_is_queued_again_once() {
    let dir = tempfile::tempdir().unwrap();
    let j = Journal::open(dir.path().join("journal.db")).unwrap();
    let shift = j.begin_shift("shop1", "FN1", 50).unwrap();
    let body = format!(
        r#"{{"type":"open_shift","shift_id":"{}","n":1}}"#,
        shift.sync_id
    );
    let opened = ShiftOpened {
        shift_number: 3,
        doc: doc(50),
    };
    let (_, entry) = j
        .apply_shift_and_enqueue(
            shift.id,
            &ShiftEvent::Opened(opened),
            &OutboxRequest::new(OutboxKind::OpenShift, body.clone()),
        )
        .unwrap();
    j.outbox_delivered(entry).unwrap();
    assert!(j.outbox_pending("shop1").unwrap().is_empty());

    assert!(j.requeue_open_shift("shop1", &shift.sync_id).unwrap());
    assert!(j.requeue_open_shift("shop1", &shift.sync_id).unwrap());
    let pending = j.outbox_pending("shop1").unwrap();
    assert_eq!(pending.len(), 1, "one copy");
    assert_eq!(pending[0].kind, OutboxKind::OpenShift);
    assert_eq!(pending[0].body, body);
    assert_eq!(pending[0].shift, Some(shift.id));
    assert!(!j.requeue_open_shift("shop1", "another-shift").unwrap());
    assert!(!j.requeue_open_shift("shop2", &shift.sync_id).unwrap());
}
