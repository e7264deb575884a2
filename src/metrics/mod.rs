//! Prometheus metrics (`[metrics] listen = "127.0.0.1:9464"`, off unless
//! configured): `GET /metrics` on that address serves the text exposition
//! format, encoded by `prometheus-client`.
//!
//! Every value is read at scrape time from the kassas' live status (the
//! same snapshot `status` shows), so a metric can never drift from what
//! the operator sees, and the worker's hot path is not touched. Ages are
//! seconds relative to the scrape; a value nobody has measured yet (FN not
//! read, never polled) is left out rather than exported as 0.

mod counters;

pub use counters::{Counters, Outcome, counters};

use crate::control::Registry;
use crate::worker::status::KassaStatus;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(String, String)>;
type IntGauges = Family<Labels, Gauge>;
type FloatGauges = Family<Labels, Gauge<f64, AtomicU64>>;

/// Content type of [`encode`]'s output.
pub const CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The exposition text for `kassas` as of `now` (Moscow civil time).
pub fn encode(kassas: &[KassaStatus], uptime_secs: u64, now: kkt::DateTime) -> String {
    let mut registry = prometheus_client::registry::Registry::with_prefix("masterkassa");
    let int = |registry: &mut prometheus_client::registry::Registry, name: &str, help: &str| {
        let family = IntGauges::default();
        registry.register(name, help, family.clone());
        family
    };
    let up = Gauge::<i64>::default();
    registry.register(
        "uptime_seconds",
        "Seconds since the daemon started",
        up.clone(),
    );
    up.set(i64::try_from(uptime_secs).unwrap_or(i64::MAX));

    let approved = int(
        &mut registry,
        "receipts_approved_today",
        "Operations approved to the cloud today",
    );
    let rejected = int(
        &mut registry,
        "receipts_rejected_today",
        "Operations rejected to the cloud today",
    );
    let waiting = int(
        &mut registry,
        "queue_waiting",
        "Journaled operations waiting to print",
    );
    let printing = int(
        &mut registry,
        "queue_printing",
        "Operations being printed (0 or 1)",
    );
    let outbox = int(
        &mut registry,
        "outbox_depth",
        "Printed operations whose answer the cloud has not yet taken",
    );
    let undeliverable = int(
        &mut registry,
        "outbox_refused",
        "Answers the cloud refused for good",
    );
    let halted = int(
        &mut registry,
        "kassa_halted",
        "1 when printing stopped for good and needs a person",
    );
    let ofd_unsent = int(
        &mut registry,
        "ofd_unsent_documents",
        "Fiscal documents the FN has not yet sent to the OFD",
    );
    let fn_days = int(&mut registry, "fn_days_left", "Days until the FN expires");
    let shift_open = int(
        &mut registry,
        "shift_open",
        "1 when a fiscal shift is open (2 when older than 24 h)",
    );
    let float = |registry: &mut prometheus_client::registry::Registry, name: &str, help: &str| {
        let family = FloatGauges::default();
        registry.register(name, help, family.clone());
        family
    };
    let ofd_age = float(
        &mut registry,
        "ofd_oldest_unsent_age_seconds",
        "Age of the oldest document not sent to the OFD",
    );
    let shift_age = float(
        &mut registry,
        "shift_age_seconds",
        "Age of the open fiscal shift",
    );
    let poll_age = float(
        &mut registry,
        "last_poll_age_seconds",
        "Seconds since the last successful poll of the cloud",
    );
    let outbox_age = float(
        &mut registry,
        "outbox_oldest_age_seconds",
        "Age of the oldest answer the cloud has not yet taken",
    );
    let catalogue_age = float(
        &mut registry,
        "catalogue_age_seconds",
        "Seconds since the catalogue was last synced in full",
    );
    let catalogue_items = int(
        &mut registry,
        "catalogue_items",
        "Products and services in the catalogue cache",
    );
    let wall_now = jiff::Timestamp::now();

    let age = |t: &kkt::DateTime| now.duration_since(*t).as_secs_f64().max(0.0);
    for k in kassas {
        let l: Labels = vec![("kassa".to_string(), k.name.clone())];
        let c = &k.counts;
        approved.get_or_create(&l).set(i64::from(c.approved_today));
        rejected.get_or_create(&l).set(i64::from(c.rejected_today));
        waiting.get_or_create(&l).set(i64::from(c.waiting));
        printing.get_or_create(&l).set(i64::from(c.printing));
        outbox.get_or_create(&l).set(i64::from(c.awaiting_approve));
        undeliverable
            .get_or_create(&l)
            .set(i64::try_from(c.undeliverable.len()).unwrap_or(i64::MAX));
        halted.get_or_create(&l).set(i64::from(k.halted.is_some()));
        if let Some(n) = k.ofd_unsent {
            ofd_unsent.get_or_create(&l).set(i64::from(n));
            let oldest = k.ofd_first_unsent_at.as_ref().map(age).unwrap_or(0.0);
            ofd_age.get_or_create(&l).set(oldest);
        }
        if let Some(until) = k.fn_valid_until
            && let Ok(span) = now.date().until(until)
        {
            fn_days.get_or_create(&l).set(i64::from(span.get_days()));
        }
        if let Some(shift) = &k.shift {
            let state = match shift.state.as_str() {
                "open" => 1,
                "expired" => 2,
                _ => 0,
            };
            shift_open.get_or_create(&l).set(state);
            if state > 0
                && let Some(at) = &shift.opened_at
            {
                shift_age.get_or_create(&l).set(age(at));
            }
        }
        if let Some(at) = &k.last_poll {
            poll_age.get_or_create(&l).set(age(at));
        }
        if let Some(at) = c.outbox_oldest_at {
            let secs = wall_now.duration_since(at).as_secs_f64().max(0.0);
            outbox_age.get_or_create(&l).set(secs);
        }
        if let Some(cat) = &k.catalogue {
            catalogue_items
                .get_or_create(&l)
                .set(i64::try_from(cat.items).unwrap_or(i64::MAX));
            if let Some(at) = &cat.last_sync {
                catalogue_age.get_or_create(&l).set(age(at));
            }
        }
    }
    counters().register(&mut registry);
    let mut out = String::new();
    // Writing into a String cannot fail.
    let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
    out
}

