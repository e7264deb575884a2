//! Kassatka receipts: the `<Documents>` XML that `GET /download/{key}`
//! returns after a receipts request, as typed values with money in kopecks.
//!
//! Reading checks that every document adds up (line and head sums, payments)
//! and names the document and field when it does not: a receipt that will be
//! fiscalised must not be guessed at. A writer produces the same shape (the
//! fake server serves it; round-trip tests use it). Pure: no I/O.

use super::amount::{AmountError, format_money_plain, parse_money, parse_quantity};
use super::xml_tree::{self, Element, XmlError};
use jiff::Timestamp;
use kkt::{Money, Quantity};
use quick_xml::escape::escape;
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// One Kassatka receipt (a `<Doc>`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KassatkaReceipt {
    pub head: ReceiptHead,
    pub products: Vec<ReceiptLine>,
}

/// The `<Head>` of a receipt. Money in kopecks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptHead {
    pub date: Timestamp,
    pub organization_code: String,
    pub cash_box_code: String,
    pub cash_box_name: String,
    pub store_code: String,
    pub store_name: String,
    /// Total before discounts.
    pub doc_sum: Money,
    /// Total after discounts: what the buyer paid.
    pub doc_sum_with_discount: Money,
    /// Receipt id, unique within a cash box.
    pub doc_num: String,
    pub pay_card: Money,
    pub pay_cash: Money,
}

/// One `<Product>` line of a receipt. Money in kopecks; `discount` is the
/// line's discount amount (`sum - sum_with_discount`), not a percentage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReceiptLine {
    pub product_code: String,
    pub product_name: String,
    pub unit_code: String,
    pub price: Money,
    pub discount: Money,
    pub quantity: Quantity,
    pub sum: Money,
    pub sum_with_discount: Money,
}

/// What identifies a Kassatka receipt for exactly-once printing: the cash
/// box and its document number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ReceiptKey {
    pub cash_box_code: String,
    pub doc_num: String,
}

impl ReceiptKey {
    /// The journal's operation id: `kassatka:{CashBoxCode}:{DocNum}`. The
    /// prefix keeps it apart from MoySklad's UUIDs in a shared journal; `%`
    /// and `:` inside the parts are percent-encoded, so two different
    /// receipts never share a key.
    pub fn idempotency_key(&self) -> String {
        let part = |s: &str| s.replace('%', "%25").replace(':', "%3A");
        format!(
            "kassatka:{}:{}",
            part(&self.cash_box_code),
            part(&self.doc_num)
        )
    }
}

impl fmt::Display for ReceiptKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.cash_box_code, self.doc_num)
    }
}

impl KassatkaReceipt {
    /// The exactly-once key: CashBoxCode + DocNum.
    pub fn key(&self) -> ReceiptKey {
        ReceiptKey {
            cash_box_code: self.head.cash_box_code.clone(),
            doc_num: self.head.doc_num.clone(),
        }
    }

    /// Checks that lines and head add up; `index` is the 0-based position of
    /// the document in its body (for the error message).
    pub fn check_sums(&self, index: usize) -> Result<(), DocumentsError> {
        let doc = DocRef::new(
            index,
            Some(&self.head.cash_box_code),
            Some(&self.head.doc_num),
        );
        let mismatch =
            |field: String, stated: Money, computed: Option<Money>| DocumentsError::SumMismatch {
                doc: Box::new(doc.clone()),
                field,
                stated,
                computed,
            };
        let mut total = Some(Money::ZERO);
        let mut total_with_discount = Some(Money::ZERO);
        for (i, line) in self.products.iter().enumerate() {
            let field = |name: &str| format!("Product #{}/{name}", i + 1);
            // Up to one kopeck of slack against the exact product: Kassatka
            // rounds price × fractional quantity itself and may round the
            // other way. (The receipt renderer applies the same rule.)
            let expected = line.quantity.times(line.price);
            let exact = i128::from(line.price.0) * i128::from(line.quantity.0);
            let stated = i128::from(line.sum.0) * i128::from(Quantity::SCALE);
            let close = (exact - stated).abs() <= i128::from(Quantity::SCALE);
            if !close {
                return Err(mismatch(field("Sum"), line.sum, expected));
            }
            let after_discount = line.sum.checked_sub(line.discount);
            if after_discount != Some(line.sum_with_discount) {
                return Err(mismatch(
                    field("SumWithDiscount"),
                    line.sum_with_discount,
                    after_discount,
                ));
            }
            total = total.and_then(|t| t.checked_add(line.sum));
            total_with_discount =
                total_with_discount.and_then(|t| t.checked_add(line.sum_with_discount));
        }
        let head = &self.head;
        if total != Some(head.doc_sum) {
            return Err(mismatch("DocSum".into(), head.doc_sum, total));
        }
        if total_with_discount != Some(head.doc_sum_with_discount) {
            return Err(mismatch(
                "DocSumWithDiscount".into(),
                head.doc_sum_with_discount,
                total_with_discount,
            ));
        }
        let paid = head.pay_card.checked_add(head.pay_cash);
        if paid != Some(head.doc_sum_with_discount) {
            return Err(mismatch(
                "PayCard+PayCash".into(),
                paid.unwrap_or(Money::ZERO),
                Some(head.doc_sum_with_discount),
            ));
        }
        Ok(())
    }
}

