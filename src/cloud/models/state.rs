//! `POST /state`: how the point of sale is doing (sync, FN, OFD backlog),
//! and the same `state` block as `settings/retailstore` reports it back.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use super::fiscal::{Environment, PaymentTerminal};
use super::meta::cloud_time;

/// `state.sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyncState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Last sync attempt. The settings resource spells it
    /// `lastAttempMoment`; both spellings are read.
    #[serde(
        default,
        alias = "lastAttempMoment",
        with = "cloud_time::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_attempt_moment: Option<DateTime>,
}

/// `state.fiscalMemory.error`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiscalMemoryError {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `state.fiscalMemory`: FN errors and the OFD backlog.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalMemoryState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<FiscalMemoryError>,
    /// Documents not yet sent to the OFD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_send_doc_count: Option<u64>,
    /// Date of the first unsent document.
    #[serde(
        default,
        with = "cloud_time::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub not_send_first_doc_moment: Option<DateTime>,
}

/// `state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PosState {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sync: Option<SyncState>,
    /// Last check (settings only).
    #[serde(
        default,
        with = "cloud_time::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_check_moment: Option<DateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_memory: Option<FiscalMemoryState>,
    /// Deprecated by the seed; kept for completeness.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terminal: Option<PaymentTerminal>,
}

/// The body of `POST /state`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateReport {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<Environment>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<PosState>,
}
