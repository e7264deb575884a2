//! Validators for every body the agent (or a test, as the minion) sends to
//! the fake cloud. They work on `serde_json::Value` on purpose, independent of
//! the typed models in the agent's `masterkassa::cloud`, so a bug in those models is not
//! mirrored here. Each returns what the store needs (ids) or the seed's
//! [`ApiError`]. Pure: no I/O, no state.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::api_error::ApiError;
use super::json_checks::{Check, Obj};
use super::store::OpKind;

/// The tax systems the seed lists for `taxSystem`.
pub const TAX_SYSTEMS: &[&str] = &[
    "GENERAL_TAX_SYSTEM",
    "SIMPLIFIED_TAX_SYSTEM_INCOME",
    "SIMPLIFIED_TAX_SYSTEM_INCOME_OUTCOME",
    "UNIFIED_AGRICULTURAL_TAX",
    "PRESUMPTIVE_TAX_SYSTEM",
    "PATENT_BASED",
];

/// The operation's syncid from the body's own `meta`, checked against `kind`.
fn operation_id(root: &Obj<'_>, kind: Option<OpKind>) -> Check<(OpKind, String)> {
    let meta_ref = root.req_ref_self()?;
    let entity = meta_ref.entity.clone();
    let kind = match (kind, entity.as_deref()) {
        (Some(k), _) => k,
        (None, Some(e)) => OpKind::parse(e).ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                2012,
                format!("Ошибка формата: неизвестный type для meta поля 'meta': {e}"),
            )
            .with_parameter("meta")
        })?,
        (None, None) => return Err(ApiError::missing_syncid("meta")),
    };
    let id = meta_ref.require_sync("meta", kind.as_str())?;
    Ok((kind, id))
}

/// A new operation on `POST /cheque/minion/entity/{kind}`: returns its syncid.
pub fn minion_operation(body: &Map<String, Value>, kind: OpKind) -> Check<String> {
    let root = Obj::new(body, "");
    let (_, id) = operation_id(&root, Some(kind))?;
    root.opt_str("name")?;
    root.opt_moment("moment")?;
    root.opt_ref("agent")?;
    root.opt_ref("retailShift")?;
    root.opt_bool("vatEnabled")?;
    root.opt_bool("vatIncluded")?;
    for key in ["cashSum", "noCashSum", "qrSum", "sum"] {
        root.opt_non_negative(key)?;
    }
    let positions = root.req_array("positions")?;
    if positions.is_empty() {
        return Err(ApiError::missing_field("positions"));
    }
    for (i, p) in positions.iter().enumerate() {
        let path = format!("positions[{i}]");
        let Value::Object(pos) = p else {
            return Err(ApiError::wrong_type(&path, "object"));
        };
        let pos = Obj::new(pos, &path);
        pos.req_ref("assortment")?;
        let quantity = pos.req_number("quantity")?;
        if quantity <= 0.0 {
            return Err(ApiError::not_positive(&format!("{path}.quantity")));
        }
        pos.req_number("price")?;
        pos.opt_non_negative("price")?;
        let discount = pos.opt_non_negative("discount")?;
        if discount.is_some_and(|d| d > 100.0) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                17008,
                "Ошибка сохранения позиции документа: скидка не может быть больше 100",
            )
            .with_parameter(format!("{path}.discount")));
        }
        let vat = pos.opt_non_negative("vat")?;
        if vat.is_some_and(|v| v > 100.0) {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                17007,
                "Ошибка сохранения позиции документа: НДС не может быть больше 100",
            )
            .with_parameter(format!("{path}.vat")));
        }
        pos.opt_bool("vatEnabled")?;
        pos.opt_array("marks")?;
        pos.opt_array("sn")?;
        pos.opt_array("pdf")?;
    }
    match kind {
        OpKind::RetailSalesReturn => {
            root.opt_ref("demand")?;
        }
        OpKind::PrepaymentReturn => {
            root.opt_ref("prepayment")?;
        }
        _ => {}
    }
    Ok(id)
}

/// What an approve names: the operation and the shift it was printed in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApproveRefs {
    pub kind: OpKind,
    pub operation_id: String,
    pub shift_id: String,
}

