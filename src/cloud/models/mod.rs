//! Typed models of everything masterkassa exchanges with the MoySklad POS
//! API, and the parsers that turn answer bodies into them.
//!
//! Unknown fields are ignored (the cloud adds fields without notice);
//! missing required fields, wrong types and inexact numbers are a
//! [`ModelError`] naming the document, the JSON path and the field.
//! Parse from the body's text ([`parse_json`], [`parse_poll`]): numbers are
//! read from their decimal text, so they never pass through a float.

pub mod api_error;
pub mod assortment;
pub mod fiscal;
pub mod master;
pub mod meta;
pub mod number;
pub mod operation;
mod reason;
pub mod retailstore;
pub mod shift;
pub mod state;

pub use api_error::{ApiErrorBody, ApiErrorEntry};
pub use assortment::{AssortmentItem, AssortmentPage, Component, SalePrice};
pub use fiscal::{
    Cheque, ChequePrinter, Driver, Environment, FiscalMemoryInfo, PaymentTerminal, Software,
    TaxSystemCode,
};
pub use master::{Approve, FiscalStatus, OperationStatus, Reject};
pub use meta::{Meta, MetaRef};
pub use number::Percent;
pub use operation::{
    CardTransaction, Mark, Operation, OperationKind, Pack, Position, QrTransaction,
};
pub use retailstore::{
    Attached, Cashier, Cashiers, FiscalType, ListMeta, Organization, ReceiptTemplate, RetailStore,
    RetailStoreList,
};
pub use shift::{CloseShift, OpenShift, ShiftCheque, ShiftDocument};
pub use state::{FiscalMemoryError, FiscalMemoryState, PosState, StateReport, SyncState};

use serde::de::DeserializeOwned;

/// A body that could not be turned into a model.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ModelError {
    /// Not JSON at all (or truncated).
    #[error("{what}: malformed JSON at line {line}, column {column}: {message}")]
    Syntax {
        what: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    /// A required field is absent.
    #[error("{what}: required field `{field}` is missing (at {path})")]
    MissingField {
        what: &'static str,
        path: String,
        field: String,
    },
    /// A money amount that is not a whole number of kopecks.
    #[error("{what}: {path} is not a whole number of kopecks: {value}")]
    FractionalKopecks {
        what: &'static str,
        path: String,
        value: String,
    },
    /// A field with the wrong type or an impossible value.
    #[error("{what}: invalid value at {path}: {message}")]
    Invalid {
        what: &'static str,
        path: String,
        message: String,
    },
    /// The operation's `meta` names no kind the master queue hands out.
    #[error("{what}: unknown operation kind {entity:?} (meta.href {href:?})")]
    UnknownKind {
        what: &'static str,
        entity: String,
        href: String,
    },
}

/// Parses a body into `T`, naming `what` (e.g. `"settings/retailstore"`)
/// and the JSON path in any error.
pub fn parse_json<T: DeserializeOwned>(what: &'static str, body: &[u8]) -> Result<T, ModelError> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let result: Result<T, _> = serde_path_to_error::deserialize(&mut de);
    let value = result.map_err(|e| classify(what, e))?;
    de.end().map_err(|e| ModelError::Syntax {
        what,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    Ok(value)
}

fn classify(what: &'static str, e: serde_path_to_error::Error<serde_json::Error>) -> ModelError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    if inner.is_syntax() || inner.is_eof() || inner.is_io() {
        return ModelError::Syntax {
            what,
            line: inner.line(),
            column: inner.column(),
            message: inner.to_string(),
        };
    }
    // serde_json appends " at line L column C" to data errors; the path says
    // more, so drop it.
    let full = inner.to_string();
    let message = match full.rfind(" at line ") {
        Some(i) => full[..i].to_owned(),
        None => full,
    };
    if let Some(rest) = message.strip_prefix("missing field `") {
        let field = rest.split('`').next().unwrap_or("").to_owned();
        return ModelError::MissingField { what, path, field };
    }
    if let Some(rest) = message.strip_prefix(number::FRACTIONAL_KOPECKS) {
        let value = rest.trim_start_matches(':').trim().to_owned();
        return ModelError::FractionalKopecks { what, path, value };
    }
    ModelError::Invalid {
        what,
        path,
        message,
    }
}

/// What a poll returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PollResult {
    /// The queue is empty.
    Empty,
    /// The next operation to fiscalise.
    Operation(Box<Operation>),
}

impl PollResult {
    /// The operation, if any.
    pub fn operation(&self) -> Option<&Operation> {
        match self {
            PollResult::Empty => None,
            PollResult::Operation(op) => Some(op),
        }
    }
}

/// True for every form of "nothing queued" a 2xx poll body can take: empty
/// or blank, `null`, `{}`.
pub fn is_empty_poll_body(body: &[u8]) -> bool {
    let trimmed = body.trim_ascii();
    if trimmed.is_empty() || trimmed == b"null" {
        return true;
    }
    // `{ }` with any whitespace inside.
    trimmed.first() == Some(&b'{')
        && trimmed.last() == Some(&b'}')
        && trimmed[1..trimmed.len() - 1].trim_ascii().is_empty()
}

/// Parses a 2xx poll body: an empty form, or one operation whose kind is
/// read from `meta` (`type`, else the href's entity segment).
pub fn parse_poll(body: &[u8]) -> Result<PollResult, ModelError> {
    if is_empty_poll_body(body) {
        return Ok(PollResult::Empty);
    }
    parse_operation(body).map(|op| PollResult::Operation(Box::new(op)))
}

/// Parses one operation body and sets its kind from `meta`.
pub fn parse_operation(body: &[u8]) -> Result<Operation, ModelError> {
    const WHAT: &str = "poll operation";
    let mut op: Operation = parse_json(WHAT, body)?;
    let entity = op.meta.entity().unwrap_or("").to_owned();
    op.kind = OperationKind::from_entity(&entity).ok_or_else(|| ModelError::UnknownKind {
        what: WHAT,
        entity,
        href: op.meta.href.clone(),
    })?;
    Ok(op)
}

#[cfg(test)]
mod tests;
