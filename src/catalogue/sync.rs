//! Keeping the cache in step with the cloud: a full sync of
//! `/entity/assortment` (paged by `offsetId`, as `nextHref` says) and a
//! read of `/settings/retailstore/`, at start and then every
//! `catalogue_refresh`. The POS API has no "changed since" filter, so every
//! refresh is a full one; a position missing in between is fetched alone
//! by the lookup.
//!
//! Runs as its own task, never on the print path. It shares the token's
//! rate limiter with the kassa and pauses between pages, so a 50,000-item
//! sync takes at most half of the 100 requests / 5 s budget and printing
//! keeps the rest.

use super::cache::{Catalogue, StoreSettings};
use super::error::CatalogueError;
use super::item::CatalogueItem;
use crate::cloud::PosApi;
use crate::cloud::models::RetailStore;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Rows per page (the POS API's own page size in the seed).
pub const PAGE_SIZE: u32 = 1000;
/// Longest sync: a cloud that keeps handing out pages is stopped.
pub const MAX_PAGES: usize = 1000;
/// Pause between pages: 10 pages per second at most, half the budget.
pub const PAGE_PAUSE: Duration = Duration::from_millis(100);
/// Retry after a failed sync (sooner than the regular refresh).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(60);

/// What one full sync did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncReport {
    pub items: usize,
    pub requests: usize,
}

/// The catalogue sync of one shop.
pub struct CatalogueSync {
    pub api: Arc<dyn PosApi>,
    pub catalogue: Arc<Catalogue>,
    /// How often to sync again (`catalogue_refresh`).
    pub refresh: Duration,
    pub page_size: u32,
    pub page_pause: Duration,
}

impl CatalogueSync {
    pub fn new(api: Arc<dyn PosApi>, catalogue: Arc<Catalogue>, refresh: Duration) -> Self {
        CatalogueSync {
            api,
            catalogue,
            refresh,
            page_size: PAGE_SIZE,
            page_pause: PAGE_PAUSE,
        }
    }

    /// Reads the store's settings into the cache.
    pub async fn refresh_settings(&self) -> Result<StoreSettings, CatalogueError> {
        let store = self.api.settings_retailstore().await?;
        let settings = store_settings(&store);
        self.catalogue.set_settings(settings.clone())?;
        Ok(settings)
    }

    /// Fetches the whole catalogue and replaces the cache with it.
    pub async fn full_sync(&self) -> Result<SyncReport, CatalogueError> {
        let generation = self.catalogue.begin_sync()?;
        let mut items: Vec<CatalogueItem> = Vec::new();
        let mut offset: Option<String> = None;
        let mut requests = 0;
        loop {
            if requests >= MAX_PAGES {
                return Err(CatalogueError::TooManyPages(MAX_PAGES));
            }
            if requests > 0 {
                tokio::time::sleep(self.page_pause).await;
            }
            let page = self.api.assortment(self.page_size, offset.clone()).await?;
            requests += 1;
            let next = page.next_offset_id().map(str::to_owned);
            let rows: Vec<CatalogueItem> = page
                .rows
                .iter()
                .filter_map(CatalogueItem::from_cloud)
                .collect();
            self.catalogue.store_page(&rows, generation)?;
            items.extend(rows);
            match next {
                // The same offset again would repeat the page forever.
                Some(n) if Some(&n) != offset.as_ref() => offset = Some(n),
                _ => break,
            }
        }
        let count = items.len();
        self.catalogue
            .finish_sync(items, generation, crate::worker::moscow_now())?;
        Ok(SyncReport {
            items: count,
            requests,
        })
    }

    /// Settings and catalogue, now.
    pub async fn refresh_all(&self) -> Result<SyncReport, CatalogueError> {
        self.refresh_settings().await?;
        let mut report = self.full_sync().await?;
        report.requests += 1;
        Ok(report)
    }

    /// Refreshes now and then every `refresh` until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            let wait = match self.refresh_all().await {
                Ok(r) => {
                    tracing::info!(items = r.items, requests = r.requests, "catalogue synced");
                    self.refresh
                }
                Err(e) => {
                    tracing::warn!(error = %e, "catalogue sync failed; names come from the cache");
                    self.catalogue
                        .sync_failed(format!("не удалось обновить справочник товаров: {e}"));
                    RETRY_AFTER_FAILURE.min(self.refresh)
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = stop.changed() => {}
            }
            if *stop.borrow() {
                return;
            }
        }
    }
}

/// Template text as printed lines: one per line of the text, trailing
/// blank lines dropped.
fn template_lines(text: Option<&str>) -> Vec<String> {
    let mut lines: Vec<String> = text
        .unwrap_or_default()
        .lines()
        .map(|l| l.trim_end().to_string())
        .collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// What a receipt takes from the store's settings.
pub fn store_settings(store: &RetailStore) -> StoreSettings {
    let template = store.receipt_template.as_ref();
    StoreSettings {
        default_tax_system: store.default_tax_system.as_ref().and_then(|t| t.to_kkt()),
        header: template_lines(template.and_then(|t| t.header.as_deref())),
        footer: template_lines(template.and_then(|t| t.footer.as_deref())),
    }
}
