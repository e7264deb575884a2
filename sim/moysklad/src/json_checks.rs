//! Small, pure readers over `serde_json::Value` that turn "field missing",
//! "wrong type", "bad reference" into the seed's [`ApiError`]s, naming the
//! field by its full path (`positions[1].quantity`). The validators in
//! [`super::validate`] are written with these; nothing here does I/O.

use serde_json::{Map, Value};

use super::api_error::ApiError;

/// A JSON object being validated, with the path that names its fields.
#[derive(Clone, Copy)]
pub struct Obj<'a> {
    map: &'a Map<String, Value>,
    path: &'a str,
}

/// The result of reading a field.
pub type Check<T> = Result<T, ApiError>;

/// Parses a request body into a JSON object, with the seed's errors for an
/// empty body, invalid JSON, an array or a scalar.
pub fn parse_object(body: &[u8]) -> Check<Map<String, Value>> {
    if body.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            1027,
            "Запрос не содержит объектов",
        ));
    }
    let value: Value = serde_json::from_slice(body).map_err(|e| ApiError::malformed_json(&e))?;
    match value {
        Value::Object(map) => Ok(map),
        Value::Array(_) => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            2009,
            "Ошибка формата: запрос на создание/обновление одной сущности не должен содержать массив",
        )),
        _ => Err(ApiError::new(
            axum::http::StatusCode::BAD_REQUEST,
            2005,
            "Ошибка формата: входящий JSON должен начинаться либо с объекта, либо с массива",
        )),
    }
}

/// Joins a parent path and a field name.
pub fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// A JSON type name as the error messages say it.
fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl<'a> Obj<'a> {
    /// Wraps a map found at `path` ("" for the body's root).
    pub fn new(map: &'a Map<String, Value>, path: &'a str) -> Self {
        Self { map, path }
    }

    /// The path of this object.
    pub fn path(&self) -> &'a str {
        self.path
    }

    /// The raw value of a field (`null` counts as absent).
    pub fn field_value(&self, key: &str) -> Option<&'a Value> {
        self.field(key)
    }

    /// The body's own `meta` (an operation naming itself).
    pub fn req_ref_self(&self) -> Check<MetaRef> {
        if self.field("meta").is_none() {
            return Err(ApiError::missing_field(&join(self.path, "meta")));
        }
        meta_ref(self.map, &join(self.path, "meta"))
    }

    fn field(&self, key: &str) -> Option<&'a Value> {
        match self.map.get(key) {
            None | Some(Value::Null) => None,
            Some(v) => Some(v),
        }
    }

    /// A required, non-empty string.
    pub fn req_str(&self, key: &str) -> Check<&'a str> {
        match self.opt_str(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(ApiError::missing_field(&join(self.path, key))),
        }
    }

    /// An optional string.
    pub fn opt_str(&self, key: &str) -> Check<Option<&'a str>> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::wrong_type(&join(self.path, key), "string")),
        }
    }

    /// An optional boolean.
    pub fn opt_bool(&self, key: &str) -> Check<Option<bool>> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(ApiError::wrong_type(&join(self.path, key), "boolean")),
        }
    }

    /// A required number (returned as f64 only for sign checks — the fake
    /// never computes with money).
    pub fn req_number(&self, key: &str) -> Check<f64> {
        self.opt_number(key)?
            .ok_or_else(|| ApiError::missing_field(&join(self.path, key)))
    }

    /// An optional number.
    pub fn opt_number(&self, key: &str) -> Check<Option<f64>> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Number(n)) => Ok(Some(n.as_f64().unwrap_or(0.0))),
            Some(_) => Err(ApiError::wrong_type(&join(self.path, key), "number")),
        }
    }

    /// An optional number that must be ≥ 0.
    pub fn opt_non_negative(&self, key: &str) -> Check<Option<f64>> {
        let n = self.opt_number(key)?;
        if n.is_some_and(|n| n < 0.0) {
            return Err(ApiError::negative(&join(self.path, key)));
        }
        Ok(n)
    }

    /// A required object.
    pub fn req_object(&self, key: &str) -> Check<&'a Map<String, Value>> {
        self.opt_object(key)?
            .ok_or_else(|| ApiError::missing_field(&join(self.path, key)))
    }

    /// An optional object.
    pub fn opt_object(&self, key: &str) -> Check<Option<&'a Map<String, Value>>> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Object(m)) => Ok(Some(m)),
            Some(v) => Err(ApiError::wrong_type(
                &join(self.path, key),
                &format!("object (получено {})", type_name(v)),
            )),
        }
    }

    /// A required array.
    pub fn req_array(&self, key: &str) -> Check<&'a Vec<Value>> {
        self.opt_array(key)?
            .ok_or_else(|| ApiError::missing_field(&join(self.path, key)))
    }

    /// An optional array.
    pub fn opt_array(&self, key: &str) -> Check<Option<&'a Vec<Value>>> {
        match self.field(key) {
            None => Ok(None),
            Some(Value::Array(a)) => Ok(Some(a)),
            Some(_) => Err(ApiError::wrong_type(&join(self.path, key), "array")),
        }
    }

    /// An optional date-time string in the API's `yyyy-MM-dd HH:mm:ss[.SSS]` form.
    pub fn opt_moment(&self, key: &str) -> Check<Option<&'a str>> {
        let s = self.opt_str(key)?;
        if let Some(s) = s
            && !is_moment(s)
        {
            return Err(ApiError::bad_date(&join(self.path, key), s));
        }
        Ok(s)
    }

    /// A required date-time string.
    pub fn req_moment(&self, key: &str) -> Check<&'a str> {
        let s = self.req_str(key)?;
        if !is_moment(s) {
            return Err(ApiError::bad_date(&join(self.path, key), s));
        }
        Ok(s)
    }

    /// An optional string that must be one of `allowed`.
    pub fn opt_enum(&self, key: &str, allowed: &[&str]) -> Check<Option<&'a str>> {
        let s = self.opt_str(key)?;
        if let Some(s) = s
            && !allowed.contains(&s)
        {
            return Err(ApiError::bad_enum(&join(self.path, key), s, allowed));
        }
        Ok(s)
    }

    /// A required reference `{ "meta": { "href": … } }`.
    pub fn req_ref(&self, key: &str) -> Check<MetaRef> {
        let param = join(self.path, key);
        let obj = self.req_object(key)?;
        meta_ref(obj, &param)
    }

    /// An optional reference.
    pub fn opt_ref(&self, key: &str) -> Check<Option<MetaRef>> {
        let param = join(self.path, key);
        match self.opt_object(key)? {
            None => Ok(None),
            Some(obj) => meta_ref(obj, &param).map(Some),
        }
    }
}

