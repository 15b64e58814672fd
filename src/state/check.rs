//! Checking a state file: SQLite's own checks of the file, then flowgate's of what is in
//! it, and a consistent copy taken while a flow may be writing.

use std::path::Path;

use rusqlite::OpenFlags;

use super::sqlite::{RawHold, SqliteStore, HOLD_COLUMNS};
use super::StateError;

/// Most problems listed of one kind: a damaged file can have millions.
const MOST: usize = 20;

impl SqliteStore {
    /// SQLite's quick check of the file's structure. A run refuses to start on a state
    /// that fails it: it would be reading holds and keys it cannot trust.
    pub fn quick_check(&self) -> Result<(), StateError> {
        let problems = self.pragma_check("quick_check")?;
        if problems.is_empty() {
            Ok(())
        } else {
            Err(StateError::Damaged { path: self.path.clone(), problems })
        }
    }

    /// Every problem found: SQLite's full integrity check, then whether every hold,
    /// dedupe key, state value, cursor, delivery and inbox request is as this version writes it.
    /// Empty when the state is sound.
    pub fn check(&self) -> Result<Vec<String>, StateError> {
        let mut problems = self.pragma_check("integrity_check")?;
        if !problems.is_empty() {
            // The rows of a damaged file cannot be trusted to be read at all.
            return Ok(problems);
        }
        problems.extend(self.check_holds()?);
        let conn = self.lock();
        let mut rows = |what: &str, sql: &str| -> Result<(), StateError> {
            let mut stmt = conn.prepare(sql).map_err(|e| self.db(e))?;
            let found = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(|e| self.db(e))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| self.db(e))?;
            problems.extend(found.into_iter().take(MOST).map(|row| format!("{what}: {row}")));
            Ok(())
        };
        rows(
            "a dedupe key",
            "SELECT flow || ' ' || quote(key) || ' has expiry ' || quote(expires_at) FROM dedupe_keys \
             WHERE key = '' OR (expires_at IS NOT NULL AND julianday(expires_at) IS NULL)",
        )?;
        rows(
            "a cursor",
            "SELECT flow || '/' || source || ' was updated at ' || quote(updated_at) FROM cursors \
             WHERE julianday(updated_at) IS NULL",
        )?;
        rows(
            "a delivery",
            "SELECT flow || '/' || sink || ' ' || quote(key) || ': status ' || quote(status) || ' at ' || \
             quote(delivered_at) FROM deliveries \
             WHERE key = '' OR status NOT BETWEEN 100 AND 599 OR julianday(delivered_at) IS NULL",
        )?;
        rows(
            "a state value",
            "SELECT flow || '/' || name || ' ' || quote(key) || ': ' || quote(value) FROM state_values \
             WHERE json_valid(value) = 0 OR julianday(updated_at) IS NULL",
        )?;
        rows(
            "an inbox request",
            "SELECT 'inbox#' || id || ' (' || flow || '): status ' || quote(status) || ', received ' || \
             quote(received_at) FROM inbox \
             WHERE status NOT IN ('pending', 'done') OR julianday(received_at) IS NULL OR json_valid(headers) = 0",
        )?;
        Ok(problems)
    }

    /// Every hold read as a hold: status, times, numbers and JSON all as written.
    fn check_holds(&self) -> Result<Vec<String>, StateError> {
        let raws = {
            let conn = self.lock();
            let mut stmt =
                conn.prepare(&format!("SELECT {HOLD_COLUMNS} FROM holds ORDER BY id")).map_err(|e| self.db(e))?;
            let rows = stmt.query_map([], RawHold::from_row).map_err(|e| self.db(e))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db(e))?
        };
        let mut problems = Vec::new();
        for raw in raws {
            match self.to_hold(raw) {
                Ok(_) => {}
                Err(StateError::Corrupt { what, .. }) => problems.push(what),
                Err(e) => return Err(e),
            }
            if problems.len() >= MOST {
                break;
            }
        }
        Ok(problems)
    }

    fn pragma_check(&self, pragma: &str) -> Result<Vec<String>, StateError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!("PRAGMA {pragma}({MOST})")).map_err(|e| self.db(e))?;
        let lines = stmt
            .query_map([], |r| r.get::<_, String>(0))
            .map_err(|e| self.db(e))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| self.db(e))?;
        Ok(lines.into_iter().filter(|l| l != "ok").collect())
    }

    /// A consistent copy of the state at `to`, taken with SQLite's online backup while
    /// flows may go on writing. Refuses to overwrite a file.
    pub fn backup(&self, to: &Path) -> Result<(), StateError> {
        if to.exists() {
            return Err(StateError::Db {
                path: to.to_path_buf(),
                source: "a file is already there; a backup never overwrites one".into(),
            });
        }
        let dest = |e: rusqlite::Error| StateError::Db { path: to.to_path_buf(), source: Box::new(e) };
        let mut copy = rusqlite::Connection::open_with_flags(
            to,
            OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(dest)?;
        {
            let conn = self.lock();
            let backup = rusqlite::backup::Backup::new(&conn, &mut copy).map_err(dest)?;
            // Every page in one step: one read transaction, so the copy is one moment of
            // the state, and in WAL mode a running flow's commits never restart it.
            loop {
                match backup.step(-1).map_err(dest)? {
                    rusqlite::backup::StepResult::Done => break,
                    _ => std::thread::sleep(std::time::Duration::from_millis(50)),
                }
            }
        }
        // The copy stands alone: one file, no write-ahead log beside it.
        copy.pragma_update(None, "journal_mode", "DELETE").map_err(dest)?;
        Ok(())
    }
}
