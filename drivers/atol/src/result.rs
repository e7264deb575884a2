//! Typed results of ATOL JSON tasks. Every field the driver does not need is
//! optional and unknown fields are ignored, so a newer Web-server's extra
//! data never breaks parsing; enum values ATOL may add map to `Other`.

use crate::decimal::Rubles;
use serde::{Deserialize, Serialize};

/// Fiscal data of a document the FN has just signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalParams {
    pub fiscal_document_number: u32,
    /// Fiscal sign (ФПД) as decimal digits.
    pub fiscal_document_sign: String,
    /// ISO-8601 with offset, e.g. `2026-03-01T10:00:00+03:00`.
    pub fiscal_document_date_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_receipt_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registration_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Rubles>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fns_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalWarnings {
    /// The document is in the FN but was not printed (paper ran out).
    #[serde(default)]
    pub not_printed: bool,
    #[serde(default)]
    pub data_for_send_is_empty: bool,
}

/// Result of `sell`, `sellReturn`, `openShift`, `closeShift`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalResult {
    pub fiscal_params: FiscalParams,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<FiscalWarnings>,
}

/// Shift state as `getDeviceStatus` and `getShiftStatus` name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShiftStateName {
    Closed,
    Opened,
    Expired,
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatusBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_date_time: Option<String>,
    pub shift: ShiftStateName,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default)]
    pub cover_opened: bool,
    #[serde(default = "yes")]
    pub paper_present: bool,
    #[serde(default)]
    pub fiscal: bool,
    #[serde(default)]
    pub fn_fiscal: bool,
    #[serde(default)]
    pub fn_present: bool,
    #[serde(default)]
    pub cash_drawer_opened: bool,
    /// A document is in the FN but its printing waits for `continuePrint`.
    #[serde(default)]
    pub document_not_printed: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceStatusResult {
    pub device_status: DeviceStatusBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShiftStatusBody {
    pub state: ShiftStateName,
    pub number: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub documents_count: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShiftStatusResult {
    pub shift_status: ShiftStatusBody,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnWarningsBody {
    #[serde(default)]
    pub memory_overflow: bool,
    #[serde(default)]
    pub need_replacement: bool,
    #[serde(default)]
    pub ofd_timeout: bool,
    #[serde(default)]
    pub resource_exhausted: bool,
    #[serde(default)]
    pub critical_error: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnInfoBody {
    pub serial: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// `YYYY-MM-DD…`; only the date part is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffd_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub live_phase: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warnings: Option<FnWarningsBody>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnInfoResult {
    pub fn_info: FnInfoBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnStatusBody {
    /// Number of the last fiscal document.
    pub fiscal_document_number: u32,
    /// Number of the last receipt in the shift.
    #[serde(default)]
    pub fiscal_receipt_number: u32,
    #[serde(default)]
    pub warnings: FnWarningsBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnStatusResult {
    pub fn_status: FnStatusBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfdExchangeBody {
    #[serde(default)]
    pub not_sent_count: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_sent_first_doc_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not_sent_first_doc_date_time: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfdExchangeResult {
    pub status: OfdExchangeBody,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfoBody {
    #[serde(default)]
    pub model: u32,
    #[serde(default)]
    pub model_name: String,
    #[serde(default)]
    pub serial: String,
    #[serde(default)]
    pub firmware_version: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_line_length: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ffd_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_ffd_version: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeviceInfoResult {
    pub device_info: DeviceInfoBody,
}

/// A document read back from the FN archive (`getFnDocument`). The field
/// names follow ATOL's `fiscalParams` spelling; `documentType` is the FFD
/// document type code (1 registration, 2 shift open, 3 receipt, 5 shift
/// close …) and `operationType` the FFD tag 1054 code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnDocumentBody {
    pub document_type: u8,
    pub fiscal_document_number: u32,
    pub fiscal_document_sign: String,
    pub fiscal_document_date_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shift_number: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation_type: Option<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<Rubles>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FnDocumentResult {
    pub document: FnDocumentBody,
}

/// Result of `beginMarkingCodeValidation`: the FN's own (offline) check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkingCheckBegun {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_validation: Option<OfflineValidation>,
}

/// The FN's check of a code's crypto tail.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OfflineValidation {
    /// The FN checked the code.
    #[serde(default)]
    pub fm_check: bool,
    /// ... and it passed.
    #[serde(default)]
    pub fm_check_result: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fm_check_error_reason: Option<String>,
}

/// Result of `getMarkingCodeValidationStatus`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkingCheckStatus {
    /// The verdict is final.
    #[serde(default)]
    pub ready: bool,
    /// The OISM was asked.
    #[serde(default)]
    pub sent_imc_request: bool,
    /// Why the OISM could not be asked (code 0: no error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver_error: Option<MarkingDriverError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online_validation: Option<OnlineValidation>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkingDriverError {
    #[serde(default)]
    pub code: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// The OISM's answer on a code.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OnlineValidation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_info_check_result: Option<crate::task::ItemInfoCheckResult>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_operator_item_status: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imc_type: Option<String>,
}
