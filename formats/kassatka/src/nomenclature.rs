//! The nomenclature (product catalogue) document Kassatka imports:
//! `<ProductsGroups Date="dd.mm.yyyy">` with flat `<ProductGroup>`s, each
//! holding its `<Product/>`s as attributes. Typed structs, the XML writer
//! used for `POST /nomenclature`, and a reader (for round-trip tests and the
//! fake server). Pure: no I/O.

use super::amount::{format_price_1c, parse_money};
use super::xml_tree::{self, Element, XmlError};
use jiff::civil::Date;
use kkt::Money;
use quick_xml::escape::escape;
use serde::Serialize;
use thiserror::Error;

/// The code 1C uses for "no group" / "no parent group".
pub const NO_GROUP: &str = "none";

/// A whole nomenclature upload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductsGroups {
    /// Date of the export (written `13.04.2018`).
    pub date: Date,
    pub groups: Vec<ProductGroup>,
}

/// A product group (folder). Groups are flat; hierarchy is by `parent_code`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ProductGroup {
    pub code: String,
    pub name: String,
    /// Parent group code, [`NO_GROUP`] for a top-level group.
    pub parent_code: String,
    pub products: Vec<Product>,
}

/// One product at one price type. A product with several price types
/// appears once per price type, as in 1C's export.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Product {
    pub barcode: String,
    pub code: String,
    pub name: String,
    /// Code of the product's group; empty for the [`NO_GROUP`] group.
    pub parent_code: String,
    /// OKEI unit code, e.g. `796` (штука).
    pub unit_code: String,
    pub unit_name: String,
    /// Price in kopecks; `None` is written as an empty attribute.
    pub price: Option<Money>,
    pub comment: String,
    /// 1C price type name, e.g. `Розничная`.
    pub price_type: String,
}

impl ProductsGroups {
    /// Number of product rows (a product at two price types counts twice).
    pub fn product_count(&self) -> usize {
        self.groups.iter().map(|g| g.products.len()).sum()
    }

    /// Number of product rows that carry a price.
    pub fn priced_count(&self) -> usize {
        self.groups
            .iter()
            .flat_map(|g| &g.products)
            .filter(|p| p.price.is_some())
            .count()
    }

    /// The XML body Kassatka expects.
    pub fn to_xml(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        out.push_str(&format!(
            "<ProductsGroups Date=\"{}\">\n",
            self.date.strftime("%d.%m.%Y")
        ));
        for group in &self.groups {
            out.push_str(&format!(
                " <ProductGroup Code=\"{}\" Name=\"{}\" ParentCode=\"{}\">\n  <Products>\n",
                escape(group.code.as_str()),
                escape(group.name.as_str()),
                escape(group.parent_code.as_str()),
            ));
            for p in &group.products {
                let price = p.price.map(format_price_1c).unwrap_or_default();
                out.push_str(&format!(
                    "   <Product Barcode=\"{}\" Code=\"{}\" Name=\"{}\" ParentCode=\"{}\" \
                     UnitCode=\"{}\" UnitName=\"{}\" Price=\"{}\" Comment=\"{}\" PriceType=\"{}\"/>\n",
                    escape(p.barcode.as_str()),
                    escape(p.code.as_str()),
                    escape(p.name.as_str()),
                    escape(p.parent_code.as_str()),
                    escape(p.unit_code.as_str()),
                    escape(p.unit_name.as_str()),
                    escape(price.as_str()),
                    escape(p.comment.as_str()),
                    escape(p.price_type.as_str()),
                ));
            }
            out.push_str("  </Products>\n </ProductGroup>\n");
        }
        out.push_str("</ProductsGroups>\n");
        out
    }

