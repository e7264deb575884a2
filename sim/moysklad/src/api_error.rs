//! The POS API's error answer: an HTTP status plus a body `{"errors": [...]}`
//! where each item carries `error`, `code`, `parameter`, `line`, `column`
//! (seed lines 100–160). Every refusal the fake cloud makes goes through
//! [`ApiError`], so the agent always sees the same shape the real cloud sends.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

/// One element of the `errors` array.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorItem {
    /// Human-readable description (Russian, as the real API writes it).
    pub error: String,
    /// The API's error code (1xxx, 2xxx, 3xxx, 12xxx …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub code: Option<u32>,
    /// The request field or parameter the error is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// JSON line of a syntax error (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// JSON column of a syntax error (1-based).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<u64>,
}

/// The whole error body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub errors: Vec<ErrorItem>,
}

/// An error answer: status code plus the `errors[]` body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub item: ErrorItem,
}

impl ApiError {
    /// A plain error with a code and message.
    pub fn new(status: StatusCode, code: u32, error: impl Into<String>) -> Self {
        Self {
            status,
            item: ErrorItem {
                error: error.into(),
                code: Some(code),
                parameter: None,
                line: None,
                column: None,
            },
        }
    }

    /// Names the field the error is about.
    pub fn with_parameter(mut self, parameter: impl Into<String>) -> Self {
        self.item.parameter = Some(parameter.into());
        self
    }

    /// The error's code (for tests and logs).
    pub fn code(&self) -> Option<u32> {
        self.item.code
    }

