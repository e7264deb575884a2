//! The fake cloud's memory: the per-organisation operation queues, the retail
//! shifts the agent opened, and every `/state` it posted. Pure state machine,
//! no I/O: the HTTP layer (`server`) parses and validates, then calls here
//! under one mutex, passing the current instant so leases are testable.
//!
//! Lease semantics (documented in docs/fake-cloud.md): `poll` hands out the
//! oldest unanswered operation of the organisation and keeps handing out the
//! same one until it is approved or rejected, which is what the real queue
//! does. With a `poll_lease` configured, an operation just handed out is
//! skipped by later polls until its lease runs out (then it comes back), so
//! several operations can be in flight at once.

use std::time::{Duration, Instant};

use axum::http::StatusCode;
use serde::Serialize;
use serde_json::{Value, json};

use super::api_error::ApiError;

/// The four operation kinds the master queue carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OpKind {
    RetailDemand,
    RetailSalesReturn,
    Prepayment,
    PrepaymentReturn,
}

impl OpKind {
    /// Every kind, in the seed's order.
    pub const ALL: [OpKind; 4] = [
        OpKind::RetailDemand,
        OpKind::RetailSalesReturn,
        OpKind::Prepayment,
        OpKind::PrepaymentReturn,
    ];

    /// The entity name used in paths and `meta.type`.
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::RetailDemand => "retaildemand",
            OpKind::RetailSalesReturn => "retailsalesreturn",
            OpKind::Prepayment => "prepayment",
            OpKind::PrepaymentReturn => "prepaymentreturn",
        }
    }

    /// Parses an entity name.
    pub fn parse(s: &str) -> Option<OpKind> {
        OpKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `fiscalStatus` of an operation. The seed lists OK, PENDING and
/// IN_PROGRESS; REJECTED (after a reject) is this fake's own word, since the
/// seed does not say what a rejected operation shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum FiscalStatus {
    Pending,
    InProgress,
    Ok,
    Rejected,
}

impl FiscalStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            FiscalStatus::Pending => "PENDING",
            FiscalStatus::InProgress => "IN_PROGRESS",
            FiscalStatus::Ok => "OK",
            FiscalStatus::Rejected => "REJECTED",
        }
    }

    /// Approved or rejected: nothing more may be said about it.
    pub fn is_finished(self) -> bool {
        matches!(self, FiscalStatus::Ok | FiscalStatus::Rejected)
    }
}

/// One operation in a queue and everything the agent said about it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationRecord {
    /// The syncid (from the minion body's meta).
    pub id: String,
    pub kind: OpKind,
    pub org_id: String,
    /// The body as the minion sent it.
    pub body: Value,
    pub fiscal_status: FiscalStatus,
    /// How many times poll handed it out.
    pub polled: u32,
    /// The approve body that was accepted.
    pub approve: Option<Value>,
    /// The reject body that was accepted.
    pub reject: Option<Value>,
    /// The retail shift named by the accepted approve.
    pub shift_id: Option<String>,
    pub approves_accepted: u32,
    /// Approves naming this operation that were refused (duplicates, closed
    /// shift, not yet handed out, …).
    pub approves_refused: u32,
    pub rejects_accepted: u32,
    pub rejects_refused: u32,
    #[serde(skip)]
    leased_until: Option<Instant>,
}

impl OperationRecord {
    /// The agent's approve or reject of it was accepted: it left the queue.
    pub fn answered(&self) -> bool {
        self.approves_accepted + self.rejects_accepted > 0
    }
}

/// A retail shift the agent opened.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ShiftRecord {
    pub id: String,
    pub store_id: String,
    pub name: String,
    pub open: bool,
    pub open_body: Value,
    pub close_body: Option<Value>,
    /// openshift requests accepted for it (repeats are idempotent).
    pub opens: u32,
    /// closeshift requests accepted for it (repeats are idempotent).
    pub closes: u32,
}

/// One `POST /state`.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRecord {
    pub store_id: String,
    pub body: Value,
}

/// All the fake's memory.
#[derive(Debug, Default)]
pub struct Store {
    ops: Vec<OperationRecord>,
    shifts: Vec<ShiftRecord>,
    states: Vec<StateRecord>,
}

