//! Kassatka as a receipt source of the worker (`source = "kassatka"`): the
//! receipts of Kassatka cash boxes are downloaded periodically, in
//! overlapping windows ([`super::windows`]), and handed to the same journal
//! and exactly-once pipeline as MoySklad operations, keyed by
//! CashBoxCode + DocNum.
//!
//! Kassatka has nothing to approve or reject and no shifts or state to be
//! told about, so every outbox message is accepted at once (and logged);
//! the fiscal data stay in the journal, where `status` shows them.
//!
//! What the journal keeps for an operation is the receipt as a one-document
//! Documents XML, which reads back to exactly the same receipt, so recovery
//! renders the same receipt after a restart.

use super::client::KassatkaClient;
use super::documents::{DocumentsError, KassatkaReceipt, documents_to_xml, parse_documents_each};
use super::error::KassatkaError;
use super::waiting::{NoProgress, WaitPolicy};
use super::windows::{DownloadWindows, SeenKeys, query_time};
use crate::receipt::{OperationInput, PositionInput, RejectReason, TaxSystemInput};
use crate::worker::source::{
    OutboxMessage, Polled, ReceiptSource, SourceError, SourceOperation, StateReport,
};
use jiff::{SignedDuration, Timestamp};
use kkt::{ReceiptKind, TaxSystem, VatRate};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The operation kind shown in logs and status for Kassatka receipts.
pub const KIND: &str = "kassatka";

/// What a Kassatka receipt lacks for the fiscal printer, from configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KassatkaFiscal {
    /// `None`: the kassa's default tax system.
    pub tax_system: Option<TaxSystem>,
    /// VAT rate of every line (Kassatka's export has none).
    pub vat: VatRate,
}

impl Default for KassatkaFiscal {
    fn default() -> Self {
        KassatkaFiscal {
            tax_system: None,
            vat: VatRate::NoVat,
        }
    }
}

/// Clock of the source (replaceable in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Where the source saves its download cursor: called with the end of the
/// downloaded windows each time everything downloaded up to there has
/// been answered by the worker (so is in the journal).
pub type CursorSink = Arc<dyn Fn(Timestamp) + Send + Sync>;

/// Whether a receipt (by its idempotency key) is in the journal.
pub type KnownReceipts = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// Settings of a [`KassatkaSource`].
#[derive(Clone)]
pub struct KassatkaSourceSettings {
    /// Pause between downloads.
    pub interval: Duration,
    /// How far each window reaches back before the previous one's end:
    /// a receipt that reaches Kassatka up to this late is still fetched
    /// (config `lookback_minutes`).
    pub overlap: SignedDuration,
    /// Receipts dated before this are not fetched on the first download.
    pub start: Timestamp,
    /// Only receipts of these cash boxes (empty: all of the account's).
    pub cash_boxes: Vec<String>,
    pub fiscal: KassatkaFiscal,
    /// Waiting for one download process.
    pub wait: WaitPolicy,
    pub clock: Clock,
    /// Saves the download cursor (none: kept in memory only).
    pub cursor: Option<CursorSink>,
    /// Looks receipts up in the journal; with it, the whole previous day is
    /// downloaded again once a day and compared with the journal
    /// ([`Shared::reconcile_if_due`]).
    pub known: Option<KnownReceipts>,
}

impl KassatkaSourceSettings {
    /// Every minute, 15-minute overlap, from `start`, real clock.
    pub fn new(start: Timestamp) -> Self {
        KassatkaSourceSettings {
            interval: Duration::from_secs(60),
            overlap: SignedDuration::from_mins(15),
            start,
            cash_boxes: Vec::new(),
            fiscal: KassatkaFiscal::default(),
            wait: WaitPolicy::default(),
            clock: Arc::new(Timestamp::now),
            cursor: None,
            known: None,
        }
    }
}

impl std::fmt::Debug for KassatkaSourceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KassatkaSourceSettings")
            .field("interval", &self.interval)
            .field("overlap", &self.overlap)
            .field("start", &self.start)
            .field("cash_boxes", &self.cash_boxes)
            .field("fiscal", &self.fiscal)
            .field("cursor", &self.cursor.is_some())
            .field("known", &self.known.is_some())
            .finish_non_exhaustive()
    }
}