/// Which document an error is about: its position and, as far as they
/// could be read, its CashBoxCode and DocNum (so a caller can still tell
/// which receipt is broken).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocRef {
    /// 1-based position of the `<Doc>` in the body.
    pub number: usize,
    pub cash_box_code: Option<String>,
    pub doc_num: Option<String>,
}

impl DocRef {
    fn new(index: usize, cash_box_code: Option<&str>, doc_num: Option<&str>) -> Self {
        let known = |s: Option<&str>| s.filter(|s| !s.is_empty()).map(str::to_string);
        DocRef {
            number: index + 1,
            cash_box_code: known(cash_box_code),
            doc_num: known(doc_num),
        }
    }

    /// The receipt's key, if both parts could be read.
    pub fn key(&self) -> Option<ReceiptKey> {
        Some(ReceiptKey {
            cash_box_code: self.cash_box_code.clone()?,
            doc_num: self.doc_num.clone()?,
        })
    }
}

impl fmt::Display for DocRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.doc_num {
            Some(n) => write!(f, "Doc #{} (DocNum {n})", self.number),
            None => write!(f, "Doc #{}", self.number),
        }
    }
}

/// Why a Documents body was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DocumentsError {
    #[error("receipts XML: {0}")]
    Xml(#[from] XmlError),
    #[error("receipts XML: root element is <{0}>, expected <Documents>")]
    WrongRoot(String),
    #[error("receipts XML: {doc}: {field} is missing")]
    Missing { doc: Box<DocRef>, field: String },
    #[error("receipts XML: {doc}: {field}={value:?}: {reason}")]
    BadField {
        doc: Box<DocRef>,
        field: String,
        value: String,
        reason: String,
    },
    #[error(
        "receipts XML: {doc}: {field} is {stated} but the document adds up to {}",
        computed.map(|m| m.to_string()).unwrap_or_else(|| "more than fits".into())
    )]
    SumMismatch {
        doc: Box<DocRef>,
        field: String,
        stated: Money,
        computed: Option<Money>,
    },
}

impl DocumentsError {
    /// The document the error is about (`None` for errors of the whole body).
    pub fn doc(&self) -> Option<&DocRef> {
        match self {
            DocumentsError::Missing { doc, .. }
            | DocumentsError::BadField { doc, .. }
            | DocumentsError::SumMismatch { doc, .. } => Some(doc),
            DocumentsError::Xml(_) | DocumentsError::WrongRoot(_) => None,
        }
    }
}

/// Parses a `<Documents>` body and checks every document's sums; the first
/// bad document fails the whole body.
pub fn parse_documents(bytes: &[u8]) -> Result<Vec<KassatkaReceipt>, DocumentsError> {
    parse_documents_each(bytes)?.into_iter().collect()
}

