//! Values a flow remembers per key across runs (`state NAME: T by KEY = VALUE`), and the
//! commit of what a record leaves behind at its end: its dedupe keys and its state
//! values go to the store in one transaction, so neither is ever kept without the other.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::sqlite::{timestamp, SqliteStore};
use super::StateError;

/// One value to remember: for the flow's state `name`, under `key`, as JSON text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateWrite {
    pub name: String,
    pub key: String,
    pub value: String,
}

/// The table of remembered values: one row per flow, state name and key, the latest
/// committed value only.
pub(super) const SCHEMA_V5: &str = "CREATE TABLE state_values (
    flow       TEXT NOT NULL,
    name       TEXT NOT NULL,
    key        TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (flow, name, key)
) WITHOUT ROWID;";

impl SqliteStore {
    pub(super) fn kv_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError> {
        let conn = self.read_lock();
        let mut stmt = conn
            .prepare_cached("SELECT value FROM state_values WHERE flow = ?1 AND name = ?2 AND key = ?3")
            .map_err(|e| self.db(e))?;
        stmt.query_row(params![flow, name, key], |r| r.get(0)).optional().map_err(|e| self.db(e))
    }

    /// Dedupe keys and state values of records that reached their end, in one transaction.
    pub(super) fn kv_commit(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        if keys.is_empty() && states.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            if !keys.is_empty() {
                // The purge rides along with each commit: the index makes it cheap, and a
                // flow that commits nothing has nothing new to purge.
                tx.execute(
                    "DELETE FROM dedupe_keys WHERE flow = ?1 AND expires_at <= ?2",
                    params![flow, timestamp(now)],
                )
                .map_err(|e| self.db(e))?;
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO dedupe_keys (flow, key, expires_at) VALUES (?1, ?2, ?3) \
                         ON CONFLICT (flow, key) DO UPDATE SET expires_at = \
                         CASE WHEN dedupe_keys.expires_at IS NULL OR excluded.expires_at IS NULL THEN NULL \
                         ELSE max(dedupe_keys.expires_at, excluded.expires_at) END",
                    )
                    .map_err(|e| self.db(e))?;
                for (key, expires) in keys {
                    stmt.execute(params![flow, key, expires.map(timestamp)]).map_err(|e| self.db(e))?;
                }
            }
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO state_values (flow, name, key, value, updated_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (flow, name, key) DO UPDATE SET value = excluded.value, \
                     updated_at = excluded.updated_at",
                )
                .map_err(|e| self.db(e))?;
            for w in states {
                stmt.execute(params![flow, w.name, w.key, w.value, timestamp(now)]).map_err(|e| self.db(e))?;
            }
            Ok(())
        })
    }
}

/// Deletes the remembered values whose key or value mentions `text` (ignoring case), for
/// an erasure: a state keyed by email, or remembering a customer, keeps personal data for
/// as long as the flow runs otherwise. The next record with such a key is a first sighting.
pub(super) fn erase_state_values(tx: &rusqlite::Transaction<'_>, text: &str) -> rusqlite::Result<usize> {
    tx.execute(
        "DELETE FROM state_values WHERE instr(lower(key), lower(?1)) > 0 OR instr(lower(value), lower(?1)) > 0",
        [text],
    )
}