/// What the downloader hands to `poll`.
///
/// A receipt leaves the inbox only when the worker answers it (`deliver`
/// of its approve or reject), which happens after the journal holds it:
/// like MoySklad's queue, a receipt is handed out until it is answered, so
/// one the worker could not journal (full disk) is handed out again
/// instead of being lost.
#[derive(Default)]
struct Inbox {
    /// Downloaded, never handed out, oldest first.
    queue: VecDeque<SourceOperation>,
    /// Handed out, not answered yet: handed out again, in turn, once the
    /// queue is empty.
    handed_out: VecDeque<SourceOperation>,
    /// End of the downloaded windows, and the last one saved as cursor.
    covered_until: Option<Timestamp>,
    saved_cursor: Option<Timestamp>,
    /// The last download's failure, reported once by `poll`.
    error: Option<SourceError>,
    /// The last reconciliation's finding, while it found a difference.
    notes: Vec<String>,
}

/// What the source and its downloader task share.
struct Shared {
    client: KassatkaClient,
    settings: KassatkaSourceSettings,
    inbox: std::sync::Mutex<Inbox>,
}

/// The worker's view of a Kassatka account. Downloads run in a background
/// task (started by the first `poll`), so a slow Kassatka process never
/// holds up the worker's loop: `poll` only takes what was downloaded.
pub struct KassatkaSource {
    shared: Arc<Shared>,
    downloader: std::sync::Mutex<Option<JoinHandle<()>>>,
}

impl Drop for KassatkaSource {
    fn drop(&mut self) {
        if let Some(task) = lock(&self.downloader).take() {
            task.abort();
        }
    }
}

/// Locks a std mutex; the data stay consistent even if a holder panicked.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// Why the source of a configured kassa could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SourceSetupError {
    #[error("Kassatka token from {origin}: {message}")]
    Token { origin: String, message: String },
    #[error(transparent)]
    Client(#[from] KassatkaError),
}

impl KassatkaSource {
    /// The source of a `source = "kassatka"` kassa: its URL and token, only
    /// its cash box's receipts, from `start` on (e.g. the beginning of
    /// today: the journal keeps anything older from printing twice, so
    /// starting earlier than needed is safe, starting later loses receipts).
    pub fn for_kassa(
        config: &crate::config::KassatkaConfig,
        start: Timestamp,
    ) -> Result<Self, SourceSetupError> {
        KassatkaSource::configured(config, start, None, None)
    }

    fn configured(
        config: &crate::config::KassatkaConfig,
        start: Timestamp,
        cursor: Option<CursorSink>,
        known: Option<KnownReceipts>,
    ) -> Result<Self, SourceSetupError> {
        let secret = config.token.load().map_err(|e| SourceSetupError::Token {
            origin: config.token.describe(),
            message: e.to_string(),
        })?;
        let token = super::client::ApiToken::new(secret.expose().clone())?;
        let client = KassatkaClient::new(super::client::ClientConfig::new(
            config.api_url.clone(),
            token,
        ))?;
        let mut settings = KassatkaSourceSettings::new(start);
        settings.cash_boxes = vec![config.cash_box_code.clone()];
        settings.overlap = SignedDuration::from_mins(i64::from(config.lookback_minutes));
        settings.cursor = cursor;
        settings.known = known;
        Ok(KassatkaSource::new(client, settings))
    }

    /// The source of a configured kassa whose download cursor lives in
    /// `journal`: it resumes from the saved cursor (so receipts made while
    /// the daemon was down are fetched), or from `fallback_start` the first
    /// time, and saves the cursor as receipts are journaled.
    pub fn for_kassa_journaled(
        config: &crate::config::KassatkaConfig,
        journal: Arc<crate::journal::Journal>,
        kassa: &str,
        fallback_start: Timestamp,
    ) -> Result<Self, SourceSetupError> {
        let start = match journal.download_cursor(kassa) {
            Ok(Some(cursor)) => cursor,
            Ok(None) => fallback_start,
            Err(e) => {
                tracing::warn!(kassa, error = %e, "download cursor unreadable; starting from today");
                fallback_start
            }
        };
        let name = kassa.to_string();
        let lookup = (journal.clone(), name.clone());
        let known: KnownReceipts = Arc::new(move |id| {
            let key = crate::journal::OpKey::new(&lookup.1, crate::journal::Source::Kassatka, id);
            // An unreadable journal counts the receipt as missing: queued
            // again, the worker finds it journaled and never reprints it.
            matches!(lookup.0.get(&key), Ok(Some(_)))
        });
        let sink: CursorSink = Arc::new(move |until| {
            if let Err(e) = journal.advance_download_cursor(&name, until) {
                tracing::warn!(kassa = %name, error = %e, "download cursor not saved");
            }
        });
        KassatkaSource::configured(config, start, Some(sink), Some(known))
    }