/// Parses a `<Documents>` body document by document: the outer error is
/// for a body that is not a Documents XML at all, the inner ones for single
/// documents, so one bad receipt does not hold up the others.
pub fn parse_documents_each(
    bytes: &[u8],
) -> Result<Vec<Result<KassatkaReceipt, DocumentsError>>, DocumentsError> {
    let root = xml_tree::parse(bytes)?;
    if root.name != "Documents" {
        return Err(DocumentsError::WrongRoot(root.name));
    }
    Ok(root
        .children_named("Doc")
        .enumerate()
        .map(|(index, doc)| {
            let receipt = parse_doc(index, doc)?;
            receipt.check_sums(index)?;
            Ok(receipt)
        })
        .collect())
}

fn parse_doc(index: usize, doc: &Element) -> Result<KassatkaReceipt, DocumentsError> {
    let head_text = |name: &str| {
        doc.child("Head")
            .and_then(|h| h.child(name))
            .map(|n| n.text.trim())
    };
    let fields = Fields {
        doc: DocRef::new(index, head_text("CashBoxCode"), head_text("DocNum")),
    };
    let head = doc.child("Head").ok_or_else(|| fields.missing("Head"))?;
    let head = ReceiptHead {
        date: fields.timestamp(head, "Head/", "Date")?,
        organization_code: fields.text(head, "Head/", "OrganizationCode")?,
        cash_box_code: fields.text(head, "Head/", "CashBoxCode")?,
        cash_box_name: fields.text(head, "Head/", "CashBoxName")?,
        store_code: fields.text(head, "Head/", "StoreCode")?,
        store_name: fields.text(head, "Head/", "StoreName")?,
        doc_sum: fields.money(head, "Head/", "DocSum")?,
        doc_sum_with_discount: fields.money(head, "Head/", "DocSumWithDiscount")?,
        doc_num: fields.text(head, "Head/", "DocNum")?,
        pay_card: fields.money(head, "Head/", "PayCard")?,
        pay_cash: fields.money(head, "Head/", "PayCash")?,
    };
    if head.cash_box_code.is_empty() || head.doc_num.is_empty() {
        return Err(fields.bad(
            "Head/CashBoxCode, Head/DocNum".into(),
            String::new(),
            "both must be non-empty: they identify the receipt".into(),
        ));
    }
    let products = doc
        .child("Products")
        .ok_or_else(|| fields.missing("Products"))?;
    let mut lines = Vec::new();
    for (i, p) in products.children_named("Product").enumerate() {
        let at = format!("Product #{}/", i + 1);
        lines.push(ReceiptLine {
            product_code: fields.text(p, &at, "ProductCode")?,
            product_name: fields.text(p, &at, "ProductName")?,
            unit_code: fields.text(p, &at, "UnitCode")?,
            price: fields.money(p, &at, "Price")?,
            discount: fields.money(p, &at, "Discount")?,
            quantity: fields.quantity(p, &at, "Quantity")?,
            sum: fields.money(p, &at, "Sum")?,
            sum_with_discount: fields.money(p, &at, "SumWithDiscount")?,
        });
    }
    Ok(KassatkaReceipt {
        head,
        products: lines,
    })
}

/// Reads the fields of one document, naming it in every error.
struct Fields {
    doc: DocRef,
}

impl Fields {
    fn missing(&self, field: &str) -> DocumentsError {
        DocumentsError::Missing {
            doc: Box::new(self.doc.clone()),
            field: field.to_string(),
        }
    }

    fn bad(&self, field: String, value: String, reason: String) -> DocumentsError {
        DocumentsError::BadField {
            doc: Box::new(self.doc.clone()),
            field,
            value,
            reason,
        }
    }

