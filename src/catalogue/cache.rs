//! The catalogue cache: every item of the shop's assortment in memory
//! (a lookup while rendering costs a hash probe) and in the journal
//! database (a restart with the cloud down still prints real names), plus
//! the store's settings and the sync state `status` shows.
//!
//! The tables live in the journal file but belong to this module alone
//! (`catalogue_item`, `catalogue_meta`, created if missing): the journal's
//! receipt tables and migrations are not touched. Rows are scoped by kassa
//! name, since kassas of different shops may share one journal.

use super::error::CatalogueError;
use super::item::CatalogueItem;
use crate::cloud::models::Meta;
use crate::worker::StatusCell;
use kkt::TaxSystem;
use rusqlite::{Connection, OptionalExtension, params};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::Duration;

/// What the store's settings (`/settings/retailstore/`) contribute to a
/// receipt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreSettings {
    /// `defaultTaxSystem`, when the agent knows it.
    pub default_tax_system: Option<TaxSystem>,
    /// `receiptTemplate.header` / `.footer`, one entry per line.
    pub header: Vec<String>,
    pub footer: Vec<String>,
}

/// The catalogue as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueStatus {
    /// Items cached.
    pub items: u64,
    /// End of the last complete sync (Moscow time).
    pub last_sync: Option<kkt::DateTime>,
    /// Why the last sync failed, if it did (Russian).
    pub last_error: Option<String>,
    /// Operations waiting for a product the cloud could not be asked about.
    pub waiting: Vec<String>,
}

#[derive(Default)]
struct Index {
    /// By native id.
    by_id: HashMap<String, Arc<CatalogueItem>>,
    /// By syncId, to the native id.
    by_sync_id: HashMap<String, String>,
}

impl Index {
    fn insert(&mut self, item: CatalogueItem) {
        if let Some(s) = item.sync_id.clone() {
            self.by_sync_id.insert(s, item.id.clone());
        }
        self.by_id.insert(item.id.clone(), Arc::new(item));
    }
}

/// The cache of one shop's catalogue.
pub struct Catalogue {
    index: RwLock<Index>,
    settings: RwLock<StoreSettings>,
    state: Mutex<CatalogueStatus>,
    waiting: Mutex<BTreeSet<String>>,
    db: Option<Mutex<Connection>>,
    /// For error messages (never read while `db` is locked).
    db_path: String,
    /// The kassa whose rows these are.
    scope: String,
    watchers: Mutex<Vec<StatusCell>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS catalogue_item (
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    body TEXT NOT NULL,
    generation INTEGER NOT NULL,
    PRIMARY KEY (scope, id)
);
CREATE TABLE IF NOT EXISTS catalogue_meta (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);";

impl Catalogue {
    /// A cache kept only in memory (tests, demo).
    pub fn in_memory() -> Catalogue {
        Catalogue {
            index: RwLock::default(),
            settings: RwLock::default(),
            state: Mutex::default(),
            waiting: Mutex::default(),
            db: None,
            db_path: String::new(),
            scope: String::new(),
            watchers: Mutex::default(),
        }
    }