/// Serves `GET /metrics` on `listener` until the task is dropped.
pub async fn serve(listener: tokio::net::TcpListener, kassas: Registry) {
    use axum::http::header;
    let started = std::time::Instant::now();
    let app = axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let kassas = kassas.clone();
            async move {
                let snapshot: Vec<KassaStatus> = kassas
                    .read()
                    .unwrap_or_else(|p| p.into_inner())
                    .iter()
                    .map(|k| k.snapshot())
                    .collect();
                let body = encode(
                    &snapshot,
                    started.elapsed().as_secs(),
                    crate::worker::moscow_now(),
                );
                ([(header::CONTENT_TYPE, CONTENT_TYPE)], body)
            }
        }),
    );
    if let Err(e) = axum::serve(listener, app).await {
        tracing::error!(error = %e, "metrics server stopped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::worker::status::ShiftStatus;

    #[test]
    fn unknown_values_are_absent_and_known_ones_parse() {
        let now = jiff::civil::date(2026, 11, 24).at(12, 0, 0, 0);
        let mut known = KassaStatus {
            name: "shop".into(),
            ofd_unsent: Some(2),
            ofd_first_unsent_at: Some(jiff::civil::date(2026, 11, 24).at(11, 0, 0, 0)),
            fn_valid_until: Some(jiff::civil::date(2026, 12, 24)),
            shift: Some(ShiftStatus {
                state: "open".into(),
                number: 1,
                opened_at: Some(jiff::civil::date(2026, 11, 24).at(2, 0, 0, 0)),
            }),
            ..KassaStatus::default()
        };
        known.counts.approved_today = 7;
        let fresh = KassaStatus {
            name: "new".into(),
            ..KassaStatus::default()
        };
        let text = encode(&[known, fresh], 5, now);
        let lines: Vec<_> = text.lines().map(|l| Ok(l.to_string())).collect();
        let scrape = prometheus_parse::Scrape::parse(lines.into_iter()).unwrap();
        let value = |name: &str, kassa: &str| {
            scrape
                .samples
                .iter()
                .find(|s| s.metric == name && s.labels.get("kassa") == Some(kassa))
                .map(|s| match s.value {
                    prometheus_parse::Value::Gauge(v) | prometheus_parse::Value::Untyped(v) => v,
                    _ => f64::NAN,
                })
        };
        assert_eq!(
            value("masterkassa_receipts_approved_today", "shop"),
            Some(7.0)
        );
        assert_eq!(value("masterkassa_ofd_unsent_documents", "shop"), Some(2.0));
        assert_eq!(
            value("masterkassa_ofd_oldest_unsent_age_seconds", "shop"),
            Some(3600.0)
        );
        assert_eq!(value("masterkassa_fn_days_left", "shop"), Some(30.0));
        assert_eq!(
            value("masterkassa_shift_age_seconds", "shop"),
            Some(36000.0)
        );
        assert_eq!(
            value("masterkassa_receipts_approved_today", "new"),
            Some(0.0)
        );
        assert_eq!(value("masterkassa_ofd_unsent_documents", "new"), None);
        assert_eq!(value("masterkassa_last_poll_age_seconds", "new"), None);
    }
}
