//! The product catalogue (`GET /entity/assortment`), paged by `offsetId`.
//!
//! The agent does not need the catalogue to print (operations carry their
//! prices), but the receipt's position names come from here, so the fields
//! a receipt line needs are typed; everything else is tolerated.

use kkt::{Money, Quantity};
use serde::{Deserialize, Serialize};

use super::fiscal::TaxSystemCode;
use super::meta::Meta;
use super::number::{Percent, kopecks, quantity};
use super::operation::Pack;
use super::retailstore::ListMeta;

/// One sale price (`salePrices[]`), in kopecks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SalePrice {
    #[serde(with = "kopecks")]
    pub value: Money,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_type: Option<String>,
}

/// A product, variant, service or bundle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssortmentItem {
    pub meta: Meta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub barcodes: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sale_prices: Vec<SalePrice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uom: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat: Option<Percent>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_system: Option<TaxSystemCode>,
    /// `GOOD`, `SERVICE`, `EXCISABLE_GOOD`, … (признак предмета расчёта).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_item_type: Option<String>,
    /// Marking type (`NOT_TRACKED`, `SHOES`, `TOBACCO`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tracking_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sold_by_weight: Option<bool>,
    /// External id (the operation may link the item by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync_id: Option<String>,
    /// Tobacco (marked and excisable).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tobacco: Option<bool>,
    /// Medical PPE kind (EAN-13): such goods are marked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ppe_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub egais_is_alcoholic: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub packs: Vec<Pack>,
    /// A bundle's contents.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub components: Vec<Component>,
    /// A variant's product, whose attributes the variant inherits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<Box<AssortmentItem>>,
}

/// One bundle component (`components[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub meta: Meta,
    #[serde(with = "quantity")]
    pub quantity: Quantity,
}

/// One page of `GET /entity/assortment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssortmentPage {
    pub meta: ListMeta,
    #[serde(default)]
    pub rows: Vec<AssortmentItem>,
}

impl AssortmentPage {
    /// The `offsetId` to ask for the next page, when `nextHref` names one.
    pub fn next_offset_id(&self) -> Option<&str> {
        let next = self.meta.next_href.as_deref()?;
        let query = next.split_once('?')?.1;
        query
            .split('&')
            .find_map(|kv| kv.strip_prefix("offsetId="))
            .filter(|v| !v.is_empty())
    }
}
