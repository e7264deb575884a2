//! Fiscal shifts, kept in step with MoySklad retail shifts.
//!
//! Before a receipt the worker makes sure a shift is open on the device:
//! opens one if closed, closes (Z-report) and reopens one past 24 h. Each
//! fiscal shift gets a syncId journaled *before* the device is asked, so a
//! crash in between reuses it; `openshift` / `closeshift` go through the
//! outbox with the FN data of the shift documents. A shift found open or
//! closed on the device without a journal entry (crash after the device
//! answered, or someone used the printer's keyboard) is adopted: its
//! document is looked up in the FN archive.

use super::error::WorkerError;
use super::source::{OutboxMessage, ShiftDoc};
use super::status::{KassaStatus, StatusCell};
use super::store::{ShiftClose, ShiftRecord, Store};
use crate::device::DeviceHandle;
use kkt::{ArchivedDocument, DocumentKind, KktError, ShiftState};

/// Shift handling for one kassa, over the narrow part of it that shifts
/// touch: the device, the journal and the status cell. The loop
/// ([`super::kassa`]) borrows one for a step and then reports what it
/// gathered in [`Shifts::notices`].
pub(super) struct Shifts<'a, J: Store> {
    /// Kassa name, for the log.
    pub name: &'a str,
    /// Cashier on shift documents (tag 1021).
    pub cashier: &'a str,
    pub device: &'a DeviceHandle,
    pub store: &'a J,
    pub status: &'a StatusCell,
    /// Things the shop must be told (Russian, for status): a shift closed
    /// outside the agent whose close document is not in the archive.
    pub notices: Vec<String>,
}

/// How far back the FN archive is searched for a shift document.
const ARCHIVE_SEARCH_LIMIT: u32 = 500;

/// The number the FN's next document will get; a device claiming its last
/// is `u32::MAX` is answering nonsense, never wrapped to 0.
pub(super) fn next_fd(last: u32) -> Result<u32, KktError> {
    last.checked_add(1)
        .ok_or_else(|| KktError::Protocol(format!("the FN reports last document number {last}")))
}

