//! Recovery: reconciling the journal with the FN after a start or a
//! reconnect (ARCHITECTURE.md, "Exactly-once printing across crashes").
//!
//! For each operation left in PRINTING:
//! - the FN's last FD ≥ the expected number → the receipt exists: read that
//!   document back, check kind, settlement sign and total, record PRINTED
//!   and approve; never print it again;
//! - otherwise cancel any receipt left open and put the operation back to
//!   RECEIVED, so it prints normally;
//! - another FN serial, or an archived document that does not match, stops
//!   the kassa: it is reported, never guessed.

use super::error::WorkerError;
use super::shift::Shifts;
use super::source::{OutboxMessage, PrintedReceipt, PrinterInfo, ReceiptSource, SourceOperation};
use super::store::Store;
use crate::journal::OpState;
use crate::receipt::{RenderContext, render};
use kkt::{DocumentKind, Operation, ShiftState, TaxSystem};

/// How many FN documents after the expected number recovery reads while
/// looking for an interrupted receipt.
const RECOVERY_SCAN_LIMIT: u32 = 50;

/// The settlement sign in Russian, for halt messages.
fn operation_ru(op: Operation) -> &'static str {
    match op {
        Operation::Income => "чек прихода",
        Operation::IncomeReturn => "чек возврата прихода",
        Operation::Expense => "чек расхода",
        Operation::ExpenseReturn => "чек возврата расхода",
    }
}

/// What recovery concluded about one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// The receipt is in the FN: recorded PRINTED, approve queued.
    Printed,
    /// The receipt was not made: back to RECEIVED.
    NotPrinted,
    /// The FN or its archive does not match the journal: the kassa must
    /// stop printing, for this reason (Russian, for the shop).
    Halted(String),
}

/// What an approve says besides the receipt's own fiscal data.
#[derive(Debug, Clone)]
pub(super) struct ApproveFacts {
    /// The kassa's configured tax system, for a receipt that names none.
    pub default_tax_system: Option<TaxSystem>,
    pub printer: PrinterInfo,
}

impl ApproveFacts {
    /// The approve of operation `op_id`, printed as `fiscal` in shift
    /// `shift_id`. `receipt` (the rendered receipt) brings the tax system
    /// and the buyer's contact.
    pub fn message(
        &self,
        op_id: &str,
        decoded: &SourceOperation,
        receipt: Option<&kkt::Receipt>,
        fiscal: &PrintedReceipt,
        shift_id: String,
    ) -> OutboxMessage {
        OutboxMessage::Approve {
            op_id: op_id.to_string(),
            kind: decoded.kind.clone(),
            reference: decoded.reference.clone(),
            fiscal: fiscal.clone(),
            tax_system: receipt
                .map(|r| r.tax_system)
                .or(self.default_tax_system)
                .unwrap_or(TaxSystem::General),
            buyer_contact: receipt.and_then(|r| r.buyer_contact.clone()),
            printer: self.printer.clone(),
            shift_id,
        }
    }
}

/// Recovery for one kassa: its shifts (device, journal, status), the
/// source that decodes journaled bodies, and what rendering and approves
/// need. Built by the loop for one recovery and dropped after it.
pub(super) struct Recovery<'a, S: ReceiptSource, J: Store> {
    pub shifts: Shifts<'a, J>,
    pub source: &'a S,
    pub render: RenderContext,
    pub approve: ApproveFacts,
    /// Receipts found in the FN and recorded PRINTED by this recovery:
    /// proof the FN signs again, which the loop's status reflects.
    pub found_printed: u32,
}