/// `PUT /cheque/rpc/master/approve`.
pub fn approve(body: &Map<String, Value>) -> Check<ApproveRefs> {
    let root = Obj::new(body, "");
    let (kind, operation_id) = operation_id(&root, None)?;
    let cheque = Obj::new(root.req_object("cheque")?, "cheque");
    match cheque.field_value("fiscal") {
        None => return Err(ApiError::missing_field("cheque.fiscal")),
        Some(Value::Bool(_)) => {}
        Some(_) => return Err(ApiError::wrong_type("cheque.fiscal", "boolean")),
    }
    cheque.opt_bool("online")?;
    cheque.opt_bool("printed")?;
    cheque.opt_str("phone")?;
    cheque.opt_str("email")?;
    for key in ["number", "fnNumber", "fiscalDocSign", "fiscalDocNumber"] {
        cheque.req_str(key)?;
    }
    cheque.req_number("sum")?;
    cheque.opt_non_negative("sum")?;
    cheque.req_moment("time")?;
    let printer = Obj::new(root.req_object("chequePrinter")?, "chequePrinter");
    printer.req_str("name")?;
    for key in ["vendor", "serial", "fiscalDataVersion", "firmwareVersion"] {
        printer.opt_str(key)?;
    }
    printer.opt_object("driver")?;
    printer.opt_object("fiscalMemory")?;
    let tax = root.req_str("taxSystem")?;
    if !TAX_SYSTEMS.contains(&tax) {
        return Err(ApiError::bad_enum("taxSystem", tax, TAX_SYSTEMS));
    }
    let shift_id = root
        .req_ref("retailShift")?
        .require_sync("retailShift", "retailshift")?;
    Ok(ApproveRefs {
        kind,
        operation_id,
        shift_id,
    })
}

/// `PUT /cheque/rpc/master/reject`: the operation and its message.
pub fn reject(body: &Map<String, Value>) -> Check<(OpKind, String, String)> {
    let root = Obj::new(body, "");
    let (kind, id) = operation_id(&root, None)?;
    let msg = root.req_str("fiscalErrMsg")?;
    Ok((kind, id, msg.to_string()))
}

/// A shift's syncid in `retailShift`, or the shift error `code` (12006/12007).
fn shift_id(root: &Obj<'_>, code: u32, verb: &str) -> Check<String> {
    let shift_err = || {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            code,
            format!(
                "Ошибка {verb} розничной смены: параметр 'retailShift' отсутствует или имеет неверный формат"
            ),
        )
        .with_parameter("retailShift")
    };
    let r = root.req_ref("retailShift").map_err(|_| shift_err())?;
    r.require_sync("retailShift", "retailshift")
        .map_err(|_| shift_err())
}

/// The FN data block of a shift document (`cheque.start` / `cheque.end`).
fn fn_block(root: &Obj<'_>, key: &str) -> Check<()> {
    let Some(cheque) = root.opt_object("cheque")? else {
        return Ok(());
    };
    let cheque = Obj::new(cheque, "cheque");
    let path = format!("cheque.{key}");
    if let Some(block) = cheque.opt_object(key)? {
        let b = Obj::new(block, &path);
        for k in [
            "fnNumber",
            "kktRegNumber",
            "fiscalDocSign",
            "shiftNumber",
            "fiscalDocNumber",
        ] {
            b.opt_str(k)?;
        }
        b.opt_moment("time")?;
        b.opt_number("chequesTotal")?;
        b.opt_number("fiscalDocsTotal")?;
    }
    Ok(())
}

/// `PUT /rpc/openshift`: the shift's syncid and name.
pub fn open_shift(body: &Map<String, Value>) -> Check<(String, String)> {
    let root = Obj::new(body, "");
    let id = shift_id(&root, 12006, "открытия")?;
    let name = match root.opt_str("name") {
        Ok(Some(n)) if !n.is_empty() => n.to_string(),
        _ => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                12008,
                "Ошибка открытия розничной смены: параметр 'name' отсутствует",
            )
            .with_parameter("name"));
        }
    };
    if root.opt_str("openmoment")?.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            12009,
            "Ошибка открытия розничной смены: параметр 'openmoment' отсутствует",
        )
        .with_parameter("openmoment"));
    }
    root.req_moment("openmoment")?;
    fn_block(&root, "start")?;
    Ok((id, name))
}

/// `PUT /rpc/closeshift`: the shift's syncid.
pub fn close_shift(body: &Map<String, Value>) -> Check<String> {
    let root = Obj::new(body, "");
    let id = shift_id(&root, 12007, "закрытия")?;
    if root.opt_str("closemoment")?.is_none() {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            12010,
            "Ошибка закрытия розничной смены: параметр 'closemoment' отсутствует",
        )
        .with_parameter("closemoment"));
    }
    root.req_moment("closemoment")?;
    root.opt_ref("retailDrawerCashout")?;
    fn_block(&root, "start")?;
    fn_block(&root, "end")?;
    Ok(id)
}

