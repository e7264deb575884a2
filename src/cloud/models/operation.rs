//! The four operations the master queue hands out — sale (`retaildemand`),
//! sale return (`retailsalesreturn`), prepayment and prepayment return — as
//! `GET /cheque/rpc/master/poll/{orgId}` returns them.
//!
//! The four share one shape (the seed documents them as the same entity
//! body with a few kind-specific links), so they are one [`Operation`]
//! struct carrying its [`OperationKind`], which is read from `meta`.
//! Money is kopecks ([`kkt::Money`]), quantities millionths
//! ([`kkt::Quantity`]); nothing passes through a float.

use jiff::civil::DateTime;
use kkt::{Money, Quantity};
use serde::{Deserialize, Serialize};

use super::fiscal::{Cheque, Environment, TaxSystemCode};
use super::meta::{Meta, MetaRef, cloud_time};
use super::number::{Percent, kopecks, quantity};

/// Which kind of operation the queue handed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationKind {
    /// Продажа (`retaildemand`).
    RetailDemand,
    /// Возврат продажи (`retailsalesreturn`).
    RetailSalesReturn,
    /// Предоплата (`prepayment`).
    Prepayment,
    /// Возврат предоплаты (`prepaymentreturn`).
    PrepaymentReturn,
}

impl OperationKind {
    /// All kinds, in the seed's order.
    pub const ALL: [OperationKind; 4] = [
        OperationKind::RetailDemand,
        OperationKind::RetailSalesReturn,
        OperationKind::Prepayment,
        OperationKind::PrepaymentReturn,
    ];

    /// The entity name on the wire (`retaildemand`, …).
    pub fn entity(self) -> &'static str {
        match self {
            OperationKind::RetailDemand => "retaildemand",
            OperationKind::RetailSalesReturn => "retailsalesreturn",
            OperationKind::Prepayment => "prepayment",
            OperationKind::PrepaymentReturn => "prepaymentreturn",
        }
    }

    /// Parses an entity name.
    pub fn from_entity(entity: &str) -> Option<OperationKind> {
        OperationKind::ALL
            .into_iter()
            .find(|k| k.entity().eq_ignore_ascii_case(entity))
    }

    /// The device-neutral receipt kind.
    pub fn receipt_kind(self) -> kkt::ReceiptKind {
        match self {
            OperationKind::RetailDemand => kkt::ReceiptKind::Sale,
            OperationKind::RetailSalesReturn => kkt::ReceiptKind::SaleReturn,
            OperationKind::Prepayment => kkt::ReceiptKind::Prepayment,
            OperationKind::PrepaymentReturn => kkt::ReceiptKind::PrepaymentReturn,
        }
    }
}

impl std::fmt::Display for OperationKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.entity())
    }
}

/// A marking code (`marks[]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mark {
    /// The code as scanned (КИЗ / код идентификации).
    pub cis: String,
}

/// `pack`: the package a position is sold in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pack {
    pub id: String,
    pub name: String,
    /// Items in one package.
    #[serde(with = "quantity")]
    pub quantity: Quantity,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub barcode: Option<String>,
}

/// One line of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Position {
    /// The product / variant / service / bundle sold.
    pub assortment: MetaRef,
    /// Must be positive (checked by the worker's validation, not here).
    #[serde(with = "quantity")]
    pub quantity: Quantity,
    /// Unit price in kopecks.
    #[serde(with = "kopecks")]
    pub price: Money,
    /// Discount percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discount: Option<Percent>,
    /// VAT percent (0, 5, 7, 10, 20, 22, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat: Option<Percent>,
    /// `false` with `vat: 0` means "без НДС"; `true` with 0 means 0 %.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_enabled: Option<bool>,
    /// Discount amount of the line in kopecks (the scenario's shape).
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub discount_sum: Option<Money>,
    /// VAT amount of the line in kopecks (the scenario's shape).
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub vat_sum: Option<Money>,
    /// Line total in kopecks, when the cloud sends one.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sum: Option<Money>,
    /// PDF-417 codes of alcohol.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pdf: Vec<String>,
    /// Serial numbers (links).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sn: Vec<MetaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pack: Option<Pack>,
    /// Marking codes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
}

