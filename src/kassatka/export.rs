//! The receipts export of `masterkassa kassatka receipts`: downloaded
//! receipts as JSON (one object per receipt, products nested) or CSV (one
//! row per product line, head fields repeated). Money is integer kopecks in
//! fields ending in `_kopecks`; quantities are decimal strings, so nothing a
//! spreadsheet or script reads is a float. Pure: text in memory.

use super::csv_text::write_record;
use super::documents::KassatkaReceipt;
use serde::Serialize;

/// One receipt as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedReceipt {
    /// RFC 3339, UTC (Kassatka sends `+0000`).
    pub date: String,
    pub organization_code: String,
    pub cash_box_code: String,
    pub cash_box_name: String,
    pub store_code: String,
    pub store_name: String,
    pub doc_sum_kopecks: i64,
    pub doc_sum_with_discount_kopecks: i64,
    pub doc_num: String,
    pub pay_card_kopecks: i64,
    pub pay_cash_kopecks: i64,
    pub products: Vec<ExportedLine>,
}

/// One product line as exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportedLine {
    pub product_code: String,
    pub product_name: String,
    pub unit_code: String,
    pub price_kopecks: i64,
    pub discount_kopecks: i64,
    /// Decimal text, e.g. `1`, `0.333`.
    pub quantity: String,
    pub sum_kopecks: i64,
    pub sum_with_discount_kopecks: i64,
}

impl From<&KassatkaReceipt> for ExportedReceipt {
    fn from(r: &KassatkaReceipt) -> Self {
        let h = &r.head;
        ExportedReceipt {
            date: h.date.to_string(),
            organization_code: h.organization_code.clone(),
            cash_box_code: h.cash_box_code.clone(),
            cash_box_name: h.cash_box_name.clone(),
            store_code: h.store_code.clone(),
            store_name: h.store_name.clone(),
            doc_sum_kopecks: h.doc_sum.0,
            doc_sum_with_discount_kopecks: h.doc_sum_with_discount.0,
            doc_num: h.doc_num.clone(),
            pay_card_kopecks: h.pay_card.0,
            pay_cash_kopecks: h.pay_cash.0,
            products: r
                .products
                .iter()
                .map(|p| ExportedLine {
                    product_code: p.product_code.clone(),
                    product_name: p.product_name.clone(),
                    unit_code: p.unit_code.clone(),
                    price_kopecks: p.price.0,
                    discount_kopecks: p.discount.0,
                    quantity: p.quantity.to_string(),
                    sum_kopecks: p.sum.0,
                    sum_with_discount_kopecks: p.sum_with_discount.0,
                })
                .collect(),
        }
    }
}

/// The JSON export: a pretty-printed array, one object per receipt.
pub fn to_json(receipts: &[KassatkaReceipt]) -> String {
    let exported: Vec<ExportedReceipt> = receipts.iter().map(ExportedReceipt::from).collect();
    // Serialising plain strings and integers cannot fail.
    serde_json::to_string_pretty(&exported).unwrap_or_else(|_| "[]".into()) + "\n"
}

/// Columns of the CSV export, in order.
pub const CSV_HEADER: [&str; 20] = [
    "date",
    "organization_code",
    "cash_box_code",
    "cash_box_name",
    "store_code",
    "store_name",
    "doc_num",
    "doc_sum_kopecks",
    "doc_sum_with_discount_kopecks",
    "pay_card_kopecks",
    "pay_cash_kopecks",
    "line",
    "product_code",
    "product_name",
    "unit_code",
    "price_kopecks",
    "discount_kopecks",
    "quantity",
    "sum_kopecks",
    "sum_with_discount_kopecks",
];

/// The CSV export: a header, then one row per product line (a receipt
/// without products still gets one row, with empty product columns).
pub fn to_csv(receipts: &[KassatkaReceipt]) -> String {
    let mut out = String::new();
    write_record(&mut out, &CSV_HEADER);
    for receipt in receipts {
        let r = ExportedReceipt::from(receipt);
        let head = [
            r.date.clone(),
            r.organization_code.clone(),
            r.cash_box_code.clone(),
            r.cash_box_name.clone(),
            r.store_code.clone(),
            r.store_name.clone(),
            r.doc_num.clone(),
            r.doc_sum_kopecks.to_string(),
            r.doc_sum_with_discount_kopecks.to_string(),
            r.pay_card_kopecks.to_string(),
            r.pay_cash_kopecks.to_string(),
        ];
        if r.products.is_empty() {
            let mut row = head.to_vec();
            row.resize(CSV_HEADER.len(), String::new());
            write_record(&mut out, &row);
        }
        for (i, p) in r.products.iter().enumerate() {
            let mut row = head.to_vec();
            row.extend([
                (i + 1).to_string(),
                p.product_code.clone(),
                p.product_name.clone(),
                p.unit_code.clone(),
                p.price_kopecks.to_string(),
                p.discount_kopecks.to_string(),
                p.quantity.clone(),
                p.sum_kopecks.to_string(),
                p.sum_with_discount_kopecks.to_string(),
            ]);
            write_record(&mut out, &row);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kassatka::csv_text;

    fn seed() -> Vec<KassatkaReceipt> {
        crate::kassatka::seed_receipts()
    }

    #[test]
    fn json_carries_every_head_field_and_kopecks() {
        let json: serde_json::Value = serde_json::from_str(&to_json(&seed())).unwrap();
        let last = &json[3];
        assert_eq!(last["date"], "2018-04-16T11:09:37Z");
        assert_eq!(last["organization_code"], "155");
        assert_eq!(last["cash_box_code"], "189");
        assert_eq!(last["cash_box_name"], "Касса 1");
        assert_eq!(last["store_code"], "169");
        assert_eq!(last["store_name"], "Удача");
        assert_eq!(last["doc_num"], "5ad48471d849da0013494373");
        assert_eq!(last["doc_sum_kopecks"], 259_000);
        assert_eq!(last["doc_sum_with_discount_kopecks"], 181_300);
        assert_eq!(last["pay_card_kopecks"], 0);
        assert_eq!(last["pay_cash_kopecks"], 181_300);
        let line = &last["products"][1];
        assert_eq!(line["product_code"], "УТ-00000003");
        assert_eq!(line["price_kopecks"], 199_000);
        assert_eq!(line["discount_kopecks"], 59_700);
        assert_eq!(line["quantity"], "1");
        assert_eq!(line["sum_with_discount_kopecks"], 139_300);
    }

    #[test]
    fn csv_has_a_row_per_line() {
        let csv = to_csv(&seed());
        let records = csv_text::read(&csv).unwrap();
        // 3 + 3 + 2 + 3 lines, plus the header.
        assert_eq!(records.len(), 12);
        assert_eq!(records[0].fields, CSV_HEADER);
        assert_eq!(
            records[11].fields,
            [
                "2018-04-16T11:09:37Z",
                "155",
                "189",
                "Касса 1",
                "169",
                "Удача",
                "5ad48471d849da0013494373",
                "259000",
                "181300",
                "0",
                "181300",
                "3",
                "00-00000016",
                "Версан Флюид 2,5 мл",
                "796",
                "50000",
                "15000",
                "1",
                "50000",
                "35000"
            ]
        );
    }

    #[test]
    fn a_receipt_without_lines_still_gets_a_row() {
        let mut receipts = seed();
        receipts.truncate(1);
        receipts[0].products.clear();
        let records = csv_text::read(&to_csv(&receipts)).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].fields.len(), CSV_HEADER.len());
        assert_eq!(records[1].fields[11], "");
    }
}
