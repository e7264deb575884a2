//! The fake cloud's assortment and store settings: the seed's
//! `/entity/assortment` sample, two fixed items the demo prints (a
//! weighed product in kg and a service), and a generated catalogue of any
//! size; served paged by `offsetId` exactly as the seed shows, and one by
//! one at `/entity/{type}/{id}`. The control endpoints add and rename
//! items and change the store's tax system and receipt template.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::samples;

const HREF_BASE: &str = "https://online.moysklad.ru/api/posap/1.0";
/// Largest page the real API hands out.
pub const MAX_LIMIT: usize = 1000;

/// Id of the fixed weighed product (kg).
pub const WEIGHED_ID: &str = "5a1e0000-0000-4000-8000-00000000000a";
/// Its syncId: the seed's sample operations link it that way.
pub const WEIGHED_SYNC_ID: &str = "f085d67e-6eae-11e6-8a84-bc520403352c";
/// Id of the fixed service.
pub const SERVICE_ID: &str = "5a1e0000-0000-4000-8000-00000000000b";

/// The store's settings a receipt uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreTemplate {
    pub default_tax_system: Option<String>,
    pub header: Option<String>,
    pub footer: Option<String>,
}

impl Default for StoreTemplate {
    fn default() -> Self {
        StoreTemplate {
            default_tax_system: Some("GENERAL_TAX_SYSTEM".into()),
            header: Some("Добро пожаловать!".into()),
            footer: Some("Спасибо за покупку!\nЖдём вас снова".into()),
        }
    }
}

/// The assortment, in paging order.
#[derive(Debug, Default)]
pub struct FakeCatalogue {
    rows: Vec<Value>,
    /// id → position in `rows`.
    index: HashMap<String, usize>,
    /// syncId → id.
    sync_ids: HashMap<String, String>,
    pub template: StoreTemplate,
}

fn meta(kind: &str, id: &str) -> Value {
    json!({
        "href": format!("{HREF_BASE}/entity/{kind}/{id}"),
        "mediaType": "application/json",
        "type": kind,
        "id": id,
        "idType": "native",
    })
}

/// An assortment row of `kind` with the fields a receipt needs.
pub fn row(kind: &str, id: &str, name: &str, uom: &str, payment_item_type: &str) -> Value {
    json!({
        "meta": meta(kind, id),
        "id": id,
        "name": name,
        "salePrices": [{ "value": 10000, "priceType": "Цена продажи" }],
        "uom": uom,
        "paymentItemType": payment_item_type,
        "trackingType": "NOT_TRACKED",
    })
}

/// The `n`-th generated item: mostly pieces, some weighed, some services.
fn generated(n: usize) -> Value {
    let id = format!("9e000000-0000-4000-8000-{n:012}");
    match n % 10 {
        0 => row("service", &id, &format!("Услуга №{n}"), "шт", "SERVICE"),
        3 => row("product", &id, &format!("Товар весовой №{n}"), "кг", "GOOD"),
        _ => row("product", &id, &format!("Товар №{n}"), "шт", "GOOD"),
    }
}

impl FakeCatalogue {
    /// The seed's sample, the demo's two items and `generated` more.
    pub fn new(generated_items: usize) -> FakeCatalogue {
        let mut c = FakeCatalogue::default();
        let sample: Value = serde_json::from_str(samples::ASSORTMENT).unwrap_or(Value::Null);
        if let Some(rows) = sample.get("rows").and_then(Value::as_array) {
            for r in rows {
                c.put(r.clone());
            }
        }
        let mut weighed = row("product", WEIGHED_ID, "Яблоки Гренни Смит", "кг", "GOOD");
        weighed["syncId"] = json!(WEIGHED_SYNC_ID);
        c.put(weighed);
        c.put(row(
            "service",
            SERVICE_ID,
            "Доставка по городу",
            "шт",
            "SERVICE",
        ));
        c.rows.reserve(generated_items);
        for n in 0..generated_items {
            c.put(generated(n));
        }
        c
    }

    pub fn len(&self) -> usize {
        self.rows.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Adds a row, or replaces the row with its id. `None` without an id.
    pub fn put(&mut self, row: Value) -> Option<String> {
        let id = row.get("id").and_then(Value::as_str)?.to_string();
        if let Some(sync) = row.get("syncId").and_then(Value::as_str) {
            self.sync_ids.insert(sync.to_string(), id.clone());
        }
        match self.index.get(&id) {
            Some(&at) => self.rows[at] = row,
            None => {
                self.index.insert(id.clone(), self.rows.len());
                self.rows.push(row);
            }
        }
        Some(id)
    }

    /// Renames item `id`; false when there is none.
    pub fn rename(&mut self, id: &str, name: &str) -> bool {
        match self.index.get(id) {
            Some(&at) => {
                self.rows[at]["name"] = json!(name);
                true
            }
            None => false,
        }
    }

    /// Item `id` of entity `kind`.
    pub fn item(&self, kind: &str, id: &str) -> Option<&Value> {
        let row = &self.rows[*self.index.get(id)?];
        let row_kind = row.pointer("/meta/type").and_then(Value::as_str);
        (row_kind == Some(kind)).then_some(row)
    }

    /// Item of entity `kind` with syncId `sync_id`.
    pub fn item_by_sync_id(&self, kind: &str, sync_id: &str) -> Option<&Value> {
        self.item(kind, self.sync_ids.get(sync_id)?)
    }

    /// One page: up to `limit` rows after `offset_id` (from the start
    /// without one), with `nextHref` when more follow.
    pub fn page(&self, limit: usize, offset_id: Option<&str>) -> Value {
        let limit = limit.clamp(1, MAX_LIMIT);
        let start = offset_id
            .and_then(|id| self.index.get(id))
            .map_or(0, |&at| at + 1);
        let end = (start + limit).min(self.rows.len());
        let rows = self.rows.get(start..end).unwrap_or_default();
        let mut meta = json!({
            "href": format!("{HREF_BASE}/entity/assortment"),
            "mediaType": "application/json",
            "size": self.rows.len(),
            "limit": limit,
            "offsetId": offset_id.unwrap_or("00000000-0000-0000-0000-000000000000"),
            "direction": "forward",
        });
        if end < self.rows.len()
            && let Some(last) = rows
                .last()
                .and_then(|r| r.get("id"))
                .and_then(Value::as_str)
        {
            meta["nextHref"] = json!(format!(
                "{HREF_BASE}/entity/assortment?limit={limit}&offsetId={last}&direction=forward"
            ));
        }
        json!({ "meta": meta, "rows": rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_cover_every_row_once_and_end_without_next_href() {
        let c = FakeCatalogue::new(25);
        let mut seen = Vec::new();
        let mut offset: Option<String> = None;
        loop {
            let page = c.page(7, offset.as_deref());
            for r in page["rows"].as_array().unwrap() {
                seen.push(r["id"].as_str().unwrap().to_string());
            }
            match page["meta"]["nextHref"].as_str() {
                Some(next) => {
                    offset = Some(
                        next.split("offsetId=")
                            .nth(1)
                            .unwrap()
                            .split('&')
                            .next()
                            .unwrap()
                            .to_string(),
                    )
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), c.len());
        let unique: std::collections::HashSet<_> = seen.iter().collect();
        assert_eq!(unique.len(), c.len());
    }
}