impl<S: ReceiptSource, J: Store> Recovery<'_, S, J> {
    /// Reconciles the whole journal with the FN: every operation left in
    /// PRINTING, approves not queued, a receipt left open. `Some(reason)`
    /// when the kassa must stop.
    pub async fn reconcile(&mut self) -> Result<Option<String>, WorkerError> {
        // Another FN than the one the journal last worked with: whatever
        // is pending, nothing more is printed on it until someone checked
        // (the old FN's open shift must not be "closed" with made-up data).
        let fn_info = self.shifts.device.call(|k| k.fn_info()).await?;
        let journaled = self.shifts.store.last_fn_serial()?;
        if let Some(old) = journaled
            && !old.is_empty()
            && old != fn_info.serial
        {
            return Ok(Some(format!(
                "ФН заменён: журнал кассы вёлся на ФН {old}, а в ККТ ФН {}. Печать остановлена, нужна проверка",
                fn_info.serial
            )));
        }
        let pending = self.shifts.store.pending()?;
        for op in pending {
            if matches!(op.phase, OpState::Printing { .. })
                && let RecoveryOutcome::Halted(reason) = self.recover_op(&op.id).await?
            {
                return Ok(Some(reason));
            }
        }
        if let Some(reason) = self.queue_missing_approves().await? {
            return Ok(Some(reason));
        }
        finish_interrupted_print(&self.shifts).await?;
        Ok(None)
    }

    /// Queues the approve of operations recorded PRINTED whose approve was
    /// not queued (a crash between the two journal writes).
    async fn queue_missing_approves(&mut self) -> Result<Option<String>, WorkerError> {
        for op in self.shifts.store.printed_unqueued()? {
            let OpState::Printed(fiscal) = &op.phase else {
                continue;
            };
            let decoded = self.source.decode(&op.id, &op.body);
            let receipt = decoded
                .input
                .clone()
                .ok()
                .and_then(|i| render(&i, &self.render).ok());
            let Some(shift_id) = self.shifts.shift_id_for(fiscal.shift_number).await? else {
                return Ok(Some(unknown_shift(
                    &op.id,
                    fiscal.fd_number,
                    fiscal.shift_number,
                )));
            };
            let msg = self
                .approve
                .message(&op.id, &decoded, receipt.as_ref(), fiscal, shift_id);
            self.shifts.store.queue_approve(&op.id, &msg)?;
        }
        Ok(None)
    }

    /// Recovers one operation in PRINTING.
    pub async fn recover_op(&mut self, id: &str) -> Result<RecoveryOutcome, WorkerError> {
        let Some(op) = self.shifts.store.get(id)? else {
            return Ok(RecoveryOutcome::NotPrinted);
        };
        let (expected_fd, fn_serial, kind, total) = match &op.phase {
            OpState::Printing {
                expected_fd,
                fn_serial,
                summary,
            } => (*expected_fd, fn_serial.clone(), summary.kind, summary.total),
            OpState::Received => return Ok(RecoveryOutcome::NotPrinted),
            _ => return Ok(RecoveryOutcome::Printed),
        };
        let fn_info = self.shifts.device.call(|k| k.fn_info()).await?;
        if fn_info.serial != fn_serial {
            return Ok(RecoveryOutcome::Halted(format!(
                "ФН заменён: операция {id} печаталась на ФН {fn_serial}, а в ККТ ФН {}. Печать остановлена, нужна проверка",
                fn_info.serial
            )));
        }
        if fn_info.last_fd_number < expected_fd {
            let status = self.shifts.device.call(|k| k.status()).await?;
            if status.receipt_open {
                tracing::info!(kassa = %self.shifts.name, op = %id, "cancelling the unfinished receipt");
                self.shifts.device.call(|k| k.cancel_receipt()).await?;
            }
            self.shifts.store.not_printed(id)?;
            tracing::info!(kassa = %self.shifts.name, op = %id, "receipt was not made: will print again");
            return Ok(RecoveryOutcome::NotPrinted);
        }
        // The receipt is the first receipt at or after the expected number
        // (the device may have made another document first, e.g. an
        // automatic report). Bounded: a long gap is itself suspicious.
        let last = fn_info.last_fd_number;
        if last - expected_fd >= RECOVERY_SCAN_LIMIT {
            return Ok(RecoveryOutcome::Halted(format!(
                "операция {id}: ожидался чек ФД {expected_fd}, но в ФН уже {last} документов; сверка с ФН невозможна, печать остановлена, нужна проверка"
            )));
        }
        let mut found = None;
        for fd in expected_fd..=last {
            let doc = self
                .shifts
                .device
                .call(move |k| k.read_document(fd))
                .await?;
            if doc.kind == DocumentKind::Receipt {
                found = Some(doc);
                break;
            }
        }
        let Some(doc) = found else {
            return Ok(RecoveryOutcome::Halted(format!(
                "операция {id}: в ФН нет чека среди ФД {expected_fd}–{last}, хотя номер документа уже занят. Печать остановлена, нужна проверка"
            )));
        };
        let matches = doc.operation == Some(kind.operation()) && doc.total == Some(total);
        if !matches {
            return Ok(RecoveryOutcome::Halted(format!(
                "ФД {} в архиве ФН не совпадает с операцией {id}: в архиве {} на {}, ожидался {} на {}. Печать остановлена, нужна проверка",
                doc.doc.number,
                doc.operation
                    .map(operation_ru)
                    .unwrap_or("чек без признака расчёта"),
                doc.total
                    .map(|t| t.to_string())
                    .unwrap_or_else(|| "неизвестную сумму".into()),
                operation_ru(kind.operation()),
                total,
            )));
        }
        let decoded = self.source.decode(id, &op.body);
        // For the approve's buyer contact and tax system only; what was
        // printed is checked above against the journal.
        let receipt = decoded
            .input
            .clone()
            .and_then(|i| render(&i, &self.render))
            .ok();
        let found_fd = doc.doc.number;
        // The receipt number and shift are those of the device's current
        // shift when this is the FN's last document (the usual case: nothing
        // is printed between a receipt and its journal entry).
        let shift = self.shifts.device.call(|k| k.shift_state()).await?;
        let (shift_number, receipt_number) = match shift {
            ShiftState::Open {
                number, receipts, ..
            }
            | ShiftState::Expired {
                number, receipts, ..
            } if fn_info.last_fd_number == found_fd => (number, receipts),
            other => (
                other
                    .open_number()
                    .or_else(|| self.journal_shift_number())
                    .unwrap_or(0),
                0,
            ),
        };
        let fiscal = PrintedReceipt {
            fn_serial,
            fd_number: doc.doc.number,
            fiscal_sign: doc.doc.fiscal_sign,
            time: doc.doc.time,
            shift_number,
            receipt_number,
            total,
        };
        let Some(shift_id) = self.shifts.shift_id_for(shift_number).await? else {
            return Ok(RecoveryOutcome::Halted(unknown_shift(
                id,
                fiscal.fd_number,
                shift_number,
            )));
        };
        tracing::info!(kassa = %self.shifts.name, op = %id, fd = found_fd, "receipt found in the FN archive: recorded as printed");
        self.shifts.store.printed(id, &fiscal)?;
        crate::metrics::counters().receipt(
            self.shifts.name,
            &decoded.kind,
            crate::metrics::Outcome::Printed,
        );
        let msg = self
            .approve
            .message(id, &decoded, receipt.as_ref(), &fiscal, shift_id);
        self.shifts.store.queue_approve(id, &msg)?;
        self.found_printed += 1;
        finish_interrupted_print(&self.shifts).await.ok();
        Ok(RecoveryOutcome::Printed)
    }

    fn journal_shift_number(&self) -> Option<u32> {
        self.shifts
            .store
            .current_shift()
            .ok()
            .flatten()
            .and_then(|s| s.opened)
            .map(|d| d.shift_number)
    }
}

