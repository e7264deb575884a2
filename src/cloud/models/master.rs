//! What the master kassa answers for a queued operation — approve (the FN
//! data of the printed receipt) or reject (why it was not printed) — and the
//! fiscal status the cloud shows for an operation afterwards.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::fiscal::{Cheque, ChequePrinter, TaxSystemCode};
use super::meta::{Meta, MetaRef};

/// `PUT /cheque/rpc/master/approve`: the operation was fiscalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Approve {
    /// The operation's meta, as polled.
    pub meta: Meta,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque: Option<Cheque>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque_printer: Option<ChequePrinter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_system: Option<TaxSystemCode>,
    /// The master's retail shift the receipt was printed in (one the agent
    /// opened with `openshift`).
    pub retail_shift: MetaRef,
}

/// `PUT /cheque/rpc/master/reject`: the operation cannot be fiscalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    /// The operation's meta, as polled.
    pub meta: Meta,
    /// Shown to the shop: Russian, says what to fix.
    pub fiscal_err_msg: String,
}

/// `fiscalStatus` of an operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum FiscalStatus {
    /// Фискализирована.
    Ok,
    /// Ожидает фискализации.
    Pending,
    /// В процессе фискализации.
    InProgress,
    /// A status this version does not know, kept verbatim.
    Other(String),
}

impl FiscalStatus {
    pub fn as_code(&self) -> &str {
        match self {
            FiscalStatus::Ok => "OK",
            FiscalStatus::Pending => "PENDING",
            FiscalStatus::InProgress => "IN_PROGRESS",
            FiscalStatus::Other(s) => s,
        }
    }
    pub fn from_code(s: &str) -> FiscalStatus {
        match s {
            "OK" => FiscalStatus::Ok,
            "PENDING" => FiscalStatus::Pending,
            "IN_PROGRESS" => FiscalStatus::InProgress,
            other => FiscalStatus::Other(other.to_owned()),
        }
    }
}

impl Serialize for FiscalStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_code())
    }
}

impl<'de> Deserialize<'de> for FiscalStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| FiscalStatus::from_code(&s))
    }
}

/// `GET /cheque/rpc/minion/status/syncid/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationStatus {
    /// The operation's meta (note: a bare meta, not `{"meta": …}`).
    pub operation: Meta,
    pub fiscal_status: FiscalStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque: Option<Cheque>,
}
