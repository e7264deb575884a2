//! The MoySklad master queue as a [`ReceiptSource`].
//!
//! Turns polled operations into [`SourceOperation`]s (the body is the
//! operation's JSON, so recovery can decode it again) and outbox messages
//! into the POS API bodies: approve, reject, openshift, closeshift, and the
//! state report. The wire client is a [`PosApi`](crate::cloud::PosApi).
//!
//! An answer of 409 (conflict) to approve, reject, openshift or closeshift
//! means the cloud already has that result (an earlier attempt went through
//! but its answer was lost): it counts as delivered.

use super::source::{
    OutboxMessage, PrinterInfo, ShiftDoc, SourceError, SourceOperation, StateReport,
};
use crate::cloud::models::{
    self, Approve, Cheque, ChequePrinter, CloseShift, Driver, Environment, FiscalMemoryError,
    FiscalMemoryInfo, FiscalMemoryState, Meta, MetaRef, OpenShift, PosState, Reject, ShiftCheque,
    ShiftDocument, Software, SyncState, TaxSystemCode,
};
use crate::receipt::{OperationInput, RejectReason};

/// Name the agent reports itself under (software and driver).
pub const SOFTWARE_NAME: &str = "masterkassa";

/// The operation as the worker keeps it.
pub fn source_operation(op: &models::Operation) -> Option<SourceOperation> {
    let id = op.sync_id()?.to_string();
    let body = serde_json::to_string(op).ok()?;
    Some(SourceOperation {
        id,
        body,
        kind: op.kind.entity().to_string(),
        reference: serde_json::to_value(&op.meta).unwrap_or(serde_json::Value::Null),
        input: Ok(OperationInput::from_cloud(op)),
    })
}

/// Decodes a stored body (the JSON written by [`source_operation`], or the
/// raw body of an operation that could not be read at poll time).
pub fn decode(id: &str, body: &str) -> SourceOperation {
    match models::parse_operation(body.as_bytes()) {
        Ok(op) => source_operation(&op).unwrap_or_else(|| unreadable(id, body, "нет syncId")),
        Err(e) => {
            // An operation unreadable at poll time is journaled as its meta
            // and the reason: decoding that stub again must give the
            // reason, not "no name" (the stub has no fields).
            let kept = serde_json::from_str::<serde_json::Value>(body)
                .ok()
                .and_then(|v| v.get(UNREADABLE_REASON)?.as_str().map(str::to_string));
            match kept {
                Some(why) => unreadable(id, body, &why),
                None => unreadable(id, body, &e.reason_ru()),
            }
        }
    }
}

/// Key of the stored stub body that keeps why a polled operation could not
/// be read.
const UNREADABLE_REASON: &str = "masterkassaUnreadable";

/// The journal key of an operation that cannot be read: its syncId, else
/// its full meta href (unique per operation, and what the reject is sent
/// to). Never empty: an empty key would make every such operation look
/// like the first one.
pub fn unreadable_key(meta: &Meta) -> Option<String> {
    if let Some(id) = meta.sync_id() {
        return Some(id.to_string());
    }
    let href = meta.href.trim();
    (!href.is_empty()).then(|| href.to_string())
}

/// A polled operation that cannot be read, to be journaled and rejected;
/// an error when it has no identity at all (nothing to key it by and
/// nothing to send the reject to), which status shows.
fn unreadable_polled(meta: &Meta, why: &str) -> Result<Box<SourceOperation>, SourceError> {
    let Some(id) = unreadable_key(meta) else {
        tracing::error!(why = %why, "the cloud handed out an operation without syncId or href");
        return Err(SourceError::Transient {
            message: format!("the cloud handed out an operation without syncId or href: {why}"),
            retry_after: None,
            shop: Some("облако выдало операцию без идентификатора (нет syncId и href)".into()),
        });
    };
    let body = serde_json::json!({ "meta": meta, UNREADABLE_REASON: why }).to_string();
    Ok(Box::new(unreadable(&id, &body, why)))
}

