//! The paper tape: the text a real Shtrih-M-01F would print for each
//! document (header, positions, totals, payments, FD/FP lines), kept so a
//! caller can show it. Rendering is pure; the device appends entries as it
//! "prints" them.

use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

use super::receipt::{OpenReceipt, PAYMENT_NAMES, measure_symbol};
use shtrih::tax_code;
use sim_fn::storage::{Document, Shift};

/// Printable characters per line on 57 mm paper.
pub const WIDTH: usize = 32;

/// Oldest entries are forgotten past this many.
pub const MAX_ENTRIES: usize = 500;

/// One printed document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TapeEntry {
    /// Fiscal document number, for fiscal documents.
    pub fd: Option<u32>,
    pub lines: Vec<String>,
}

/// Everything printed so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tape {
    pub entries: Vec<TapeEntry>,
}

impl Tape {
    pub fn push(&mut self, entry: TapeEntry) {
        self.entries.push(entry);
        if self.entries.len() > MAX_ENTRIES {
            let excess = self.entries.len() - MAX_ENTRIES;
            self.entries.drain(..excess);
        }
    }

    /// Appends a free-text line to the trailing non-fiscal entry (0x17),
    /// starting one if needed.
    pub fn push_free_line(&mut self, line: String) {
        match self.entries.last_mut() {
            Some(e) if e.fd.is_none() && e.lines.last().map(|l| l != CUT).unwrap_or(true) => {
                e.lines.push(line)
            }
            _ => self.push(TapeEntry {
                fd: None,
                lines: vec![line],
            }),
        }
    }

    /// Marks a cut (0x25): the next free line starts a new entry.
    pub fn cut(&mut self) {
        if let Some(e) = self.entries.last_mut()
            && e.fd.is_none()
            && e.lines.last().map(|l| l != CUT).unwrap_or(false)
        {
            e.lines.push(CUT.to_string());
        }
    }

    /// Fiscal document `fd` as it came out of the printer, with the free
    /// text printed around it: the lines just before it not yet cut off
    /// from the previous document (a receipt header) and the lines after
    /// it up to the cut (a receipt footer). `None` when it is not on the
    /// tape.
    pub fn document_with_text(&self, fd: u32) -> Option<Vec<String>> {
        let at = self.entries.iter().position(|e| e.fd == Some(fd))?;
        let mut out = Vec::new();
        if let Some(before) = at.checked_sub(1).and_then(|i| self.entries.get(i))
            && before.fd.is_none()
            && before.lines.last().is_some_and(|l| l != CUT)
        {
            out.extend(before.lines.iter().cloned());
        }
        out.extend(self.entries[at].lines.iter().cloned());
        if let Some(after) = self.entries.get(at + 1)
            && after.fd.is_none()
            && after.lines.last().is_some_and(|l| l == CUT)
        {
            out.extend(after.lines.iter().cloned());
        }
        Some(out)
    }

    /// The whole tape as text, documents separated by blank lines.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for e in &self.entries {
            for l in &e.lines {
                out.push_str(l);
                out.push('\n');
            }
            out.push('\n');
        }
        out
    }
}

const CUT: &str = "- - - - - - - - - - - - - - - -";

/// What the header says about the seller and the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub organisation: String,
    pub address: String,
    pub inn: String,
    pub kkt_reg_number: String,
    pub kkt_serial: String,
}

fn money(k: u64) -> String {
    format!("{}.{:02}", k / 100, k % 100)
}

fn qty(m: u64) -> String {
    let whole = m / 1_000_000;
    let frac = m % 1_000_000;
    if frac == 0 {
        whole.to_string()
    } else {
        let s = format!("{whole}.{frac:06}");
        s.trim_end_matches('0').to_string()
    }
}

/// `left` and `right` on one line, right-aligned to [`WIDTH`].
fn two(left: &str, right: &str) -> String {
    let l = left.chars().count();
    let r = right.chars().count();
    if l + r + 1 > WIDTH {
        format!("{left} {right}")
    } else {
        format!("{left}{}{right}", " ".repeat(WIDTH - l - r))
    }
}

fn centred(s: &str) -> String {
    let n = s.chars().count();
    if n >= WIDTH {
        s.to_string()
    } else {
        format!("{}{s}", " ".repeat((WIDTH - n) / 2))
    }
}

fn when(t: DateTime) -> String {
    format!(
        "{:02}.{:02}.{:04} {:02}:{:02}",
        t.day(),
        t.month(),
        t.year(),
        t.hour(),
        t.minute()
    )
}