/// `cardTransaction`: a card payment made at the minion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CardTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pan: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrn_code: Option<String>,
    /// Kopecks.
    #[serde(with = "kopecks")]
    pub amount: Money,
    pub acquiring_type: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// `qrTransaction`: a QR-code payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QrTransaction {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_operation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquiring_type: Option<String>,
}

/// A queued operation. `kind` is not a wire field: [`super::parse_poll`]
/// sets it from `meta`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(skip, default = "default_kind")]
    pub kind: OperationKind,
    /// The operation's id; its syncid is the idempotency key.
    pub meta: Meta,
    /// The minion's retail shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retail_shift: Option<MetaRef>,
    /// Document number.
    pub name: String,
    #[serde(with = "cloud_time")]
    pub moment: DateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<MetaRef>,
    /// Buyer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent: Option<MetaRef>,
    pub positions: Vec<Position>,
    /// Paid in cash, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub cash_sum: Option<Money>,
    /// Paid by card, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub no_cash_sum: Option<Money>,
    /// Paid by QR code, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub qr_sum: Option<Money>,
    /// Previously prepaid in cash (sale against a prepayment), kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepayment_cash: Option<Money>,
    /// Previously prepaid by card, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepayment_no_cash: Option<Money>,
    /// Previously prepaid by QR, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub prepayment_qr_sum: Option<Money>,
    /// Total of a prepayment / prepayment return, kopecks.
    #[serde(
        default,
        with = "kopecks::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub sum: Option<Money>,
    /// The document carries VAT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_enabled: Option<bool>,
    /// VAT is included in prices (the default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_included: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_system: Option<TaxSystemCode>,
    /// Delivery wishes (phone / email) and any earlier fiscal data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque: Option<Cheque>,
    /// Buyer's e-mail in the older flat shape (the seed's scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque_email: Option<String>,
    /// Buyer's phone in the older flat shape (the seed's scenario).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque_phone: Option<String>,
    /// An electronic receipt is wanted (flat shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub electronic_cheque: Option<bool>,
    /// A paper receipt is wanted (flat shape).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paper_cheque: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub card_transaction: Option<CardTransaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qr_transaction: Option<QrTransaction>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_order: Option<MetaRef>,
    /// The sale a sale return refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand: Option<MetaRef>,
    /// The prepayment a prepayment return refers to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prepayment: Option<MetaRef>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_program: Option<MetaRef>,
    /// Bonus points to earn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_value_to_earn: Option<i64>,
    /// Bonus points to spend.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bonus_value_to_spend: Option<i64>,
    /// EGAIS receipt URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottle_url: Option<String>,
    /// EGAIS signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bottle_sign: Option<String>,
}

fn default_kind() -> OperationKind {
    OperationKind::RetailDemand
}

impl Operation {
    /// The idempotency key: the operation's syncid (falls back to the last
    /// segment of its href when the cloud gives a native id only).
    pub fn sync_id(&self) -> Option<&str> {
        self.meta.sync_id().or_else(|| self.meta.last_id())
    }

    /// Buyer's phone for the electronic receipt: `cheque.phone`, else the
    /// flat `chequePhone`; blank values count as absent.
    pub fn buyer_phone(&self) -> Option<&str> {
        let nested = self.cheque.as_ref().and_then(|c| c.phone.as_deref());
        nested.filter(|s| !s.trim().is_empty()).or(self
            .cheque_phone
            .as_deref()
            .filter(|s| !s.trim().is_empty()))
    }

    /// Buyer's e-mail: `cheque.email`, else the flat `chequeEmail`.
    pub fn buyer_email(&self) -> Option<&str> {
        let nested = self.cheque.as_ref().and_then(|c| c.email.as_deref());
        nested.filter(|s| !s.trim().is_empty()).or(self
            .cheque_email
            .as_deref()
            .filter(|s| !s.trim().is_empty()))
    }

    /// Sum of the declared payments (cash + card + QR + prepayments), or
    /// `None` on overflow.
    pub fn payments_total(&self) -> Option<Money> {
        [
            self.cash_sum,
            self.no_cash_sum,
            self.qr_sum,
            self.prepayment_cash,
            self.prepayment_no_cash,
            self.prepayment_qr_sum,
        ]
        .into_iter()
        .flatten()
        .try_fold(Money::ZERO, Money::checked_add)
    }
}
