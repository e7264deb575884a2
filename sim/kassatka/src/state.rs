//! The fake Kassatka's memory: the receipts store, the asynchronous
//! processes, the uploaded nomenclatures, the switchable faults and a log of
//! the requests it saw. Pure bookkeeping with an explicit clock, so the
//! process life cycle is unit-tested without a server; the HTTP layer
//! ([`super::routes`]) only translates requests into calls here.

use jiff::Timestamp;
use kassatka_format::documents::{KassatkaReceipt, documents_to_xml};
use kassatka_format::nomenclature::ProductsGroups;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// Faults the fake can be switched into, at start or while running.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    /// Processes created from now on end in `status: "error"` with this text.
    pub fail_processes: Option<String>,
    /// The next this many requests (any endpoint) get an nginx-style HTTP 502.
    pub server_errors: u32,
    /// Receipt downloads return a truncated, malformed XML body.
    pub malformed_xml: bool,
    /// "Still processing" comes with `success: false` (a server quirk the
    /// client must read as "running", not as a refusal).
    pub running_unsuccessful: bool,
}

/// How long a process takes: it is finished once *both* limits are passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessPace {
    /// Wall time from creation.
    pub duration: Duration,
    /// Number of `GET /process/{key}` polls answered "processing" first.
    pub polls: u32,
}

impl Default for ProcessPace {
    fn default() -> Self {
        ProcessPace {
            duration: Duration::from_millis(300),
            polls: 2,
        }
    }
}

/// A nomenclature file as it arrived in `POST /nomenclature`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NomenclatureUpload {
    /// The multipart field's text, verbatim.
    pub xml: String,
    /// What it parsed to, or why it did not.
    pub parsed: Result<ProductsGroups, String>,
}

/// One request the fake answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedRequest {
    pub method: String,
    /// Path below the API base, e.g. `/receipts`.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Whether the `api-token` header carried the right token.
    pub token_ok: bool,
}

/// What a process is doing.
#[derive(Debug, Clone)]
enum Work {
    Nomenclature { failure: Option<String> },
    Receipts { receipts: Vec<KassatkaReceipt> },
}

#[derive(Debug, Clone)]
struct Process {
    work: Work,
    created: Instant,
    polls: u32,
    /// Set when the process was created under [`Faults::fail_processes`].
    forced_failure: Option<String>,
}

/// What `GET /process/{key}` reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessView {
    Unknown,
    Running,
    Success,
    Failed(String),
}

/// What `GET /download/{key}` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DownloadView {
    Unknown,
    Running,
    Failed(String),
    /// The Documents XML of a receipts process.
    Xml(String),
    /// A finished nomenclature import has no file.
    NoFile,
}

/// The whole mutable state of one fake server.
#[derive(Debug)]
pub struct FakeState {
    pub pace: ProcessPace,
    pub faults: Faults,
    receipts: Vec<KassatkaReceipt>,
    processes: HashMap<String, Process>,
    uploads: Vec<NomenclatureUpload>,
    requests: Vec<RecordedRequest>,
}

impl FakeState {
    pub fn new(pace: ProcessPace, faults: Faults, receipts: Vec<KassatkaReceipt>) -> Self {
        FakeState {
            pace,
            faults,
            receipts,
            processes: HashMap::new(),
            uploads: Vec::new(),
            requests: Vec::new(),
        }
    }

    /// Replaces the receipts store.
    pub fn set_receipts(&mut self, receipts: Vec<KassatkaReceipt>) {
        self.receipts = receipts;
    }

    /// Adds receipts to the store.
    pub fn add_receipts(&mut self, receipts: impl IntoIterator<Item = KassatkaReceipt>) {
        self.receipts.extend(receipts);
    }

    pub fn receipts(&self) -> &[KassatkaReceipt] {
        &self.receipts
    }

    pub fn uploads(&self) -> &[NomenclatureUpload] {
        &self.uploads
    }

    pub fn requests(&self) -> &[RecordedRequest] {
        &self.requests
    }

    pub fn record(&mut self, request: RecordedRequest) {
        self.requests.push(request);
    }

