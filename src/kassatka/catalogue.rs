//! The product catalogue that `kassatka push-nomenclature` sends, read from
//! a file the shop keeps (CSV or JSON) or built from another source, and
//! turned into Kassatka's [`ProductsGroups`]. Pure: text in, typed
//! nomenclature out, every error naming the row and field.
//!
//! Both file formats carry the same flat rows ([`CatalogueRow`]): one product
//! at one price type per row, with its group given by code (and name).
//! CSV needs a header line naming the columns (comma- or
//! semicolon-separated); JSON is an array of objects with those names.

use super::amount::parse_money;
use super::csv_text::{self, CsvError};
use super::nomenclature::{NO_GROUP, Product, ProductGroup, ProductsGroups};
use jiff::civil::Date;
use kkt::Money;
use serde::Deserialize;
use thiserror::Error;

/// OKEI code and name used when a row gives no unit at all: "штука".
pub const DEFAULT_UNIT_CODE: &str = "796";
pub const DEFAULT_UNIT_NAME: &str = "Штука";

/// One product at one price type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueRow {
    /// Product code (required, e.g. `УТ-00000003`).
    pub code: String,
    /// Product name (required).
    pub name: String,
    #[serde(default)]
    pub barcode: String,
    /// Group (folder) code; empty for "no group".
    #[serde(default)]
    pub group_code: String,
    #[serde(default)]
    pub group_name: String,
    /// Code of the group's parent group; empty for a top-level group.
    #[serde(default)]
    pub group_parent_code: String,
    #[serde(default)]
    pub unit_code: String,
    #[serde(default)]
    pub unit_name: String,
    /// Price as text in any notation (`1990`, `1 990,00`); empty for none.
    #[serde(default)]
    pub price: String,
    /// Price in kopecks (JSON only; alternative to `price`).
    #[serde(default)]
    pub price_kopecks: Option<i64>,
    /// 1C price type name, e.g. `Розничная`.
    #[serde(default)]
    pub price_type: String,
    #[serde(default)]
    pub comment: String,
}

/// Columns a CSV catalogue may have; `code` and `name` are required.
pub const CSV_COLUMNS: [&str; 11] = [
    "code",
    "name",
    "barcode",
    "group_code",
    "group_name",
    "group_parent_code",
    "unit_code",
    "unit_name",
    "price",
    "price_type",
    "comment",
];

/// Why a catalogue could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CatalogueError {
    #[error("catalogue CSV: {0}")]
    Csv(#[from] CsvError),
    #[error("catalogue CSV: no header line")]
    NoHeader,
    #[error("catalogue CSV: unknown column {0:?} (known: {known})", known = CSV_COLUMNS.join(", "))]
    UnknownColumn(String),
    #[error("catalogue CSV: column {0:?} appears twice")]
    DuplicateColumn(String),
    #[error("catalogue CSV: required column {0:?} is missing")]
    MissingColumn(&'static str),
    #[error("catalogue CSV: line {line}: {found} fields, the header has {expected}")]
    FieldCount {
        line: usize,
        found: usize,
        expected: usize,
    },
    #[error("catalogue JSON: {0}")]
    Json(String),
    #[error("catalogue: {row}: {field}={value:?}: {reason}")]
    BadField {
        /// `line N` (CSV) or `item N` (JSON).
        row: String,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("catalogue: group {code:?} is called both {first:?} and {second:?}")]
    GroupNameConflict {
        code: String,
        first: String,
        second: String,
    },
    #[error("catalogue: no products")]
    Empty,
}

/// A row with where it came from, for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocatedRow {
    /// `line 3` or `item 2`.
    pub place: String,
    pub row: CatalogueRow,
}