/// An operation whose body cannot make a receipt: it is rejected.
pub fn unreadable(id: &str, body: &str, why: &str) -> SourceOperation {
    let reference = serde_json::from_str::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("meta").cloned())
        .unwrap_or(serde_json::Value::Null);
    let kind = reference
        .get("href")
        .and_then(|h| h.as_str())
        .and_then(|h| Meta::from_href(h).entity().map(str::to_string))
        .unwrap_or_else(|| "operation".into());
    SourceOperation {
        id: id.to_string(),
        body: body.to_string(),
        kind,
        reference,
        input: Err(RejectReason(format!(
            "Ошибка данных: операция не читается ({why})"
        ))),
    }
}

fn meta_of(reference: &serde_json::Value, base_url: &str, kind: &str, id: &str) -> Meta {
    serde_json::from_value::<Meta>(reference.clone())
        .unwrap_or_else(|_| Meta::sync(base_url, kind, id))
}

fn shift_ref(base_url: &str, shift_id: &str) -> MetaRef {
    MetaRef::new(Meta::sync(base_url, "retailshift", shift_id))
}

fn printer_of(p: &PrinterInfo) -> ChequePrinter {
    ChequePrinter {
        vendor: Some(p.vendor.clone()).filter(|v| !v.is_empty()),
        name: if p.model.is_empty() {
            "ККТ".to_string()
        } else {
            p.model.clone()
        },
        serial: Some(p.serial.clone()).filter(|v| !v.is_empty()),
        fiscal_data_version: Some(p.ffd_version.clone()).filter(|v| !v.is_empty()),
        driver: Some(Driver {
            name: Some(SOFTWARE_NAME.to_string()),
            version: Some(crate::state::VERSION.to_string()),
        }),
        fiscal_memory: Some(FiscalMemoryInfo {
            fiscal_data_version: Some(p.ffd_version.clone()).filter(|v| !v.is_empty()),
            fiscal_validity_date: None,
        }),
        firmware_version: Some(p.firmware.clone()).filter(|v| !v.is_empty()),
        tax_system: None,
        fr_date: None,
    }
}

fn shift_document(d: &ShiftDoc) -> ShiftDocument {
    ShiftDocument {
        fn_number: Some(d.fn_serial.clone()),
        kkt_reg_number: None,
        fiscal_doc_sign: Some(d.fiscal_sign.to_string()),
        shift_number: Some(d.shift_number.to_string()),
        fiscal_doc_number: Some(d.fd_number.to_string()),
        cheques_total: None,
        fiscal_docs_total: None,
        time: Some(d.time),
    }
}

/// A POS API request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CloudRequest {
    Approve(Approve),
    Reject(Reject),
    OpenShift(OpenShift),
    CloseShift(CloseShift),
}

/// The POS API body for an outbox message.
pub fn cloud_request(msg: &OutboxMessage, base_url: &str) -> CloudRequest {
    match msg {
        OutboxMessage::Approve {
            op_id,
            kind,
            reference,
            fiscal,
            tax_system,
            buyer_contact,
            printer,
            shift_id,
        } => {
            let (phone, email) = match buyer_contact {
                Some(c) if c.contains('@') => (None, Some(c.clone())),
                Some(c) => (Some(c.clone()), None),
                None => (None, None),
            };
            CloudRequest::Approve(Approve {
                meta: meta_of(reference, base_url, kind, op_id),
                cheque: Some(Cheque {
                    fiscal: Some(true),
                    online: Some(buyer_contact.is_some()),
                    printed: Some(true),
                    phone,
                    email,
                    number: (fiscal.receipt_number > 0).then(|| fiscal.receipt_number.to_string()),
                    sum: Some(fiscal.total),
                    fn_number: Some(fiscal.fn_serial.clone()),
                    fiscal_doc_sign: Some(fiscal.fiscal_sign.to_string()),
                    fiscal_doc_number: Some(fiscal.fd_number.to_string()),
                    time: Some(fiscal.time),
                }),
                cheque_printer: Some(printer_of(printer)),
                tax_system: Some(TaxSystemCode::from_kkt(*tax_system)),
                retail_shift: shift_ref(base_url, shift_id),
            })
        }
        OutboxMessage::Reject {
            op_id,
            kind,
            reference,
            message,
        } => CloudRequest::Reject(Reject {
            meta: meta_of(reference, base_url, kind, op_id),
            fiscal_err_msg: message.clone(),
        }),
        OutboxMessage::OpenShift { shift_id, opened } => CloudRequest::OpenShift(OpenShift {
            retail_shift: shift_ref(base_url, shift_id),
            name: opened.shift_number.to_string(),
            open_moment: opened.time,
            cheque: Some(ShiftCheque {
                start: Some(shift_document(opened)),
                end: None,
            }),
        }),
        OutboxMessage::CloseShift {
            shift_id,
            opened,
            closed,
            receipts,
            documents,
        } => CloudRequest::CloseShift(CloseShift {
            retail_shift: shift_ref(base_url, shift_id),
            close_moment: closed.time,
            retail_drawer_cashout: None,
            cheque: Some(ShiftCheque {
                start: Some(shift_document(opened)),
                end: Some(ShiftDocument {
                    cheques_total: Some(u64::from(*receipts)),
                    fiscal_docs_total: Some(u64::from(*documents)),
                    ..shift_document(closed)
                }),
            }),
        }),
    }
}