fn conflict(msg: &str) -> ApiError {
    ApiError::conflict(msg)
}

impl Store {
    /// Queues a new operation; a syncid already known is refused (3006).
    pub fn enqueue(
        &mut self,
        org_id: &str,
        kind: OpKind,
        id: &str,
        body: Value,
    ) -> Result<(), ApiError> {
        if self.ops.iter().any(|o| o.id == id) {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                3006,
                "Ошибка сохранения объекта: нарушено ограничение уникальности параметра 'syncid'",
            )
            .with_parameter("meta"));
        }
        self.ops.push(OperationRecord {
            id: id.to_string(),
            kind,
            org_id: org_id.to_string(),
            body,
            fiscal_status: FiscalStatus::Pending,
            polled: 0,
            approve: None,
            reject: None,
            shift_id: None,
            approves_accepted: 0,
            approves_refused: 0,
            rejects_accepted: 0,
            rejects_refused: 0,
            leased_until: None,
        });
        Ok(())
    }

    /// The next operation for `org_id`, as poll returns it, or `None`.
    pub fn poll(&mut self, org_id: &str, lease: Option<Duration>, now: Instant) -> Option<Value> {
        let op = self.ops.iter_mut().find(|o| {
            o.org_id == org_id
                && !o.fiscal_status.is_finished()
                && o.leased_until.is_none_or(|t| t <= now)
        })?;
        op.fiscal_status = FiscalStatus::InProgress;
        op.polled += 1;
        op.leased_until = lease.map(|l| now + l);
        Some(poll_body(op))
    }

    fn op_mut(
        &mut self,
        id: &str,
        kind: crate::store::OpKind,
    ) -> Result<&mut OperationRecord, ApiError> {
        match self.ops.iter_mut().find(|o| o.id == id) {
            Some(op) if op.kind == kind => Ok(op),
            Some(op) => Err(ApiError::type_mismatch(
                "meta",
                op.kind.as_str(),
                kind.as_str(),
            )),
            None => Err(ApiError::not_found(kind.as_str(), id)),
        }
    }

    /// Refusal for an answer about an operation that cannot take one.
    fn answer_refusal(op: &OperationRecord) -> Option<ApiError> {
        match op.fiscal_status {
            FiscalStatus::Ok => Some(conflict("операция уже фискализирована")),
            FiscalStatus::Rejected => Some(conflict("операция уже отклонена")),
            FiscalStatus::Pending => Some(conflict("операция ещё не выдавалась на фискализацию")),
            FiscalStatus::InProgress => None,
        }
    }

    /// Accepts an approve for operation `id`, printed in shift `shift_id`.
    pub fn approve(
        &mut self,
        store_id: &str,
        kind: OpKind,
        id: &str,
        shift_id: &str,
        body: Value,
    ) -> Result<(), ApiError> {
        let shift_problem = match self.shifts.iter().find(|s| s.id == shift_id) {
            None => Some(unknown_shift()),
            Some(s) if s.store_id != store_id => Some(unknown_shift()),
            Some(s) if !s.open => Some(conflict("розничная смена уже закрыта")),
            Some(_) => None,
        };
        let op = self.op_mut(id, kind)?;
        if let Some(e) = Self::answer_refusal(op).or(shift_problem) {
            op.approves_refused += 1;
            return Err(e);
        }
        op.fiscal_status = FiscalStatus::Ok;
        op.approve = Some(body);
        op.shift_id = Some(shift_id.to_string());
        op.approves_accepted += 1;
        op.leased_until = None;
        Ok(())
    }

    /// Accepts a reject for operation `id`.
    pub fn reject(&mut self, kind: OpKind, id: &str, body: Value) -> Result<(), ApiError> {
        let op = self.op_mut(id, kind)?;
        if let Some(e) = Self::answer_refusal(op) {
            op.rejects_refused += 1;
            return Err(e);
        }
        op.fiscal_status = FiscalStatus::Rejected;
        op.reject = Some(body);
        op.rejects_accepted += 1;
        op.leased_until = None;
        Ok(())
    }

    /// The status answer for `GET /cheque/rpc/minion/status/syncid/{id}`.
    pub fn status(&self, id: &str) -> Result<Value, ApiError> {
        let op = self
            .ops
            .iter()
            .find(|o| o.id == id)
            .ok_or_else(|| ApiError::not_found("operation", id))?;
        let mut v = json!({
            "operation": operation_meta(op),
            "fiscalStatus": op.fiscal_status.as_str(),
        });
        if let Some(cheque) = op.approve.as_ref().and_then(|a| a.get("cheque")) {
            v["cheque"] = cheque.clone();
        }
        if let Some(msg) = op.reject.as_ref().and_then(|r| r.get("fiscalErrMsg")) {
            v["fiscalErrMsg"] = msg.clone();
        }
        Ok(v)
    }

    /// Records `PUT /rpc/openshift`. Re-opening a shift that is open is
    /// accepted (a retry after a lost answer); re-opening a closed one is not.
    pub fn open_shift(
        &mut self,
        store_id: &str,
        id: &str,
        name: &str,
        body: Value,
    ) -> Result<(), ApiError> {
        if let Some(s) = self.shifts.iter_mut().find(|s| s.id == id) {
            if s.store_id != store_id {
                return Err(conflict("смена принадлежит другой точке продаж"));
            }
            if !s.open {
                return Err(conflict("розничная смена уже закрыта"));
            }
            s.opens += 1;
            return Ok(());
        }
        self.shifts.push(ShiftRecord {
            id: id.to_string(),
            store_id: store_id.to_string(),
            name: name.to_string(),
            open: true,
            open_body: body,
            close_body: None,
            opens: 1,
            closes: 0,
        });
        Ok(())
    }

    /// Records `PUT /rpc/closeshift`. Closing a closed shift again is
    /// accepted (a retry); an unknown shift or another store's is not.
    pub fn close_shift(&mut self, store_id: &str, id: &str, body: Value) -> Result<(), ApiError> {
        let Some(s) = self.shifts.iter_mut().find(|s| s.id == id) else {
            return Err(unknown_shift());
        };
        if s.store_id != store_id {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                12021,
                "Ошибка закрытия розничной смены: нельзя закрыть смену другой точки продаж",
            ));
        }
        if s.open {
            s.open = false;
            s.close_body = Some(body);
        }
        s.closes += 1;
        Ok(())
    }

    /// Records `POST /state`.
    pub fn record_state(&mut self, store_id: &str, body: Value) {
        self.states.push(StateRecord {
            store_id: store_id.to_string(),
            body,
        });
    }

    pub fn operations(&self) -> Vec<OperationRecord> {
        self.ops.clone()
    }

    pub fn operations_ref(&self) -> &[OperationRecord] {
        &self.ops
    }

    pub fn shifts(&self) -> Vec<ShiftRecord> {
        self.shifts.clone()
    }

    pub fn states(&self) -> Vec<StateRecord> {
        self.states.clone()
    }
}