/// Reads a CSV catalogue (header line first).
pub fn read_csv(text: &str) -> Result<Vec<LocatedRow>, CatalogueError> {
    let first_line = text.lines().find(|l| !l.trim().is_empty()).unwrap_or("");
    let separator = if first_line.contains(';') && !first_line.contains(',') {
        ';'
    } else {
        ','
    };
    let records = csv_text::read_with(text, separator)?;
    let (header, rows) = records.split_first().ok_or(CatalogueError::NoHeader)?;
    let mut columns: Vec<&'static str> = Vec::new();
    for name in &header.fields {
        let name = name.trim();
        let known = CSV_COLUMNS
            .iter()
            .find(|c| c.eq_ignore_ascii_case(name))
            .ok_or_else(|| CatalogueError::UnknownColumn(name.to_string()))?;
        if columns.contains(known) {
            return Err(CatalogueError::DuplicateColumn(name.to_string()));
        }
        columns.push(known);
    }
    for required in ["code", "name"] {
        if !columns.contains(&required) {
            return Err(CatalogueError::MissingColumn(required));
        }
    }
    let mut out = Vec::with_capacity(rows.len());
    for record in rows {
        if record.fields.len() != columns.len() {
            return Err(CatalogueError::FieldCount {
                line: record.line,
                found: record.fields.len(),
                expected: columns.len(),
            });
        }
        let mut row = CatalogueRow::default();
        for (column, value) in columns.iter().zip(&record.fields) {
            let value = value.trim().to_string();
            match *column {
                "code" => row.code = value,
                "name" => row.name = value,
                "barcode" => row.barcode = value,
                "group_code" => row.group_code = value,
                "group_name" => row.group_name = value,
                "group_parent_code" => row.group_parent_code = value,
                "unit_code" => row.unit_code = value,
                "unit_name" => row.unit_name = value,
                "price" => row.price = value,
                "price_type" => row.price_type = value,
                _ => row.comment = value,
            }
        }
        out.push(LocatedRow {
            place: format!("line {}", record.line),
            row,
        });
    }
    Ok(out)
}

/// Reads a JSON catalogue: an array of row objects.
pub fn read_json(text: &str) -> Result<Vec<LocatedRow>, CatalogueError> {
    let rows: Vec<CatalogueRow> =
        serde_json::from_str(text).map_err(|e| CatalogueError::Json(e.to_string()))?;
    Ok(rows
        .into_iter()
        .enumerate()
        .map(|(i, row)| LocatedRow {
            place: format!("item {}", i + 1),
            row,
        })
        .collect())
}