    pub fn new(client: KassatkaClient, settings: KassatkaSourceSettings) -> Self {
        KassatkaSource {
            shared: Arc::new(Shared {
                client,
                settings,
                inbox: std::sync::Mutex::new(Inbox::default()),
            }),
            downloader: std::sync::Mutex::new(None),
        }
    }

    /// Starts the downloader task unless it runs already.
    fn ensure_downloading(&self) {
        let mut downloader = lock(&self.downloader);
        if downloader.as_ref().is_some_and(|task| !task.is_finished()) {
            return;
        }
        let shared = self.shared.clone();
        *downloader = Some(tokio::spawn(async move { shared.download_forever().await }));
    }
}

impl Shared {
    /// Downloads a window every interval, whether the last one worked or
    /// not (a failing Kassatka is not hammered, and a failed window is
    /// simply asked for again, wider, next time).
    async fn download_forever(&self) {
        let mut windows = DownloadWindows::new(self.settings.start, self.settings.overlap);
        let mut seen = SeenKeys::default();
        let mut reconciled = None;
        loop {
            let started = Instant::now();
            match self.download(&mut windows, &mut seen).await {
                Ok(()) => {
                    lock(&self.inbox).error = None;
                    self.reconcile_if_due(&mut reconciled).await;
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Kassatka download failed");
                    lock(&self.inbox).error = Some(e);
                }
            }
            tokio::time::sleep_until(started + self.settings.interval).await;
        }
    }

    /// Downloads one window and queues the receipts not handed out before.
    async fn download(
        &self,
        windows: &mut DownloadWindows,
        seen: &mut SeenKeys,
    ) -> Result<(), SourceError> {
        let now = (self.settings.clock)();
        let (from, to) = windows.next(now);
        let documents = self.fetch(from, to).await?;
        let mut new = Vec::new();
        for document in documents {
            let Some((op, date)) = self.operation_from(document) else {
                continue;
            };
            if seen.first_time(&op.id, date) {
                new.push(op);
            }
        }
        tracing::info!(
            from = %from, to = %to, new = new.len(),
            "Kassatka receipts downloaded"
        );
        windows.covered(to);
        {
            let mut inbox = lock(&self.inbox);
            inbox.queue.extend(new);
            inbox.covered_until = Some(windows.covered_until());
        }
        self.save_cursor_if_settled();
        seen.forget_before(windows.horizon());
        Ok(())
    }

    /// Once a day, from half past midnight (Moscow), downloads the whole
    /// previous day again (from `start` at the earliest) and compares it
    /// with the journal: a receipt that reached Kassatka later than the
    /// windows' look-back is found here, queued for printing, and the
    /// difference is shown in `status` until the next reconciliation.
    /// `reconciled` is the last day done; a failed attempt is retried with
    /// the next download.
    async fn reconcile_if_due(&self, reconciled: &mut Option<jiff::civil::Date>) {
        let Some(known) = &self.settings.known else {
            return;
        };
        let moscow = crate::worker::moscow();
        let now = moscow.to_datetime((self.settings.clock)());
        if now.time() < RECONCILE_AFTER {
            return;
        }
        let Ok(day) = now.date().yesterday() else {
            return;
        };
        if reconciled.is_some_and(|done| done >= day) {
            return;
        }
        let (Ok(day_start), Ok(day_end)) = (
            moscow.to_timestamp(day.to_datetime(jiff::civil::Time::midnight())),
            moscow.to_timestamp(now.date().to_datetime(jiff::civil::Time::midnight())),
        ) else {
            return;
        };
        if day_end <= self.settings.start {
            *reconciled = Some(day);
            return;
        }
        match self
            .reconcile(day_start.max(self.settings.start), day_end, known)
            .await
        {
            Ok((total, missing)) => {
                *reconciled = Some(day);
                let date = day.strftime("%d.%m.%Y");
                tracing::info!(%day, total, missing, "Kassatka day reconciled with the journal");
                lock(&self.inbox).notes = if missing == 0 {
                    Vec::new()
                } else {
                    vec![format!(
                        "сверка с Кассаткой за {date}: чеков в Кассатке {total}, из них {missing} \
                         не было в журнале (пришли позже окна загрузки) — поставлены в печать"
                    )]
                };
            }
            Err(e) => {
                tracing::warn!(%day, error = %e, "Kassatka reconciliation failed; retried later")
            }
        }
    }