fn header_lines(h: &Header) -> Vec<String> {
    vec![
        centred(&h.organisation),
        centred(&h.address),
        two("ИНН", &h.inn),
    ]
}

fn fiscal_footer(h: &Header, fn_serial: &str, doc: &Document, out: &mut Vec<String>) {
    out.push(two("РН ККТ", &h.kkt_reg_number));
    out.push(two("ЗН ККТ", &h.kkt_serial));
    out.push(two("ФН", fn_serial));
    out.push(two("ФД", &doc.number.to_string()));
    out.push(two("ФП", &doc.fiscal_sign.to_string()));
    out.push(when(doc.time));
}

/// A receipt as printed, with the FN's data.
pub fn receipt(
    h: &Header,
    fn_serial: &str,
    r: &OpenReceipt,
    payments: &[u64; 16],
    change: u64,
    tax_system: u8,
    doc: &Document,
) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred("КАССОВЫЙ ЧЕК"));
    out.push(centred(r.kind.title_ru()));
    out.push(two(
        "СМЕНА",
        &format!(
            "{} ЧЕК {}",
            doc.shift_number,
            doc.receipt_number.unwrap_or(0)
        ),
    ));
    for (i, item) in r.items.iter().enumerate() {
        out.push(format!("{}. {}", i + 1, item.name));
        let unit = item
            .measure()
            .map(|m| format!(" {}", measure_symbol(m)))
            .unwrap_or_default();
        out.push(two(
            &format!("  {}{unit} x {}", qty(item.quantity), money(item.price)),
            &format!("={}", money(item.sum)),
        ));
        if let Some(vat) = item.vat {
            out.push(format!("  {}", tax_code::tape_label(vat)));
        }
        if let Some(code) = &item.marking_code {
            let short: String = code.chars().take(WIDTH - 6).collect();
            out.push(format!("  [М] {short}"));
        }
    }
    out.push(two("ИТОГ", &format!("={}", money(r.total()))));
    for (i, sum) in payments.iter().enumerate() {
        if *sum > 0 {
            out.push(two(PAYMENT_NAMES[i], &format!("={}", money(*sum))));
        }
    }
    if change > 0 {
        out.push(two("СДАЧА", &format!("={}", money(change))));
    }
    if tax_system != 0 {
        out.push(two("СНО", &tax_system_name(tax_system)));
    }
    if let Some(c) = r.buyer_contact() {
        out.push(two("ПОКУПАТЕЛЬ", &c));
    }
    if let Some(c) = r.cashier() {
        out.push(two("КАССИР", &c));
    }
    fiscal_footer(h, fn_serial, doc, &mut out);
    TapeEntry {
        fd: Some(doc.number),
        lines: out,
    }
}

fn tax_system_name(mask: u8) -> String {
    let names = ["ОСН", "УСН ДОХОД", "УСН Д-Р", "ЕНВД", "ЕСХН", "ПСН"];
    names
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, n)| *n)
        .collect::<Vec<_>>()
        .join(",")
}

/// Shift-open report.
pub fn shift_open(h: &Header, fn_serial: &str, doc: &Document, cashier: Option<&str>) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred("ОТЧЕТ ОБ ОТКРЫТИИ СМЕНЫ"));
    out.push(two("СМЕНА", &doc.shift_number.to_string()));
    if let Some(c) = cashier {
        out.push(two("КАССИР", c));
    }
    fiscal_footer(h, fn_serial, doc, &mut out);
    TapeEntry {
        fd: Some(doc.number),
        lines: out,
    }
}

/// Shift-close report (Z).
pub fn shift_close(
    h: &Header,
    fn_serial: &str,
    doc: &Document,
    shift: &Shift,
    unsent: u32,
) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred("ОТЧЕТ О ЗАКРЫТИИ СМЕНЫ"));
    out.push(two("СМЕНА", &doc.shift_number.to_string()));
    out.push(two("ЧЕКОВ ЗА СМЕНУ", &shift.receipts.to_string()));
    out.push(two("ФД ЗА СМЕНУ", &shift.documents.to_string()));
    out.push(two("НЕПЕРЕДАННЫХ ФД", &unsent.to_string()));
    fiscal_footer(h, fn_serial, doc, &mut out);
    TapeEntry {
        fd: Some(doc.number),
        lines: out,
    }
}