/// `POST /state`. The seed nulls an object whose required field is missing
/// rather than refusing it, so only the types are checked here.
pub fn state(body: &Map<String, Value>) -> Check<()> {
    let root = Obj::new(body, "");
    if let Some(env) = root.opt_object("environment")? {
        let env = Obj::new(env, "environment");
        env.opt_str("device")?;
        env.opt_str("os")?;
        env.opt_object("software")?;
        if let Some(p) = env.opt_object("chequePrinter")? {
            let p = Obj::new(p, "environment.chequePrinter");
            p.opt_str("name")?;
            p.opt_str("vendor")?;
            p.opt_str("taxSystem")?;
            p.opt_object("fiscalMemory")?;
        }
    }
    if let Some(st) = root.opt_object("state")? {
        let st = Obj::new(st, "state");
        st.opt_object("sync")?;
        if let Some(fm) = st.opt_object("fiscalMemory")? {
            let fm = Obj::new(fm, "state.fiscalMemory");
            fm.opt_object("error")?;
            fm.opt_non_negative("notSendDocCount")?;
            fm.opt_moment("notSendFirstDocMoment")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::samples;

    fn obj(s: &str) -> Map<String, Value> {
        serde_json::from_str(s).unwrap()
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
            "[a-z/:0-9 -]{0,40}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            let keys = prop_oneof![
                Just("meta".to_string()),
                Just("href".to_string()),
                Just("cheque".to_string()),
                Just("positions".to_string()),
                Just("retailShift".to_string()),
                "[a-zA-Z]{1,8}",
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                proptest::collection::btree_map(keys, inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn validators_never_panic(v in arb_json()) {
            if let Value::Object(m) = v {
                for kind in OpKind::ALL {
                    let _ = minion_operation(&m, kind);
                }
                let _ = approve(&m);
                let _ = reject(&m);
                let _ = open_shift(&m);
                let _ = close_shift(&m);
                let _ = state(&m);
            }
        }
    }

    #[test]
    fn seed_samples_pass() {
        for kind in OpKind::ALL {
            let body = obj(samples::minion(kind));
            minion_operation(&body, kind).unwrap();
        }
        let a = approve(&obj(samples::APPROVE)).unwrap();
        assert_eq!(a.kind, OpKind::RetailDemand);
        assert_eq!(a.operation_id, "a4a94924-ab7a-447e-b1ae-6b874242cbdd");
        assert_eq!(a.shift_id, "288bd078-800c-11e6-8a84-bae5000000a2");
        let (_, _, msg) = reject(&obj(samples::REJECT)).unwrap();
        assert_eq!(msg, "ФН переполнен");
        assert_eq!(
            open_shift(&obj(samples::OPENSHIFT)).unwrap().0,
            "388bd178-800c-11e6-8a84-bae5000000a2"
        );
        close_shift(&obj(samples::CLOSESHIFT)).unwrap();
        state(&obj(samples::STATE)).unwrap();
    }

    #[test]
    fn approve_errors_name_the_field() {
        let mut body = obj(samples::APPROVE);
        body["cheque"].as_object_mut().unwrap().remove("fnNumber");
        let e = approve(&body).unwrap_err();
        assert_eq!(e.code(), Some(3000));
        assert_eq!(e.item.parameter.as_deref(), Some("cheque.fnNumber"));

        let mut body = obj(samples::APPROVE);
        body["cheque"]["sum"] = Value::from("123.6");
        assert_eq!(approve(&body).unwrap_err().code(), Some(2016));

        let mut body = obj(samples::APPROVE);
        body["taxSystem"] = Value::from("FLAT");
        assert_eq!(approve(&body).unwrap_err().code(), Some(3005));

        let mut body = obj(samples::APPROVE);
        body.remove("retailShift");
        assert_eq!(approve(&body).unwrap_err().code(), Some(3000));

        let mut body = obj(samples::APPROVE);
        body["cheque"]["time"] = Value::from("2016-09-06T21:41:46");
        assert_eq!(approve(&body).unwrap_err().code(), Some(2025));
    }

    #[test]
    fn minion_type_must_match_endpoint() {
        let body = obj(samples::minion(OpKind::RetailDemand));
        let e = minion_operation(&body, OpKind::Prepayment).unwrap_err();
        assert_eq!(e.code(), Some(1051));
        let mut body = obj(samples::minion(OpKind::RetailDemand));
        body["positions"][0]["quantity"] = Value::from(0);
        assert_eq!(
            minion_operation(&body, OpKind::RetailDemand)
                .unwrap_err()
                .code(),
            Some(3003)
        );
    }

    #[test]
    fn shift_errors_use_shift_codes() {
        assert_eq!(open_shift(&obj("{}")).unwrap_err().code(), Some(12006));
        let mut body = obj(samples::OPENSHIFT);
        body.remove("name");
        assert_eq!(open_shift(&body).unwrap_err().code(), Some(12008));
        let mut body = obj(samples::OPENSHIFT);
        body.remove("openmoment");
        assert_eq!(open_shift(&body).unwrap_err().code(), Some(12009));
        assert_eq!(close_shift(&obj("{}")).unwrap_err().code(), Some(12007));
        let mut body = obj(samples::CLOSESHIFT);
        body.remove("closemoment");
        assert_eq!(close_shift(&body).unwrap_err().code(), Some(12010));
    }
}
