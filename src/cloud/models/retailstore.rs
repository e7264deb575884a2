//! Retail stores (точки продаж): the admin list `GET /admin/retailstore`,
//! the token from `POST /admin/attach/{id}`, and the store's own settings
//! `GET /settings/retailstore`. Only what the agent uses is typed; the rest
//! of the (large) documents is tolerated and ignored.

use kkt::Money;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fiscal::{Environment, TaxSystemCode};
use super::meta::{Meta, MetaRef};
use super::number::kopecks;
use super::state::PosState;
use crate::cloud::secret::Secret;

/// `meta` of a list answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub href: Option<String>,
    /// Rows in the whole collection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub direction: Option<String>,
    /// The next page, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_href: Option<String>,
}

/// The organisation a store belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    pub meta: Meta,
    /// Native id; when absent, the last segment of `meta.href`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inn: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payer_vat: Option<bool>,
}

impl Organization {
    /// The id the master queue is polled with (`poll/{orgId}`).
    pub fn org_id(&self) -> Option<&str> {
        self.id.as_deref().or_else(|| self.meta.last_id())
    }
}

/// A cashier of a store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cashier {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<Meta>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_name: Option<String>,
}

/// `cashiers`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cashiers {
    #[serde(default)]
    pub rows: Vec<Cashier>,
}

/// The store's receipt template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiptTemplate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub footer: Option<String>,
}

/// `fiscalType`: how the store forms receipts. masterkassa needs `MASTER`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FiscalType {
    /// Стандартное.
    Standard,
    /// Обработка облачных операций — this store is a master kassa.
    Master,
    /// Облачное — this store queues its receipts (a minion).
    Cloud,
    /// Unknown, verbatim.
    Other(String),
}

impl FiscalType {
    pub fn as_code(&self) -> &str {
        match self {
            FiscalType::Standard => "STANDARD",
            FiscalType::Master => "MASTER",
            FiscalType::Cloud => "CLOUD",
            FiscalType::Other(s) => s,
        }
    }
    pub fn from_code(s: &str) -> FiscalType {
        match s {
            "STANDARD" => FiscalType::Standard,
            "MASTER" => FiscalType::Master,
            "CLOUD" => FiscalType::Cloud,
            other => FiscalType::Other(other.to_owned()),
        }
    }
}

impl Serialize for FiscalType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_code())
    }
}

impl<'de> Deserialize<'de> for FiscalType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| FiscalType::from_code(&s))
    }
}

/// A retail store, as both `admin/retailstore` rows and
/// `settings/retailstore` describe it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RetailStore {
    pub meta: Meta,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
    pub organization: Organization,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub store: Option<MetaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cashiers: Option<Cashiers>,
    /// A token was already attached; attaching again cuts off the previous
    /// device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_token_attached: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ofd_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub always_print_check: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_phone_priority: Option<bool>,
    /// Cash in the drawer, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash: Option<Money>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_tax_system: Option<TaxSystemCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_tax_system: Option<TaxSystemCode>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_type: Option<FiscalType>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marking_selling_mode: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tobacco_mrc_control_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_marks_for_check: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_pay_enabled: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_template: Option<ReceiptTemplate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PosState>,
}

/// `GET /admin/retailstore`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetailStoreList {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meta: Option<ListMeta>,
    pub rows: Vec<RetailStore>,
}

/// `POST /admin/attach/{id}` → the store's token and the cashier uid to
/// send with it. `Debug` redacts the token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attached {
    pub token: Secret,
    pub uid: String,
}