/// The `POST /state` body.
pub fn state_body(r: &StateReport) -> models::StateReport {
    let printer = r.printer.as_ref().map(|p| {
        let mut cp = printer_of(p);
        if let Some(fm) = cp.fiscal_memory.as_mut() {
            fm.fiscal_validity_date = r.fn_valid_until.map(|d| d.to_string());
        }
        cp.tax_system = Some(
            r.tax_systems
                .iter()
                .map(|t| TaxSystemCode::from_kkt(*t).as_code().to_string())
                .collect::<Vec<_>>()
                .join(","),
        )
        .filter(|s| !s.is_empty());
        cp.fr_date = r.device_clock.map(|c| models::meta::cloud_time::format(&c));
        cp
    });
    models::StateReport {
        environment: Some(Environment {
            device: None,
            os: Some(std::env::consts::OS.to_string()),
            software: Some(Software {
                name: SOFTWARE_NAME.to_string(),
                vendor: None,
                version: Some(r.software_version.clone()),
            }),
            cheque_printer: printer,
            payment_terminal: None,
        }),
        state: Some(PosState {
            sync: Some(SyncState {
                message: r.sync_message.clone(),
                last_attempt_moment: r.last_sync_attempt.or_else(|| Some(super::moscow_now())),
            }),
            last_check_moment: None,
            fiscal_memory: Some(FiscalMemoryState {
                error: r
                    .fn_error
                    .as_ref()
                    .map(|(code, message)| FiscalMemoryError {
                        code: Some(code.clone()),
                        message: Some(message.clone()),
                    }),
                not_send_doc_count: Some(u64::from(r.ofd_unsent)),
                not_send_first_doc_moment: r.ofd_first_unsent_at,
            }),
            payment_terminal: None,
        }),
    }
}

/// The MoySklad master queue of one retail store.
pub struct MoySkladSource<P: ?Sized> {
    api: std::sync::Arc<P>,
    org_id: String,
    base_url: String,
}

impl<P: crate::cloud::PosApi + ?Sized + 'static> MoySkladSource<P> {
    /// `base_url` is the API root the hrefs are built from
    /// (`https://online.moysklad.ru/api/posap/1.0`).
    pub fn new(api: std::sync::Arc<P>, org_id: &str, base_url: &str) -> Self {
        MoySkladSource {
            api,
            org_id: org_id.to_string(),
            base_url: base_url.trim_end_matches('/').to_string(),
        }
    }
}

/// What a cloud failure means for the worker: config and cloud troubles
/// are waited out (a fixed token makes the same request succeed), a data
/// refusal (4xx) is final, and a 409 means "already done".
fn classify(e: crate::cloud::CloudError) -> Result<(), super::source::SourceError> {
    use super::source::SourceError;
    use crate::cloud::{CloudError, ErrorClass};
    if e.status() == Some(409) {
        tracing::info!(error = %e, "the cloud already has this result: counted as delivered");
        return Ok(());
    }
    let retry_after = match &e {
        CloudError::RateLimited { retry_after, .. } => Some(*retry_after),
        _ => None,
    };
    match e.class() {
        ErrorClass::Data => Err(SourceError::Permanent {
            status: e.status().unwrap_or(400),
            message: e.to_string(),
        }),
        ErrorClass::Config | ErrorClass::Cloud => Err(SourceError::Transient {
            message: e.to_string(),
            retry_after,
            shop: Some(e.message_ru()),
        }),
    }
}

