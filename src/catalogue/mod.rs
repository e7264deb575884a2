//! The shop's catalogue, so receipts carry its real data: item names,
//! payment objects, measures, and the store's tax system and receipt
//! template.
//!
//! - [`item`]: an item as cached (variants inherit from their product);
//! - [`attributes`]: tags 1212 and 2108 from an item (pure);
//! - [`cache`]: memory + journal database, store settings, status;
//! - [`sync`]: the scheduled full sync, off the print path;
//! - [`lookup`]: naming an operation's positions before it is rendered.

pub mod attributes;
pub mod cache;
pub mod error;
pub mod item;
pub mod lookup;
pub mod sync;

pub use cache::{Catalogue, CatalogueStatus, StoreSettings};
pub use error::CatalogueError;
pub use item::{CatalogueItem, ItemKind};
pub use lookup::{Bundles, ProductLookup, Resolved, UnknownProduct};
pub use sync::CatalogueSync;

#[cfg(test)]
mod tests;