/// What a `meta` says: the entity type and, when present, the syncid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MetaRef {
    pub href: String,
    /// The entity type named in the href (`retaildemand`, `retailshift` …).
    pub entity: Option<String>,
    /// The client-generated id after `/syncid/`.
    pub sync_id: Option<String>,
}

impl MetaRef {
    /// The syncid, which must be there and be a UUID, for an entity of
    /// type `expected`.
    pub fn require_sync(&self, param: &str, expected: &str) -> Check<String> {
        let Some(id) = &self.sync_id else {
            return Err(ApiError::missing_syncid(param));
        };
        if let Some(entity) = &self.entity
            && entity != expected
        {
            return Err(ApiError::type_mismatch(param, expected, entity));
        }
        if uuid::Uuid::parse_str(id).is_err() {
            return Err(ApiError::bad_uuid(param, id));
        }
        Ok(id.clone())
    }
}

/// Reads `{ "meta": { "href": …, ["type", "id", "idType"] } }` found at `param`.
pub fn meta_ref(obj: &Map<String, Value>, param: &str) -> Check<MetaRef> {
    let meta = match obj.get("meta") {
        None | Some(Value::Null) => return Err(ApiError::missing_meta(param)),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(ApiError::wrong_type(&join(param, "meta"), "object")),
    };
    let meta_path = join(param, "meta");
    let m = Obj::new(meta, &meta_path);
    let href = match m.opt_str("href")? {
        Some(h) if !h.is_empty() => h,
        _ => return Err(ApiError::missing_href(param)),
    };
    let (mut entity, mut sync_id) = parse_href(href);
    // A meta may also say it directly (as poll and approve bodies do).
    if sync_id.is_none() && m.opt_str("idType")? == Some("sync") {
        sync_id = m.opt_str("id")?.map(str::to_string);
    }
    if entity.is_none() {
        entity = m.opt_str("type")?.map(str::to_string);
    }
    Ok(MetaRef {
        href: href.to_string(),
        entity,
        sync_id,
    })
}