    fn raw<'a>(
        &self,
        parent: &'a Element,
        at: &str,
        name: &str,
    ) -> Result<&'a str, DocumentsError> {
        parent
            .child(name)
            .map(|e| e.text.trim())
            .ok_or_else(|| self.missing(&format!("{at}{name}")))
    }

    fn text(&self, parent: &Element, at: &str, name: &str) -> Result<String, DocumentsError> {
        self.raw(parent, at, name).map(str::to_string)
    }

    fn money(&self, parent: &Element, at: &str, name: &str) -> Result<Money, DocumentsError> {
        let raw = self.raw(parent, at, name)?;
        parse_money(raw).map_err(|e| self.amount_error(at, name, raw, e))
    }

    fn quantity(&self, parent: &Element, at: &str, name: &str) -> Result<Quantity, DocumentsError> {
        let raw = self.raw(parent, at, name)?;
        parse_quantity(raw).map_err(|e| self.amount_error(at, name, raw, e))
    }

    fn amount_error(&self, at: &str, name: &str, raw: &str, e: AmountError) -> DocumentsError {
        self.bad(format!("{at}{name}"), raw.to_string(), e.to_string())
    }

    fn timestamp(
        &self,
        parent: &Element,
        at: &str,
        name: &str,
    ) -> Result<Timestamp, DocumentsError> {
        let raw = self.raw(parent, at, name)?;
        parse_timestamp(raw).ok_or_else(|| {
            self.bad(
                format!("{at}{name}"),
                raw.to_string(),
                "expected a date like 2018-04-16T11:08:31+0000".into(),
            )
        })
    }
}

/// Kassatka writes `2018-04-16T11:08:31+0000`; RFC 3339 is accepted too.
fn parse_timestamp(raw: &str) -> Option<Timestamp> {
    Timestamp::strptime("%Y-%m-%dT%H:%M:%S%z", raw)
        .ok()
        .or_else(|| raw.parse::<Timestamp>().ok())
}