impl<P: crate::cloud::PosApi + ?Sized + 'static> super::source::ReceiptSource
    for MoySkladSource<P>
{
    async fn poll(&self) -> Result<super::source::Polled, super::source::SourceError> {
        use super::source::Polled;
        use crate::cloud::CloudError;
        match self.api.poll(&self.org_id).await {
            Ok(None) => Ok(Polled::Empty),
            Ok(Some(op)) => match source_operation(&op) {
                Some(so) => Ok(Polled::Operation(Box::new(so))),
                None => unreadable_polled(&op.meta, "нет syncId").map(Polled::Operation),
            },
            Err(CloudError::BadOperation {
                meta: Some(meta),
                source,
            }) => {
                tracing::warn!(error = %source, "the polled operation cannot be read: rejecting it");
                unreadable_polled(&meta, &source.reason_ru()).map(Polled::Operation)
            }
            Err(e) => classify(e).map(|()| Polled::Empty),
        }
    }

    async fn deliver(&self, msg: &OutboxMessage) -> Result<(), super::source::SourceError> {
        let result = match cloud_request(msg, &self.base_url) {
            CloudRequest::Approve(a) => self.api.approve(&a).await,
            CloudRequest::Reject(r) => self.api.reject(&r).await,
            CloudRequest::OpenShift(o) => self.api.open_shift(&o).await,
            CloudRequest::CloseShift(c) => self.api.close_shift(&c).await,
        };
        match result {
            Ok(()) => Ok(()),
            Err(e) => classify(e),
        }
    }

    async fn report_state(&self, report: &StateReport) -> Result<(), super::source::SourceError> {
        match self.api.post_state(&state_body(report)).await {
            Ok(()) => Ok(()),
            Err(e) => classify(e),
        }
    }

    fn decode(&self, id: &str, body: &str) -> SourceOperation {
        decode(id, body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::journal::PrintedReceipt;
    use kkt::{Money, TaxSystem};

    fn time() -> kkt::DateTime {
        jiff::civil::date(2026, 11, 24).at(10, 15, 0, 0)
    }

    /// Operations without a syncId are keyed by their href,
    /// never all by "".
    #[test]
    fn unreadable_operations_are_keyed_by_href_never_empty() {
        let a = Meta::from_href("https://x/api/posap/1.0/entity/retaildemand/81fdf852");
        let b = Meta::from_href("https://x/api/posap/1.0/entity/retaildemand/91fdf853");
        let (ka, kb) = (unreadable_key(&a).unwrap(), unreadable_key(&b).unwrap());
        assert_ne!(ka, kb);
        assert_eq!(ka, a.href);
        let op = unreadable_polled(&a, "нет syncId").unwrap();
        assert_eq!(op.id, a.href);
        assert_eq!(op.reference["href"], a.href);
        assert!(op.input.is_err());
        let synced = Meta::from_href("https://x/api/posap/1.0/entity/retaildemand/syncid/s-1");
        assert_eq!(unreadable_key(&synced).as_deref(), Some("s-1"));
        let nothing = Meta::from_href("");
        assert_eq!(unreadable_key(&nothing), None);
        assert!(unreadable_polled(&nothing, "нет syncId").is_err());
    }

    #[test]
    fn approve_body_carries_fiscal_data_and_shift() {
        let op = models::parse_operation(include_bytes!("samples/retaildemand.json")).unwrap();
        let so = source_operation(&op).unwrap();
        assert_eq!(so.id, "388bd178-800c-11e6-8a84-bae5000000a2");
        let msg = OutboxMessage::Approve {
            op_id: so.id.clone(),
            kind: so.kind.clone(),
            reference: so.reference.clone(),
            fiscal: PrintedReceipt {
                fn_serial: "9999078900001234".into(),
                fd_number: 12,
                fiscal_sign: 3_456_789_012,
                time: time(),
                shift_number: 3,
                receipt_number: 4,
                total: Money(1980),
            },
            tax_system: TaxSystem::General,
            buyer_contact: Some("+79992223311".into()),
            printer: PrinterInfo {
                vendor: "ШТРИХ-М".into(),
                model: "ШТРИХ-М-01Ф".into(),
                serial: "0012345678".into(),
                firmware: "A4".into(),
                ffd_version: "1.2".into(),
            },
            shift_id: "288bd078-800c-11e6-8a84-bae5000000a2".into(),
        };
        let CloudRequest::Approve(a) = cloud_request(&msg, "https://x/api/posap/1.0") else {
            panic!()
        };
        let json = serde_json::to_value(&a).unwrap();
        assert_eq!(json["meta"]["href"], op.meta.href.as_str());
        assert_eq!(json["cheque"]["fiscalDocNumber"], "12");
        assert_eq!(json["cheque"]["fiscalDocSign"], "3456789012");
        assert_eq!(json["cheque"]["fnNumber"], "9999078900001234");
        assert_eq!(json["cheque"]["number"], "4");
        assert_eq!(json["cheque"]["sum"], serde_json::json!(19.8));
        assert_eq!(json["cheque"]["time"], "2026-11-24 10:15:00");
        assert_eq!(json["cheque"]["phone"], "+79992223311");
        assert_eq!(json["taxSystem"], "GENERAL_TAX_SYSTEM");
        assert_eq!(json["chequePrinter"]["serial"], "0012345678");
        assert!(
            json["retailShift"]["meta"]["href"]
                .as_str()
                .unwrap()
                .ends_with("/entity/retailshift/syncid/288bd078-800c-11e6-8a84-bae5000000a2")
        );
    }

    #[test]
    fn stored_body_decodes_to_the_same_operation_and_garbage_rejects() {
        let op = models::parse_operation(include_bytes!("samples/prepayment.json")).unwrap();
        let so = source_operation(&op).unwrap();
        let again = decode(&so.id, &so.body);
        assert_eq!(again.input, so.input);
        assert_eq!(again.kind, "prepayment");
        let bad = decode(
            "x",
            "{\"meta\":{\"href\":\"https://h/entity/retaildemand/syncid/x\"},\"positions\":7}",
        );
        assert_eq!(bad.kind, "retaildemand");
        assert!(bad.input.unwrap_err().0.contains("не читается"));
    }

    #[test]
    fn an_operation_unreadable_at_poll_keeps_its_reason_when_decoded_again() {
        let meta: Meta = serde_json::from_value(serde_json::json!({
            "href": "https://h/entity/retaildemand/syncid/s-7"
        }))
        .unwrap();
        let why = "поле positions[0].price = «100.12345»: сумма должна быть целым числом копеек";
        let polled = unreadable_polled(&meta, why).unwrap();
        let again = decode(&polled.id, &polled.body);
        let reason = again.input.unwrap_err().0;
        assert_eq!(
            reason,
            format!("Ошибка данных: операция не читается ({why})")
        );
        assert_eq!(again.kind, "retaildemand");
    }

    #[test]
    fn shift_bodies_carry_start_and_end() {
        let opened = ShiftDoc {
            fn_serial: "9999".into(),
            shift_number: 5,
            fd_number: 100,
            fiscal_sign: 1,
            time: time(),
        };
        let closed = ShiftDoc {
            fd_number: 120,
            fiscal_sign: 2,
            ..opened.clone()
        };
        let msg = OutboxMessage::CloseShift {
            shift_id: "s".into(),
            opened: opened.clone(),
            closed,
            receipts: 18,
            documents: 21,
        };
        let CloudRequest::CloseShift(c) = cloud_request(&msg, "https://x") else {
            panic!()
        };
        let json = serde_json::to_value(&c).unwrap();
        assert_eq!(json["cheque"]["start"]["fiscalDocNumber"], "100");
        assert_eq!(json["cheque"]["end"]["fiscalDocNumber"], "120");
        assert_eq!(json["cheque"]["end"]["chequesTotal"], 18);
        assert_eq!(json["cheque"]["end"]["fiscalDocsTotal"], 21);
        let CloudRequest::OpenShift(o) = cloud_request(
            &OutboxMessage::OpenShift {
                shift_id: "s".into(),
                opened,
            },
            "https://x",
        ) else {
            panic!()
        };
        let json = serde_json::to_value(&o).unwrap();
        assert_eq!(json["name"], "5");
        assert_eq!(json["openmoment"], "2026-11-24 10:15:00");
    }
}
