//! The pure state machine of a fiscal shift (device shift and its MoySklad
//! retail shift together), the shift counterpart of [`super::state`].
//!
//! ```text
//! OPENING(syncId, expected FD) ──► OPEN(number, FN data) ──► CLOSING(expected FD) ──► CLOSED(FN data, totals)
//!   ▲   │ retry                     ▲   │                        │
//!   └───┘                           │   └── closed outside ──────┼──► CLOSED
//!                                   └──── Z-report not made ◄────┘
//! ```
//!
//! Like receipts, shift documents are fiscal documents: the journal records
//! the FD number the open/close document will get *before* the device makes
//! it, so recovery can tell whether it exists.

use kkt::{ShiftClosed, ShiftOpened};
use serde::{Deserialize, Serialize};

/// Where a shift is in its life. Stored as JSON (tagged by `state`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShiftState {
    /// About to open the shift on the device; the open-shift document will
    /// get `expected_fd`.
    Opening { expected_fd: u32 },
    /// Open on the device.
    Open { opened: ShiftOpened },
    /// About to close with a Z-report, which will get `expected_fd`.
    Closing {
        opened: ShiftOpened,
        expected_fd: u32,
    },
    /// Closed on the device. Final. `opened` is `None` only for a shift the
    /// agent never saw open.
    Closed {
        opened: Option<ShiftOpened>,
        closed: ShiftClosed,
    },
}

/// The name of a shift state, as stored in the `state` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ShiftStateName {
    Opening,
    Open,
    Closing,
    Closed,
}

impl ShiftStateName {
    /// Every state.
    pub const ALL: [ShiftStateName; 4] = [
        ShiftStateName::Opening,
        ShiftStateName::Open,
        ShiftStateName::Closing,
        ShiftStateName::Closed,
    ];

    /// The column value.
    pub fn as_str(&self) -> &'static str {
        match self {
            ShiftStateName::Opening => "OPENING",
            ShiftStateName::Open => "OPEN",
            ShiftStateName::Closing => "CLOSING",
            ShiftStateName::Closed => "CLOSED",
        }
    }

    /// Parses a column value.
    pub fn parse(text: &str) -> Option<ShiftStateName> {
        ShiftStateName::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for ShiftStateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ShiftState {
    /// The shift-open data, once the shift has been opened.
    pub fn opened(&self) -> Option<&ShiftOpened> {
        match self {
            ShiftState::Opening { .. } => None,
            ShiftState::Open { opened } | ShiftState::Closing { opened, .. } => Some(opened),
            ShiftState::Closed { opened, .. } => opened.as_ref(),
        }
    }

    /// The Z-report data, once the shift is closed.
    pub fn closed(&self) -> Option<&ShiftClosed> {
        match self {
            ShiftState::Closed { closed, .. } => Some(closed),
            _ => None,
        }
    }

    /// The state's name.
    pub fn name(&self) -> ShiftStateName {
        match self {
            ShiftState::Opening { .. } => ShiftStateName::Opening,
            ShiftState::Open { .. } => ShiftStateName::Open,
            ShiftState::Closing { .. } => ShiftStateName::Closing,
            ShiftState::Closed { .. } => ShiftStateName::Closed,
        }
    }
}

/// Something that happened to a shift.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShiftEvent {
    /// Recovery found the open-shift document was not made: try again, the
    /// document will now get `expected_fd`. The syncId stays the same.
    RetryOpening { expected_fd: u32 },
    /// The device opened the shift (or recovery found the document).
    Opened(ShiftOpened),
    /// The worker is about to print the Z-report.
    StartClosing { expected_fd: u32 },
    /// Recovery found the Z-report was not made: the shift is still open.
    CloseNotMade,
    /// The device closed the shift: by our Z-report (from CLOSING) or
    /// outside the agent, found by reconciliation (from OPEN).
    Closed(ShiftClosed),
}

/// The name of a shift event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ShiftEventName {
    RetryOpening,
    Opened,
    StartClosing,
    CloseNotMade,
    Closed,
}

impl ShiftEventName {
    /// Every event.
    pub const ALL: [ShiftEventName; 5] = [
        ShiftEventName::RetryOpening,
        ShiftEventName::Opened,
        ShiftEventName::StartClosing,
        ShiftEventName::CloseNotMade,
        ShiftEventName::Closed,
    ];
}

impl std::fmt::Display for ShiftEventName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self, f)
    }
}

impl ShiftEvent {
    /// The event's name.
    pub fn name(&self) -> ShiftEventName {
        match self {
            ShiftEvent::RetryOpening { .. } => ShiftEventName::RetryOpening,
            ShiftEvent::Opened(_) => ShiftEventName::Opened,
            ShiftEvent::StartClosing { .. } => ShiftEventName::StartClosing,
            ShiftEvent::CloseNotMade => ShiftEventName::CloseNotMade,
            ShiftEvent::Closed(_) => ShiftEventName::Closed,
        }
    }
}

/// Why a shift transition was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShiftTransitionError {
    #[error("{event} is not allowed for a shift in state {from}")]
    NotAllowed {
        from: ShiftStateName,
        event: ShiftEventName,
    },
    #[error("the Z-report closed shift {got}, but shift {expected} is the open one")]
    ShiftNumberMismatch { expected: u32, got: u32 },
}