impl<J: Store> Shifts<'_, J> {
    /// Makes sure a shift is open; returns its syncId.
    pub(super) async fn ensure(&mut self) -> Result<String, WorkerError> {
        let state = self.device.call(|k| k.shift_state()).await?;
        self.status.update(|s| s.apply_shift_state(&state));
        let rec = self.store.current_shift()?;
        match state {
            ShiftState::Closed { .. } => {
                let intent = match rec {
                    Some(r) if r.opened.is_some() => {
                        self.reconcile_closed(&r).await?;
                        None
                    }
                    other => other,
                };
                self.open(intent).await
            }
            ShiftState::Open { number, .. } => Ok(self.adopt_if_needed(number, rec).await?.id),
            ShiftState::Expired { number, .. } => {
                tracing::info!(kassa = %self.name, shift = number, "shift is over 24 h: closing and reopening");
                let rec = self.adopt_if_needed(number, rec).await?;
                self.close(&rec).await?;
                self.open(None).await
            }
        }
    }

    /// Opens a shift on the device under the journaled syncId of `intent`
    /// (a shift left in OPENING) or of a new one.
    async fn open(&mut self, intent: Option<ShiftRecord>) -> Result<String, WorkerError> {
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        let rec = match intent {
            Some(r) => r,
            None => self
                .store
                .begin_shift(&fn_info.serial, next_fd(fn_info.last_fd_number)?)?,
        };
        let cashier = self.cashier.to_string();
        let opened = self.device.call(move |k| k.open_shift(&cashier)).await?;
        let doc = ShiftDoc {
            fn_serial: fn_info.serial,
            shift_number: opened.shift_number,
            fd_number: opened.doc.number,
            fiscal_sign: opened.doc.fiscal_sign,
            time: opened.doc.time,
        };
        let msg = OutboxMessage::OpenShift {
            shift_id: rec.id.clone(),
            opened: doc.clone(),
        };
        self.store.shift_opened(rec.row, &doc, &msg)?;
        tracing::info!(kassa = %self.name, shift = doc.shift_number, fd = doc.fd_number, "shift opened");
        self.refresh_status().await;
        Ok(rec.id)
    }

    /// The journal's record of the device's open shift `number`, adopting
    /// the shift if the journal does not know it.
    async fn adopt_if_needed(
        &mut self,
        number: u32,
        rec: Option<ShiftRecord>,
    ) -> Result<ShiftRecord, WorkerError> {
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        let mut intent = None;
        if let Some(r) = rec {
            match &r.opened {
                Some(o) if o.shift_number == number && o.fn_serial == fn_info.serial => {
                    if r.closing.is_some() {
                        // The Z-report was started but the shift is still
                        // open: it was not made.
                        self.store.shift_close_not_made(r.row)?;
                    }
                    return Ok(ShiftRecord { closing: None, ..r });
                }
                Some(_) => self.reconcile_closed(&r).await?,
                None => intent = Some(r),
            }
        }
        let rec = match intent {
            Some(r) => r,
            None => self
                .store
                .begin_shift(&fn_info.serial, next_fd(fn_info.last_fd_number)?)?,
        };
        let found = self
            .find_document(DocumentKind::ShiftOpen, 0, fn_info.last_fd_number)
            .await?;
        let Some(d) = found else {
            return Err(WorkerError::Device(KktError::Protocol(format!(
                "shift {number} is open but its opening document is not in the last {ARCHIVE_SEARCH_LIMIT} FN documents"
            ))));
        };
        let doc = ShiftDoc {
            fn_serial: fn_info.serial.clone(),
            shift_number: number,
            fd_number: d.doc.number,
            fiscal_sign: d.doc.fiscal_sign,
            time: d.doc.time,
        };
        let msg = OutboxMessage::OpenShift {
            shift_id: rec.id.clone(),
            opened: doc.clone(),
        };
        self.store.shift_opened(rec.row, &doc, &msg)?;
        tracing::info!(kassa = %self.name, shift = number, fd = doc.fd_number, "adopted a shift opened outside the journal");
        Ok(ShiftRecord {
            opened: Some(doc),
            closing: None,
            ..rec
        })
    }

    /// The journal's shift `r` is no longer open on the device: find its
    /// close document and record it.
    async fn reconcile_closed(&mut self, r: &ShiftRecord) -> Result<(), WorkerError> {
        let Some(opened) = r.opened.clone() else {
            return Ok(());
        };
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        let found = if fn_info.serial == opened.fn_serial {
            self.find_document(
                DocumentKind::ShiftClose,
                opened.fd_number,
                fn_info.last_fd_number,
            )
            .await?
        } else {
            None
        };
        let close = match found {
            Some(d) => ShiftClose {
                doc: ShiftDoc {
                    fn_serial: opened.fn_serial.clone(),
                    shift_number: opened.shift_number,
                    fd_number: d.doc.number,
                    fiscal_sign: d.doc.fiscal_sign,
                    time: d.doc.time,
                },
                receipts: self.count_receipts(opened.fd_number, d.doc.number).await?,
                documents: d
                    .doc
                    .number
                    .saturating_sub(opened.fd_number)
                    .saturating_add(1),
            },
            None => {
                // Cannot be described exactly; record it so a new shift can
                // start, and say so.
                self.notices.push(format!(
                    "смена №{} закрыта вне агента, документ закрытия не найден",
                    opened.shift_number
                ));
                ShiftClose {
                    doc: opened.clone(),
                    receipts: 0,
                    documents: 0,
                }
            }
        };
        let msg = OutboxMessage::CloseShift {
            shift_id: r.id.clone(),
            opened: opened.clone(),
            closed: close.doc.clone(),
            receipts: close.receipts,
            documents: close.documents,
        };
        self.store.shift_closed(r.row, &close, &msg)?;
        tracing::info!(kassa = %self.name, shift = opened.shift_number, "recorded a shift closed outside the journal");
        Ok(())
    }

    async fn count_receipts(&mut self, from: u32, to: u32) -> Result<u32, WorkerError> {
        if to.saturating_sub(from) > ARCHIVE_SEARCH_LIMIT {
            return Ok(0);
        }
        let mut n = 0;
        for fd in from.saturating_add(1)..to {
            let doc = self.device.call(move |k| k.read_document(fd)).await?;
            if doc.kind == DocumentKind::Receipt {
                n += 1;
            }
        }
        Ok(n)
    }

    /// The newest document of `kind` with a number in `(after, last]`.
    async fn find_document(
        &mut self,
        kind: DocumentKind,
        after: u32,
        last: u32,
    ) -> Result<Option<ArchivedDocument>, WorkerError> {
        let lowest = after
            .max(last.saturating_sub(ARCHIVE_SEARCH_LIMIT))
            .saturating_add(1);
        for fd in (lowest..=last).rev() {
            let doc = self.device.call(move |k| k.read_document(fd)).await?;
            if doc.kind == kind {
                return Ok(Some(doc));
            }
        }
        Ok(None)
    }

    /// Closes the device's open shift, adopting it first if the journal
    /// does not know it; the outcome in Russian.
    pub(super) async fn close_current(&mut self) -> Result<String, WorkerError> {
        let state = self.device.call(|k| k.shift_state()).await?;
        let Some(number) = state.open_number() else {
            return Ok("смена уже закрыта".to_string());
        };
        let rec = self.store.current_shift()?;
        let rec = self.adopt_if_needed(number, rec).await?;
        self.close(&rec).await?;
        Ok(format!("смена №{number} закрыта"))
    }

    async fn close(&mut self, rec: &ShiftRecord) -> Result<(), WorkerError> {
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        self.store
            .shift_closing(rec.row, next_fd(fn_info.last_fd_number)?)?;
        let cashier = self.cashier.to_string();
        let closed = self.device.call(move |k| k.close_shift(&cashier)).await?;
        let doc = ShiftDoc {
            fn_serial: fn_info.serial,
            shift_number: closed.shift_number,
            fd_number: closed.doc.number,
            fiscal_sign: closed.doc.fiscal_sign,
            time: closed.doc.time,
        };
        let close = ShiftClose {
            doc: doc.clone(),
            receipts: closed.receipts_in_shift,
            documents: closed.documents_in_shift,
        };
        let msg = OutboxMessage::CloseShift {
            shift_id: rec.id.clone(),
            opened: rec.opened.clone().unwrap_or_else(|| doc.clone()),
            closed: doc.clone(),
            receipts: close.receipts,
            documents: close.documents,
        };
        self.store.shift_closed(rec.row, &close, &msg)?;
        tracing::info!(kassa = %self.name, shift = doc.shift_number, fd = doc.fd_number, "shift closed");
        self.refresh_status().await;
        Ok(())
    }

    /// The syncId of shift `number` for a recovered receipt; `None` when
    /// neither the journal nor the device knows that shift (an approve
    /// must never reference an empty or a wrong retailShift).
    pub(super) async fn shift_id_for(
        &mut self,
        number: u32,
    ) -> Result<Option<String>, WorkerError> {
        let rec = self.store.current_shift()?;
        if let Some(r) = &rec
            && r.opened.as_ref().is_some_and(|o| o.shift_number == number)
            && !r.id.is_empty()
        {
            return Ok(Some(r.id.clone()));
        }
        let state = self.device.call(|k| k.shift_state()).await?;
        if number != 0 && state.open_number() == Some(number) {
            let id = self.adopt_if_needed(number, rec).await?.id;
            return Ok((!id.is_empty()).then_some(id));
        }
        tracing::warn!(kassa = %self.name, shift = number, "recovered receipt's shift is not known to the journal");
        Ok(None)
    }

    pub(super) async fn refresh_status(&mut self) {
        if let Ok(state) = self.device.call(|k| k.shift_state()).await {
            self.status.update(|s| s.apply_shift_state(&state));
        }
    }
}

