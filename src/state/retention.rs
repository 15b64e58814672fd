//! Personal data kept no longer than needed: retention, erasure on request, and
//! finding what the state holds about one order or person.
//!
//! Holds, the webhook inbox and the delivery log keep customer payloads: names,
//! addresses, emails. A hold still held is the only copy of a record not yet delivered,
//! so nothing removes it silently; what has ended (a replayed or discarded hold, an inbox
//! request whose records ended) keeps only what an auditor asks about: reason, key,
//! status, outcome and times.

use serde::Serialize;

use super::Hold;

/// The message a purged hold keeps instead of its own.
pub const PURGED: &str = "payload removed after the retention period";
/// The outcome and message of an erased hold.
pub const ERASED: &str = "erased at the data subject's request";

/// What `purge` removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Purged {
    /// Holds whose payload was removed.
    pub holds: u64,
    /// Inbox requests deleted.
    pub inbox: u64,
    /// Delivery-log entries deleted.
    pub deliveries: u64,
}

/// What `erase` removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Erased {
    pub holds: u64,
    pub inbox: u64,
    /// Dedupe keys, delivery-log keys and remembered state values deleted.
    pub keys: u64,
}

/// Whether `hold` is about `key`: its blocking key, or its record, stage input or
/// message mentions it, ignoring case (an email is the same email in any case).
pub(super) fn mentions(hold: &Hold, key: &str) -> bool {
    let key = key.to_lowercase();
    hold.blocking_key.as_deref().is_some_and(|k| k.to_lowercase() == key)
        || [hold.record.as_str(), hold.stage_input.as_str(), hold.message.as_str()]
            .iter()
            .any(|t| t.to_lowercase().contains(&key))
}

/// Whether `hold`'s own record is about `key`: its blocking key, or its record mentions
/// it. Only such a hold is discarded by an erasure; one that mentions `key` only in its
/// stage input or message (a record held in a group or batch with the person's) keeps
/// its record, still to be delivered, and loses those two instead.
pub(super) fn about(hold: &Hold, key: &str) -> bool {
    let key = key.to_lowercase();
    hold.blocking_key.as_deref().is_some_and(|k| k.to_lowercase() == key)
        || hold.record.as_str().to_lowercase().contains(&key)
}

/// `purge` in one SQLite transaction; `before` as the store writes times.
pub(super) fn purge_sqlite(tx: &rusqlite::Transaction<'_>, before: &str) -> rusqlite::Result<Purged> {
    let holds = tx.execute(
        "UPDATE holds SET record = 'null', stage_input = 'null', message = ?2, record_id = NULL \
         WHERE status IN ('replayed', 'discarded') AND updated_at < ?1 AND record != 'null'",
        rusqlite::params![before, PURGED],
    )?;
    let inbox = tx.execute("DELETE FROM inbox WHERE status = 'done' AND received_at < ?1", [before])?;
    let deliveries = tx.execute("DELETE FROM deliveries WHERE delivered_at < ?1", [before])?;
    Ok(Purged { holds: holds as u64, inbox: inbox as u64, deliveries: deliveries as u64 })
}

/// `erase` in one SQLite transaction.
pub(super) fn erase_sqlite(tx: &rusqlite::Transaction<'_>, key: &str, now: &str) -> rusqlite::Result<Erased> {
    // Every expression of an UPDATE reads the row as it was, so `status` in the CASEs
    // is the status before the erasure.
    let holds = tx.execute(
        "UPDATE holds SET record = 'null', stage_input = 'null', message = ?2, blocking_key = NULL, \
         record_id = NULL, updated_at = ?3, \
         outcome = CASE status WHEN 'held' THEN ?2 ELSE outcome END, \
         status = CASE status WHEN 'held' THEN 'discarded' ELSE status END \
         WHERE lower(blocking_key) = lower(?1) OR instr(lower(record), lower(?1)) > 0",
        rusqlite::params![key, ERASED, now],
    )?;
    // Another person's record held with theirs keeps its record and status (see `about`).
    let beside = tx.execute(
        "UPDATE holds SET updated_at = ?3, \
         stage_input = CASE WHEN instr(lower(stage_input), lower(?1)) > 0 THEN 'null' ELSE stage_input END, \
         message = CASE WHEN instr(lower(message), lower(?1)) > 0 THEN ?2 ELSE message END \
         WHERE instr(lower(stage_input), lower(?1)) > 0 OR instr(lower(message), lower(?1)) > 0",
        rusqlite::params![key, ERASED, now],
    )?;
    let holds = holds + beside;
    let inbox = tx.execute(
        "UPDATE inbox SET body = X'', headers = '{}', status = 'done' \
         WHERE instr(lower(CAST(body AS TEXT)), lower(?1)) > 0",
        [key],
    )?;
    let dedupe = tx.execute("DELETE FROM dedupe_keys WHERE instr(lower(key), lower(?1)) > 0", [key])?;
    let deliveries = tx.execute("DELETE FROM deliveries WHERE instr(lower(key), lower(?1)) > 0", [key])?;
    let states = super::kv::erase_state_values(tx, key)?;
    Ok(Erased { holds: holds as u64, inbox: inbox as u64, keys: (dedupe + deliveries + states) as u64 })
}
