//! The ATOL Web-server envelopes: a request is a uuid and a list of tasks
//! (`POST /api/v2/requests`); its state is read back by uuid
//! (`GET /api/v2/requests/{uuid}`), one result per task.

use crate::task::Task;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Path of the request collection.
pub const REQUESTS_PATH: &str = "/api/v2/requests";

/// Body of `POST /api/v2/requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestBody {
    pub uuid: String,
    pub request: Vec<Task>,
}

/// Error part of an answer or of one task's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: i32,
    #[serde(default)]
    pub description: String,
}

/// Answer to `POST`: the server accepted (or refused) the request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostAnswer {
    #[serde(default)]
    pub uuid: Option<String>,
    /// Position of the request in the server's queue.
    #[serde(default)]
    pub number: Option<u32>,
    #[serde(default)]
    pub error: Option<ErrorBody>,
}

/// State of one task of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum TaskStatus {
    /// Queued, not started.
    Wait,
    /// Executing now.
    InProgress,
    /// Done; `result` holds the answer.
    Ready,
    /// Failed; `error` says why.
    Error,
    /// Not executed because an earlier task of the request failed.
    Interrupted,
    /// Waiting on the device (e.g. paper out) before it can go on.
    Blocked,
    /// Cancelled before it ran.
    Canceled,
    /// A state this client does not know; treated as still running.
    #[serde(other)]
    Unknown,
}

impl TaskStatus {
    /// True once the task will not change any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            TaskStatus::Ready | TaskStatus::Error | TaskStatus::Interrupted | TaskStatus::Canceled
        )
    }
}

/// One task's state and answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TaskResult {
    pub status: TaskStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub result: Option<Value>,
}

/// Answer to `GET /api/v2/requests/{uuid}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestState {
    #[serde(default)]
    pub results: Vec<TaskResult>,
}

impl RequestState {
    /// True once every task has a final state.
    pub fn is_done(&self) -> bool {
        !self.results.is_empty() && self.results.iter().all(|r| r.status.is_final())
    }
}