/// Splits `…/entity/{type}/syncid/{id}` (or `…/entity/{type}/{id}`) into the
/// type and the syncid (only for the syncid form).
pub fn parse_href(href: &str) -> (Option<String>, Option<String>) {
    let path = href.split(['?', '#']).next().unwrap_or("");
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let Some(ent_pos) = segs.iter().rposition(|s| *s == "entity") else {
        return (None, None);
    };
    let entity = segs.get(ent_pos + 1).map(|s| s.to_string());
    let sync_id = match segs.get(ent_pos + 2) {
        Some(s) if s.eq_ignore_ascii_case("syncid") => segs.get(ent_pos + 3).map(|s| s.to_string()),
        _ => None,
    };
    (entity, sync_id)
}

/// `yyyy-MM-dd HH:mm:ss` with an optional `.SSS`, digits and ranges checked.
pub fn is_moment(s: &str) -> bool {
    let b = s.as_bytes();
    let base_ok = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b' '
        && b[13] == b':'
        && b[16] == b':'
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    if !base_ok {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> u32 {
        b[r].iter().fold(0, |acc, d| acc * 10 + u32::from(d - b'0'))
    };
    let (month, day, hour, min, sec) =
        (num(5..7), num(8..10), num(11..13), num(14..16), num(17..19));
    let ranges_ok =
        (1..=12).contains(&month) && (1..=31).contains(&day) && hour < 24 && min < 60 && sec < 60;
    let tail = &b[19..];
    let tail_ok = tail.is_empty()
        || (tail.len() == 4 && tail[0] == b'.' && tail[1..].iter().all(u8::is_ascii_digit));
    ranges_ok && tail_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    #[test]
    fn href_with_syncid() {
        let (e, id) = parse_href(
            "https://online.moysklad.ru/api/posap/1.0/entity/retailshift/syncid/388bd178-800c-11e6-8a84-bae5000000a2",
        );
        assert_eq!(e.as_deref(), Some("retailshift"));
        assert_eq!(id.as_deref(), Some("388bd178-800c-11e6-8a84-bae5000000a2"));
        let (e, id) = parse_href(
            "https://x/api/posap/1.0/entity/product/81fdf852-7c21-11e6-8a84-bae500000068",
        );
        assert_eq!(e.as_deref(), Some("product"));
        assert_eq!(id, None);
        assert_eq!(parse_href("nonsense"), (None, None));
    }

    #[test]
    fn meta_ref_errors_name_the_field() {
        let body = json!({"retailShift": {"nometa": 1}, "agent": {"meta": {}}});
        let m = body.as_object().unwrap();
        let o = Obj::new(m, "");
        assert_eq!(o.req_ref("retailShift").unwrap_err().code(), Some(2014));
        assert_eq!(o.req_ref("agent").unwrap_err().code(), Some(2010));
        let e = o.req_ref("missing").unwrap_err();
        assert_eq!(e.code(), Some(3000));
        assert_eq!(e.item.parameter.as_deref(), Some("missing"));
    }

    #[test]
    fn sync_requirement() {
        let r = MetaRef {
            href: "h".into(),
            entity: Some("retaildemand".into()),
            sync_id: Some("not-a-uuid".into()),
        };
        assert_eq!(
            r.require_sync("meta", "retaildemand").unwrap_err().code(),
            Some(1052)
        );
        assert_eq!(
            r.require_sync("meta", "prepayment").unwrap_err().code(),
            Some(1051)
        );
        let r = MetaRef {
            href: "h".into(),
            entity: None,
            sync_id: None,
        };
        assert_eq!(r.require_sync("meta", "x").unwrap_err().code(), Some(1057));
    }

    #[test]
    fn moments() {
        assert!(is_moment("2016-09-06 21:41:46"));
        assert!(is_moment("2016-09-06 21:41:46.123"));
        assert!(!is_moment("2016-09-06T21:41:46"));
        assert!(!is_moment("2016-13-06 21:41:46"));
        assert!(!is_moment("2016-09-06 24:00:00"));
        assert!(!is_moment("2016-09-06 21:41"));
        assert!(!is_moment("2016-09-06 21:41:46.12"));
    }

    #[test]
    fn body_shapes() {
        assert_eq!(parse_object(b"").unwrap_err().code(), Some(1027));
        assert_eq!(parse_object(b"[1]").unwrap_err().code(), Some(2009));
        assert_eq!(parse_object(b"42").unwrap_err().code(), Some(2005));
        assert_eq!(parse_object(b"{\"a\":").unwrap_err().code(), Some(2001));
        assert!(parse_object(b"{}").is_ok());
    }

    proptest! {
        #[test]
        fn readers_never_panic(s in ".{0,64}") {
            let _ = is_moment(&s);
            let _ = parse_href(&s);
            let _ = parse_object(s.as_bytes());
        }
    }
}
