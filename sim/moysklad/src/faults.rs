//! Faults a test switches on at run time (through `/_control/faults` or the
//! handle): the next N matching requests fail with a status, answer slowly,
//! lose their connection, get malformed JSON, or (for poll) get one of the
//! empty-queue forms; an outage fails everything for a while. Pure: the
//! server asks [`FaultBook::take`] for each request.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

/// The forms an empty poll may take (the seed does not say which one the
/// real cloud uses; the agent must accept all).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum EmptyPollForm {
    /// 204 No Content.
    #[default]
    #[serde(rename = "204")]
    NoContent,
    /// 404 with an empty body.
    #[serde(rename = "404")]
    NotFound,
    /// 200 with an empty body.
    #[serde(rename = "empty")]
    EmptyBody,
    /// 200 with `{}`.
    #[serde(rename = "{}")]
    EmptyObject,
    /// 200 with `null`.
    #[serde(rename = "null")]
    Null,
}

/// What a fault does to a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with this status (500/502/503/504…) and a seed error body.
    /// A 429 this way carries no rate-limit headers at all.
    Status { status: u16 },
    /// Answer 429 (code 1049) with `X-Lognex-Retry-After: ms`, as the
    /// cloud's own limiter does.
    RateLimited { retry_after_ms: u64 },
    /// Wait `ms` before handling the request normally.
    Slow { ms: u64 },
    /// Close the connection without answering.
    Drop,
    /// Answer 200 with a truncated JSON body.
    MalformedJson,
    /// Answer a poll with this empty form even if the queue is not empty.
    EmptyPoll { form: EmptyPollForm },
    /// Answer 200 with valid JSON of the wrong shape.
    WrongShape,
    /// Answer an HTML error page (a proxy's) with this status.
    Html { status: u16 },
    /// Answer a redirect to `location` (never followed by the agent).
    Redirect { location: String },
    /// Handle the request, then close the connection instead of answering:
    /// an approve the cloud took whose answer never arrives.
    DropAfter,
    /// Every request fails with `status` (default 503) for `ms`.
    Outage {
        ms: u64,
        #[serde(default = "default_outage_status")]
        status: u16,
    },
}

fn default_outage_status() -> u16 {
    503
}

/// A fault as armed: what, how many times, on which paths.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    #[serde(flatten)]
    pub kind: FaultKind,
    /// How many matching requests it hits (default 1; ignored for outage).
    #[serde(default = "default_count")]
    pub count: u32,
    /// Only requests whose path contains this string (e.g. `master/approve`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

fn default_count() -> u32 {
    1
}

impl Fault {
    /// A fault hitting the next `count` requests on any path.
    pub fn new(kind: FaultKind, count: u32) -> Self {
        Self {
            kind,
            count,
            path: None,
        }
    }

    /// Restricts the fault to paths containing `path`.
    pub fn on_path(mut self, path: impl Into<String>) -> Self {
        self.path = Some(path.into());
        self
    }
}

/// What the server must do with one request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    Status(u16),
    RateLimited(Duration),
    Slow(Duration),
    Drop,
    MalformedJson,
    EmptyPoll(EmptyPollForm),
    WrongShape,
    Html(u16),
    Redirect(String),
    DropAfter,
}

/// The armed faults.
#[derive(Debug, Default)]
pub struct FaultBook {
    armed: Vec<Fault>,
    outage: Option<(Instant, u16)>,
}

impl FaultBook {
    /// Arms a fault (an outage starts now).
    pub fn arm(&mut self, fault: Fault, now: Instant) {
        if let FaultKind::Outage { ms, status } = fault.kind {
            self.outage = Some((now + Duration::from_millis(ms), status));
        } else if fault.count > 0 {
            self.armed.push(fault);
        }
    }

    /// Disarms everything.
    pub fn clear(&mut self) {
        self.armed.clear();
        self.outage = None;
    }

    /// The faults still armed.
    pub fn armed(&self) -> Vec<Fault> {
        self.armed.clone()
    }

    /// The fault for a request on `path` (poll or not), consuming one count.
    pub fn take(&mut self, path: &str, is_poll: bool, now: Instant) -> Option<Action> {
        if let Some((until, status)) = self.outage {
            if now < until {
                return Some(Action::Status(status));
            }
            self.outage = None;
        }
        let idx = self.armed.iter().position(|f| {
            f.path.as_deref().is_none_or(|p| path.contains(p))
                && (is_poll || !matches!(f.kind, FaultKind::EmptyPoll { .. }))
        })?;
        let fault = &mut self.armed[idx];
        let action = match &fault.kind {
            FaultKind::Status { status } => Action::Status(*status),
            FaultKind::RateLimited { retry_after_ms } => {
                Action::RateLimited(Duration::from_millis(*retry_after_ms))
            }
            FaultKind::Slow { ms } => Action::Slow(Duration::from_millis(*ms)),
            FaultKind::Drop => Action::Drop,
            FaultKind::MalformedJson => Action::MalformedJson,
            FaultKind::EmptyPoll { form } => Action::EmptyPoll(*form),
            FaultKind::WrongShape => Action::WrongShape,
            FaultKind::Html { status } => Action::Html(*status),
            FaultKind::Redirect { location } => Action::Redirect(location.clone()),
            FaultKind::DropAfter => Action::DropAfter,
            FaultKind::Outage { .. } => return None,
        };
        fault.count -= 1;
        if fault.count == 0 {
            self.armed.remove(idx);
        }
        Some(action)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_json_shapes() {
        let f: Fault = serde_json::from_str(r#"{"kind":"status","status":503,"count":2}"#).unwrap();
        assert_eq!(f, Fault::new(FaultKind::Status { status: 503 }, 2));
        let f: Fault = serde_json::from_str(r#"{"kind":"empty_poll","form":"{}"}"#).unwrap();
        assert_eq!(
            f.kind,
            FaultKind::EmptyPoll {
                form: EmptyPollForm::EmptyObject
            }
        );
        assert_eq!(f.count, 1);
        let f: Fault = serde_json::from_str(r#"{"kind":"outage","ms":100}"#).unwrap();
        assert_eq!(
            f.kind,
            FaultKind::Outage {
                ms: 100,
                status: 503
            }
        );
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"nope"}"#).is_err());
    }

    #[test]
    fn counts_paths_and_outage() {
        let mut b = FaultBook::default();
        let t = Instant::now();
        b.arm(
            Fault::new(FaultKind::Status { status: 502 }, 2).on_path("approve"),
            t,
        );
        b.arm(
            Fault::new(
                FaultKind::EmptyPoll {
                    form: EmptyPollForm::Null,
                },
                1,
            ),
            t,
        );
        assert_eq!(b.take("/state", false, t), None);
        assert_eq!(b.take("/x/approve", false, t), Some(Action::Status(502)));
        assert_eq!(
            b.take("/poll/o", true, t),
            Some(Action::EmptyPoll(EmptyPollForm::Null))
        );
        assert_eq!(b.take("/poll/o", true, t), None);
        assert_eq!(b.take("/x/approve", false, t), Some(Action::Status(502)));
        assert_eq!(b.take("/x/approve", false, t), None);
        b.arm(
            Fault::new(
                FaultKind::Outage {
                    ms: 1000,
                    status: 503,
                },
                1,
            ),
            t,
        );
        assert_eq!(
            b.take("/a", false, t + Duration::from_millis(999)),
            Some(Action::Status(503))
        );
        assert_eq!(b.take("/a", false, t + Duration::from_millis(1000)), None);
    }
}
