//! Download cursors: for a source that is downloaded in time windows
//! (Kassatka), the point up to which everything downloaded is in the
//! journal. A restart resumes from there instead of from the start of the
//! day, so receipts made while the daemon was down, or downloaded but not
//! yet journaled when it stopped, are fetched again. A cursor only moves
//! forward.

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::error::JournalError;
use super::store::{Journal, now_ms, timestamp};

impl Journal {
    /// The kassa's download cursor, if one was ever saved.
    pub fn download_cursor(&self, kassa: &str) -> Result<Option<Timestamp>, JournalError> {
        self.read(|conn| {
            let until = conn
                .query_row(
                    "SELECT until FROM download_cursors WHERE kassa = ?1",
                    params![kassa],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?;
            until.map(timestamp).transpose()
        })
    }

    /// Moves the kassa's download cursor to `until` (never back).
    pub fn advance_download_cursor(
        &self,
        kassa: &str,
        until: Timestamp,
    ) -> Result<(), JournalError> {
        self.write(|tx| {
            tx.prepare_cached(
                "INSERT INTO download_cursors (kassa, until, at) VALUES (?1, ?2, ?3)
                 ON CONFLICT (kassa) DO UPDATE SET until = MAX(until, excluded.until),
                                                   at = excluded.at",
            )?
            .execute(params![kassa, until.as_millisecond(), now_ms()])?;
            Ok(())
        })
    }
}
