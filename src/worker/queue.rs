//! An in-process MoySklad master queue: a [`ReceiptSource`] that hands out
//! queued operation bodies the way the cloud does (the first unsettled one,
//! again and again until approved or rejected) and records every request
//! body it was sent. Used by tests and benches that exercise the worker
//! without HTTP; the bodies are exactly those [`super::moysklad`] would put
//! on the wire.

use super::moysklad::{CloudRequest, cloud_request, decode, state_body};
use super::source::{
    OutboxMessage, Polled, ReceiptSource, SourceError, SourceOperation, StateReport,
};
use std::collections::VecDeque;
use std::sync::Mutex;

const BASE_URL: &str = "https://online.moysklad.ru/api/posap/1.0";

/// A request the queue received, as JSON.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// `approve`, `reject`, `openshift`, `closeshift` or `state`.
    pub endpoint: &'static str,
    pub body: serde_json::Value,
}

#[derive(Default)]
struct Inner {
    queue: VecDeque<(String, String)>,
    received: Vec<Received>,
    fail_next: u32,
}

/// The queue.
#[derive(Default)]
pub struct MemoryQueue {
    inner: Mutex<Inner>,
}

impl MemoryQueue {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues an operation body (its id is read from `meta`).
    pub fn push(&self, body: &str) -> String {
        let id = decode("", body).id;
        let id = if id.is_empty() {
            format!("op-{}", self.lock().queue.len())
        } else {
            id
        };
        self.lock().queue.push_back((id.clone(), body.to_string()));
        id
    }

    /// Operations not yet approved or rejected.
    pub fn queued(&self) -> usize {
        self.lock().queue.len()
    }

    /// Every request body received so far.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The next `n` requests fail with a temporary error.
    pub fn fail_next(&self, n: u32) {
        self.lock().fail_next = n;
    }
}

impl ReceiptSource for MemoryQueue {
    async fn poll(&self) -> Result<Polled, SourceError> {
        let mut s = self.lock();
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(SourceError::Transient {
                message: "503 (test)".into(),
                retry_after: None,
                shop: None,
            });
        }
        Ok(match s.queue.front() {
            Some((id, body)) => Polled::Operation(Box::new(decode(id, body))),
            None => Polled::Empty,
        })
    }

    async fn deliver(&self, msg: &OutboxMessage) -> Result<(), SourceError> {
        let mut s = self.lock();
        if s.fail_next > 0 {
            s.fail_next -= 1;
            return Err(SourceError::Transient {
                message: "502 (test)".into(),
                retry_after: None,
                shop: None,
            });
        }
        let (endpoint, body) = match cloud_request(msg, BASE_URL) {
            CloudRequest::Approve(a) => ("approve", serde_json::to_value(a)),
            CloudRequest::Reject(r) => ("reject", serde_json::to_value(r)),
            CloudRequest::OpenShift(o) => ("openshift", serde_json::to_value(o)),
            CloudRequest::CloseShift(c) => ("closeshift", serde_json::to_value(c)),
        };
        if let Some(id) = msg.op_id() {
            s.queue.retain(|(q, _)| q != id);
        }
        s.received.push(Received {
            endpoint,
            body: body.unwrap_or_default(),
        });
        Ok(())
    }

    async fn report_state(&self, report: &StateReport) -> Result<(), SourceError> {
        let body = serde_json::to_value(state_body(report)).unwrap_or_default();
        self.lock().received.push(Received {
            endpoint: "state",
            body,
        });
        Ok(())
    }

    fn decode(&self, id: &str, body: &str) -> SourceOperation {
        decode(id, body)
    }
}

/// Operations derived from the seed's four samples, made consistent (the
/// seed's own sums do not add up), plus the seed's sale as printed there,
/// which must be rejected.
pub mod samples {
    pub const SALE: &str = include_str!("samples/retaildemand.json");
    pub const SALE_RETURN: &str = include_str!("samples/retailsalesreturn.json");
    pub const PREPAYMENT: &str = include_str!("samples/prepayment.json");
    pub const PREPAYMENT_RETURN: &str = include_str!("samples/prepaymentreturn.json");
    pub const INVALID_SALE: &str = include_str!("samples/retaildemand_invalid.json");

    /// All five, in demo order.
    pub const ALL: [&str; 5] = [
        PREPAYMENT,
        SALE,
        SALE_RETURN,
        PREPAYMENT_RETURN,
        INVALID_SALE,
    ];

    /// A cash sale of catalogue items (`(href, quantity, price)` in the
    /// API's units) shaped like [`SALE`] but naming no tax system, so the
    /// store's default applies; `sync_id` keys it.
    pub fn catalogue_sale(sync_id: &str, lines: &[(String, f64, i64)]) -> serde_json::Value {
        use serde_json::json;
        let mut v: serde_json::Value = serde_json::from_str(SALE).unwrap_or_else(|_| json!({}));
        v["meta"]["href"] = json!(format!(
            "https://online.moysklad.ru/api/posap/1.0/entity/retaildemand/syncid/{sync_id}"
        ));
        let mut total = 0.0;
        let positions: Vec<serde_json::Value> = lines
            .iter()
            .map(|(href, quantity, price)| {
                total += quantity * *price as f64;
                json!({
                    "assortment": { "meta": { "href": href } },
                    "quantity": quantity,
                    "price": price,
                    "vat": 10,
                })
            })
            .collect();
        v["positions"] = json!(positions);
        v["cashSum"] = json!(total.round() as i64);
        v["noCashSum"] = json!(0);
        if let Some(map) = v.as_object_mut() {
            for key in [
                "taxSystem",
                "demand",
                "qrSum",
                "prepaymentCash",
                "prepaymentNoCash",
                "prepaymentQrSum",
            ] {
                map.remove(key);
            }
        }
        v
    }
}
