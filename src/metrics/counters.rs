//! What happened since the daemon started, counted where it happens: the
//! receipts printed, approved and rejected, how long printing took, every
//! request to the cloud by endpoint and answer, and device errors by
//! class. Unlike the gauges of [`super::encode`], which are read from the
//! kassas' status at scrape time, these are events: a process-wide set of
//! counters the worker and the cloud client bump (an atomic add each), and
//! a scrape only reads.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::OnceLock;
use std::time::Duration;

type Labels = Vec<(String, String)>;

/// Print durations from 50 ms (a short receipt at 115200 baud) to a minute
/// (9600 baud with paper trouble).
const PRINT_BUCKETS: [f64; 10] = [0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0];

fn print_histogram() -> Histogram {
    Histogram::new(PRINT_BUCKETS)
}

/// The process-wide event counters.
pub struct Counters {
    receipts: Family<Labels, Counter>,
    print_seconds: Family<Labels, Histogram>,
    cloud_requests: Family<Labels, Counter>,
    device_errors: Family<Labels, Counter>,
}

/// What became of an operation, for `masterkassa_receipts_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The FN signed its receipt.
    Printed,
    /// The cloud took its approve.
    Approved,
    /// The cloud took its reject.
    Rejected,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Printed => "printed",
            Outcome::Approved => "approved",
            Outcome::Rejected => "rejected",
        }
    }
}

/// The daemon's counters (created on first use).
pub fn counters() -> &'static Counters {
    static COUNTERS: OnceLock<Counters> = OnceLock::new();
    COUNTERS.get_or_init(|| Counters {
        receipts: Family::default(),
        print_seconds: Family::new_with_constructor(print_histogram),
        cloud_requests: Family::default(),
        device_errors: Family::default(),
    })
}

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

impl Counters {
    /// An operation of `kind` (e.g. `retaildemand`) reached `outcome`.
    pub fn receipt(&self, kassa: &str, kind: &str, outcome: Outcome) {
        let l = labels(&[
            ("kassa", kassa),
            ("kind", kind),
            ("outcome", outcome.as_str()),
        ]);
        self.receipts.get_or_create(&l).inc();
    }

    /// A receipt printed in `took` (from sending it to the FN's answer).
    pub fn print_took(&self, kassa: &str, took: Duration) {
        self.print_seconds
            .get_or_create(&labels(&[("kassa", kassa)]))
            .observe(took.as_secs_f64());
    }

    /// One HTTP exchange with the cloud: `status` is `None` when no answer
    /// came (connection refused, reset, timeout).
    pub fn cloud_request(&self, method: &str, path: &str, status: Option<u16>) {
        let status = status.map_or_else(|| "none".to_string(), |s| s.to_string());
        let endpoint = format!("{method} {}", endpoint_of(path));
        let l = labels(&[("endpoint", &endpoint), ("status", &status)]);
        self.cloud_requests.get_or_create(&l).inc();
    }

    /// A device error of `class` (link, paper, fiscal storage, …).
    pub fn device_error(&self, kassa: &str, class: &str) {
        let l = labels(&[("kassa", kassa), ("class", class)]);
        self.device_errors.get_or_create(&l).inc();
    }

    /// Adds the counters to a scrape's registry.
    pub(super) fn register(&self, registry: &mut Registry) {
        registry.register(
            "receipts",
            "Operations printed, approved and rejected, by kassa and kind",
            self.receipts.clone(),
        );
        registry.register(
            "print_duration_seconds",
            "Time from sending a receipt to the printer to the FN's answer",
            self.print_seconds.clone(),
        );
        registry.register(
            "cloud_requests",
            "HTTP exchanges with the cloud by endpoint and status (none: no answer)",
            self.cloud_requests.clone(),
        );
        registry.register(
            "device_errors",
            "Printer errors by kassa and class",
            self.device_errors.clone(),
        );
    }
}

/// A URL path with its ids replaced by `:id`: one series per endpoint,
/// not one per operation or product.
fn endpoint_of(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            let digits = seg.chars().filter(char::is_ascii_digit).count();
            if digits > 0 && (seg.len() >= 8 || digits == seg.len()) && !seg.contains('.') {
                ":id"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_lose_their_ids_but_keep_their_version() {
        assert_eq!(
            endpoint_of(
                "/api/posap/1.0/cheque/rpc/master/poll/7944ef04-f831-11e5-7a69-971500188b19"
            ),
            "/api/posap/1.0/cheque/rpc/master/poll/:id"
        );
        assert_eq!(
            endpoint_of("/api/posap/1.0/entity/assortment/42"),
            "/api/posap/1.0/entity/assortment/:id"
        );
        assert_eq!(
            endpoint_of("/settings/retailstore/"),
            "/settings/retailstore/"
        );
    }
}