/// X-report (non-fiscal).
pub fn x_report(h: &Header, shift: &Shift, cash: u64, now: DateTime) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred("ОТЧЕТ БЕЗ ГАШЕНИЯ"));
    out.push(two("СМЕНА", &shift.number.to_string()));
    out.push(two("ЧЕКОВ ЗА СМЕНУ", &shift.receipts.to_string()));
    out.push(two("НАЛИЧНЫХ В КАССЕ", &money(cash)));
    out.push(when(now));
    TapeEntry {
        fd: None,
        lines: out,
    }
}

/// Cash in / cash out slip (non-fiscal).
pub fn cash_slip(h: &Header, cash_in: bool, sum: u64, doc_no: u16, now: DateTime) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred(if cash_in {
        "ВНЕСЕНИЕ"
    } else {
        "ВЫПЛАТА"
    }));
    out.push(two("СУММА", &format!("={}", money(sum))));
    out.push(two("ДОК", &doc_no.to_string()));
    out.push(when(now));
    TapeEntry {
        fd: None,
        lines: out,
    }
}

/// A cancelled receipt.
pub fn cancelled(h: &Header, now: DateTime) -> TapeEntry {
    let mut out = header_lines(h);
    out.push(centred("ЧЕК АННУЛИРОВАН"));
    out.push(when(now));
    TapeEntry {
        fd: None,
        lines: out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receipt::{Item, ReceiptType};

    #[test]
    fn document_with_text_takes_its_own_header_and_footer_only() {
        let fiscal = |fd: u32| TapeEntry {
            fd: Some(fd),
            lines: vec![format!("ФД {fd}")],
        };
        let mut tape = Tape::default();
        tape.push(fiscal(1));
        tape.push_free_line("Подвал 1".into());
        tape.cut();
        tape.push_free_line("Шапка 2".into());
        tape.push(fiscal(2));
        tape.push_free_line("Подвал 2".into());
        tape.cut();
        tape.push(fiscal(3));
        tape.push_free_line("Шапка 4".into());
        assert_eq!(
            tape.document_with_text(2).unwrap(),
            vec!["Шапка 2", "ФД 2", "Подвал 2", CUT]
        );
        assert_eq!(
            tape.document_with_text(1).unwrap(),
            vec!["ФД 1", "Подвал 1", CUT]
        );
        // Neither the previous footer nor the next header belongs to 3.
        assert_eq!(tape.document_with_text(3).unwrap(), vec!["ФД 3"]);
        assert_eq!(tape.document_with_text(4), None);
    }

    #[test]
    fn receipt_shows_positions_totals_and_fiscal_data() {
        let h = Header {
            organisation: "ООО ЭМУЛЯТОР".into(),
            address: "Москва".into(),
            inn: "7700000000".into(),
            kkt_reg_number: "0000000001012345".into(),
            kkt_serial: "0012345678".into(),
        };
        let mut r = OpenReceipt::new(ReceiptType::Sale);
        r.items.push(Item {
            name: "Хлеб".into(),
            quantity: 2_000_000,
            price: 4_550,
            sum: 9_100,
            vat: Some(kkt::VatRate::Vat10),
            department: 1,
            method: 4,
            object: 1,
            marking_code: None,
            tlvs: vec![(2108, vec![11])],
        });
        let mut p = [0u64; 16];
        p[0] = 10_000;
        let doc = Document {
            number: 7,
            kind: 3,
            time: "2026-02-01T12:30:00".parse().unwrap(),
            fiscal_sign: 123_456_789,
            shift_number: 2,
            operation: Some(1),
            total: Some(9_100),
            receipt_number: Some(4),
            positions: Vec::new(),
        };
        let e = receipt(&h, "9999078900001234", &r, &p, 900, 1, &doc);
        let text = e.lines.join("\n");
        for want in [
            "КАССОВЫЙ ЧЕК",
            "ПРИХОД",
            "1. Хлеб",
            "2 кг x 45.50",
            "НДС 10%",
            "=91.00",
            "НАЛИЧНЫМИ",
            "=100.00",
            "СДАЧА",
            "=9.00",
            "123456789",
            "01.02.2026 12:30",
        ] {
            assert!(text.contains(want), "missing {want:?} in\n{text}");
        }
        assert_eq!(e.fd, Some(7));
    }

    #[test]
    fn free_lines_group_until_a_cut() {
        let mut t = Tape::default();
        t.push_free_line("a".into());
        t.push_free_line("b".into());
        t.cut();
        t.push_free_line("c".into());
        assert_eq!(t.entries.len(), 2);
        assert_eq!(t.entries[0].lines[..2], ["a".to_string(), "b".to_string()]);
    }
}
