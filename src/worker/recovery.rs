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
use super::kassa::Kassa;
use super::source::{PrintedReceipt, PrinterInfo, ReceiptSource};
use super::store::Store;
use crate::journal::OpState;
use crate::receipt::render;
use kkt::{DocumentKind, Operation, ShiftState};

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// The receipt is in the FN: recorded PRINTED, approve queued.
    Printed,
    /// The receipt was not made: back to RECEIVED.
    NotPrinted,
    /// The FN or its archive does not match the journal: kassa stopped.
    Halted,
}

impl<S: ReceiptSource, J: Store> Kassa<S, J> {
    /// Full recovery; sets the recovered generation when it succeeds.
    pub(super) async fn recover(&mut self) -> Result<(), WorkerError> {
        let info = self.device.call(|k| k.device_info()).await?;
        let generation = self.device.generation();
        let printer = PrinterInfo::from_device(&info);
        self.device_tax_systems = info.tax_systems.clone();
        self.status.update(|s| s.printer = Some(printer.clone()));
        self.printer = Some(printer);
        tracing::info!(kassa = %self.cfg.name, model = %info.model, serial = %info.serial, "recovery: device found");
        // Another FN than the one the journal last worked with: whatever
        // is pending, nothing more is printed on it until someone checked
        // (the old FN's open shift must not be "closed" with made-up data).
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        let journaled = self.store.last_fn_serial()?;
        if let Some(old) = journaled
            && !old.is_empty()
            && old != fn_info.serial
        {
            self.halt(format!(
                "ФН заменён: журнал кассы вёлся на ФН {old}, а в ККТ ФН {}. Печать остановлена, нужна проверка",
                fn_info.serial
            ));
            return Ok(());
        }
        let pending = self.store.pending()?;
        for op in pending {
            if matches!(op.phase, OpState::Printing { .. })
                && self.recover_op(&op.id).await? == RecoveryOutcome::Halted
            {
                return Ok(());
            }
        }
        self.queue_missing_approves().await?;
        self.finish_interrupted_print().await?;
        if self.device.generation() == generation {
            self.recovered_gen = Some(generation);
        }
        Ok(())
    }

    /// Queues the approve of operations recorded PRINTED whose approve was
    /// not queued (a crash between the two journal writes).
    async fn queue_missing_approves(&mut self) -> Result<(), WorkerError> {
        for op in self.store.printed_unqueued()? {
            let OpState::Printed(fiscal) = &op.phase else {
                continue;
            };
            let decoded = self.source.decode(&op.id, &op.body);
            let receipt = decoded
                .input
                .clone()
                .ok()
                .and_then(|i| render(&i, &self.render_context()).ok());
            let Some(shift_id) = self.shift_id_for(fiscal.shift_number).await? else {
                self.halt_unknown_shift(&op.id, fiscal.fd_number, fiscal.shift_number);
                return Ok(());
            };
            let msg = self.approve_message(&op.id, &decoded, receipt.as_ref(), fiscal, shift_id);
            self.store.queue_approve(&op.id, &msg)?;
        }
        Ok(())
    }

    /// Continues printing interrupted by paper out (the document itself is
    /// already in the FN), and cancels a receipt nobody is printing.
    pub(super) async fn finish_interrupted_print(&mut self) -> Result<(), WorkerError> {
        let status = self.device.call(|k| k.status()).await?;
        if status.awaiting_continue {
            tracing::info!(kassa = %self.cfg.name, "continuing interrupted printing");
            self.device.call(|k| k.continue_print()).await?;
        }
        if status.receipt_open {
            let printing = self
                .store
                .pending()
                .map(|p| {
                    p.iter()
                        .any(|o| matches!(o.phase, OpState::Printing { .. }))
                })
                .unwrap_or(true);
            if !printing {
                tracing::warn!(kassa = %self.cfg.name, "cancelling a receipt left open");
                self.device.call(|k| k.cancel_receipt()).await?;
            }
        }
        Ok(())
    }

