//! The pure per-operation state machine of ARCHITECTURE.md ("The loop").
//!
//! ```text
//! RECEIVED ──► REJECTING(msg) ──► REJECTED
//!    │  ▲            ▲
//!    ▼  │ recovery   │ device refused the receipt (permanent error)
//! PRINTING(expected FD, FN serial, receipt summary) ──► PRINTED(fiscal data) ──► APPROVING ──► APPROVED
//! ```
//!
//! [`apply`] is the only place that decides whether a transition is legal;
//! the journal calls it inside the transaction that writes the new state, so
//! an illegal step can never reach the disk. It does no I/O, which is why it
//! can be tested exhaustively (every state × every event) and by proptest.
//!
//! The rules that keep printing exactly-once:
//! - only RECEIVED may start printing, so an operation that has reached
//!   PRINTED (or anything after it) can never be printed again;
//! - PRINTING may go back to RECEIVED only through [`Event::NotPrinted`],
//!   which the worker emits after the FN proved the receipt was not made;
//! - fiscal data, once recorded, is carried unchanged to APPROVED;
//! - a printed receipt is accepted only from the FN recorded at PRINTING,
//!   with an FD number not below the expected one and the rendered total.

use kkt::{DateTime, Money, ReceiptKind};
use serde::{Deserialize, Serialize};

/// Fiscal data of a printed receipt, as read back from the device or FN.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrintedReceipt {
    /// Serial number of the FN that signed the receipt.
    pub fn_serial: String,
    /// Fiscal document number (ФД).
    pub fd_number: u32,
    /// Fiscal sign (ФП).
    pub fiscal_sign: u32,
    /// When the FN signed it (device clock, civil time).
    pub time: DateTime,
    /// Fiscal shift the receipt belongs to.
    pub shift_number: u32,
    /// Receipt number within the shift.
    pub receipt_number: u32,
    /// Receipt total as the device computed it.
    pub total: Money,
}

/// What the worker rendered and is about to print: enough for recovery to
/// match a document found in the FN archive on kind and total, not number
/// alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptSummary {
    pub kind: ReceiptKind,
    pub total: Money,
}

/// Where an operation is in its life. The payload is what the state needs
/// to be acted upon after a crash. Stored as JSON (tagged by `state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OpState {
    /// Taken from the queue and journaled; nothing printed.
    Received,
    /// Decided to reject; the reject request is in the outbox.
    Rejecting { message: String },
    /// The cloud accepted the reject. Final.
    Rejected { message: String },
    /// About to print (or printing): the FN will give this receipt
    /// `expected_fd` if it gets made.
    Printing {
        expected_fd: u32,
        fn_serial: String,
        summary: ReceiptSummary,
    },
    /// The FN made the receipt.
    Printed(PrintedReceipt),
    /// The approve request is in the outbox.
    Approving(PrintedReceipt),
    /// The cloud accepted the approve. Final.
    Approved(PrintedReceipt),
}

impl OpState {
    /// Still to be printed (or its print to be settled by recovery).
    pub fn is_pending_print(&self) -> bool {
        matches!(self, OpState::Received | OpState::Printing { .. })
    }
}

/// The name of a state, without payload: what goes in the `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum StateName {
    Received,
    Rejecting,
    Rejected,
    Printing,
    Printed,
    Approving,
    Approved,
}

impl StateName {
    /// Every state, in the order of the happy path.
    pub const ALL: [StateName; 7] = [
        StateName::Received,
        StateName::Rejecting,
        StateName::Rejected,
        StateName::Printing,
        StateName::Printed,
        StateName::Approving,
        StateName::Approved,
    ];

    /// The column value, e.g. `"PRINTING"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            StateName::Received => "RECEIVED",
            StateName::Rejecting => "REJECTING",
            StateName::Rejected => "REJECTED",
            StateName::Printing => "PRINTING",
            StateName::Printed => "PRINTED",
            StateName::Approving => "APPROVING",
            StateName::Approved => "APPROVED",
        }
    }

    /// Parses a column value.
    pub fn parse(text: &str) -> Option<StateName> {
        StateName::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// True for states nothing more happens to.
    pub fn is_final(&self) -> bool {
        matches!(self, StateName::Rejected | StateName::Approved)
    }
}

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl OpState {
    /// The state's name.
    pub fn name(&self) -> StateName {
        match self {
            OpState::Received => StateName::Received,
            OpState::Rejecting { .. } => StateName::Rejecting,
            OpState::Rejected { .. } => StateName::Rejected,
            OpState::Printing { .. } => StateName::Printing,
            OpState::Printed(_) => StateName::Printed,
            OpState::Approving(_) => StateName::Approving,
            OpState::Approved(_) => StateName::Approved,
        }
    }

    /// The fiscal data, once the receipt exists.
    pub fn printed(&self) -> Option<&PrintedReceipt> {
        match self {
            OpState::Printed(p) | OpState::Approving(p) | OpState::Approved(p) => Some(p),
            _ => None,
        }
    }
}