    /// Downloads `[from, to)` and queues this kassa's receipts the journal
    /// and the inbox do not hold: (receipts of the day, receipts queued).
    async fn reconcile(
        &self,
        from: Timestamp,
        to: Timestamp,
        known: &KnownReceipts,
    ) -> Result<(usize, usize), SourceError> {
        let documents = self.fetch(from, to).await?;
        let mut total = 0;
        let mut missing = Vec::new();
        for document in documents {
            let Some((op, _)) = self.operation_from(document) else {
                continue;
            };
            total += 1;
            if !known(&op.id) {
                missing.push(op);
            }
        }
        let mut inbox = lock(&self.inbox);
        missing.retain(|op| {
            !inbox.queue.iter().any(|o| o.id == op.id)
                && !inbox.handed_out.iter().any(|o| o.id == op.id)
        });
        let queued = missing.len();
        inbox.queue.extend(missing);
        Ok((total, queued))
    }

    /// The receipts Kassatka holds for `[from, to)`: one download process,
    /// waited for; each document parsed on its own.
    async fn fetch(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<Result<KassatkaReceipt, DocumentsError>>, SourceError> {
        let key = self
            .client
            .request_receipts(query_time(from), query_time(to))
            .await
            .map_err(source_error)?;
        let body = self
            .client
            .wait_and_download_body(&key, &self.settings.wait, &mut NoProgress)
            .await
            .map_err(source_error)?;
        parse_documents_each(&body).map_err(|e| source_error(e.into()))
    }

    /// Saves the cursor when every downloaded receipt has been answered
    /// (nothing queued or handed out): everything up to the downloaded
    /// windows' end is then in the journal.
    fn save_cursor_if_settled(&self) {
        let Some(sink) = &self.settings.cursor else {
            return;
        };
        let until = {
            let mut inbox = lock(&self.inbox);
            if !inbox.queue.is_empty() || !inbox.handed_out.is_empty() {
                return;
            }
            match inbox.covered_until {
                Some(until) if inbox.saved_cursor != Some(until) => {
                    inbox.saved_cursor = Some(until);
                    until
                }
                _ => return,
            }
        };
        sink(until);
    }

    /// The operation for one downloaded document (with its date, for
    /// forgetting it later), or `None` if it is not this kassa's or cannot
    /// be identified at all.
    fn operation_from(
        &self,
        document: Result<KassatkaReceipt, DocumentsError>,
    ) -> Option<(SourceOperation, Timestamp)> {
        match document {
            Ok(receipt) => {
                if !self.wants(&receipt.head.cash_box_code) {
                    return None;
                }
                let date = receipt.head.date;
                let body = documents_to_xml(std::slice::from_ref(&receipt));
                Some((self.operation(receipt, body), date))
            }
            Err(error) => {
                let Some(key) = error.doc().and_then(|d| d.key()) else {
                    tracing::error!(%error, "Kassatka receipt without CashBoxCode/DocNum skipped");
                    return None;
                };
                if !self.wants(&key.cash_box_code) {
                    return None;
                }
                tracing::warn!(%error, "Kassatka receipt cannot be printed");
                let id = key.idempotency_key();
                let reason = unreadable_reason(&key.to_string(), &error.to_string());
                Some((
                    SourceOperation {
                        body: format!("{INVALID_PREFIX}{key}\n{error}"),
                        kind: KIND.into(),
                        reference: reference(&key.cash_box_code, &key.doc_num),
                        input: Err(reason),
                        id,
                    },
                    (self.settings.clock)(),
                ))
            }
        }
    }

    fn wants(&self, cash_box_code: &str) -> bool {
        self.settings.cash_boxes.is_empty()
            || self.settings.cash_boxes.iter().any(|c| c == cash_box_code)
    }

    fn operation(&self, receipt: KassatkaReceipt, body: String) -> SourceOperation {
        SourceOperation {
            id: receipt.key().idempotency_key(),
            body,
            kind: KIND.into(),
            reference: reference(&receipt.head.cash_box_code, &receipt.head.doc_num),
            input: Ok(operation_input(&receipt, &self.settings.fiscal)),
        }
    }
}

/// Moscow time after which the previous day is reconciled: receipts made
/// just before midnight have had time to reach Kassatka.
const RECONCILE_AFTER: jiff::civil::Time = jiff::civil::Time::constant(0, 30, 0, 0);

/// Marks a journal body of a receipt that could not be read; the body is
/// this prefix, the receipt (`189/5ad…`), a line break and the error.
const INVALID_PREFIX: &str = "invalid Kassatka receipt: ";

fn reference(cash_box_code: &str, doc_num: &str) -> serde_json::Value {
    serde_json::json!({ "cash_box_code": cash_box_code, "doc_num": doc_num })
}

fn unreadable_reason(key: &str, detail: &str) -> RejectReason {
    RejectReason(format!(
        "Ошибка данных: чек Кассатки {key} не прочитан ({detail})"
    ))
}

fn source_error(error: KassatkaError) -> SourceError {
    match &error {
        KassatkaError::Unauthorized { status, .. } => SourceError::Permanent {
            status: *status,
            message: error.to_string(),
        },
        _ => SourceError::Transient {
            message: error.to_string(),
            retry_after: None,
            shop: None,
        },
    }
}

/// A Kassatka receipt as the renderer's input: a sale, one position per
/// product at its price with the line's discount as a percentage and the
/// discounted sum as the line total Kassatka charged, paid by cash and
/// card as recorded. The renderer checks the rest (and rejects what does
/// not add up).
pub fn operation_input(receipt: &KassatkaReceipt, fiscal: &KassatkaFiscal) -> OperationInput {
    let vat_millionths = vat_millionths(fiscal.vat);
    let vat_enabled = vat_millionths.is_some();
    let positions = receipt
        .products
        .iter()
        .map(|line| PositionInput {
            name: Some(line.product_name.clone()),
            quantity: line.quantity,
            price: line.price,
            discount_millionths: discount_millionths(line.sum.0, line.discount.0),
            vat_millionths,
            vat_enabled: Some(vat_enabled),
            sum: Some(line.sum_with_discount),
            marks: Vec::new(),
            assortment: None,
            subject: None,
            components: Vec::new(),
        })
        .collect();
    OperationInput {
        kind: ReceiptKind::Sale,
        positions,
        cash: Some(receipt.head.pay_cash),
        card: Some(receipt.head.pay_card),
        qr: None,
        prepayment_cash: None,
        prepayment_card: None,
        prepayment_qr: None,
        sum: None,
        vat_enabled: Some(vat_enabled),
        vat_included: Some(true),
        tax_system: fiscal.tax_system.map(TaxSystemInput::Known),
        phone: None,
        email: None,
        has_base_document: true,
    }
}

/// The discount amount as millionths of a percent of the line sum (the
/// renderer's unit), rounded half up; `None` without a discount.
fn discount_millionths(sum: i64, discount: i64) -> Option<i64> {
    if discount == 0 || sum == 0 {
        return None;
    }
    let scaled = i128::from(discount) * 100_000_000;
    let sum = i128::from(sum);
    let rounded = (2 * scaled + sum) / (2 * sum);
    i64::try_from(rounded).ok()
}

fn vat_millionths(vat: VatRate) -> Option<i64> {
    let percent = match vat {
        VatRate::NoVat => return None,
        VatRate::Vat0 => 0,
        VatRate::Vat5 | VatRate::Vat5_105 => 5,
        VatRate::Vat7 | VatRate::Vat7_107 => 7,
        VatRate::Vat10 | VatRate::Vat10_110 => 10,
        VatRate::Vat20 | VatRate::Vat20_120 => 20,
        VatRate::Vat22 | VatRate::Vat22_122 => 22,
    };
    Some(percent * 1_000_000)
}

impl ReceiptSource for KassatkaSource {
    async fn poll(&self) -> Result<Polled, SourceError> {
        self.ensure_downloading();
        let mut inbox = lock(&self.shared.inbox);
        if let Some(op) = inbox.queue.pop_front() {
            if !inbox.handed_out.iter().any(|o| o.id == op.id) {
                inbox.handed_out.push_back(op.clone());
            }
            return Ok(Polled::Operation(Box::new(op)));
        }
        if let Some(op) = inbox.handed_out.pop_front() {
            inbox.handed_out.push_back(op.clone());
            return Ok(Polled::Operation(Box::new(op)));
        }
        match inbox.error.take() {
            Some(e) => Err(e),
            None => Ok(Polled::Empty),
        }
    }

