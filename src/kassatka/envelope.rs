//! The JSON envelope every Kassatka answer comes in:
//! `{"success": true, "response": {...}}`. Pure decoding of the envelope and
//! of the two payloads the API defines (a process key, a process status), and
//! extraction of the server's message from a failure.

use serde::Deserialize;
use serde_json::Value;

/// A decoded envelope.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Envelope {
    pub success: bool,
    #[serde(default)]
    pub response: Value,
    /// Some servers put the failure text next to `response`.
    #[serde(default)]
    pub message: Option<Value>,
    #[serde(default)]
    pub error: Option<Value>,
}

/// Status of an asynchronous process, as `GET /process/{key}` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessStatus {
    /// `status: "success"`: the result can be downloaded.
    Success,
    /// The process ended in an error; the server's text.
    Failed(String),
    /// Anything else (queued, processing, …): still running.
    Running(String),
}

/// Decodes an envelope; `Err` carries a short description of what is wrong.
pub fn decode(body: &[u8]) -> Result<Envelope, String> {
    serde_json::from_slice::<Envelope>(body)
        .map_err(|e| format!("not a Kassatka JSON envelope: {e}"))
}

impl Envelope {
    /// The server's explanation of a failure, as readable as it gets.
    pub fn message(&self) -> String {
        let from = |v: &Value| -> Option<String> {
            match v {
                Value::Null => None,
                Value::String(s) if s.trim().is_empty() => None,
                Value::String(s) => Some(s.clone()),
                Value::Object(map) => ["message", "error", "errors", "status"]
                    .iter()
                    .find_map(|k| {
                        map.get(*k).and_then(|m| match m {
                            Value::String(s) => Some(s.clone()),
                            Value::Null => None,
                            other => Some(other.to_string()),
                        })
                    })
                    .or_else(|| (!map.is_empty()).then(|| v.to_string())),
                other => Some(other.to_string()),
            }
        };
        from(&self.response)
            .or_else(|| self.message.as_ref().and_then(from))
            .or_else(|| self.error.as_ref().and_then(from))
            .unwrap_or_else(|| "no message".into())
    }

    /// `response.process_key`, if present and a non-empty string.
    pub fn process_key(&self) -> Option<&str> {
        self.response
            .get("process_key")
            .and_then(Value::as_str)
            .filter(|k| !k.trim().is_empty())
    }

    /// `response.status` read as a process status (`None` if absent).
    pub fn process_status(&self) -> Option<ProcessStatus> {
        let status = self.response.get("status")?.as_str()?.trim();
        Some(match status.to_ascii_lowercase().as_str() {
            "success" => ProcessStatus::Success,
            "error" | "failed" | "fail" | "failure" => {
                let detail = ["message", "error", "errors"]
                    .iter()
                    .find_map(|k| self.response.get(*k))
                    .map(|m| {
                        m.as_str()
                            .map(str::to_string)
                            .unwrap_or_else(|| m.to_string())
                    });
                ProcessStatus::Failed(detail.unwrap_or_else(|| status.to_string()))
            }
            _ => ProcessStatus::Running(status.to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_seed_answers() {
        let e = decode(br#"{"success":true,"response":{"process_key":"ef9eb390-6db2-4cc6-bf01-42fd92546570"}}"#).unwrap();
        assert_eq!(
            e.process_key(),
            Some("ef9eb390-6db2-4cc6-bf01-42fd92546570")
        );
        let e = decode(br#"{"success":true,"response":{"status":"success"}}"#).unwrap();
        assert_eq!(e.process_status(), Some(ProcessStatus::Success));
    }

    #[test]
    fn statuses_other_than_success_or_error_mean_running() {
        let e = decode(br#"{"success":true,"response":{"status":"in_progress"}}"#).unwrap();
        assert_eq!(
            e.process_status(),
            Some(ProcessStatus::Running("in_progress".into()))
        );
        let e = decode(br#"{"success":true,"response":{"status":"error","message":"bad file"}}"#)
            .unwrap();
        assert_eq!(
            e.process_status(),
            Some(ProcessStatus::Failed("bad file".into()))
        );
    }

    #[test]
    fn failure_messages_are_found_where_servers_put_them() {
        let m = |s: &str| decode(s.as_bytes()).unwrap().message();
        assert_eq!(
            m(r#"{"success":false,"response":"Неверный токен"}"#),
            "Неверный токен"
        );
        assert_eq!(
            m(r#"{"success":false,"response":{"message":"bad"}}"#),
            "bad"
        );
        assert_eq!(m(r#"{"success":false,"message":"top"}"#), "top");
        assert_eq!(m(r#"{"success":false}"#), "no message");
        assert!(decode(b"<html>").is_err());
    }
}