fn unknown_shift() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        12012,
        "Розничная смена не существует",
    )
    .with_parameter("retailShift")
}

/// The `meta` of an operation as the cloud writes it.
fn operation_meta(op: &OperationRecord) -> Value {
    let href = op
        .body
        .get("meta")
        .and_then(|m| m.get("href"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "https://online.moysklad.ru/api/posap/1.0/entity/{}/syncid/{}",
                op.kind.as_str(),
                op.id
            )
        });
    json!({
        "href": href,
        "mediaType": "application/json",
        "type": op.kind.as_str(),
        "id": op.id,
        "idType": "sync",
    })
}

/// The operation as poll returns it: the minion's body with a full `meta`.
fn poll_body(op: &OperationRecord) -> Value {
    let mut body = op.body.clone();
    if let Value::Object(map) = &mut body {
        map.insert("meta".to_string(), operation_meta(op));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    const ORG: &str = "org";
    const A: &str = "a4a94924-ab7a-447e-b1ae-6b874242cbdd";
    const B: &str = "b4a94924-ab7a-447e-b1ae-6b874242cbdd";
    const SHIFT: &str = "288bd078-800c-11e6-8a84-bae5000000a2";

    fn store_with_two() -> Store {
        let mut s = Store::default();
        s.enqueue(ORG, OpKind::RetailDemand, A, json!({"name": "a"}))
            .unwrap();
        s.enqueue(ORG, OpKind::Prepayment, B, json!({"name": "b"}))
            .unwrap();
        s
    }

    #[test]
    fn poll_repeats_head_until_answered() {
        let mut s = store_with_two();
        s.open_shift("st", SHIFT, "1", json!({})).unwrap();
        let now = Instant::now();
        assert_eq!(s.poll(ORG, None, now).unwrap()["meta"]["id"], A);
        assert_eq!(s.poll(ORG, None, now).unwrap()["meta"]["id"], A);
        assert!(s.poll("other", None, now).is_none());
        s.approve("st", OpKind::RetailDemand, A, SHIFT, json!({}))
            .unwrap();
        let b = s.poll(ORG, None, now).unwrap();
        assert_eq!(b["meta"]["type"], "prepayment");
        s.reject(OpKind::Prepayment, B, json!({"fiscalErrMsg": "x"}))
            .unwrap();
        assert!(s.poll(ORG, None, now).is_none());
        assert_eq!(s.operations()[0].polled, 2);
    }

    #[test]
    fn lease_skips_then_returns() {
        let mut s = store_with_two();
        let t0 = Instant::now();
        let lease = Some(Duration::from_secs(10));
        assert_eq!(s.poll(ORG, lease, t0).unwrap()["meta"]["id"], A);
        assert_eq!(s.poll(ORG, lease, t0).unwrap()["meta"]["id"], B);
        assert!(s.poll(ORG, lease, t0).is_none());
        let later = t0 + Duration::from_secs(11);
        assert_eq!(s.poll(ORG, lease, later).unwrap()["meta"]["id"], A);
    }

    #[test]
    fn duplicate_and_misplaced_answers_are_refused() {
        let mut s = store_with_two();
        s.open_shift("st", SHIFT, "1", json!({})).unwrap();
        // Not handed out yet.
        let e = s
            .approve("st", OpKind::RetailDemand, A, SHIFT, json!({}))
            .unwrap_err();
        assert_eq!(e.status, StatusCode::CONFLICT);
        s.poll(ORG, None, Instant::now());
        // Unknown shift.
        let other = "11111111-800c-11e6-8a84-bae5000000a2";
        let e = s
            .approve("st", OpKind::RetailDemand, A, other, json!({}))
            .unwrap_err();
        assert_eq!(e.code(), Some(12012));
        s.approve("st", OpKind::RetailDemand, A, SHIFT, json!({}))
            .unwrap();
        let e = s
            .approve("st", OpKind::RetailDemand, A, SHIFT, json!({}))
            .unwrap_err();
        assert_eq!(e.code(), Some(3007));
        let e = s.reject(OpKind::RetailDemand, A, json!({})).unwrap_err();
        assert_eq!(e.code(), Some(3007));
        let op = &s.operations()[0];
        assert_eq!(
            (
                op.approves_accepted,
                op.approves_refused,
                op.rejects_refused
            ),
            (1, 3, 1)
        );
        // Unknown operation.
        let e = s
            .reject(OpKind::RetailDemand, SHIFT, json!({}))
            .unwrap_err();
        assert_eq!(e.code(), Some(1021));
        assert_eq!(s.status(A).unwrap()["fiscalStatus"], "OK");
    }

    #[test]
    fn closed_shift_refuses_approve() {
        let mut s = store_with_two();
        s.open_shift("st", SHIFT, "1", json!({})).unwrap();
        s.open_shift("st", SHIFT, "1", json!({})).unwrap();
        s.close_shift("st", SHIFT, json!({})).unwrap();
        s.close_shift("st", SHIFT, json!({})).unwrap();
        assert!(s.open_shift("st", SHIFT, "1", json!({})).is_err());
        s.poll(ORG, None, Instant::now());
        let e = s
            .approve("st", OpKind::RetailDemand, A, SHIFT, json!({}))
            .unwrap_err();
        assert_eq!(e.code(), Some(3007));
        assert_eq!(
            s.close_shift("st", A, json!({})).unwrap_err().code(),
            Some(12012)
        );
        assert_eq!(
            s.close_shift("x", SHIFT, json!({})).unwrap_err().code(),
            Some(12021)
        );
        let sh = &s.shifts()[0];
        assert_eq!((sh.opens, sh.closes, sh.open), (2, 2, false));
    }
}
