//! The seed's sample bodies (001_… MoySklad POS API), kept verbatim as JSON
//! files next to this module and embedded at build time. Tests, the demo and
//! the fake's own answers (settings, store list) start from these.

use super::store::OpKind;

/// `POST /cheque/minion/entity/retaildemand` sample.
pub const MINION_RETAILDEMAND: &str = include_str!("samples/minion_retaildemand.json");
/// `POST /cheque/minion/entity/retailsalesreturn` sample.
pub const MINION_RETAILSALESRETURN: &str = include_str!("samples/minion_retailsalesreturn.json");
/// `POST /cheque/minion/entity/prepayment` sample.
pub const MINION_PREPAYMENT: &str = include_str!("samples/minion_prepayment.json");
/// `POST /cheque/minion/entity/prepaymentreturn` sample.
pub const MINION_PREPAYMENTRETURN: &str = include_str!("samples/minion_prepaymentreturn.json");
/// `PUT /cheque/rpc/master/approve` sample.
pub const APPROVE: &str = include_str!("samples/approve.json");
/// `PUT /cheque/rpc/master/reject` sample.
pub const REJECT: &str = include_str!("samples/reject.json");
/// `PUT /rpc/openshift` sample.
pub const OPENSHIFT: &str = include_str!("samples/openshift.json");
/// `PUT /rpc/closeshift` sample.
pub const CLOSESHIFT: &str = include_str!("samples/closeshift.json");
/// `POST /state` sample.
pub const STATE: &str = include_str!("samples/state.json");
/// `GET /cheque/rpc/minion/status/syncid/{id}` sample answer.
pub const STATUS: &str = include_str!("samples/status.json");
/// `GET /settings/retailstore` sample answer.
pub const SETTINGS_RETAILSTORE: &str = include_str!("samples/settings_retailstore.json");
/// `GET /admin/retailstore` sample answer.
pub const ADMIN_RETAILSTORE: &str = include_str!("samples/admin_retailstore.json");
/// `GET /entity/assortment` sample answer.
pub const ASSORTMENT: &str = include_str!("samples/assortment.json");

/// The minion sample for an operation kind.
pub fn minion(kind: OpKind) -> &'static str {
    match kind {
        OpKind::RetailDemand => MINION_RETAILDEMAND,
        OpKind::RetailSalesReturn => MINION_RETAILSALESRETURN,
        OpKind::Prepayment => MINION_PREPAYMENT,
        OpKind::PrepaymentReturn => MINION_PREPAYMENTRETURN,
    }
}

/// A sample parsed (the constants are checked to be JSON by the tests
/// below; a broken one would read as `null`).
pub fn value(sample: &str) -> serde_json::Value {
    serde_json::from_str(sample).unwrap_or(serde_json::Value::Null)
}

/// A reference `{"meta": {"href": …/entity/{entity}/syncid/{id}}}`, as the
/// agent writes it for `retailShift` or an operation's own `meta`.
pub fn sync_ref(entity: &str, id: &str) -> serde_json::Value {
    serde_json::json!({
        "meta": {
            "href": format!("https://online.moysklad.ru/api/posap/1.0/entity/{entity}/syncid/{id}"),
            "type": entity,
            "id": id,
            "idType": "sync",
        }
    })
}

/// The minion sample of `kind` under syncid `id`.
pub fn minion_with_id(kind: OpKind, id: &str) -> serde_json::Value {
    let mut v = value(minion(kind));
    v["meta"] = sync_ref(kind.as_str(), id)["meta"].clone();
    v
}

/// The seed's approve sample, for operation `op` (of `kind`) printed in
/// retail shift `shift`.
pub fn approve_for(kind: OpKind, op: &str, shift: &str) -> serde_json::Value {
    let mut v = value(APPROVE);
    v["meta"] = sync_ref(kind.as_str(), op)["meta"].clone();
    v["retailShift"] = sync_ref("retailshift", shift);
    v
}

/// The seed's reject sample, for operation `op` of `kind`.
pub fn reject_for(kind: OpKind, op: &str) -> serde_json::Value {
    let mut v = value(REJECT);
    v["meta"] = sync_ref(kind.as_str(), op)["meta"].clone();
    v
}

/// The seed's openshift sample under syncid `shift`.
pub fn openshift_for(shift: &str) -> serde_json::Value {
    let mut v = value(OPENSHIFT);
    v["retailShift"] = sync_ref("retailshift", shift);
    v
}

/// The seed's closeshift sample for syncid `shift`.
pub fn closeshift_for(shift: &str) -> serde_json::Value {
    let mut v = value(CLOSESHIFT);
    v["retailShift"] = sync_ref("retailshift", shift);
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_sample_is_json() {
        for s in [
            super::MINION_RETAILDEMAND,
            super::MINION_RETAILSALESRETURN,
            super::MINION_PREPAYMENT,
            super::MINION_PREPAYMENTRETURN,
            super::APPROVE,
            super::REJECT,
            super::OPENSHIFT,
            super::CLOSESHIFT,
            super::STATE,
            super::STATUS,
            super::SETTINGS_RETAILSTORE,
            super::ADMIN_RETAILSTORE,
            super::ASSORTMENT,
        ] {
            serde_json::from_str::<serde_json::Value>(s).unwrap();
        }
    }
}