/// A receipt exists in the FN but its shift cannot be named: its approve
/// would reference a wrong or empty retailShift. The kassa stops and says
/// so; it never guesses.
fn unknown_shift(id: &str, fd: u32, shift_number: u32) -> String {
    format!(
        "чек по операции {id} (ФД {fd}) есть в ФН, но его смена №{shift_number} неизвестна журналу: подтверждение не отправлено, печать остановлена, нужна проверка"
    )
}

/// Continues printing interrupted by paper out (the document itself is
/// already in the FN), and cancels a receipt nobody is printing.
pub(super) async fn finish_interrupted_print<J: Store>(
    shifts: &Shifts<'_, J>,
) -> Result<(), WorkerError> {
    let status = shifts.device.call(|k| k.status()).await?;
    if status.awaiting_continue {
        tracing::info!(kassa = %shifts.name, "continuing interrupted printing");
        shifts.device.call(|k| k.continue_print()).await?;
    }
    if status.receipt_open {
        let printing = shifts
            .store
            .pending()
            .map(|p| {
                p.iter()
                    .any(|o| matches!(o.phase, OpState::Printing { .. }))
            })
            .unwrap_or(true);
        if !printing {
            tracing::warn!(kassa = %shifts.name, "cancelling a receipt left open");
            shifts.device.call(|k| k.cancel_receipt()).await?;
        }
    }
    Ok(())
}