/// Something that happened to an operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// Validation failed, or the device refused the receipt with a
    /// permanent error before the FN made it: reject with this text.
    Reject { message: String },
    /// The cloud accepted the reject.
    RejectDelivered,
    /// The worker is about to open the receipt on the device.
    StartPrinting {
        expected_fd: u32,
        fn_serial: String,
        summary: ReceiptSummary,
    },
    /// The FN made the receipt (normal close, or found by recovery).
    Printed(PrintedReceipt),
    /// Recovery proved the receipt was not made (FN's last FD is below
    /// the expected one on the same FN): print it again from scratch.
    NotPrinted,
    /// The approve request went into the outbox.
    StartApproving,
    /// The cloud accepted the approve.
    ApproveDelivered,
}

/// The name of an event, for error messages and exhaustive tests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventName {
    Reject,
    RejectDelivered,
    StartPrinting,
    Printed,
    NotPrinted,
    StartApproving,
    ApproveDelivered,
}

impl EventName {
    /// Every event.
    pub const ALL: [EventName; 7] = [
        EventName::Reject,
        EventName::RejectDelivered,
        EventName::StartPrinting,
        EventName::Printed,
        EventName::NotPrinted,
        EventName::StartApproving,
        EventName::ApproveDelivered,
    ];
}

impl std::fmt::Display for EventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl Event {
    /// The event's name.
    pub fn name(&self) -> EventName {
        match self {
            Event::Reject { .. } => EventName::Reject,
            Event::RejectDelivered => EventName::RejectDelivered,
            Event::StartPrinting { .. } => EventName::StartPrinting,
            Event::Printed(_) => EventName::Printed,
            Event::NotPrinted => EventName::NotPrinted,
            Event::StartApproving => EventName::StartApproving,
            Event::ApproveDelivered => EventName::ApproveDelivered,
        }
    }
}

/// Why a transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The event makes no sense in this state (e.g. printing an operation
    /// that is already PRINTED).
    #[error("{event} is not allowed in state {from}")]
    NotAllowed { from: StateName, event: EventName },
    /// The receipt was read back from a different FN than the one recorded
    /// when printing started: the kassa must stop, nothing may be guessed.
    #[error("receipt printed on FN {got}, but FN {expected} was recorded when printing started")]
    FnMismatch { expected: String, got: String },
    /// The receipt got a different FD number than the one expected.
    #[error("receipt got FD {got}, but FD {expected} was expected when printing started")]
    FdMismatch { expected: u32, got: u32 },
    /// The device's total differs from the rendered receipt's total.
    #[error("receipt total is {got:?}, but {expected:?} was rendered")]
    TotalMismatch { expected: Money, got: Money },
    /// A reject needs a reason the shop can read.
    #[error("a reject needs a non-empty message")]
    EmptyRejectMessage,
}

/// Applies `event` to `state`: the new state, or why it is not allowed.
pub fn apply(state: &OpState, event: &Event) -> Result<OpState, TransitionError> {
    let not_allowed = || TransitionError::NotAllowed {
        from: state.name(),
        event: event.name(),
    };
    match (state, event) {
        (OpState::Received | OpState::Printing { .. }, Event::Reject { message }) => {
            if message.trim().is_empty() {
                return Err(TransitionError::EmptyRejectMessage);
            }
            Ok(OpState::Rejecting {
                message: message.clone(),
            })
        }
        (OpState::Rejecting { message }, Event::RejectDelivered) => Ok(OpState::Rejected {
            message: message.clone(),
        }),
        (
            OpState::Received,
            Event::StartPrinting {
                expected_fd,
                fn_serial,
                summary,
            },
        ) => Ok(OpState::Printing {
            expected_fd: *expected_fd,
            fn_serial: fn_serial.clone(),
            summary: *summary,
        }),
        (
            OpState::Printing {
                expected_fd,
                fn_serial,
                summary,
            },
            Event::Printed(printed),
        ) => {
            if printed.fn_serial != *fn_serial {
                return Err(TransitionError::FnMismatch {
                    expected: fn_serial.clone(),
                    got: printed.fn_serial.clone(),
                });
            }
            // The FD may be above the expected number only if the FN made
            // another document in between (e.g. the device printed an
            // automatic report); below it is impossible.
            if printed.fd_number < *expected_fd {
                return Err(TransitionError::FdMismatch {
                    expected: *expected_fd,
                    got: printed.fd_number,
                });
            }
            if printed.total != summary.total {
                return Err(TransitionError::TotalMismatch {
                    expected: summary.total,
                    got: printed.total,
                });
            }
            Ok(OpState::Printed(printed.clone()))
        }
        (OpState::Printing { .. }, Event::NotPrinted) => Ok(OpState::Received),
        (OpState::Printed(p), Event::StartApproving) => Ok(OpState::Approving(p.clone())),
        (OpState::Approving(p), Event::ApproveDelivered) => Ok(OpState::Approved(p.clone())),
        _ => Err(not_allowed()),
    }
}