/// Writes receipts as a `<Documents>` body in Kassatka's shape.
pub fn documents_to_xml(receipts: &[KassatkaReceipt]) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Documents>\n");
    let tag = |out: &mut String, indent: &str, name: &str, value: &str| {
        out.push_str(&format!("{indent}<{name}>{}</{name}>\n", escape(value)));
    };
    for r in receipts {
        let h = &r.head;
        out.push_str("  <Doc>\n    <Head>\n");
        let i = "      ";
        tag(
            &mut out,
            i,
            "Date",
            &h.date.strftime("%Y-%m-%dT%H:%M:%S+0000").to_string(),
        );
        tag(&mut out, i, "OrganizationCode", &h.organization_code);
        tag(&mut out, i, "CashBoxCode", &h.cash_box_code);
        tag(&mut out, i, "CashBoxName", &h.cash_box_name);
        tag(&mut out, i, "StoreCode", &h.store_code);
        tag(&mut out, i, "StoreName", &h.store_name);
        tag(&mut out, i, "DocSum", &format_money_plain(h.doc_sum));
        tag(
            &mut out,
            i,
            "DocSumWithDiscount",
            &format_money_plain(h.doc_sum_with_discount),
        );
        tag(&mut out, i, "DocNum", &h.doc_num);
        tag(&mut out, i, "PayCard", &format_money_plain(h.pay_card));
        tag(&mut out, i, "PayCash", &format_money_plain(h.pay_cash));
        out.push_str("    </Head>\n    <Products>\n");
        let i = "        ";
        for p in &r.products {
            out.push_str("      <Product>\n");
            tag(&mut out, i, "ProductCode", &p.product_code);
            tag(&mut out, i, "ProductName", &p.product_name);
            tag(&mut out, i, "UnitCode", &p.unit_code);
            tag(&mut out, i, "Price", &format_money_plain(p.price));
            tag(&mut out, i, "Discount", &format_money_plain(p.discount));
            tag(&mut out, i, "Quantity", &p.quantity.to_string());
            tag(&mut out, i, "Sum", &format_money_plain(p.sum));
            tag(
                &mut out,
                i,
                "SumWithDiscount",
                &format_money_plain(p.sum_with_discount),
            );
            out.push_str("      </Product>\n");
        }
        out.push_str("    </Products>\n  </Doc>\n");
    }
    out.push_str("</Documents>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one_doc(sum: &str, quantity: &str) -> String {
        format!(
            "<Documents><Doc><Head><Date>2018-04-16T11:08:31+0000</Date>\
             <OrganizationCode>1</OrganizationCode><CashBoxCode>9</CashBoxCode>\
             <CashBoxName>K</CashBoxName><StoreCode>2</StoreCode><StoreName>S</StoreName>\
             <DocSum>{sum}</DocSum><DocSumWithDiscount>{sum}</DocSumWithDiscount>\
             <DocNum>N1</DocNum><PayCard>0</PayCard><PayCash>{sum}</PayCash></Head>\
             <Products><Product><ProductCode>P</ProductCode><ProductName>Сыр</ProductName>\
             <UnitCode>166</UnitCode><Price>99.99</Price><Discount>0</Discount>\
             <Quantity>{quantity}</Quantity><Sum>{sum}</Sum><SumWithDiscount>{sum}</SumWithDiscount>\
             </Product></Products></Doc></Documents>"
        )
    }

    #[test]
    fn fractional_quantities_and_kopecks() {
        let receipts = parse_documents(one_doc("33,30", "0.333").as_bytes()).unwrap();
        let line = &receipts[0].products[0];
        assert_eq!(line.quantity, Quantity(333_000));
        assert_eq!(line.sum, Money(3330));
        assert_eq!(receipts[0].key().to_string(), "9/N1");
    }

    #[test]
    fn sums_that_do_not_add_up_name_the_field() {
        let err = parse_documents(one_doc("50", "0.333").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "receipts XML: Doc #1 (DocNum N1): Product #1/Sum is 50.00 but the document adds up to 33.30"
        );
    }

    #[test]
    fn bad_values_name_the_document_and_field() {
        let err = parse_documents(one_doc("33.30", "много").as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "receipts XML: Doc #1 (DocNum N1): Product #1/Quantity=\"много\": unexpected character 'м'"
        );
        let xml = one_doc("33.30", "0.333").replace("<PayCash>33.30</PayCash>", "");
        let err = parse_documents(xml.as_bytes()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "receipts XML: Doc #1 (DocNum N1): Head/PayCash is missing"
        );
    }

    #[test]
    fn one_bad_document_does_not_hide_the_others() {
        let good = one_doc("33.30", "0.333");
        let bad = one_doc("50", "0.333").replace("N1", "N2");
        let inner = |xml: &str| {
            xml.trim_start_matches("<Documents>")
                .trim_end_matches("</Documents>")
                .to_string()
        };
        let body = format!("<Documents>{}{}</Documents>", inner(&good), inner(&bad));
        let each = parse_documents_each(body.as_bytes()).unwrap();
        assert_eq!(each.len(), 2);
        assert_eq!(each[0].as_ref().unwrap().head.doc_num, "N1");
        assert!(
            each[1]
                .as_ref()
                .unwrap_err()
                .to_string()
                .contains("Doc #2 (DocNum N2)")
        );
        assert!(parse_documents(body.as_bytes()).is_err());
        assert!(matches!(
            parse_documents_each(b"<Other/>"),
            Err(DocumentsError::WrongRoot(_))
        ));
    }

    #[test]
    fn keys_are_unambiguous() {
        let key = |c: &str, d: &str| ReceiptKey {
            cash_box_code: c.into(),
            doc_num: d.into(),
        };
        assert_eq!(key("189", "5ad").idempotency_key(), "kassatka:189:5ad");
        assert_ne!(
            key("a:b", "c").idempotency_key(),
            key("a", "b:c").idempotency_key()
        );
        assert_ne!(
            key("a%3A", "c").idempotency_key(),
            key("a:", "c").idempotency_key()
        );
    }

    #[test]
    fn written_documents_read_back() {
        let receipts = parse_documents(one_doc("33.30", "0.333").as_bytes()).unwrap();
        let again = parse_documents(documents_to_xml(&receipts).as_bytes()).unwrap();
        assert_eq!(again, receipts);
    }

    proptest::proptest! {
        #[test]
        fn mutated_documents_never_panic(
            cut in 0usize..900,
            junk in "[<>/&;a-zA-Z0-9 .,-]{0,12}",
        ) {
            let body = one_doc("33.30", "0.333");
            let cut = cut.min(body.len());
            let cut = (0..=cut).rev().find(|&c| body.is_char_boundary(c)).unwrap_or(0);
            let mutated = format!("{}{junk}{}", &body[..cut], &body[cut..]);
            let _ = parse_documents(mutated.as_bytes());
            let _ = parse_documents(&mutated.as_bytes()[..cut]);
        }
    }
}