    /// Reads a nomenclature XML body.
    pub fn from_xml(bytes: &[u8]) -> Result<Self, NomenclatureError> {
        let root = xml_tree::parse(bytes)?;
        if root.name != "ProductsGroups" {
            return Err(NomenclatureError::WrongRoot(root.name));
        }
        let date_text = required_attribute(&root, "Date", "ProductsGroups")?;
        let date =
            Date::strptime("%d.%m.%Y", date_text).map_err(|_| NomenclatureError::BadField {
                element: "ProductsGroups".into(),
                field: "Date",
                value: date_text.to_string(),
                reason: "expected dd.mm.yyyy".into(),
            })?;
        let mut groups = Vec::new();
        for (gi, g) in root.children_named("ProductGroup").enumerate() {
            let where_group = format!("ProductGroup #{}", gi + 1);
            let mut group = ProductGroup {
                code: required_attribute(g, "Code", &where_group)?.to_string(),
                name: required_attribute(g, "Name", &where_group)?.to_string(),
                parent_code: required_attribute(g, "ParentCode", &where_group)?.to_string(),
                products: Vec::new(),
            };
            let products = g
                .child("Products")
                .into_iter()
                .flat_map(|p| p.children_named("Product"));
            for (pi, p) in products.enumerate() {
                let whereabouts = format!("{where_group} ({}) Product #{}", group.code, pi + 1);
                let attr = |name: &'static str| required_attribute(p, name, &whereabouts);
                let price_text = attr("Price")?;
                let price = if price_text.trim().is_empty() {
                    None
                } else {
                    Some(
                        parse_money(price_text).map_err(|e| NomenclatureError::BadField {
                            element: whereabouts.clone(),
                            field: "Price",
                            value: price_text.to_string(),
                            reason: e.to_string(),
                        })?,
                    )
                };
                group.products.push(Product {
                    barcode: attr("Barcode")?.to_string(),
                    code: attr("Code")?.to_string(),
                    name: attr("Name")?.to_string(),
                    parent_code: attr("ParentCode")?.to_string(),
                    unit_code: attr("UnitCode")?.to_string(),
                    unit_name: attr("UnitName")?.to_string(),
                    price,
                    comment: p.attribute("Comment").unwrap_or_default().to_string(),
                    price_type: p.attribute("PriceType").unwrap_or_default().to_string(),
                });
            }
            groups.push(group);
        }
        Ok(ProductsGroups { date, groups })
    }
}

fn required_attribute<'a>(
    element: &'a Element,
    name: &'static str,
    whereabouts: &str,
) -> Result<&'a str, NomenclatureError> {
    element
        .attribute(name)
        .ok_or_else(|| NomenclatureError::MissingField {
            element: whereabouts.to_string(),
            field: name,
        })
}

/// Why a nomenclature body could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NomenclatureError {
    #[error("nomenclature: {0}")]
    Xml(#[from] XmlError),
    #[error("nomenclature: root element is <{0}>, expected <ProductsGroups>")]
    WrongRoot(String),
    #[error("nomenclature: {element}: attribute {field} is missing")]
    MissingField {
        element: String,
        field: &'static str,
    },
    #[error("nomenclature: {element}: {field}={value:?}: {reason}")]
    BadField {
        element: String,
        field: &'static str,
        value: String,
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ProductsGroups {
        ProductsGroups {
            date: jiff::civil::date(2018, 4, 13),
            groups: vec![ProductGroup {
                code: "00-1".into(),
                name: "Товары \"лучшие\" & <новые>".into(),
                parent_code: NO_GROUP.into(),
                products: vec![Product {
                    barcode: "4260133180178".into(),
                    code: "УТ-00000003".into(),
                    name: "Фиделе 90 таб.".into(),
                    parent_code: "00-1".into(),
                    unit_code: "796".into(),
                    unit_name: "Штука".into(),
                    price: Some(Money(199_000)),
                    comment: String::new(),
                    price_type: "Прайс-лист".into(),
                }],
            }],
        }
    }

    #[test]
    fn writes_attributes_like_the_seed() {
        let xml = sample().to_xml();
        assert!(xml.contains("<ProductsGroups Date=\"13.04.2018\">"));
        assert!(xml.contains("Price=\"1 990,00\""));
        assert!(xml.contains("Name=\"Товары &quot;лучшие&quot; &amp; &lt;новые&gt;\""));
    }

    #[test]
    fn what_we_write_reads_back() {
        let groups = sample();
        assert_eq!(
            ProductsGroups::from_xml(groups.to_xml().as_bytes()),
            Ok(groups)
        );
    }

    #[test]
    fn names_the_bad_field() {
        let xml = sample().to_xml().replace("1 990,00", "дорого");
        let err = ProductsGroups::from_xml(xml.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nomenclature: ProductGroup #1 (00-1) Product #1: Price=\"дорого\": unexpected character 'д'"
        );
    }
}