    /// Kassa `scope`'s cache stored in the journal database at `path`,
    /// loaded.
    pub fn open(path: &Path, scope: &str) -> Result<Catalogue, CatalogueError> {
        let at = |e: rusqlite::Error| CatalogueError::Database {
            path: path.display().to_string(),
            source: e,
        };
        let conn = Connection::open(path).map_err(at)?;
        conn.busy_timeout(Duration::from_secs(10)).map_err(at)?;
        conn.execute_batch(SCHEMA).map_err(at)?;
        let mut index = Index::default();
        {
            let mut stmt = conn
                .prepare("SELECT id, body FROM catalogue_item WHERE scope = ?1")
                .map_err(at)?;
            let rows = stmt
                .query_map([scope], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
                })
                .map_err(at)?;
            for row in rows {
                let (id, body) = row.map_err(at)?;
                match serde_json::from_str::<CatalogueItem>(&body) {
                    Ok(item) => index.insert(item),
                    // A row this version cannot read is fetched again.
                    Err(e) => tracing::warn!(id, error = %e, "unreadable catalogue row skipped"),
                }
            }
        }
        let meta = |key: &str| -> Result<Option<String>, CatalogueError> {
            conn.query_row(
                "SELECT value FROM catalogue_meta WHERE scope = ?1 AND key = ?2",
                [scope, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(at)
        };
        let settings = meta("settings")?
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default();
        let last_sync = meta("last_sync")?.and_then(|s| s.parse().ok());
        let items = index.by_id.len() as u64;
        Ok(Catalogue {
            index: RwLock::new(index),
            settings: RwLock::new(settings),
            state: Mutex::new(CatalogueStatus {
                items,
                last_sync,
                ..CatalogueStatus::default()
            }),
            waiting: Mutex::default(),
            db: Some(Mutex::new(conn)),
            db_path: path.display().to_string(),
            scope: scope.to_string(),
            watchers: Mutex::default(),
        })
    }

    /// Shows this catalogue in a kassa's status from now on.
    pub fn watch(&self, status: StatusCell) {
        lock(&self.watchers).push(status);
        self.publish();
    }

    fn publish(&self) {
        let status = self.status();
        for w in lock(&self.watchers).iter() {
            w.update(|s| s.catalogue = Some(status.clone()));
        }
    }

    pub fn status(&self) -> CatalogueStatus {
        let mut s = lock(&self.state).clone();
        s.waiting = lock(&self.waiting).iter().cloned().collect();
        s
    }

    pub fn len(&self) -> usize {
        self.index.read().map_or(0, |i| i.by_id.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The item an operation's position links (`assortment.meta.href`):
    /// `…/entity/{type}/{id}` or `…/entity/{type}/syncid/{syncId}`.
    pub fn get(&self, href: &str) -> Option<Arc<CatalogueItem>> {
        let meta = Meta::from_href(href);
        let index = self.index.read().ok()?;
        if let Some(sync) = meta.sync_id() {
            let id = index.by_sync_id.get(sync)?;
            return index.by_id.get(id).cloned();
        }
        index.by_id.get(meta.last_id()?).cloned()
    }

    pub fn settings(&self) -> StoreSettings {
        self.settings.read().map(|s| s.clone()).unwrap_or_default()
    }

    /// New store settings (read at start and on every refresh).
    pub fn set_settings(&self, settings: StoreSettings) -> Result<(), CatalogueError> {
        if let Ok(mut s) = self.settings.write() {
            *s = settings.clone();
        }
        let body = serde_json::to_string(&settings).unwrap_or_default();
        self.write_meta("settings", &body)
    }

    /// One item learnt outside a full sync (a targeted request).
    pub fn upsert(&self, item: CatalogueItem) -> Result<(), CatalogueError> {
        self.store_rows(std::slice::from_ref(&item), None)?;
        if let Ok(mut i) = self.index.write() {
            i.insert(item);
            lock(&self.state).items = i.by_id.len() as u64;
        }
        Ok(())
    }

    /// Begins a full sync: rows stored from now on carry `generation`.
    pub fn begin_sync(&self) -> Result<i64, CatalogueError> {
        let generation = self
            .read_meta("generation")?
            .and_then(|g| g.parse::<i64>().ok())
            .unwrap_or(0)
            + 1;
        self.write_meta("generation", &generation.to_string())?;
        Ok(generation)
    }

    /// Stores one page of a full sync (on disk only: memory is swapped in
    /// whole by [`Catalogue::finish_sync`], so a half-done sync never
    /// shows).
    pub fn store_page(
        &self,
        items: &[CatalogueItem],
        generation: i64,
    ) -> Result<(), CatalogueError> {
        self.store_rows(items, Some(generation))
    }

    /// Ends a full sync that saw `items`: what the cloud no longer lists is
    /// dropped.
    pub fn finish_sync(
        &self,
        items: Vec<CatalogueItem>,
        generation: i64,
        at: kkt::DateTime,
    ) -> Result<(), CatalogueError> {
        if let Some(db) = &self.db {
            let conn = lock(db);
            conn.execute(
                "DELETE FROM catalogue_item WHERE scope = ?1 AND generation < ?2",
                params![self.scope, generation],
            )
            .map_err(|e| self.db_error(e))?;
        }
        let mut fresh = Index::default();
        for item in items {
            fresh.insert(item);
        }
        let count = fresh.by_id.len() as u64;
        if let Ok(mut i) = self.index.write() {
            *i = fresh;
        }
        self.write_meta("last_sync", &at.to_string())?;
        {
            let mut s = lock(&self.state);
            s.items = count;
            s.last_sync = Some(at);
            s.last_error = None;
        }
        self.publish();
        Ok(())
    }

    /// A sync or settings read failed (shown in status until one succeeds).
    pub fn sync_failed(&self, why: String) {
        lock(&self.state).last_error = Some(why);
        self.publish();
    }

    /// `op` waits for a product (or stopped waiting).
    pub fn set_waiting(&self, op: &str, waiting: bool) {
        let changed = {
            let mut w = lock(&self.waiting);
            if waiting {
                w.insert(op.to_string())
            } else {
                w.remove(op)
            }
        };
        if changed {
            self.publish();
        }
    }

    fn store_rows(
        &self,
        items: &[CatalogueItem],
        generation: Option<i64>,
    ) -> Result<(), CatalogueError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        let mut conn = lock(db);
        let tx = conn.transaction().map_err(|e| self.db_error(e))?;
        {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO catalogue_item (scope, id, body, generation)
                     VALUES (?1, ?2, ?3, COALESCE(?4,
                         (SELECT COALESCE(MAX(generation), 0) FROM catalogue_item WHERE scope = ?1)))
                     ON CONFLICT(scope, id) DO UPDATE
                     SET body = excluded.body, generation = excluded.generation",
                )
                .map_err(|e| self.db_error(e))?;
            for item in items {
                let body = serde_json::to_string(item).unwrap_or_default();
                stmt.execute(params![self.scope, item.id, body, generation])
                    .map_err(|e| self.db_error(e))?;
            }
        }
        tx.commit().map_err(|e| self.db_error(e))
    }

    fn read_meta(&self, key: &str) -> Result<Option<String>, CatalogueError> {
        let Some(db) = &self.db else {
            return Ok(None);
        };
        lock(db)
            .query_row(
                "SELECT value FROM catalogue_meta WHERE scope = ?1 AND key = ?2",
                [&self.scope, key],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.db_error(e))
    }

    fn write_meta(&self, key: &str, value: &str) -> Result<(), CatalogueError> {
        let Some(db) = &self.db else {
            return Ok(());
        };
        lock(db)
            .execute(
                "INSERT INTO catalogue_meta (scope, key, value) VALUES (?1, ?2, ?3)
                 ON CONFLICT(scope, key) DO UPDATE SET value = excluded.value",
                [&self.scope, key, value],
            )
            .map(|_| ())
            .map_err(|e| self.db_error(e))
    }

    fn db_error(&self, source: rusqlite::Error) -> CatalogueError {
        CatalogueError::Database {
            path: self.db_path.clone(),
            source,
        }
    }
}
