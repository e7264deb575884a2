//! What identifies an operation in the journal: the kassa it belongs to,
//! the cloud it came from, and that cloud's id for it (MoySklad's syncId is
//! the idempotency key: an id already journaled is never printed again).

use serde::{Deserialize, Serialize};

/// Which cloud an operation (and a kassa) talks to.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// MoySklad POS API master queue.
    #[default]
    Moysklad,
    /// Kassatka 1C integration API.
    Kassatka,
}

impl Source {
    /// Every source.
    pub const ALL: [Source; 2] = [Source::Moysklad, Source::Kassatka];

    /// The stored / configured spelling: `"moysklad"` or `"kassatka"`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Source::Moysklad => "moysklad",
            Source::Kassatka => "kassatka",
        }
    }

    /// Parses the stored / configured spelling.
    pub fn parse(text: &str) -> Option<Source> {
        Source::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The journal key of one operation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct OpKey {
    /// The configured kassa name.
    pub kassa: String,
    pub source: Source,
    /// The cloud's id of the operation (MoySklad syncId).
    pub op_id: String,
}

impl OpKey {
    pub fn new(kassa: impl Into<String>, source: Source, op_id: impl Into<String>) -> OpKey {
        OpKey {
            kassa: kassa.into(),
            source,
            op_id: op_id.into(),
        }
    }
}

impl std::fmt::Display for OpKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}/{}", self.kassa, self.source, self.op_id)
    }
}