    /// Consumes one pending server error, if any is switched on.
    pub fn take_server_error(&mut self) -> bool {
        if self.faults.server_errors == 0 {
            return false;
        }
        self.faults.server_errors -= 1;
        true
    }

    /// Starts a nomenclature import of `xml`; returns its key.
    pub fn start_nomenclature(&mut self, xml: String, now: Instant) -> String {
        let parsed = ProductsGroups::from_xml(xml.as_bytes()).map_err(|e| e.to_string());
        let failure = parsed.as_ref().err().cloned();
        self.uploads.push(NomenclatureUpload { xml, parsed });
        self.start(Work::Nomenclature { failure }, now)
    }

    /// Starts a receipts export of `[from, to]` (inclusive): the matching
    /// receipts are taken now, as a real export would snapshot them.
    pub fn start_receipts(&mut self, from: Timestamp, to: Timestamp, now: Instant) -> String {
        let receipts = self
            .receipts
            .iter()
            .filter(|r| r.head.date >= from && r.head.date <= to)
            .cloned()
            .collect();
        self.start(Work::Receipts { receipts }, now)
    }

    fn start(&mut self, work: Work, now: Instant) -> String {
        let key = uuid::Uuid::new_v4().to_string();
        self.processes.insert(
            key.clone(),
            Process {
                work,
                created: now,
                polls: 0,
                forced_failure: self.faults.fail_processes.clone(),
            },
        );
        key
    }

    /// `GET /process/{key}`: counts the poll and reports the status.
    pub fn poll(&mut self, key: &str, now: Instant) -> ProcessView {
        let pace = self.pace;
        let Some(process) = self.processes.get_mut(key) else {
            return ProcessView::Unknown;
        };
        let finished = process.is_finished(pace, now);
        process.polls = process.polls.saturating_add(1);
        if !finished {
            return ProcessView::Running;
        }
        match process.failure() {
            Some(message) => ProcessView::Failed(message),
            None => ProcessView::Success,
        }
    }

    /// `GET /download/{key}`.
    pub fn download(&self, key: &str, now: Instant) -> DownloadView {
        let Some(process) = self.processes.get(key) else {
            return DownloadView::Unknown;
        };
        if !process.is_finished(self.pace, now) {
            return DownloadView::Running;
        }
        if let Some(message) = process.failure() {
            return DownloadView::Failed(message);
        }
        match &process.work {
            Work::Nomenclature { .. } => DownloadView::NoFile,
            Work::Receipts { receipts } => {
                let xml = documents_to_xml(receipts);
                if self.faults.malformed_xml {
                    DownloadView::Xml(malformed(&xml))
                } else {
                    DownloadView::Xml(xml)
                }
            }
        }
    }
}

impl Process {
    fn is_finished(&self, pace: ProcessPace, now: Instant) -> bool {
        self.polls >= pace.polls && now.saturating_duration_since(self.created) >= pace.duration
    }

    fn failure(&self) -> Option<String> {
        if let Some(forced) = &self.forced_failure {
            return Some(forced.clone());
        }
        match &self.work {
            Work::Nomenclature { failure } => failure.clone(),
            Work::Receipts { .. } => None,
        }
    }
}

