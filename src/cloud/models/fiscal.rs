//! Fiscal data shared by operations, approve and state: the cheque (FN
//! data of a printed receipt), the printer and software environment, and
//! the tax-system code.

use jiff::civil::DateTime;
use kkt::Money;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::meta::cloud_time;
use super::number::rubles;

/// `cheque`: what the FN made of the operation (or, on a queued operation,
/// how the minion wants it delivered: `phone` / `email`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cheque {
    /// A fiscal printer was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal: Option<bool>,
    /// An electronic receipt is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub online: Option<bool>,
    /// A paper receipt is printed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub printed: Option<bool>,
    /// Phone the electronic receipt goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// E-mail the electronic receipt goes to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Receipt number within the shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<String>,
    /// Receipt total. On the wire in rubles with decimals (`123.6`), unlike
    /// the operation's sums, which are kopecks.
    #[serde(default, with = "rubles::opt", skip_serializing_if = "Option::is_none")]
    pub sum: Option<Money>,
    /// FN serial number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fn_number: Option<String>,
    /// Fiscal sign (ФП) of the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_doc_sign: Option<String>,
    /// Fiscal document number (ФД).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_doc_number: Option<String>,
    /// Time of fiscalisation.
    #[serde(
        default,
        with = "cloud_time::opt",
        skip_serializing_if = "Option::is_none"
    )]
    pub time: Option<DateTime>,
}

/// `driver` inside `chequePrinter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Driver {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `fiscalMemory` inside `chequePrinter`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FiscalMemoryInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_data_version: Option<String>,
    /// FN validity date (free text; the seed gives no format).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_validity_date: Option<String>,
}

/// `chequePrinter`: the KKT.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChequePrinter {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    /// Model name; required whenever `chequePrinter` is sent.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_data_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub driver: Option<Driver>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fiscal_memory: Option<FiscalMemoryInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firmware_version: Option<String>,
    /// Tax systems registered in the KKT, comma-separated (state only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_system: Option<String>,
    /// The KKT's clock (state only; free text).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fr_date: Option<String>,
}

/// `software` inside `environment`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Software {
    /// Required whenever `software` is sent.
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
}

/// `paymentTerminal`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentTerminal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquiring_type: Option<String>,
}

/// `environment`: the device, OS, software and printer of a point of sale.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Environment {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<Software>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cheque_printer: Option<ChequePrinter>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_terminal: Option<PaymentTerminal>,
}

/// A tax-system code (`taxSystem`, `defaultTaxSystem`). Codes the seed does
/// not list are kept verbatim rather than failing the whole document.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TaxSystemCode {
    /// ОСН.
    General,
    /// УСН доход.
    SimplifiedIncome,
    /// УСН доход − расход.
    SimplifiedIncomeOutcome,
    /// ЕСХН.
    Agricultural,
    /// ЕНВД.
    Presumptive,
    /// Патент.
    Patent,
    /// A code this version does not know.
    Other(String),
}

impl TaxSystemCode {
    /// The wire code.
    pub fn as_code(&self) -> &str {
        match self {
            TaxSystemCode::General => "GENERAL_TAX_SYSTEM",
            TaxSystemCode::SimplifiedIncome => "SIMPLIFIED_TAX_SYSTEM_INCOME",
            TaxSystemCode::SimplifiedIncomeOutcome => "SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME",
            TaxSystemCode::Agricultural => "UNIFIED_AGRICULTURAL_TAX",
            TaxSystemCode::Presumptive => "PRESUMPTIVE_TAX_SYSTEM",
            TaxSystemCode::Patent => "PATENT_BASED",
            TaxSystemCode::Other(s) => s,
        }
    }

    /// Parses a wire code.
    pub fn from_code(code: &str) -> TaxSystemCode {
        match code {
            "GENERAL_TAX_SYSTEM" => TaxSystemCode::General,
            "SIMPLIFIED_TAX_SYSTEM_INCOME" => TaxSystemCode::SimplifiedIncome,
            "SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME" => TaxSystemCode::SimplifiedIncomeOutcome,
            "UNIFIED_AGRICULTURAL_TAX" => TaxSystemCode::Agricultural,
            "PRESUMPTIVE_TAX_SYSTEM" => TaxSystemCode::Presumptive,
            "PATENT_BASED" => TaxSystemCode::Patent,
            other => TaxSystemCode::Other(other.to_owned()),
        }
    }

    /// The device-neutral tax system, if this code is a known one.
    pub fn to_kkt(&self) -> Option<kkt::TaxSystem> {
        Some(match self {
            TaxSystemCode::General => kkt::TaxSystem::General,
            TaxSystemCode::SimplifiedIncome => kkt::TaxSystem::SimplifiedIncome,
            TaxSystemCode::SimplifiedIncomeOutcome => kkt::TaxSystem::SimplifiedIncomeExpense,
            TaxSystemCode::Agricultural => kkt::TaxSystem::Agricultural,
            TaxSystemCode::Presumptive => kkt::TaxSystem::Envd,
            TaxSystemCode::Patent => kkt::TaxSystem::Patent,
            TaxSystemCode::Other(_) => return None,
        })
    }

    /// The wire code for a device-neutral tax system.
    pub fn from_kkt(t: kkt::TaxSystem) -> TaxSystemCode {
        match t {
            kkt::TaxSystem::General => TaxSystemCode::General,
            kkt::TaxSystem::SimplifiedIncome => TaxSystemCode::SimplifiedIncome,
            kkt::TaxSystem::SimplifiedIncomeExpense => TaxSystemCode::SimplifiedIncomeOutcome,
            kkt::TaxSystem::Agricultural => TaxSystemCode::Agricultural,
            kkt::TaxSystem::Envd => TaxSystemCode::Presumptive,
            kkt::TaxSystem::Patent => TaxSystemCode::Patent,
        }
    }
}

impl Serialize for TaxSystemCode {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_code())
    }
}

impl<'de> Deserialize<'de> for TaxSystemCode {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d).map(|s| TaxSystemCode::from_code(&s))
    }
}
