//! Names and attributes before printing: every position of an operation
//! gets its name, payment object and measure from the cache. A position
//! the cache lacks is asked about with one targeted request; what the
//! cloud says does not exist rejects the operation (the reason names the
//! line), and when the cloud cannot be asked the operation waits. Nothing
//! is printed under an invented name unless the shop chose
//! `unknown_product = "generic"`.

use super::attributes::line_subject;
use super::cache::Catalogue;
use super::item::CatalogueItem;
use crate::cloud::PosApi;
use crate::receipt::{ComponentInput, OperationInput, PositionInput, RejectReason};
use std::sync::Arc;

/// `unknown_product`: what to do with a position the catalogue lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnknownProduct {
    /// Reject it when the cloud says it does not exist; wait while the
    /// cloud cannot be asked.
    #[default]
    Wait,
    /// Print it as «Товар N» (the shop asked for that explicitly).
    Generic,
}

/// `bundles`: how a bundle (`COMPOUND_PAYMENT_ITEM`) is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Bundles {
    /// One line with the bundle's name (1212 = 12, "composite").
    #[default]
    Whole,
    /// One line per component with its own name, object and measure; the
    /// bundle's sum is shared among them (see `receipt`).
    Components,
}

/// The outcome of a lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// Every position named: render this.
    Ready(OperationInput),
    /// Cannot be printed truthfully.
    Reject(RejectReason),
    /// Ask again later; the Russian reason for status.
    Wait(String),
}

/// Fills a position from its catalogue item.
pub fn describe(position: &mut PositionInput, item: &CatalogueItem) {
    position.name = Some(item.name.clone());
    position.subject = Some(line_subject(item, !position.marks.is_empty()));
}

/// Lookups of one shop's catalogue.
pub struct ProductLookup {
    api: Arc<dyn PosApi>,
    catalogue: Arc<Catalogue>,
    unknown: UnknownProduct,
    /// Print the store's receipt template.
    pub print_template: bool,
    /// How bundles are printed.
    pub bundles: Bundles,
}

impl ProductLookup {
    pub fn new(api: Arc<dyn PosApi>, catalogue: Arc<Catalogue>, unknown: UnknownProduct) -> Self {
        ProductLookup {
            api,
            catalogue,
            unknown,
            print_template: true,
            bundles: Bundles::Whole,
        }
    }

    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// Names the positions of operation `op_id`.
    pub async fn resolve(&self, op_id: &str, mut input: OperationInput) -> Resolved {
        for (i, position) in input.positions.iter_mut().enumerate() {
            let Some(href) = position.assortment.clone() else {
                continue;
            };
            if let Some(item) = self.catalogue.get(&href) {
                describe(position, &item);
                self.describe_components(position, &item).await;
                continue;
            }
            match self.api.assortment_item(&href).await {
                Ok(Some(row)) => match CatalogueItem::from_cloud(&row) {
                    Some(item) => {
                        if let Err(e) = self.catalogue.upsert(item.clone()) {
                            tracing::warn!(error = %e, "catalogue item not stored");
                        }
                        describe(position, &item);
                        self.describe_components(position, &item).await;
                    }
                    None => {
                        if let Some(r) = self.missing(op_id, i + 1, &href) {
                            return r;
                        }
                    }
                },
                Ok(None) => {
                    if let Some(r) = self.missing(op_id, i + 1, &href) {
                        return r;
                    }
                }
                Err(e) => {
                    if self.unknown == UnknownProduct::Generic {
                        continue;
                    }
                    tracing::warn!(op = op_id, href, error = %e, "cannot ask the cloud about a product; the operation waits");
                    self.catalogue.set_waiting(op_id, true);
                    return Resolved::Wait(format!(
                        "операция {op_id} ждёт товар позиции {}: облако недоступно ({e})",
                        i + 1
                    ));
                }
            }
        }
        self.catalogue.set_waiting(op_id, false);
        Resolved::Ready(input)
    }

    /// With `bundles = "components"`, the components of a bundle, each from
    /// the cache or one targeted request; a component that cannot be named
    /// leaves the bundle printed whole (its own name is real).
    async fn describe_components(&self, position: &mut PositionInput, item: &CatalogueItem) {
        position.components.clear();
        if self.bundles != Bundles::Components
            || item.kind != super::item::ItemKind::Bundle
            || item.components.is_empty()
            || !position.marks.is_empty()
        {
            return;
        }
        let mut parts = Vec::new();
        for c in &item.components {
            let found = match self.catalogue.get(&c.href) {
                Some(it) => Some((*it).clone()),
                None => match self.api.assortment_item(&c.href).await {
                    Ok(Some(row)) => CatalogueItem::from_cloud(&row).inspect(|it| {
                        let _ = self.catalogue.upsert(it.clone());
                    }),
                    _ => None,
                },
            };
            let Some(component) = found else {
                tracing::warn!(bundle = %item.name, component = %c.href, "bundle component unknown; the bundle prints whole");
                return;
            };
            parts.push(ComponentInput {
                name: component.name.clone(),
                subject: line_subject(&component, false),
                quantity: c.quantity,
                unit_price: component.sale_price,
            });
        }
        position.components = parts;
    }

    /// A product the cloud does not know: rejected, unless the shop chose
    /// generic names (`None`: go on).
    fn missing(&self, op_id: &str, line: usize, href: &str) -> Option<Resolved> {
        if self.unknown == UnknownProduct::Generic {
            return None;
        }
        self.catalogue.set_waiting(op_id, false);
        let id = crate::cloud::models::Meta::from_href(href)
            .last_id()
            .unwrap_or(href)
            .to_string();
        Some(Resolved::Reject(RejectReason(format!(
            "Ошибка данных: позиция {line}: товар {id} не найден в справочнике МойСклад"
        ))))
    }
}
