//! A minimal Shtrih-M device model for driver tests: enough state (FD
//! counter, shift, open receipt, archive) to answer the commands the driver
//! sends, plus one-shot error injection.

#![allow(dead_code)]

use jiff::civil::date;
use shtrih::commands::*;
use shtrih::frame::Frame;

/// A minimal device model the handler closure works on.
#[derive(Debug, Default)]
pub struct Model {
    pub last_fd: u32,
    pub shift_open: bool,
    pub shift: u16,
    pub receipts: u16,
    pub receipt_open: bool,
    pub receipt_total: u64,
    pub receipt_op: u8,
    pub awaiting_continue: bool,
    /// Error byte to answer the next command with this code (once).
    pub fail_once: Vec<(u16, u8)>,
    /// 0xFF45 signs the receipt, then answers this error (paper ran out
    /// while printing).
    pub close_signs_then_fails: Option<u8>,
    pub docs: Vec<FoundDocument>,
    /// FFD version code table 17 field 17 holds (4 = FFD 1.2); `None` =
    /// the table is not readable.
    pub ffd: Option<u8>,
    /// Model number 0xFC reports (252, ШТРИХ-ЛАЙТ-02Ф, when unset).
    pub model_id: Option<u8>,
}

pub fn t0() -> jiff::civil::DateTime {
    date(2026, 11, 24).at(10, 30, 0, 0)
}

impl Model {
    pub fn sign(&mut self, doc_type: u8, details: DocumentDetails) -> FoundDocument {
        self.last_fd += 1;
        let d = FoundDocument {
            doc_type,
            ofd_receipt_received: false,
            time: t0(),
            number: self.last_fd,
            fiscal_sign: 1_000_000 + self.last_fd * 7,
            details,
        };
        self.docs.push(d.clone());
        d
    }

    pub fn handle(&mut self, f: &Frame) -> Frame {
        if let Some(i) = self.fail_once.iter().position(|(c, _)| *c == f.code.0) {
            let (_, err) = self.fail_once.remove(i);
            return error_frame(f.code, err);
        }
        match f.code.0 {
            // ШТРИХ-ЛАЙТ-02Ф as the vendor log-player capture shows it.
            0xFC => answer_frame::<DeviceType>(&DeviceTypeAnswer {
                device_type: 0,
                subtype: 0,
                protocol_version: 1,
                protocol_subversion: 14,
                model: self.model_id.unwrap_or(252),
                language: 0,
                name: "ШТРИХ-ЛАЙТ-02Ф".into(),
            }),
            0x1F if self.ffd.is_some() => answer_frame::<ReadTable>(&TableValue {
                bytes: vec![self.ffd.unwrap_or(0)],
            }),
            0x17 | 0x25 => answer_frame::<PrintLine>(&Operator { operator: 30 }),
            0x10 => answer_frame::<ShortStatus>(&ShortStatusAnswer {
                operator: 30,
                flags: PrinterFlags(0x0003),
                mode: Mode(if self.receipt_open {
                    8
                } else if self.shift_open {
                    2
                } else {
                    4
                }),
                submode: Submode(if self.awaiting_continue { 3 } else { 0 }),
                ..Default::default()
            }),
            0xB0 => {
                self.awaiting_continue = false;
                answer_frame::<ContinuePrint>(&Operator { operator: 30 })
            }
            0xFF01 => answer_frame::<FnStatus>(&FnStatusAnswer {
                phase: 3,
                current_document: if self.receipt_open { 4 } else { 0 },
                shift_open: self.shift_open,
                serial: "9999078900001234".into(),
                last_fd_number: self.last_fd,
                clock: Some(t0()),
                ..Default::default()
            }),
            0xFF40 => answer_frame::<ShiftParams>(&ShiftParamsAnswer {
                shift_open: self.shift_open,
                shift_number: self.shift,
                receipt_number: self.receipts,
            }),
            0xFF0A => {
                let (_, req) = parse_request::<FindDocument>(f).expect("find request");
                match self.docs.iter().find(|d| d.number == req.number) {
                    Some(d) => answer_frame::<FindDocument>(d),
                    None => error_frame(f.code, 0x08),
                }
            }
            0xFF41 | 0xFF42 | 0xFF0C | 0xFF4D => Frame::new(f.code, vec![0]),
            0xE0 => {
                self.shift_open = true;
                self.shift += 1;
                self.receipts = 0;
                let n = self.shift;
                self.sign(2, DocumentDetails::Shift { number: n });
                Frame::new(f.code, vec![0])
            }
            0x41 => {
                self.shift_open = false;
                let n = self.shift;
                self.sign(5, DocumentDetails::Shift { number: n });
                answer_frame::<ZReport>(&Operator { operator: 30 })
            }
            0x8D => {
                self.receipt_open = true;
                self.receipt_total = 0;
                answer_frame::<OpenReceipt>(&Operator { operator: 30 })
            }
            0xFF46 => {
                let (_, op) = parse_request::<OperationV2>(f).expect("operation request");
                self.receipt_total += op.sum.unwrap_or(0);
                self.receipt_op = op.operation;
                Frame::new(f.code, vec![0])
            }
            0xFF61 => answer_frame::<CheckMarkingCode>(&MarkingCheckAnswer {
                local_result: 3,
                ..Default::default()
            }),
            0xFF69 => answer_frame::<AcceptMarkingCode>(&AcceptMarkingAnswer { result: 3 }),
            0xFF67 => answer_frame::<BindMarkingCode>(&BindMarkingAnswer::default()),
            0xFF45 => {
                self.receipt_open = false;
                self.receipts += 1;
                let (op, total) = (self.receipt_op, self.receipt_total);
                let d = self.sign(
                    3,
                    DocumentDetails::Receipt {
                        operation: op,
                        total,
                    },
                );
                if let Some(err) = self.close_signs_then_fails.take() {
                    self.awaiting_continue = true;
                    return error_frame(f.code, err);
                }
                answer_frame::<CloseReceiptV2>(&CloseReceiptAnswer {
                    change: 0,
                    fd_number: d.number,
                    fiscal_sign: d.fiscal_sign,
                    time: Some(d.time),
                })
            }
            0x88 => {
                self.receipt_open = false;
                answer_frame::<CancelReceipt>(&Operator { operator: 30 })
            }
            _ => error_frame(f.code, 0x37),
        }
    }
}
