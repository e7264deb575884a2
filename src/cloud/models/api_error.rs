//! The cloud's error body: `{"errors": [{"error", "code", "moreInfo", …}]}`.

use serde::{Deserialize, Serialize};

/// One entry of `errors[]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiErrorEntry {
    /// Human-readable description.
    #[serde(default)]
    pub error: String,
    /// Error code; absent means "see the HTTP status".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub more_info: Option<String>,
    /// The parameter the error is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// JSON line of the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    /// JSON column of the error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<i64>,
}

/// The whole error body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiErrorBody {
    #[serde(default)]
    pub errors: Vec<ApiErrorEntry>,
}

impl ApiErrorBody {
    /// A body with one error.
    pub fn single(code: Option<i64>, error: impl Into<String>) -> ApiErrorBody {
        ApiErrorBody {
            errors: vec![ApiErrorEntry {
                error: error.into(),
                code,
                more_info: None,
                parameter: None,
                line: None,
                column: None,
            }],
        }
    }
}