/// True when a daily close time is set, has passed at `now`, and the open
/// shift (as `status` last saw it) began before it.
pub(super) fn daily_close_due(
    at: Option<jiff::civil::Time>,
    status: &KassaStatus,
    now: kkt::DateTime,
) -> bool {
    let Some(at) = at else {
        return false;
    };
    let Some(shift) = status.shift.as_ref().filter(|s| s.state != "closed") else {
        return false;
    };
    let Some(opened_at) = shift.opened_at else {
        return false;
    };
    let today_close = now.date().to_datetime(at);
    now >= today_close && opened_at < today_close
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::status::ShiftStatus;
    use jiff::civil::{date, time};

    fn opened_at(at: kkt::DateTime) -> KassaStatus {
        KassaStatus {
            shift: Some(ShiftStatus {
                state: "open".into(),
                number: 7,
                opened_at: Some(at),
            }),
            ..KassaStatus::default()
        }
    }

    #[test]
    fn daily_close_is_due_once_the_time_passed_for_a_shift_opened_before_it() {
        let close = Some(time(23, 0, 0, 0));
        let morning = opened_at(date(2026, 3, 1).at(9, 0, 0, 0));
        assert!(!daily_close_due(
            close,
            &morning,
            date(2026, 3, 1).at(22, 59, 0, 0)
        ));
        assert!(daily_close_due(
            close,
            &morning,
            date(2026, 3, 1).at(23, 0, 0, 0)
        ));
        // Reopened after today's close: due again only tomorrow.
        let late = opened_at(date(2026, 3, 1).at(23, 5, 0, 0));
        assert!(!daily_close_due(
            close,
            &late,
            date(2026, 3, 1).at(23, 30, 0, 0)
        ));
        assert!(daily_close_due(
            close,
            &late,
            date(2026, 3, 2).at(23, 0, 0, 0)
        ));
    }

    #[test]
    fn no_daily_close_without_a_time_or_an_open_shift() {
        let now = date(2026, 3, 1).at(23, 30, 0, 0);
        let morning = opened_at(date(2026, 3, 1).at(9, 0, 0, 0));
        assert!(!daily_close_due(None, &morning, now));
        let mut closed = morning.clone();
        if let Some(s) = closed.shift.as_mut() {
            s.state = "closed".into();
        }
        assert!(!daily_close_due(Some(time(23, 0, 0, 0)), &closed, now));
        assert!(!daily_close_due(
            Some(time(23, 0, 0, 0)),
            &KassaStatus::default(),
            now
        ));
    }

    #[test]
    fn next_fd_refuses_to_wrap() {
        assert_eq!(next_fd(41).ok(), Some(42));
        assert!(next_fd(u32::MAX).is_err());
    }
}