/// Applies `event` to a shift in `state`.
pub fn apply_shift(
    state: &ShiftState,
    event: &ShiftEvent,
) -> Result<ShiftState, ShiftTransitionError> {
    let check_number = |opened: &ShiftOpened, closed: &ShiftClosed| {
        if opened.shift_number == closed.shift_number {
            Ok(())
        } else {
            Err(ShiftTransitionError::ShiftNumberMismatch {
                expected: opened.shift_number,
                got: closed.shift_number,
            })
        }
    };
    match (state, event) {
        (ShiftState::Opening { .. }, ShiftEvent::RetryOpening { expected_fd }) => {
            Ok(ShiftState::Opening {
                expected_fd: *expected_fd,
            })
        }
        (ShiftState::Opening { .. }, ShiftEvent::Opened(opened)) => {
            Ok(ShiftState::Open { opened: *opened })
        }
        (ShiftState::Open { opened }, ShiftEvent::StartClosing { expected_fd }) => {
            Ok(ShiftState::Closing {
                opened: *opened,
                expected_fd: *expected_fd,
            })
        }
        (ShiftState::Closing { opened, .. }, ShiftEvent::CloseNotMade) => {
            Ok(ShiftState::Open { opened: *opened })
        }
        (
            ShiftState::Closing { opened, .. } | ShiftState::Open { opened },
            ShiftEvent::Closed(c),
        ) => {
            check_number(opened, c)?;
            Ok(ShiftState::Closed {
                opened: Some(*opened),
                closed: *c,
            })
        }
        _ => Err(ShiftTransitionError::NotAllowed {
            from: state.name(),
            event: event.name(),
        }),
    }
}

/// The pairs (state, event) [`apply_shift`] accepts.
pub const SHIFT_ALLOWED: [(ShiftStateName, ShiftEventName); 6] = [
    (ShiftStateName::Opening, ShiftEventName::RetryOpening),
    (ShiftStateName::Opening, ShiftEventName::Opened),
    (ShiftStateName::Open, ShiftEventName::StartClosing),
    (ShiftStateName::Open, ShiftEventName::Closed),
    (ShiftStateName::Closing, ShiftEventName::CloseNotMade),
    (ShiftStateName::Closing, ShiftEventName::Closed),
];

#[cfg(test)]
mod tests {
    use super::*;
    use kkt::{DateTime, FiscalDoc};

    fn doc(number: u32) -> FiscalDoc {
        FiscalDoc {
            number,
            fiscal_sign: 42,
            time: DateTime::constant(2026, 11, 24, 9, 0, 0, 0),
        }
    }

    fn opened() -> ShiftOpened {
        ShiftOpened {
            shift_number: 5,
            doc: doc(100),
        }
    }

    fn closed(number: u32) -> ShiftClosed {
        ShiftClosed {
            shift_number: number,
            doc: doc(120),
            receipts_in_shift: 18,
            documents_in_shift: 20,
        }
    }

    fn sample_state(name: ShiftStateName) -> ShiftState {
        match name {
            ShiftStateName::Opening => ShiftState::Opening { expected_fd: 100 },
            ShiftStateName::Open => ShiftState::Open { opened: opened() },
            ShiftStateName::Closing => ShiftState::Closing {
                opened: opened(),
                expected_fd: 120,
            },
            ShiftStateName::Closed => ShiftState::Closed {
                opened: Some(opened()),
                closed: closed(5),
            },
        }
    }

    fn sample_event(name: ShiftEventName) -> ShiftEvent {
        match name {
            ShiftEventName::RetryOpening => ShiftEvent::RetryOpening { expected_fd: 101 },
            ShiftEventName::Opened => ShiftEvent::Opened(opened()),
            ShiftEventName::StartClosing => ShiftEvent::StartClosing { expected_fd: 120 },
            ShiftEventName::CloseNotMade => ShiftEvent::CloseNotMade,
            ShiftEventName::Closed => ShiftEvent::Closed(closed(5)),
        }
    }

    #[test]
    fn every_shift_state_event_pair_is_allowed_exactly_when_listed() {
        for s in ShiftStateName::ALL {
            for e in ShiftEventName::ALL {
                let result = apply_shift(&sample_state(s), &sample_event(e));
                if SHIFT_ALLOWED.contains(&(s, e)) {
                    assert!(result.is_ok(), "{s} + {e}: {result:?}");
                } else {
                    assert_eq!(
                        result,
                        Err(ShiftTransitionError::NotAllowed { from: s, event: e }),
                        "{s} + {e}"
                    );
                }
            }
        }
    }

    #[test]
    fn a_z_report_of_another_shift_is_refused() {
        let err = apply_shift(
            &sample_state(ShiftStateName::Closing),
            &ShiftEvent::Closed(closed(6)),
        )
        .unwrap_err();
        assert_eq!(
            err,
            ShiftTransitionError::ShiftNumberMismatch {
                expected: 5,
                got: 6
            }
        );
    }

    #[test]
    fn a_z_report_not_made_leaves_the_shift_open_with_its_data() {
        let next = apply_shift(
            &sample_state(ShiftStateName::Closing),
            &ShiftEvent::CloseNotMade,
        )
        .unwrap();
        assert_eq!(next, ShiftState::Open { opened: opened() });
    }
}