    /// Recovers one operation in PRINTING.
    pub(super) async fn recover_op(&mut self, id: &str) -> Result<RecoveryOutcome, WorkerError> {
        let Some(op) = self.store.get(id)? else {
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
        let fn_info = self.device.call(|k| k.fn_info()).await?;
        if fn_info.serial != fn_serial {
            self.halt(format!(
                "ФН заменён: операция {id} печаталась на ФН {fn_serial}, а в ККТ ФН {}. Печать остановлена, нужна проверка",
                fn_info.serial
            ));
            return Ok(RecoveryOutcome::Halted);
        }
        if fn_info.last_fd_number < expected_fd {
            let status = self.device.call(|k| k.status()).await?;
            if status.receipt_open {
                tracing::info!(kassa = %self.cfg.name, op = %id, "cancelling the unfinished receipt");
                self.device.call(|k| k.cancel_receipt()).await?;
            }
            self.store.not_printed(id)?;
            tracing::info!(kassa = %self.cfg.name, op = %id, "receipt was not made: will print again");
            return Ok(RecoveryOutcome::NotPrinted);
        }
        // The receipt is the first receipt at or after the expected number
        // (the device may have made another document first, e.g. an
        // automatic report). Bounded: a long gap is itself suspicious.
        let last = fn_info.last_fd_number;
        if last - expected_fd >= RECOVERY_SCAN_LIMIT {
            self.halt(format!(
                "операция {id}: ожидался чек ФД {expected_fd}, но в ФН уже {last} документов; сверка с ФН невозможна, печать остановлена, нужна проверка"
            ));
            return Ok(RecoveryOutcome::Halted);
        }
        let mut found = None;
        for fd in expected_fd..=last {
            let doc = self.device.call(move |k| k.read_document(fd)).await?;
            if doc.kind == DocumentKind::Receipt {
                found = Some(doc);
                break;
            }
        }
        let Some(doc) = found else {
            self.halt(format!(
                "операция {id}: в ФН нет чека среди ФД {expected_fd}–{last}, хотя номер документа уже занят. Печать остановлена, нужна проверка"
            ));
            return Ok(RecoveryOutcome::Halted);
        };
        let matches = doc.operation == Some(kind.operation()) && doc.total == Some(total);
        if !matches {
            self.halt(format!(
                "ФД {} в архиве ФН не совпадает с операцией {id}: в архиве {} на {}, ожидался {} на {}. Печать остановлена, нужна проверка",
                doc.doc.number,
                doc.operation.map(operation_ru).unwrap_or("чек без признака расчёта"),
                doc.total.map(|t| t.to_string()).unwrap_or_else(|| "неизвестную сумму".into()),
                operation_ru(kind.operation()),
                total,
            ));
            return Ok(RecoveryOutcome::Halted);
        }
        let decoded = self.source.decode(id, &op.body);
        // For the approve's buyer contact and tax system only; what was
        // printed is checked above against the journal.
        let receipt = decoded
            .input
            .clone()
            .and_then(|i| render(&i, &self.render_context()))
            .ok();
        let found_fd = doc.doc.number;
        // The receipt number and shift are those of the device's current
        // shift when this is the FN's last document (the usual case: nothing
        // is printed between a receipt and its journal entry).
        let shift = self.device.call(|k| k.shift_state()).await?;
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
        let Some(shift_id) = self.shift_id_for(shift_number).await? else {
            self.halt_unknown_shift(id, fiscal.fd_number, shift_number);
            return Ok(RecoveryOutcome::Halted);
        };
        tracing::info!(kassa = %self.cfg.name, op = %id, fd = found_fd, "receipt found in the FN archive: recorded as printed");
        self.record_printed(id, &decoded, receipt.as_ref(), fiscal, shift_id);
        self.finish_interrupted_print().await.ok();
        Ok(RecoveryOutcome::Printed)
    }

    /// A receipt exists in the FN but its shift cannot be named: its
    /// approve would reference a wrong or empty retailShift. Stop and say
    /// so; never guess.
    fn halt_unknown_shift(&mut self, id: &str, fd: u32, shift_number: u32) {
        self.halt(format!(
            "чек по операции {id} (ФД {fd}) есть в ФН, но его смена №{shift_number} неизвестна журналу: подтверждение не отправлено, печать остановлена, нужна проверка"
        ));
    }

    fn journal_shift_number(&self) -> Option<u32> {
        self.store
            .current_shift()
            .ok()
            .flatten()
            .and_then(|s| s.opened)
            .map(|d| d.shift_number)
    }
}