    async fn deliver(&self, msg: &OutboxMessage) -> Result<(), SourceError> {
        // Kassatka keeps no fiscal data of ours: the journal is the record.
        // The answer only tells the inbox the receipt is journaled and
        // settled.
        tracing::debug!(message = %msg.label(), "Kassatka source: nothing to deliver");
        if let Some(id) = msg.op_id() {
            lock(&self.shared.inbox).handed_out.retain(|o| o.id != id);
            self.shared.save_cursor_if_settled();
        }
        Ok(())
    }

    fn notes(&self) -> Vec<String> {
        lock(&self.shared.inbox).notes.clone()
    }

    async fn report_state(&self, _report: &StateReport) -> Result<(), SourceError> {
        Ok(())
    }

    fn decode(&self, id: &str, body: &str) -> SourceOperation {
        if let Some(rest) = body.strip_prefix(INVALID_PREFIX) {
            let (key, detail) = rest.split_once('\n').unwrap_or((id, rest));
            return SourceOperation {
                id: id.to_string(),
                body: body.to_string(),
                kind: KIND.into(),
                reference: serde_json::Value::Null,
                input: Err(unreadable_reason(key, detail)),
            };
        }
        match parse_documents_each(body.as_bytes()) {
            Ok(mut documents) if documents.len() == 1 => match documents.remove(0) {
                Ok(receipt) => {
                    let mut op = self.shared.operation(receipt, body.to_string());
                    op.id = id.to_string();
                    op
                }
                Err(e) => SourceOperation {
                    id: id.to_string(),
                    body: body.to_string(),
                    kind: KIND.into(),
                    reference: serde_json::Value::Null,
                    input: Err(unreadable_reason(id, &e.to_string())),
                },
            },
            other => SourceOperation {
                id: id.to_string(),
                body: body.to_string(),
                kind: KIND.into(),
                reference: serde_json::Value::Null,
                input: Err(unreadable_reason(
                    id,
                    &match other {
                        Err(e) => e.to_string(),
                        Ok(d) => format!("{} documents instead of one", d.len()),
                    },
                )),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kassatka::ToKktReceipt;
    use crate::receipt::{RenderContext, render};
    use kkt::{Money, Quantity};

    fn seed() -> Vec<KassatkaReceipt> {
        crate::kassatka::seed_receipts()
    }

    fn context() -> RenderContext {
        RenderContext {
            device_tax_systems: vec![],
            default_tax_system: Some(TaxSystem::SimplifiedIncome),
            cashier: Some("Кассир".into()),
            ..Default::default()
        }
    }

    #[test]
    fn the_seed_receipts_render_to_what_the_buyer_paid() {
        let fiscal = KassatkaFiscal::default();
        for r in seed() {
            let input = operation_input(&r, &fiscal);
            let printed = render(&input, &context()).unwrap();
            assert_eq!(printed.kind, ReceiptKind::Sale);
            assert_eq!(printed.total(), Some(r.head.doc_sum_with_discount));
            assert_eq!(printed.payments.cash, r.head.pay_cash);
            assert_eq!(printed.payments.electronic, r.head.pay_card);
            assert_eq!(printed.tax_system, TaxSystem::SimplifiedIncome);
            let names: Vec<&str> = printed.positions.iter().map(|p| p.name.as_str()).collect();
            let expected: Vec<&str> = r.products.iter().map(|p| p.product_name.as_str()).collect();
            assert_eq!(names, expected);
            assert!(printed.positions.iter().all(|p| p.vat == VatRate::NoVat));
        }
    }

    #[test]
    fn the_worker_path_prints_what_the_direct_mapping_prints() {
        let profile = crate::kassatka::FiscalProfile {
            tax_system: TaxSystem::SimplifiedIncome,
            vat: VatRate::NoVat,
            object: kkt::PaymentObject::COMMODITY,
            cashier: Some("Кассир".into()),
        };
        for r in seed() {
            let direct = r.to_kkt_receipt(&profile).unwrap();
            let rendered =
                render(&operation_input(&r, &KassatkaFiscal::default()), &context()).unwrap();
            assert_eq!(rendered, direct, "{}", r.key());
        }
    }

    #[test]
    fn discounts_become_the_discounted_line_sums() {
        let discounted = &seed()[3];
        let input = operation_input(discounted, &KassatkaFiscal::default());
        assert_eq!(input.positions[1].discount_millionths, Some(30_000_000));
        let printed = render(&input, &context()).unwrap();
        let sums: Vec<Money> = printed.positions.iter().map(|p| p.sum).collect();
        assert_eq!(sums, [Money(7_000), Money(139_300), Money(35_000)]);
        assert_eq!(printed.positions[1].price, Money(139_300));
    }

    #[test]
    fn configured_vat_and_tax_system_are_applied() {
        let fiscal = KassatkaFiscal {
            tax_system: Some(TaxSystem::General),
            vat: VatRate::Vat20,
        };
        let printed = render(&operation_input(&seed()[1], &fiscal), &context()).unwrap();
        assert_eq!(printed.tax_system, TaxSystem::General);
        assert!(printed.positions.iter().all(|p| p.vat == VatRate::Vat20));
        assert_eq!(printed.positions[0].quantity, Quantity(2_000_000));
        assert_eq!(printed.total(), Some(Money(269_000)));
    }

    #[test]
    fn odd_discounts_and_fractional_quantities_still_render() {
        let mut r = seed()[0].clone();
        // 0.333 kg at 99.99: 33.30, discounted by 3.33 to 29.97.
        r.products.truncate(1);
        let line = &mut r.products[0];
        line.price = Money(9_999);
        line.quantity = Quantity(333_000);
        line.sum = Money(3_330);
        line.discount = Money(333);
        line.sum_with_discount = Money(2_997);
        r.head.doc_sum = Money(3_330);
        r.head.doc_sum_with_discount = Money(2_997);
        r.head.pay_cash = Money(2_997);
        r.head.pay_card = Money(0);
        r.check_sums(0).unwrap();
        let printed = render(&operation_input(&r, &KassatkaFiscal::default()), &context()).unwrap();
        assert_eq!(printed.total(), Some(Money(2_997)));
    }

    #[test]
    fn a_refused_token_is_permanent_everything_else_is_retried() {
        let refused = source_error(KassatkaError::Unauthorized {
            endpoint: "GET /receipts".into(),
            status: 401,
            message: "Неверный api-token".into(),
        });
        assert!(matches!(
            refused,
            SourceError::Permanent { status: 401, .. }
        ));
        let down = source_error(KassatkaError::Server {
            endpoint: "GET /receipts".into(),
            status: 502,
            message: "Bad Gateway".into(),
        });
        assert!(matches!(down, SourceError::Transient { .. }));
    }

    #[test]
    fn discount_percent_rounds_half_up() {
        assert_eq!(discount_millionths(10_000, 3_000), Some(30_000_000));
        assert_eq!(discount_millionths(30_000, 10_000), Some(33_333_333));
        assert_eq!(discount_millionths(30_000, 20_000), Some(66_666_667));
        assert_eq!(discount_millionths(10_000, 0), None);
        assert_eq!(discount_millionths(0, 0), None);
    }
}
