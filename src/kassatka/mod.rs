//! Kassatka 1C integration API (the second receipt source, seed
//! `000_bbd6a056a684fcee.txt`): push the product catalogue as XML, pull the
//! receipts of Kassatka cash boxes as XML, both through asynchronous
//! "process" keys.
//!
//! Pure parts (amount texts, XML documents, the JSON envelope, the mapping to
//! [`kkt::Receipt`]) are separate from the HTTP [`client`] and the
//! [`waiting`] loop, so each is testable alone. The XML bodies themselves are
//! the `kassatka-format` crate, shared with the fake server (`sim-kassatka`).

pub use kassatka_format::{amount, documents, nomenclature, xml_tree};

pub mod assortment;
pub mod catalogue;
pub mod client;
pub mod csv_text;
pub mod envelope;
pub mod error;
pub mod export;
pub mod fiscal;
pub mod settings;
pub mod source;
pub mod waiting;
pub mod windows;

pub use client::{
    ApiToken, ClientConfig, DEFAULT_BASE_URL, Download, KassatkaClient, ProcessKey,
    plain_http_warning,
};
pub use documents::{
    DocumentsError, KassatkaReceipt, ReceiptHead, ReceiptKey, ReceiptLine, documents_to_xml,
    parse_documents, parse_documents_each,
};
pub use envelope::ProcessStatus;
pub use error::KassatkaError;
pub use fiscal::{FiscalProfile, MappingError, ToKktReceipt};
pub use nomenclature::{NO_GROUP, NomenclatureError, Product, ProductGroup, ProductsGroups};
pub use waiting::{NoProgress, TerminalProgress, WaitPolicy, WaitProgress};

/// The receipts of the Kassatka API document's sample export, for unit
/// tests of the modules that read them.
#[cfg(test)]
pub(crate) fn seed_receipts() -> Vec<KassatkaReceipt> {
    match parse_documents(include_bytes!(
        "../../tests/fixtures/kassatka/documents.xml"
    )) {
        Ok(receipts) => receipts,
        Err(e) => panic!("the sample export does not parse: {e}"),
    }
}