/// Cuts a body in the middle of an element, leaving it unclosed.
fn malformed(xml: &str) -> String {
    let cut = xml
        .char_indices()
        .map(|(i, _)| i)
        .take_while(|&i| i <= xml.len() * 2 / 3)
        .last()
        .unwrap_or(0);
    format!("{}<Head><DocSum>12", &xml[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;
    use kassatka_format::documents::parse_documents;

    fn seed() -> Vec<KassatkaReceipt> {
        parse_documents(include_bytes!(
            "../../../tests/fixtures/kassatka/documents.xml"
        ))
        .unwrap()
    }

    fn state(pace: ProcessPace) -> FakeState {
        FakeState::new(pace, Faults::default(), seed())
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_process_runs_until_both_time_and_polls_have_passed() {
        let pace = ProcessPace {
            duration: Duration::from_secs(10),
            polls: 2,
        };
        let mut s = state(pace);
        let t0 = Instant::now();
        let key = s.start_receipts(ts("2018-04-16T00:00:00Z"), ts("2018-04-17T00:00:00Z"), t0);
        assert_eq!(s.poll(&key, t0), ProcessView::Running);
        assert_eq!(
            s.download(&key, t0 + Duration::from_secs(11)),
            DownloadView::Running
        );
        assert_eq!(
            s.poll(&key, t0 + Duration::from_secs(1)),
            ProcessView::Running
        );
        // Two polls done, but only 5 s of 10 have passed.
        assert_eq!(
            s.poll(&key, t0 + Duration::from_secs(5)),
            ProcessView::Running
        );
        let later = t0 + Duration::from_secs(10);
        assert_eq!(s.poll(&key, later), ProcessView::Success);
        let DownloadView::Xml(xml) = s.download(&key, later) else {
            panic!("expected the XML");
        };
        assert_eq!(parse_documents(xml.as_bytes()).unwrap(), seed());
        assert_eq!(s.poll("nope", later), ProcessView::Unknown);
        assert_eq!(s.download("nope", later), DownloadView::Unknown);
    }

    #[test]
    fn receipts_are_filtered_by_period_inclusive() {
        let mut s = state(ProcessPace {
            duration: Duration::ZERO,
            polls: 0,
        });
        let now = Instant::now();
        // The second seed receipt is at 11:08:39, the third at 11:08:42.
        let key = s.start_receipts(ts("2018-04-16T11:08:39Z"), ts("2018-04-16T11:08:42Z"), now);
        let DownloadView::Xml(xml) = s.download(&key, now) else {
            panic!("expected the XML");
        };
        let nums: Vec<String> = parse_documents(xml.as_bytes())
            .unwrap()
            .into_iter()
            .map(|r| r.head.doc_num)
            .collect();
        assert_eq!(
            nums,
            ["5ad48437d849da0013494372", "5ad4843ad849da0012343343"]
        );
    }

    #[test]
    fn faults_fail_processes_break_xml_and_count_down_errors() {
        let mut s = state(ProcessPace {
            duration: Duration::ZERO,
            polls: 0,
        });
        let now = Instant::now();
        s.faults.server_errors = 2;
        assert!(s.take_server_error());
        assert!(s.take_server_error());
        assert!(!s.take_server_error());

        s.faults.malformed_xml = true;
        let all = (ts("2000-01-01T00:00:00Z"), ts("2100-01-01T00:00:00Z"));
        let key = s.start_receipts(all.0, all.1, now);
        let DownloadView::Xml(xml) = s.download(&key, now) else {
            panic!("expected the XML");
        };
        assert!(parse_documents(xml.as_bytes()).is_err());

        s.faults.fail_processes = Some("Ошибка выгрузки".into());
        let key = s.start_receipts(all.0, all.1, now);
        assert_eq!(
            s.poll(&key, now),
            ProcessView::Failed("Ошибка выгрузки".into())
        );
        assert_eq!(
            s.download(&key, now),
            DownloadView::Failed("Ошибка выгрузки".into())
        );
    }

    #[test]
    fn a_broken_nomenclature_fails_its_process_and_is_kept() {
        let mut s = state(ProcessPace {
            duration: Duration::ZERO,
            polls: 0,
        });
        let now = Instant::now();
        let key = s.start_nomenclature("<ProductsGroups>".into(), now);
        assert!(matches!(s.poll(&key, now), ProcessView::Failed(m) if m.contains("nomenclature")));
        let good = include_str!("../../../tests/fixtures/kassatka/nomenclature.xml");
        let key = s.start_nomenclature(good.into(), now);
        assert_eq!(s.poll(&key, now), ProcessView::Success);
        assert_eq!(s.download(&key, now), DownloadView::NoFile);
        assert_eq!(s.uploads().len(), 2);
        assert_eq!(s.uploads()[1].xml, good);
        assert_eq!(s.uploads()[1].parsed.as_ref().unwrap().product_count(), 11);
    }
}
