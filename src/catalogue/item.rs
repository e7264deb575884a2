//! A catalogue item as the agent keeps it: the few attributes a receipt
//! line needs (name, payment item type, unit, marking, packs, bundle
//! contents), flattened from the cloud's assortment row. A variant takes
//! every attribute it lacks from its product.

use crate::cloud::models::AssortmentItem;
use kkt::Quantity;
use serde::{Deserialize, Serialize};

/// What kind of assortment row this is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ItemKind {
    Product,
    Variant,
    Service,
    Bundle,
    /// A type this agent does not know; treated as goods.
    Other,
}

impl ItemKind {
    pub fn from_entity(entity: Option<&str>) -> ItemKind {
        match entity {
            Some("product") => ItemKind::Product,
            Some("variant") => ItemKind::Variant,
            Some("service") => ItemKind::Service,
            Some("bundle") => ItemKind::Bundle,
            _ => ItemKind::Other,
        }
    }
}

/// A package of an item (`packs[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemPack {
    pub id: String,
    pub name: String,
    /// Base units in one package.
    pub quantity: Quantity,
}

/// One component of a bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemComponent {
    /// Link to the component (`meta.href`).
    pub href: String,
    pub quantity: Quantity,
}

/// One catalogue item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    pub id: String,
    #[serde(default)]
    pub sync_id: Option<String>,
    pub kind: ItemKind,
    pub name: String,
    /// `GOOD`, `EXCISABLE_GOOD`, `SERVICE`, … as the cloud spells it.
    #[serde(default)]
    pub payment_item_type: Option<String>,
    /// Unit of measure as the shop names it («шт», «кг»…).
    #[serde(default)]
    pub uom: Option<String>,
    /// `trackingType` (`NOT_TRACKED`, `SHOES`, `TOBACCO`, …).
    #[serde(default)]
    pub tracking_type: Option<String>,
    #[serde(default)]
    pub tobacco: bool,
    /// Medical PPE kind: such goods are marked.
    #[serde(default)]
    pub ppe_type: Option<String>,
    #[serde(default)]
    pub packs: Vec<ItemPack>,
    #[serde(default)]
    pub components: Vec<ItemComponent>,
    /// The first non-zero sale price (`salePrices[]`): how a bundle's sum
    /// is shared among its components.
    #[serde(default)]
    pub sale_price: Option<kkt::Money>,
}

impl CatalogueItem {
    /// The item of an assortment row; `None` for a row without an id.
    pub fn from_cloud(row: &AssortmentItem) -> Option<CatalogueItem> {
        let id = row
            .id
            .clone()
            .or_else(|| row.meta.last_id().map(str::to_owned))
            .filter(|id| !id.trim().is_empty())?;
        let kind = ItemKind::from_entity(row.meta.entity());
        let parent = row.product.as_deref();
        let inherit = |own: &Option<String>, of: fn(&AssortmentItem) -> &Option<String>| {
            own.clone()
                .filter(|v| !v.trim().is_empty())
                .or_else(|| parent.and_then(|p| of(p).clone()))
        };
        let name = match parent {
            // «(Mod)» alone names nothing: the product's name comes first.
            Some(p) if row.name.trim_start().starts_with('(') => {
                format!("{} {}", p.name.trim(), row.name.trim())
            }
            _ => row.name.trim().to_string(),
        };
        let packs = if row.packs.is_empty() {
            parent.map(|p| p.packs.as_slice()).unwrap_or_default()
        } else {
            row.packs.as_slice()
        };
        Some(CatalogueItem {
            id,
            sync_id: row.sync_id.clone(),
            kind,
            name,
            payment_item_type: inherit(&row.payment_item_type, |p| &p.payment_item_type),
            uom: inherit(&row.uom, |p| &p.uom),
            tracking_type: inherit(&row.tracking_type, |p| &p.tracking_type),
            tobacco: row
                .tobacco
                .or_else(|| parent.and_then(|p| p.tobacco))
                .unwrap_or(false),
            ppe_type: inherit(&row.ppe_type, |p| &p.ppe_type),
            packs: packs
                .iter()
                .map(|p| ItemPack {
                    id: p.id.clone(),
                    name: p.name.clone(),
                    quantity: p.quantity,
                })
                .collect(),
            components: row
                .components
                .iter()
                .map(|c| ItemComponent {
                    href: c.meta.href.clone(),
                    quantity: c.quantity,
                })
                .collect(),
            sale_price: row
                .sale_prices
                .iter()
                .chain(parent.map(|p| p.sale_prices.as_slice()).unwrap_or_default())
                .map(|p| p.value)
                .find(|v| v.0 > 0),
        })
    }
}