/// The pairs (state, event) [`apply`] accepts, by name. Written out by hand
/// as the specification the exhaustive test checks `apply` against.
pub const ALLOWED: [(StateName, EventName); 8] = [
    (StateName::Received, EventName::Reject),
    (StateName::Received, EventName::StartPrinting),
    (StateName::Rejecting, EventName::RejectDelivered),
    (StateName::Printing, EventName::Reject),
    (StateName::Printing, EventName::Printed),
    (StateName::Printing, EventName::NotPrinted),
    (StateName::Printed, EventName::StartApproving),
    (StateName::Approving, EventName::ApproveDelivered),
];

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn receipt(fn_serial: &str, fd: u32) -> PrintedReceipt {
        PrintedReceipt {
            fn_serial: fn_serial.to_string(),
            fd_number: fd,
            fiscal_sign: 123_456_789,
            time: DateTime::constant(2026, 11, 24, 12, 0, 0, 0),
            shift_number: 7,
            receipt_number: 3,
            total: Money(12_345),
        }
    }

    fn summary() -> ReceiptSummary {
        ReceiptSummary {
            kind: ReceiptKind::Sale,
            total: Money(12_345),
        }
    }

    fn sample_state(name: StateName) -> OpState {
        match name {
            StateName::Received => OpState::Received,
            StateName::Rejecting => OpState::Rejecting {
                message: "нет".into(),
            },
            StateName::Rejected => OpState::Rejected {
                message: "нет".into(),
            },
            StateName::Printing => OpState::Printing {
                expected_fd: 10,
                fn_serial: "FN1".into(),
                summary: summary(),
            },
            StateName::Printed => OpState::Printed(receipt("FN1", 10)),
            StateName::Approving => OpState::Approving(receipt("FN1", 10)),
            StateName::Approved => OpState::Approved(receipt("FN1", 10)),
        }
    }

    fn sample_event(name: EventName) -> Event {
        match name {
            EventName::Reject => Event::Reject {
                message: "Сумма позиций не равна сумме чека".into(),
            },
            EventName::RejectDelivered => Event::RejectDelivered,
            EventName::StartPrinting => Event::StartPrinting {
                expected_fd: 10,
                fn_serial: "FN1".into(),
                summary: summary(),
            },
            EventName::Printed => Event::Printed(receipt("FN1", 10)),
            EventName::NotPrinted => Event::NotPrinted,
            EventName::StartApproving => Event::StartApproving,
            EventName::ApproveDelivered => Event::ApproveDelivered,
        }
    }

    #[test]
    fn every_state_event_pair_is_allowed_exactly_when_listed() {
        for s in StateName::ALL {
            for e in EventName::ALL {
                let result = apply(&sample_state(s), &sample_event(e));
                if ALLOWED.contains(&(s, e)) {
                    assert!(result.is_ok(), "{s} + {e} should be allowed: {result:?}");
                } else {
                    assert_eq!(
                        result,
                        Err(TransitionError::NotAllowed { from: s, event: e }),
                        "{s} + {e} should be refused"
                    );
                }
            }
        }
    }

    #[test]
    fn allowed_transitions_land_in_the_documented_states() {
        use StateName::*;
        let expect = [
            (Received, EventName::Reject, Rejecting),
            (Received, EventName::StartPrinting, Printing),
            (Rejecting, EventName::RejectDelivered, Rejected),
            (Printing, EventName::Reject, Rejecting),
            (Printing, EventName::Printed, Printed),
            (Printing, EventName::NotPrinted, Received),
            (Printed, EventName::StartApproving, Approving),
            (Approving, EventName::ApproveDelivered, Approved),
        ];
        assert_eq!(expect.len(), ALLOWED.len());
        for (from, event, to) in expect {
            let got = apply(&sample_state(from), &sample_event(event)).unwrap();
            assert_eq!(got.name(), to, "{from} + {event}");
        }
    }

    #[test]
    fn final_states_accept_nothing() {
        for s in [StateName::Rejected, StateName::Approved] {
            assert!(s.is_final());
            for e in EventName::ALL {
                assert!(apply(&sample_state(s), &sample_event(e)).is_err());
            }
        }
    }

    #[test]
    fn a_printed_receipt_from_another_fn_is_refused() {
        let state = sample_state(StateName::Printing);
        let err = apply(&state, &Event::Printed(receipt("FN2", 10))).unwrap_err();
        assert_eq!(
            err,
            TransitionError::FnMismatch {
                expected: "FN1".into(),
                got: "FN2".into()
            }
        );
    }

    #[test]
    fn a_printed_receipt_below_the_expected_fd_is_refused() {
        let state = sample_state(StateName::Printing);
        let err = apply(&state, &Event::Printed(receipt("FN1", 9))).unwrap_err();
        assert_eq!(
            err,
            TransitionError::FdMismatch {
                expected: 10,
                got: 9
            }
        );
        // A later FD (the FN made another document in between) is accepted.
        assert!(apply(&state, &Event::Printed(receipt("FN1", 11))).is_ok());
    }

    #[test]
    fn a_printed_receipt_with_another_total_is_refused() {
        let state = sample_state(StateName::Printing);
        let mut printed = receipt("FN1", 10);
        printed.total = Money(12_300);
        let err = apply(&state, &Event::Printed(printed)).unwrap_err();
        assert_eq!(
            err,
            TransitionError::TotalMismatch {
                expected: Money(12_345),
                got: Money(12_300)
            }
        );
    }

    #[test]
    fn states_round_trip_through_json() {
        for s in StateName::ALL {
            let state = sample_state(s);
            let text = serde_json::to_string(&state).unwrap();
            assert!(text.contains(s.as_str()), "{text}");
            let back: OpState = serde_json::from_str(&text).unwrap();
            assert_eq!(back, state);
        }
    }

    #[test]
    fn a_reject_without_text_is_refused() {
        let err = apply(
            &OpState::Received,
            &Event::Reject {
                message: "  ".into(),
            },
        )
        .unwrap_err();
        assert_eq!(err, TransitionError::EmptyRejectMessage);
    }

    #[test]
    fn state_names_round_trip_through_their_column_text() {
        for s in StateName::ALL {
            assert_eq!(StateName::parse(s.as_str()), Some(s));
        }
        assert_eq!(StateName::parse("printing"), None);
    }

    fn any_event() -> impl Strategy<Value = Event> {
        prop_oneof![
            "[а-я ]{0,8}".prop_map(|message| Event::Reject { message }),
            Just(Event::RejectDelivered),
            (1u32..20, prop_oneof![Just("FN1"), Just("FN2")]).prop_map(|(fd, fn_serial)| {
                Event::StartPrinting {
                    expected_fd: fd,
                    fn_serial: fn_serial.to_string(),
                    summary: summary(),
                }
            }),
            (1u32..20, prop_oneof![Just("FN1"), Just("FN2")])
                .prop_map(|(fd, fn_serial)| Event::Printed(receipt(fn_serial, fd))),
            Just(Event::NotPrinted),
            Just(Event::StartApproving),
            Just(Event::ApproveDelivered),
        ]
    }

    proptest! {
        /// Whatever the worker throws at an operation, it is printed at
        /// most once, its fiscal data never changes, and final states stay
        /// final.
        #[test]
        fn random_event_sequences_keep_the_invariants(events in prop::collection::vec(any_event(), 0..60)) {
            let mut state = OpState::Received;
            let mut fiscal: Option<PrintedReceipt> = None;
            let mut rejected = false;
            for event in &events {
                let before = state.name();
                match apply(&state, event) {
                    Ok(next) => {
                        prop_assert!(ALLOWED.contains(&(before, event.name())));
                        prop_assert!(!before.is_final());
                        if let Some(p) = next.printed() {
                            match &fiscal {
                                None => fiscal = Some(p.clone()),
                                Some(f) => prop_assert_eq!(f, p),
                            }
                        }
                        // Once the receipt exists the operation never goes
                        // back to a state from which it could be printed.
                        if fiscal.is_some() {
                            prop_assert!(next.printed().is_some());
                        }
                        if matches!(next, OpState::Rejecting { .. } | OpState::Rejected { .. }) {
                            rejected = true;
                        }
                        let next_is_reject = matches!(next, OpState::Rejecting { .. } | OpState::Rejected { .. });
                        if rejected {
                            prop_assert!(next_is_reject);
                        }
                        state = next;
                    }
                    Err(_) => {
                        // Refused although listed: only the data checks of
                        // Printed and Reject may do that.
                        let checked = matches!(event, Event::Printed(_) | Event::Reject { .. });
                        prop_assert!(!ALLOWED.contains(&(before, event.name())) || checked);
                    }
                }
            }
        }
    }
}
