//! Minimal RFC 4180 CSV: reading the catalogue file and writing the
//! receipts export. Comma-separated (reading also takes `;`, as Russian
//! spreadsheet programs write it), fields quoted with `"` when they hold a
//! separator, quote or line break, `""` for a quote inside quotes. Pure.

use thiserror::Error;

/// Why a CSV text could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CsvError {
    #[error("line {line}: unterminated quoted field")]
    Unterminated { line: usize },
    #[error("line {line}: unexpected character {found:?} after a closing quote")]
    AfterQuote { line: usize, found: char },
}

/// One record with the line it starts on (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

/// Splits comma-separated `text` into records. Blank lines are skipped;
/// `\r\n` and `\n` both end a record; a leading BOM is ignored.
pub fn read(text: &str) -> Result<Vec<Record>, CsvError> {
    read_with(text, ',')
}

/// Like [`read`], with `separator` between fields.
pub fn read_with(text: &str, separator: char) -> Result<Vec<Record>, CsvError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut records = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut line = 1usize;
    let mut record_line = 1usize;
    let mut chars = text.chars().peekable();
    // True once the current record has any content (blank lines are skipped).
    let mut started = false;
    while let Some(c) = chars.next() {
        match c {
            '"' if field.is_empty() => {
                started = true;
                let quote_line = line;
                loop {
                    match chars.next() {
                        None => return Err(CsvError::Unterminated { line: quote_line }),
                        Some('"') if chars.peek() == Some(&'"') => {
                            chars.next();
                            field.push('"');
                        }
                        Some('"') => break,
                        Some(ch) => {
                            if ch == '\n' {
                                line += 1;
                            }
                            field.push(ch);
                        }
                    }
                }
                match chars.peek() {
                    None | Some('\n') | Some('\r') => {}
                    Some(&c) if c == separator => {}
                    Some(&found) => return Err(CsvError::AfterQuote { line, found }),
                }
            }
            c if c == separator => {
                started = true;
                fields.push(std::mem::take(&mut field));
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                if started {
                    fields.push(std::mem::take(&mut field));
                    records.push(Record {
                        line: record_line,
                        fields: std::mem::take(&mut fields),
                    });
                }
                started = false;
                line += 1;
                record_line = line;
            }
            other => {
                started = true;
                field.push(other);
            }
        }
    }
    if started {
        fields.push(field);
        records.push(Record {
            line: record_line,
            fields,
        });
    }
    Ok(records)
}

/// Writes one record (with the trailing `\n`).
pub fn write_record<S: AsRef<str>>(out: &mut String, fields: &[S]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let field = field.as_ref();
        if field.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_quotes_commas_and_line_breaks() {
        let text = "a,b,c\r\n\n\"x, y\",\"say \"\"hi\"\"\",\"two\nlines\"\nlast,,\n";
        let records = read(text).unwrap();
        assert_eq!(records.len(), 3);
        assert_eq!(records[1].fields, ["x, y", "say \"hi\"", "two\nlines"]);
        assert_eq!(records[1].line, 3);
        assert_eq!(records[2].fields, ["last", "", ""]);
        assert_eq!(records[2].line, 5);
    }

    #[test]
    fn reads_semicolons_too() {
        let records = read_with("a;\"b;c\";1,5\n", ';').unwrap();
        assert_eq!(records[0].fields, ["a", "b;c", "1,5"]);
    }

    #[test]
    fn reports_broken_quotes() {
        assert_eq!(read("a\n\"open"), Err(CsvError::Unterminated { line: 2 }));
        assert_eq!(
            read("\"a\"b"),
            Err(CsvError::AfterQuote {
                line: 1,
                found: 'b'
            })
        );
    }

    proptest::proptest! {
        #[test]
        fn written_records_read_back(rows in proptest::collection::vec(
            proptest::collection::vec("[a-z\",\n ]{0,6}", 1..4), 1..5)
        ) {
            let mut out = String::new();
            for row in &rows {
                write_record(&mut out, row);
            }
            let read_back: Vec<Vec<String>> = read(&out).unwrap().into_iter().map(|r| r.fields).collect();
            // A row of one empty field is a blank line, which reading skips.
            let expected: Vec<Vec<String>> = rows.into_iter().filter(|r| !(r.len() == 1 && r[0].is_empty())).collect();
            proptest::prop_assert_eq!(read_back, expected);
        }

        #[test]
        fn never_panics(text in "\\PC{0,80}") {
            let _ = read(&text);
        }
    }
}