    /// 412 / 3000: a required field is missing or empty.
    pub fn missing_field(param: &str) -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            3000,
            format!(
                "Ошибка сохранения объекта: поле '{param}' не может быть пустым или отсутствовать"
            ),
        )
        .with_parameter(param)
    }

    /// 400 / 2016: a field has the wrong JSON type.
    pub fn wrong_type(param: &str, expected: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            2016,
            format!("Ошибка формата: значение поля '{param}' не соответствует типу {expected}"),
        )
        .with_parameter(param)
    }

    /// 400 / 3002: a field must not be negative.
    pub fn negative(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            3002,
            format!(
                "Ошибка сохранения объекта: поле '{param}' не может иметь отрицательное значение"
            ),
        )
        .with_parameter(param)
    }

    /// 400 / 3003: a field must be greater than zero.
    pub fn not_positive(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            3003,
            format!("Ошибка сохранения объекта: поле '{param}' должно быть больше нуля"),
        )
        .with_parameter(param)
    }

    /// 400 / 3005: a value outside an enumeration.
    pub fn bad_enum(param: &str, value: &str, allowed: &[&str]) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            3005,
            format!(
                "Ошибка сохранения объекта: неверное значение '{value}' поля '{param}'. Допустимые значения: {}",
                allowed.join(", ")
            ),
        )
        .with_parameter(param)
    }

    /// 400 / 2025: a date-time not in `yyyy-MM-dd HH:mm:ss` form.
    pub fn bad_date(param: &str, value: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            2025,
            format!(
                "Ошибка формата: значение поля '{param}' ('{value}') не соответствует формату даты 'yyyy-MM-dd HH:mm:ss'"
            ),
        )
        .with_parameter(param)
    }

    /// 400 / 2014: a reference field without `meta`.
    pub fn missing_meta(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            2014,
            format!("Ошибка формата: отсутствует meta для поля '{param}'"),
        )
        .with_parameter(param)
    }

    /// 400 / 2010: a `meta` without `href`.
    pub fn missing_href(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            2010,
            format!("Ошибка формата: отсутствует href для meta поля '{param}'"),
        )
        .with_parameter(param)
    }

    /// 400 / 1057: a `meta` whose href carries no `/syncid/{id}`.
    pub fn missing_syncid(param: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            1057,
            "Отсутствует syncid для сущности",
        )
        .with_parameter(param)
    }

    /// 400 / 1052: a syncid that is not a UUID.
    pub fn bad_uuid(param: &str, value: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            1052,
            format!("Неверный формат UUID: '{value}'"),
        )
        .with_parameter(param)
    }

    /// 400 / 1051: the type in `meta` is not the resource's type.
    pub fn type_mismatch(param: &str, expected: &str, found: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            1051,
            format!("Тип '{found}' не совпадает с типом '{expected}' из meta"),
        )
        .with_parameter(param)
    }

    /// 404 / 1021: no object of that type and id.
    pub fn not_found(entity: &str, id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            1021,
            format!("Объект с типом '{entity}' и идентификатором '{id}' не найден"),
        )
    }

    /// 409 / 3007: the object exists but its state forbids the request.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            3007,
            format!(
                "Ошибка валидации сохраняемого объекта: '{}'",
                message.into()
            ),
        )
    }

    /// 404 / 1002: a path the API does not know.
    pub fn unknown_path(path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            1002,
            format!("Неопознанный путь: {path}"),
        )
    }

    /// 405 / 1039: a method the resource does not support.
    pub fn method_not_allowed(method: &str) -> Self {
        Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            1039,
            format!("Операция {method} не поддерживается для данного ресурса"),
        )
    }

    /// 401 / 1056: authentication failed. The message never repeats the
    /// credentials that were presented.
    pub fn unauthorized(reason: &str) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            1056,
            format!("Ошибка аутентификации: {reason}"),
        )
    }

    /// 413 / 1044: the request body is over 10 MB.
    pub fn too_large() -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            1044,
            "Превышен максимальный размер запроса",
        )
    }

    /// 429 / 1049: more than the allowed requests per interval.
    pub fn too_many_requests() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            1049,
            "Превышено ограничение на количество запросов в единицу времени",
        )
    }

    /// 429 / 1073: too many parallel requests.
    pub fn too_many_parallel() -> Self {
        Self::new(
            StatusCode::TOO_MANY_REQUESTS,
            1073,
            "Превышено ограничение на одновременное количество запросов",
        )
    }

    /// An injected 5xx: 1999 for 500, 1074 for 502/503, as the seed's table
    /// pairs them.
    pub fn injected_failure(status: StatusCode) -> Self {
        if status == StatusCode::INTERNAL_SERVER_ERROR {
            Self::new(status, 1999, "Неизвестная ошибка")
        } else {
            Self::new(
                status,
                1074,
                "Сервис временно недоступен, ведутся технические работы",
            )
        }
    }

    /// 400 for a body that is not a JSON object, with the parser's position.
    pub fn malformed_json(err: &serde_json::Error) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            2001,
            "Ошибка формата: входящий запрос не соответствует формату JSON",
        );
        e.item.line = Some(err.line() as u64);
        e.item.column = Some(err.column() as u64);
        e
    }

    /// The body that goes on the wire.
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            errors: vec![self.item.clone()],
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.status.as_u16(), self.item.error)?;
        if let Some(code) = self.item.code {
            write!(f, " (code {code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// The content type the real API answers with.
pub const JSON_UTF8: &str = "application/json;charset=utf-8";

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.body()).unwrap_or_else(|_| b"{\"errors\":[]}".to_vec());
        let mut resp = (self.status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_UTF8));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_the_seed_shape() {
        let e = ApiError::missing_field("retailShift");
        let v = serde_json::to_value(e.body()).unwrap();
        assert_eq!(v["errors"][0]["code"], 3000);
        assert_eq!(v["errors"][0]["parameter"], "retailShift");
        assert!(
            v["errors"][0]["error"]
                .as_str()
                .unwrap()
                .contains("retailShift")
        );
        assert!(v["errors"][0].get("line").is_none());
        assert_eq!(e.status, StatusCode::PRECONDITION_FAILED);
    }

    #[test]
    fn malformed_json_carries_position() {
        let err = serde_json::from_str::<serde_json::Value>("{\n  \"a\": ,}").unwrap_err();
        let e = ApiError::malformed_json(&err);
        assert_eq!(e.item.line, Some(2));
        assert!(e.item.column.unwrap() > 0);
    }
}