/// Builds the nomenclature dated `date` from catalogue rows: groups in order
/// of first appearance, rows without a group in 1C's `none` group.
pub fn to_nomenclature(rows: &[LocatedRow], date: Date) -> Result<ProductsGroups, CatalogueError> {
    if rows.is_empty() {
        return Err(CatalogueError::Empty);
    }
    let mut groups: Vec<ProductGroup> = Vec::new();
    for LocatedRow { place, row } in rows {
        let bad = |field: &'static str, value: &str, reason: &str| CatalogueError::BadField {
            row: place.clone(),
            field,
            value: value.to_string(),
            reason: reason.to_string(),
        };
        if row.code.trim().is_empty() {
            return Err(bad("code", &row.code, "a product needs a code"));
        }
        if row.name.trim().is_empty() {
            return Err(bad("name", &row.name, "a product needs a name"));
        }
        let price = match (row.price.trim(), row.price_kopecks) {
            ("", None) => None,
            ("", Some(k)) => Some(Money(k)),
            (text, None) => {
                Some(parse_money(text).map_err(|e| bad("price", text, &e.to_string()))?)
            }
            (text, Some(_)) => {
                return Err(bad("price", text, "give either price or price_kopecks"));
            }
        };
        if price.is_some_and(|p| p.0 < 0) {
            return Err(bad("price", &row.price, "a price cannot be negative"));
        }
        let group_code = row.group_code.trim();
        let (code, name, parent) = if group_code.is_empty() {
            (NO_GROUP, NO_GROUP, NO_GROUP)
        } else {
            let parent = row.group_parent_code.trim();
            let name = row.group_name.trim();
            (
                group_code,
                if name.is_empty() { group_code } else { name },
                if parent.is_empty() { NO_GROUP } else { parent },
            )
        };
        let index = match groups.iter().position(|g| g.code == code) {
            Some(index) => {
                let group = &groups[index];
                if !row.group_name.trim().is_empty() && group.name != name {
                    return Err(CatalogueError::GroupNameConflict {
                        code: code.to_string(),
                        first: group.name.clone(),
                        second: name.to_string(),
                    });
                }
                index
            }
            None => {
                groups.push(ProductGroup {
                    code: code.to_string(),
                    name: name.to_string(),
                    parent_code: parent.to_string(),
                    products: Vec::new(),
                });
                groups.len() - 1
            }
        };
        // A row without any unit is a piece; a unit name without an OKEI
        // code (an unusual MoySklad unit) is sent as it is.
        let (unit_code, unit_name) = match (row.unit_code.trim(), row.unit_name.trim()) {
            ("", "") => (DEFAULT_UNIT_CODE, DEFAULT_UNIT_NAME),
            (code, name) => (code, name),
        };
        groups[index].products.push(Product {
            barcode: row.barcode.trim().to_string(),
            code: row.code.trim().to_string(),
            name: row.name.trim().to_string(),
            parent_code: group_code.to_string(),
            unit_code: unit_code.to_string(),
            unit_name: unit_name.to_string(),
            price,
            comment: row.comment.trim().to_string(),
            price_type: row.price_type.trim().to_string(),
        });
    }
    Ok(ProductsGroups { date, groups })
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    const CSV: &str = "\u{feff}code;name;barcode;group_code;group_name;price;price_type\n\
        УТ-00000003;Фиделе 90 таб.;4260133180178;;;1 990,00;Прайс-лист\n\
        00-00000019;\"Версан в капс. №60\";7640153060501;00-00000001;Товары;100;Розничная\n\
        00-00000016;Версан Флюид 2,5 мл;;00-00000001;;6\u{a0}099,00;Прайс-лист\n";

    #[test]
    fn csv_rows_become_groups_like_the_seed() {
        let rows = read_csv(CSV).unwrap();
        let n = to_nomenclature(&rows, date(2018, 4, 13)).unwrap();
        assert_eq!(n.groups.len(), 2);
        assert_eq!(n.groups[0].code, "none");
        assert_eq!(n.groups[0].products[0].parent_code, "");
        assert_eq!(n.groups[0].products[0].price, Some(Money(199_000)));
        assert_eq!(n.groups[1].name, "Товары");
        assert_eq!(n.groups[1].parent_code, "none");
        assert_eq!(n.groups[1].products[1].price, Some(Money(609_900)));
        assert_eq!(n.groups[1].products[1].parent_code, "00-00000001");
        assert_eq!(n.groups[1].products[1].unit_code, "796");
        let xml = n.to_xml();
        assert!(xml.contains("Price=\"6 099,00\""), "{xml}");
    }

    #[test]
    fn json_rows_take_text_or_kopecks() {
        let json = r#"[
            {"code": "A", "name": "Сыр", "price": "1990.5", "unit_code": "166", "unit_name": "Килограмм"},
            {"code": "B", "name": "Хлеб", "price_kopecks": 4550, "group_code": "G", "group_name": "Хлеб"}
        ]"#;
        let n = to_nomenclature(&read_json(json).unwrap(), date(2026, 11, 24)).unwrap();
        assert_eq!(n.groups[0].products[0].price, Some(Money(199_050)));
        assert_eq!(n.groups[0].products[0].unit_name, "Килограмм");
        assert_eq!(n.groups[1].products[0].price, Some(Money(4550)));
    }

    #[test]
    fn errors_name_the_row_and_field() {
        let rows = read_csv("code,name,price\nA,Сыр,дорого\n").unwrap();
        assert_eq!(
            to_nomenclature(&rows, date(2026, 1, 1))
                .unwrap_err()
                .to_string(),
            "catalogue: line 2: price=\"дорого\": unexpected character 'д'"
        );
        assert_eq!(
            read_csv("code,name,cost\n").unwrap_err(),
            CatalogueError::UnknownColumn("cost".into())
        );
        assert_eq!(
            read_csv("code,price\n").unwrap_err(),
            CatalogueError::MissingColumn("name")
        );
        assert_eq!(
            read_csv("code,name\nA\n").unwrap_err(),
            CatalogueError::FieldCount {
                line: 2,
                found: 1,
                expected: 2
            }
        );
        let rows = read_json(r#"[{"code": "", "name": "x"}]"#).unwrap();
        assert!(
            to_nomenclature(&rows, date(2026, 1, 1))
                .unwrap_err()
                .to_string()
                .starts_with("catalogue: item 1: code=")
        );
        assert!(matches!(
            read_json(r#"[{"code": "A", "name": "x", "prise": "1"}]"#),
            Err(CatalogueError::Json(m)) if m.contains("prise")
        ));
        assert_eq!(
            to_nomenclature(&[], date(2026, 1, 1)).unwrap_err(),
            CatalogueError::Empty
        );
        let rows = read_csv("code,name,group_code,group_name\nA,a,G,Один\nB,b,G,Два\n").unwrap();
        assert!(matches!(
            to_nomenclature(&rows, date(2026, 1, 1)),
            Err(CatalogueError::GroupNameConflict { .. })
        ));
    }

    proptest::proptest! {
        #[test]
        fn never_panics(text in "\\PC{0,200}") {
            if let Ok(rows) = read_csv(&text) {
                let _ = to_nomenclature(&rows, date(2026, 1, 1));
            }
            if let Ok(rows) = read_json(&text) {
                let _ = to_nomenclature(&rows, date(2026, 1, 1));
            }
        }
    }
}
