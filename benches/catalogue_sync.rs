//! Catalogue bench: a full sync of a large catalogue from the fake cloud
//! (time, requests and the busiest 5 s window against the 100 / 5 s limit,
//! journal size, RSS before and after), then the time the catalogue adds
//! to rendering a 10-position receipt.
//!
//! `cargo bench --bench catalogue_sync` (items: `CATALOGUE_ITEMS`, default
//! 50 000). The fake cloud runs in this process and keeps its own copy of
//! the catalogue, so RSS is read once it is up and the sync's share is the
//! difference.

use kkt::{Money, Quantity, TaxSystem};
use masterkassa::catalogue::{Catalogue, CatalogueSync, ProductLookup, Resolved, UnknownProduct};
use masterkassa::cloud::{ClientConfig, Limits, PosApi, PosClient, RateLimiter, Secret};
use masterkassa::receipt::{OperationInput, PositionInput, RenderContext, render};
use sim_moysklad::{FakeCloud, FakeCloudConfig};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn file_kb(path: &std::path::Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len() / 1024).unwrap_or(0)
}

/// A sale of ten generated items, 1.5 of each at 99.99.
fn receipt_input(first: usize) -> OperationInput {
    let positions = (first..first + 10)
        .map(|n| PositionInput {
            name: None,
            quantity: Quantity(1_500_000),
            price: Money(9_999),
            discount_millionths: None,
            vat_millionths: Some(20_000_000),
            vat_enabled: Some(true),
            sum: None,
            marks: Vec::new(),
            assortment: Some(format!(
                "https://online.moysklad.ru/api/posap/1.0/entity/product/9e000000-0000-4000-8000-{:012}",
                n * 10 + 1
            )),
            subject: None,
            components: Vec::new(),
        })
        .collect();
    let mut sale = OperationInput::cash_sale(positions, Money(149_990));
    sale.tax_system = Some(masterkassa::receipt::TaxSystemInput::Known(
        TaxSystem::General,
    ));
    sale
}

fn main() {
    let items: usize = std::env::var("CATALOGUE_ITEMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(50_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("tempdir");
        let db = dir.path().join("journal.db");
        let _journal = masterkassa::journal::Journal::open(&db).expect("journal");
        let cloud = FakeCloud::start(FakeCloudConfig {
            catalogue_size: items,
            ..FakeCloudConfig::default()
        })
        .await
        .expect("fake cloud");
        let client = PosClient::new(
            &ClientConfig::with_base_url(cloud.base_url()),
            Secret::new(cloud.token().unwrap_or_else(|| "bench".into())),
            cloud.cashier_uid(),
            RateLimiter::new(Limits::moysklad()),
        )
        .expect("client");
        let api: Arc<dyn PosApi> = Arc::new(client);
        let catalogue = Arc::new(Catalogue::open(&db, "bench").expect("catalogue"));
        let sync = CatalogueSync::new(api.clone(), catalogue.clone(), Duration::from_secs(3600));
        let rss_before = rss_kb();
        let started = Instant::now();
        let report = sync.refresh_all().await.expect("sync");
        let took = started.elapsed();
        let rss_after = rss_kb();
        let wal = dir.path().join("journal.db-wal");
        let log = cloud.requests();
        let busiest = log
            .iter()
            .map(|r| {
                log.iter()
                    .filter(|o| o.at_ms >= r.at_ms && o.at_ms < r.at_ms + 5_000)
                    .count()
            })
            .max()
            .unwrap_or(0);
        println!(
            "full sync: {} items in {:.2} s, {} requests (busiest 5 s window: {busiest} of 100), journal {} kB + WAL {} kB, RSS {} kB → {} kB (+{} kB)",
            report.items,
            took.as_secs_f64(),
            report.requests,
            file_kb(&db),
            file_kb(&wal),
            rss_before,
            rss_after,
            rss_after.saturating_sub(rss_before)
        );

        let lookup = ProductLookup::new(api, catalogue, UnknownProduct::Wait);
        let ctx = RenderContext {
            cashier: Some("Кассир".into()),
            ..RenderContext::default()
        };
        let rounds = 5_000;
        let inputs: Vec<OperationInput> = (0..rounds)
            .map(|i| receipt_input((i * 10) % (items / 10).saturating_sub(10).max(1)))
            .collect();
        let t = Instant::now();
        for input in &inputs {
            std::hint::black_box(render(input, &ctx).expect("render"));
        }
        let plain = t.elapsed();
        let t = Instant::now();
        for input in &inputs {
            let Resolved::Ready(named) = lookup.resolve("bench", input.clone()).await else {
                panic!("a generated item is missing from the cache");
            };
            std::hint::black_box(render(&named, &ctx).expect("render"));
        }
        let named = t.elapsed();
        let per = |d: Duration| d.as_secs_f64() * 1e6 / rounds as f64;
        println!(
            "render a 10-position receipt: {:.1} µs without the catalogue, {:.1} µs with names from the cache (+{:.1} µs; target < 1000 µs)",
            per(plain),
            per(named),
            per(named) - per(plain)
        );
    });
}
