//! What survives a power cut — the FN archive and counters, the cash
//! register, the clock offset, the programmed tables and the printed tape —
//! and its atomic storage: the state is written to `FILE.tmp`, fsynced,
//! renamed over `FILE`, and the directory fsynced after every command that
//! changed it (an FN commit above all), before the answer is sent. A reader
//! therefore sees either the state before the commit or after it, never
//! half of one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::tape::Tape;
use sim_fn::storage::FnStorage;

/// Persisted device state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistedState {
    /// Format version of this file.
    pub version: u32,
    pub fn_storage: FnStorage,
    /// Cash in the drawer, kopecks.
    pub cash: u64,
    /// Through-number of printed documents (fiscal and not), as 0x11 and
    /// 0x50/0x51 report it.
    pub doc_counter: u16,
    /// Clock offset from real time, seconds.
    pub clock_offset_secs: i64,
    /// Programmed table fields: "table:row:field" → raw value.
    pub tables: BTreeMap<String, Vec<u8>>,
    pub tape: Tape,
}

/// Current file format version.
pub const VERSION: u32 = 1;

/// Why the state file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read emulator state file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("emulator state file {path} is not valid: {source}")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error("emulator state file {path} has version {found}, expected {VERSION}")]
    Version { path: PathBuf, found: u32 },
    #[error("cannot write emulator state file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Loads the state, or `None` if the file does not exist.
pub fn load(path: &Path) -> Result<Option<PersistedState>, PersistError> {
    let bytes = match fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(PersistError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let state: PersistedState =
        serde_json::from_slice(&bytes).map_err(|source| PersistError::Parse {
            path: path.to_path_buf(),
            source,
        })?;
    if state.version != VERSION {
        return Err(PersistError::Version {
            path: path.to_path_buf(),
            found: state.version,
        });
    }
    Ok(Some(state))
}

/// Writes the state atomically (tmp + fsync + rename + directory fsync).
pub fn save(path: &Path, state: &PersistedState) -> Result<(), PersistError> {
    let err = |source| PersistError::Write {
        path: path.to_path_buf(),
        source,
    };
    let bytes = serde_json::to_vec(state).map_err(|e| err(std::io::Error::other(e)))?;
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let mut f = File::create(&tmp).map_err(err)?;
        f.write_all(&bytes).map_err(err)?;
        f.sync_all().map_err(err)?;
    }
    fs::rename(&tmp, path).map_err(err)?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    // Make the rename itself durable.
    File::open(dir).and_then(|d| d.sync_all()).map_err(err)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> PersistedState {
        PersistedState {
            version: VERSION,
            fn_storage: FnStorage::new("9999078900001234", "2026-01-01T10:00:00".parse().unwrap()),
            cash: 100,
            doc_counter: 3,
            clock_offset_secs: -5,
            tables: BTreeMap::from([("1:1:1".to_string(), vec![1, 2])]),
            tape: Tape::default(),
        }
    }

    #[test]
    fn round_trips_and_leaves_no_tmp_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        assert!(load(&p).unwrap().is_none());
        save(&p, &sample()).unwrap();
        assert_eq!(load(&p).unwrap(), Some(sample()));
        assert!(!dir.path().join("state.json.tmp").exists());
    }

    #[test]
    fn garbage_file_is_a_typed_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        fs::write(&p, b"{not json").unwrap();
        let e = load(&p).unwrap_err();
        assert!(matches!(e, PersistError::Parse { .. }));
        assert!(e.to_string().contains("state.json"), "{e}");
    }
}
