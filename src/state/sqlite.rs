//! `SqliteStore`: the state store in one SQLite file (`.flowgate/state.db` by default).
//! It owns the schema and its migrations (`PRAGMA user_version`), not the policy of
//! what is stored when.
//!
//! Durability: WAL journal with `synchronous = FULL`. In WAL mode `NORMAL` survives a
//! crash of the process but may lose the last commits on a power cut; a hold is the
//! only copy of a record the flow has already taken from its source (a cursor moved, a
//! webhook answered 200), so a commit here is fsynced before the write returns. Writes
//! are batched by the runtime (up to 64 holds a transaction, and the HTTP sink's delivery
//! log entries as they come, `record_deliveries`), so the cost is small.
//!
//! Timestamps are TEXT in RFC 3339, UTC, with nine fraction digits, so they sort as
//! text and read well in `sqlite3`. JSON columns are TEXT.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::types::Value as SqlValue;
use rusqlite::{params, params_from_iter, Connection, OpenFlags, OptionalExtension, Transaction, TransactionBehavior};

use super::{
    record_identity, Hold, HoldCount, HoldFilter, HoldId, HoldStatus, InboxItem, JsonText, NewHold, StateError,
    StateStore, StateWrite,
};

/// How long a write waits for another process (a running flow, `flowgate holds`)
/// to finish its transaction before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Each entry takes the schema from version `i` to `i + 1`. Append; never edit one
/// that has shipped.
const MIGRATIONS: &[&str] = &[SCHEMA_V1, SCHEMA_V2, SCHEMA_V3, SCHEMA_V4, super::kv::SCHEMA_V5];

/// The batch a hold's record was held with: a replay takes the batch's held records
/// together and sends them as that batch again, never a part of it.
const SCHEMA_V4: &str = "ALTER TABLE holds ADD COLUMN batch TEXT;";

/// A hold's record identity (`record_identity`), to end it when a later run takes the
/// same record to its end. Filled for holds stored before this version when the store
/// is opened (`fill_identities`).
const SCHEMA_V3: &str = "ALTER TABLE holds ADD COLUMN record_id TEXT;
CREATE INDEX holds_by_record ON holds (flow, record_id) WHERE status = 'held';";

/// Finding a record's open hold by where it came from (holds are idempotent per record).
const SCHEMA_V2: &str = "CREATE INDEX holds_by_source ON holds (flow, source_ref, status);";

const SCHEMA_V1: &str = "
CREATE TABLE holds (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    flow         TEXT    NOT NULL,
    flow_version TEXT    NOT NULL,
    stage        TEXT    NOT NULL,
    stage_line   INTEGER NOT NULL,
    reason       TEXT    NOT NULL,
    message      TEXT    NOT NULL,
    blocking_key TEXT,
    attempts     INTEGER NOT NULL,
    source_ref   TEXT,
    created_at   TEXT    NOT NULL,
    record       TEXT    NOT NULL,
    stage_input  TEXT    NOT NULL,
    status       TEXT    NOT NULL DEFAULT 'held' CHECK (status IN ('held', 'replayed', 'discarded')),
    outcome      TEXT,
    updated_at   TEXT    NOT NULL
);
CREATE INDEX holds_by_status ON holds (status, flow, reason);
CREATE INDEX holds_by_key ON holds (blocking_key);

CREATE TABLE dedupe_keys (
    flow       TEXT NOT NULL,
    key        TEXT NOT NULL,
    expires_at TEXT,
    PRIMARY KEY (flow, key)
) WITHOUT ROWID;
CREATE INDEX dedupe_keys_by_expiry ON dedupe_keys (flow, expires_at);

CREATE TABLE cursors (
    flow       TEXT NOT NULL,
    source     TEXT NOT NULL,
    value      TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (flow, source)
) WITHOUT ROWID;

CREATE TABLE deliveries (
    flow         TEXT    NOT NULL,
    sink         TEXT    NOT NULL,
    key          TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    delivered_at TEXT    NOT NULL,
    PRIMARY KEY (flow, sink, key)
) WITHOUT ROWID;

-- Reserved for webhook sources: a request is stored here before it is answered.
CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    flow        TEXT NOT NULL,
    received_at TEXT NOT NULL,
    headers     TEXT NOT NULL,
    body        BLOB NOT NULL,
    dedupe_key  TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',
    UNIQUE (flow, dedupe_key)
);
CREATE INDEX inbox_by_status ON inbox (flow, status, id);
";

pub(super) const HOLD_COLUMNS: &str =
    "id, status, flow, flow_version, stage, stage_line, reason, message, blocking_key, \
     attempts, source_ref, created_at, updated_at, outcome, record, stage_input, batch";

/// Creates `path` readable and writable by its owner only (0600) when it does not
/// exist: the state keeps whole orders, customers' addresses included, and who holds it.
/// Whether it created the file.
fn create_private(path: &Path) -> std::io::Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// The state store in a SQLite file. One connection for writes, behind a mutex: calls
/// from many threads take turns; other processes wait up to the busy timeout. In WAL
/// mode the checks made for every record (`delivered`, `dedupe_seen`) have a connection
/// of their own, so they never wait behind a commit's fsync.
#[derive(Debug)]
pub struct SqliteStore {
    pub(super) path: PathBuf,
    pub(super) conn: Mutex<Connection>,
    reader: Option<Mutex<Connection>>,
}

impl SqliteStore {
    /// Opens the database at `path`, creating it (and its directory) when missing,
    /// and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StateError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir)
                .map_err(|source| StateError::CreateDir { path: path.to_path_buf(), source })?;
        }
        Self::connect(path, OpenFlags::SQLITE_OPEN_CREATE)
    }

    /// A new, empty database in memory: what a dry run reads when there is no state
    /// yet, so it runs as a first real run would and leaves no file behind.
    pub fn in_memory() -> Result<SqliteStore, StateError> {
        Self::open_file(Path::new(":memory:"), OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_MEMORY)
    }

    /// Opens an existing database; `StateError::Missing` when there is none. For
    /// commands that only read or change existing holds and must not leave an empty
    /// database behind.
    pub fn open_existing(path: impl AsRef<Path>) -> Result<SqliteStore, StateError> {
        let path = path.as_ref();
        if !path.exists() {
            return Err(StateError::Missing { path: path.to_path_buf() });
        }
        Self::connect(path, OpenFlags::empty())
    }

    /// The file this store writes.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn connect(path: &Path, extra: OpenFlags) -> Result<SqliteStore, StateError> {
        // SQLite takes an empty file for a new database and would write a schema into it:
        // an empty file where state should be is a state that was lost, not a new one.
        if std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() == 0) {
            return Err(StateError::Foreign { path: path.to_path_buf(), why: "the file is empty".into() });
        }
        if extra.contains(OpenFlags::SQLITE_OPEN_CREATE)
            && create_private(path).map_err(|e| StateError::Db { path: path.to_path_buf(), source: Box::new(e) })?
        {
            // SQLite creates the -wal and -shm files with the mode of the database. Should
            // the new file not become a database, it goes: an empty file is refused.
            let made = Self::open_file(path, extra);
            if made.is_err() && std::fs::metadata(path).is_ok_and(|m| m.len() == 0) {
                let _ = std::fs::remove_file(path);
            }
            return made;
        }
        Self::open_file(path, extra)
    }

    fn open_file(path: &Path, extra: OpenFlags) -> Result<SqliteStore, StateError> {
        let db = |e: rusqlite::Error| db_error(path, e);
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX | extra;
        let mut conn = Connection::open_with_flags(path, flags).map_err(db)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
        // WAL lets readers (`flowgate holds list`) work while a flow writes. Where the
        // file system cannot do WAL, SQLite keeps its rollback journal, which is as safe.
        let mode: String = conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get(0)).map_err(db)?;
        conn.pragma_update(None, "synchronous", "FULL").map_err(db)?;
        migrate(&mut conn, path)?;
        fill_identities(&mut conn, path)?;
        // Without WAL a reader waits for the writer anyway: one connection does.
        let reader = if mode.eq_ignore_ascii_case("wal") {
            let r =
                Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX)
                    .map_err(db)?;
            r.busy_timeout(BUSY_TIMEOUT).map_err(db)?;
            r.pragma_update(None, "query_only", true).map_err(db)?;
            Some(Mutex::new(r))
        } else {
            None
        };
        Ok(SqliteStore { path: path.to_path_buf(), conn: Mutex::new(conn), reader })
    }

    /// A panic while the lock was held rolled its transaction back as it unwound, so
    /// the connection is still usable.
    pub(super) fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The connection for single-row checks. Each statement is its own read transaction,
    /// so it sees every commit made before it started, on either connection.
    pub(super) fn read_lock(&self) -> MutexGuard<'_, Connection> {
        match &self.reader {
            Some(r) => r.lock().unwrap_or_else(|e| e.into_inner()),
            None => self.lock(),
        }
    }

    pub(super) fn db(&self, e: rusqlite::Error) -> StateError {
        db_error(&self.path, e)
    }

    fn corrupt(&self, what: String) -> StateError {
        StateError::Corrupt { path: self.path.clone(), what }
    }

    /// Runs `f` in one write transaction (taken at once, so two writers never
    /// deadlock upgrading a read lock) and commits it.
    pub(super) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T, StateError>) -> Result<T, StateError> {
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(|e| self.db(e))?;
        let out = f(&tx)?;
        tx.commit().map_err(|e| self.db(e))?;
        Ok(out)
    }

    /// Applies `update` (with `?1` = id) to hold `id` if it is still held.
    fn change_held(&self, id: HoldId, update: &str, text: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.write(|tx| {
            let status: Option<String> = tx
                .query_row("SELECT status FROM holds WHERE id = ?1", [id], |r| r.get(0))
                .optional()
                .map_err(|e| self.db(e))?;
            let status = status.ok_or_else(|| StateError::NoSuchHold { path: self.path.clone(), id })?;
            let status = self.status(id, &status)?;
            if status != HoldStatus::Held {
                return Err(StateError::NotHeld { path: self.path.clone(), id, status });
            }
            tx.execute(update, params![id, text, timestamp(now)]).map_err(|e| self.db(e))?;
            Ok(())
        })
    }

    fn status(&self, id: HoldId, s: &str) -> Result<HoldStatus, StateError> {
        s.parse().map_err(|e| self.corrupt(format!("hold {id}: {e}")))
    }

    pub(super) fn time(&self, what: &str, s: &str) -> Result<DateTime<Utc>, StateError> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.corrupt(format!("{what}: `{s}` is not an RFC 3339 time: {e}")))
    }

    fn json(&self, what: &str, s: String) -> Result<JsonText, StateError> {
        JsonText::parse(s).map_err(|e| self.corrupt(format!("{what} is not JSON: {e}")))
    }

    fn small(&self, what: &str, n: i64) -> Result<u32, StateError> {
        u32::try_from(n).map_err(|_| self.corrupt(format!("{what} is {n}, out of range")))
    }

    pub(super) fn to_hold(&self, raw: RawHold) -> Result<Hold, StateError> {
        let id = raw.id;
        Ok(Hold {
            id,
            status: self.status(id, &raw.status)?,
            flow: raw.flow,
            flow_version: raw.flow_version,
            stage: raw.stage,
            stage_line: self.small(&format!("hold {id}: stage_line"), raw.stage_line)?,
            reason: raw.reason,
            message: raw.message,
            blocking_key: raw.blocking_key,
            attempts: self.small(&format!("hold {id}: attempts"), raw.attempts)?,
            source_ref: raw.source_ref,
            created_at: self.time(&format!("hold {id}: created_at"), &raw.created_at)?,
            updated_at: self.time(&format!("hold {id}: updated_at"), &raw.updated_at)?,
            outcome: raw.outcome,
            record: self.json(&format!("hold {id}: record"), raw.record)?,
            stage_input: self.json(&format!("hold {id}: stage_input"), raw.stage_input)?,
            batch: raw.batch,
        })
    }

    fn query_holds(&self, sql: &str, params: Vec<SqlValue>) -> Result<Vec<Hold>, StateError> {
        let raws = {
            let conn = self.lock();
            let mut stmt = conn.prepare_cached(sql).map_err(|e| self.db(e))?;
            let rows = stmt.query_map(params_from_iter(params), RawHold::from_row).map_err(|e| self.db(e))?;
            rows.collect::<Result<Vec<_>, _>>().map_err(|e| self.db(e))?
        };
        raws.into_iter().map(|raw| self.to_hold(raw)).collect()
    }
}

/// Brings the schema to the newest version this build knows, in one transaction.
/// Refuses a database from a newer build rather than guess at its tables.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let db = |e: rusqlite::Error| db_error(path, e);
    let known = MIGRATIONS.len() as i64;
    let version = |c: &Connection| c.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0));
    let found = version(conn).map_err(db)?;
    if found == known {
        return Ok(());
    }
    if found > known {
        return Err(StateError::TooNew { path: path.to_path_buf(), found, known });
    }
    if found == 0 {
        // A new database has no tables yet; one with tables of its own is another
        // program's, and adding flowgate's tables to it would hide the mistake.
        let tables: i64 = conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0)).map_err(db)?;
        if tables > 0 {
            return Err(StateError::Foreign {
                path: path.to_path_buf(),
                why: format!("a SQLite database with {tables} tables or indexes of another program"),
            });
        }
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    // Another process may have migrated while this one waited for the lock.
    let found = version(&tx).map_err(db)?;
    if found > known {
        return Err(StateError::TooNew { path: path.to_path_buf(), found, known });
    }
    for sql in MIGRATIONS.iter().skip(usize::try_from(found).unwrap_or(0)) {
        tx.execute_batch(sql).map_err(db)?;
    }
    tx.pragma_update(None, "user_version", known).map_err(db)?;
    tx.commit().map_err(db)
}

/// Gives holds stored before record identities existed theirs, once.
fn fill_identities(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    let db = |e: rusqlite::Error| db_error(path, e);
    let missing: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM holds WHERE record_id IS NULL)", [], |r| r.get(0)).map_err(db)?;
    if !missing {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
    {
        let mut read =
            tx.prepare("SELECT id, record FROM holds WHERE record_id IS NULL AND status = 'held'").map_err(db)?;
        let rows = read
            .query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?)))
            .map_err(db)?
            .collect::<Result<Vec<_>, _>>()
            .map_err(db)?;
        let mut write = tx.prepare("UPDATE holds SET record_id = ?2 WHERE id = ?1").map_err(db)?;
        for (id, record) in rows {
            write.execute(params![id, record_identity(&record)]).map_err(db)?;
        }
    }
    tx.commit().map_err(db)
}

/// What a database error means for the operator: a damaged file is named as such.
fn db_error(path: &Path, e: rusqlite::Error) -> StateError {
    if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseCorrupt) {
        return StateError::Damaged { path: path.to_path_buf(), problems: vec![e.to_string()] };
    }
    StateError::Db { path: path.to_path_buf(), source: Box::new(e) }
}

/// A time as stored: RFC 3339, UTC, nine fraction digits (fixed width, sorts as text).
pub(super) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// The WHERE clause (empty or starting with " WHERE") and its parameters.
fn filter_sql(filter: &HoldFilter) -> (String, Vec<SqlValue>) {
    let mut terms = Vec::new();
    let mut params = Vec::new();
    if let Some(flow) = &filter.flow {
        terms.push("flow = ?");
        params.push(SqlValue::Text(flow.clone()));
    }
    if let Some(reason) = &filter.reason {
        terms.push("reason = ?");
        params.push(SqlValue::Text(reason.clone()));
    }
    if let Some(status) = filter.status {
        terms.push("status = ?");
        params.push(SqlValue::Text(status.as_str().to_string()));
    }
    if let Some(key) = &filter.mentions {
        terms.push(
            "(lower(blocking_key) = lower(?) OR instr(lower(record), lower(?)) > 0 \
             OR instr(lower(stage_input), lower(?)) > 0 OR instr(lower(message), lower(?)) > 0)",
        );
        params.extend(std::iter::repeat_n(SqlValue::Text(key.clone()), 4));
    }
    if let Some(ids) = &filter.ids {
        // One parameter however many ids: no limit on the number of variables.
        terms.push("id IN (SELECT value FROM json_each(?))");
        let list = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        params.push(SqlValue::Text(format!("[{list}]")));
    }
    let clause = if terms.is_empty() { String::new() } else { format!(" WHERE {}", terms.join(" AND ")) };
    (clause, params)
}

/// A `holds` row as SQLite gives it, before it is checked.
pub(super) struct RawHold {
    id: i64,
    status: String,
    flow: String,
    flow_version: String,
    stage: String,
    stage_line: i64,
    reason: String,
    message: String,
    blocking_key: Option<String>,
    attempts: i64,
    source_ref: Option<String>,
    created_at: String,
    updated_at: String,
    outcome: Option<String>,
    record: String,
    stage_input: String,
    batch: Option<String>,
}

impl RawHold {
    /// Reads the columns in `HOLD_COLUMNS` order.
    pub(super) fn from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawHold> {
        Ok(RawHold {
            id: r.get(0)?,
            status: r.get(1)?,
            flow: r.get(2)?,
            flow_version: r.get(3)?,
            stage: r.get(4)?,
            stage_line: r.get(5)?,
            reason: r.get(6)?,
            message: r.get(7)?,
            blocking_key: r.get(8)?,
            attempts: r.get(9)?,
            source_ref: r.get(10)?,
            created_at: r.get(11)?,
            updated_at: r.get(12)?,
            outcome: r.get(13)?,
            record: r.get(14)?,
            stage_input: r.get(15)?,
            batch: r.get(16)?,
        })
    }
}

impl StateStore for SqliteStore {
    fn lease(&self, holder: &super::LeaseHolder) -> Result<super::Lease, StateError> {
        let lock = super::lease::lock_path(&self.path);
        create_private(&lock).map_err(|e| StateError::Db { path: lock, source: Box::new(e) })?;

        super::Lease::of_file(&self.path, holder)
    }

    fn purge(&self, before: DateTime<Utc>) -> Result<super::Purged, StateError> {
        self.write(|tx| super::retention::purge_sqlite(tx, &timestamp(before)).map_err(|e| self.db(e)))
    }

    fn erase(&self, key: &str, now: DateTime<Utc>) -> Result<super::Erased, StateError> {
        self.write(|tx| super::retention::erase_sqlite(tx, key, &timestamp(now)).map_err(|e| self.db(e)))
    }

    fn has_open_holds(&self, flow: &str) -> Result<bool, StateError> {
        let conn = self.read_lock();
        conn.query_row("SELECT EXISTS (SELECT 1 FROM holds WHERE status = 'held' AND flow = ?1)", [flow], |r| r.get(0))
            .map_err(|e| self.db(e))
    }

    fn end_holds(&self, flow: &str, ended: &[(String, String)], now: DateTime<Utc>) -> Result<u64, StateError> {
        if ended.is_empty() {
            return Ok(0);
        }
        self.write(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "UPDATE holds SET status = 'replayed', outcome = ?3, updated_at = ?4 \
                     WHERE flow = ?1 AND record_id = ?2 AND status = 'held'",
                )
                .map_err(|e| self.db(e))?;
            let mut n = 0;
            for (id, outcome) in ended {
                n += stmt.execute(params![flow, id, outcome, timestamp(now)]).map_err(|e| self.db(e))? as u64;
            }
            Ok(n)
        })
    }

    fn add_holds(&self, holds: Vec<NewHold>) -> Result<Vec<HoldId>, StateError> {
        if holds.is_empty() {
            return Ok(Vec::new());
        }
        self.write(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO holds (flow, flow_version, stage, stage_line, reason, message, blocking_key, \
                     attempts, source_ref, created_at, record, stage_input, status, updated_at, record_id, batch) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, 'held', ?10, ?13, ?14)",
                )
                .map_err(|e| self.db(e))?;
            let mut open = tx
                .prepare_cached("SELECT id FROM holds WHERE flow = ?1 AND source_ref = ?2 AND status = 'held' LIMIT 1")
                .map_err(|e| self.db(e))?;
            let mut same = tx
                .prepare_cached("SELECT id FROM holds WHERE flow = ?1 AND record_id = ?2 AND status = 'held' LIMIT 1")
                .map_err(|e| self.db(e))?;
            let mut ids = Vec::with_capacity(holds.len());
            for h in holds {
                // A record already held (the same flow, from the same place, or the same
                // record) is not held twice: a run restarted after a crash reads its input
                // again, and a poll fetches the same record again.
                let record_id = record_identity(h.record.as_str());
                let mut existing: Option<HoldId> = None;
                if let Some(source) = &h.source_ref {
                    existing =
                        open.query_row(params![h.flow, source], |r| r.get(0)).optional().map_err(|e| self.db(e))?;
                }
                if existing.is_none() && super::identity::names_a_record(h.record.as_str()) {
                    existing =
                        same.query_row(params![h.flow, record_id], |r| r.get(0)).optional().map_err(|e| self.db(e))?;
                }
                if let Some(id) = existing {
                    ids.push(id);
                    continue;
                }
                let (record, input) = (h.record.as_str(), h.stage_input.as_str());
                let id = stmt
                    .insert(params![
                        h.flow,
                        h.flow_version,
                        h.stage,
                        h.stage_line,
                        h.reason,
                        h.message,
                        h.blocking_key,
                        h.attempts,
                        h.source_ref,
                        timestamp(h.created_at),
                        record,
                        input,
                        record_id,
                        h.batch,
                    ])
                    .map_err(|e| self.db(e))?;
                ids.push(id);
            }
            Ok(ids)
        })
    }

    fn inbox_add(
        &self,
        flow: &str,
        dedupe_key: Option<&str>,
        headers: &serde_json::Value,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        self.write(|tx| {
            let n = tx
                .execute(
                    "INSERT OR IGNORE INTO inbox (flow, received_at, headers, body, dedupe_key) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![flow, timestamp(now), headers.to_string(), body, dedupe_key],
                )
                .map_err(|e| self.db(e))?;
            Ok(n == 1)
        })
    }

    fn inbox_add_many(&self, requests: &[super::NewRequest<'_>], now: DateTime<Utc>) -> Result<Vec<bool>, StateError> {
        self.write(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT OR IGNORE INTO inbox (flow, received_at, headers, body, dedupe_key) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(|e| self.db(e))?;
            let at = timestamp(now);
            let mut stored = Vec::with_capacity(requests.len());
            for r in requests {
                let n = stmt
                    .execute(params![r.flow, at, r.headers.to_string(), r.body, r.dedupe_key])
                    .map_err(|e| self.db(e))?;
                stored.push(n == 1);
            }
            Ok(stored)
        })
    }

    fn inbox_pending(&self, flow: &str, after_id: i64, limit: usize) -> Result<Vec<InboxItem>, StateError> {
        let conn = self.lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT id, headers, body FROM inbox WHERE flow = ?1 AND status = 'pending' AND id > ?2 ORDER BY id LIMIT ?3",
            )
            .map_err(|e| self.db(e))?;
        let rows = stmt
            .query_map(params![flow, after_id, i64::try_from(limit).unwrap_or(i64::MAX)], |r| {
                Ok((r.get::<_, i64>(0)?, r.get::<_, String>(1)?, r.get::<_, Vec<u8>>(2)?))
            })
            .map_err(|e| self.db(e))?;
        let mut out = Vec::new();
        for row in rows {
            let (id, headers, body) = row.map_err(|e| self.db(e))?;
            let headers = serde_json::from_str(&headers).map_err(|e| self.corrupt(format!("inbox headers: {e}")))?;
            out.push(InboxItem { id, headers, body });
        }
        Ok(out)
    }

    fn inbox_done(&self, flow: &str, ids: &[i64]) -> Result<(), StateError> {
        if ids.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut stmt = tx
                .prepare_cached("UPDATE inbox SET status = 'done' WHERE flow = ?1 AND id = ?2")
                .map_err(|e| self.db(e))?;
            for id in ids {
                stmt.execute(params![flow, id]).map_err(|e| self.db(e))?;
            }
            Ok(())
        })
    }

    fn hold(&self, id: HoldId) -> Result<Option<Hold>, StateError> {
        let sql = format!("SELECT {HOLD_COLUMNS} FROM holds WHERE id = ?");
        Ok(self.query_holds(&sql, vec![SqlValue::Integer(id)])?.pop())
    }

    fn holds(&self, filter: &HoldFilter) -> Result<Vec<Hold>, StateError> {
        let (clause, params) = filter_sql(filter);
        self.query_holds(&format!("SELECT {HOLD_COLUMNS} FROM holds{clause} ORDER BY id"), params)
    }

    fn hold_summary(&self, filter: &HoldFilter) -> Result<Vec<HoldCount>, StateError> {
        let (clause, params) = filter_sql(filter);
        let sql = format!(
            "SELECT flow, reason, status, COUNT(*), MIN(created_at), MAX(created_at) FROM holds{clause} \
             GROUP BY flow, reason, status \
             ORDER BY flow, reason, CASE status WHEN 'held' THEN 0 WHEN 'replayed' THEN 1 ELSE 2 END"
        );
        type Row = (String, String, String, i64, String, String);
        let rows: Vec<Row> = {
            let conn = self.lock();
            let mut stmt = conn.prepare_cached(&sql).map_err(|e| self.db(e))?;
            let rows = stmt
                .query_map(params_from_iter(params), |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
                })
                .map_err(|e| self.db(e))?;
            rows.collect::<Result<_, _>>().map_err(|e| self.db(e))?
        };
        rows.into_iter()
            .map(|(flow, reason, status, count, oldest, newest)| {
                let status = status.parse().map_err(|e| self.corrupt(format!("holds of flow {flow}: {e}")))?;
                Ok(HoldCount {
                    count: u64::try_from(count).unwrap_or(0),
                    oldest: self.time("holds: created_at", &oldest)?,
                    newest: self.time("holds: created_at", &newest)?,
                    flow,
                    reason,
                    status,
                })
            })
            .collect()
    }

    fn mark_replayed(&self, id: HoldId, outcome: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let sql = "UPDATE holds SET status = 'replayed', outcome = ?2, updated_at = ?3 WHERE id = ?1";
        self.change_held(id, sql, outcome, now)
    }

    fn mark_discarded(&self, id: HoldId, why: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let sql = "UPDATE holds SET status = 'discarded', outcome = ?2, updated_at = ?3 WHERE id = ?1";
        self.change_held(id, sql, why, now)
    }

    fn record_attempt(&self, id: HoldId, message: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        let sql = "UPDATE holds SET attempts = attempts + 1, message = ?2, updated_at = ?3 WHERE id = ?1";
        self.change_held(id, sql, message, now)
    }

    fn dedupe_seen(&self, flow: &str, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let conn = self.read_lock();
        let mut stmt = conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM dedupe_keys WHERE flow = ?1 AND key = ?2 \
                 AND (expires_at IS NULL OR expires_at > ?3))",
            )
            .map_err(|e| self.db(e))?;
        stmt.query_row(params![flow, key, timestamp(now)], |r| r.get(0)).map_err(|e| self.db(e))
    }

    fn commit_ends(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.kv_commit(flow, keys, states, now)
    }

    fn state_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError> {
        self.kv_get(flow, name, key)
    }

    fn cursor(&self, flow: &str, source: &str) -> Result<Option<String>, StateError> {
        let conn = self.lock();
        conn.query_row("SELECT value FROM cursors WHERE flow = ?1 AND source = ?2", params![flow, source], |r| r.get(0))
            .optional()
            .map_err(|e| self.db(e))
    }

    fn set_cursor(&self, flow: &str, source: &str, value: &str) -> Result<(), StateError> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO cursors (flow, source, value, updated_at) VALUES (?1, ?2, ?3, ?4) \
                 ON CONFLICT (flow, source) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                params![flow, source, value, timestamp(Utc::now())],
            )
            .map_err(|e| self.db(e))?;
            Ok(())
        })
    }

    fn delivered(&self, flow: &str, sink: &str, key: &str) -> Result<bool, StateError> {
        let conn = self.read_lock();
        let mut stmt = conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM deliveries WHERE flow = ?1 AND sink = ?2 AND key = ?3)")
            .map_err(|e| self.db(e))?;
        stmt.query_row(params![flow, sink, key], |r| r.get(0)).map_err(|e| self.db(e))
    }

    fn record_deliveries(
        &self,
        flow: &str,
        sink: &str,
        deliveries: &[(String, u16, DateTime<Utc>)],
    ) -> Result<(), StateError> {
        if deliveries.is_empty() {
            return Ok(());
        }
        self.write(|tx| {
            let mut stmt = tx
                .prepare_cached(
                    "INSERT INTO deliveries (flow, sink, key, status, delivered_at) VALUES (?1, ?2, ?3, ?4, ?5) \
                     ON CONFLICT (flow, sink, key) DO UPDATE SET status = excluded.status, \
                     delivered_at = excluded.delivered_at",
                )
                .map_err(|e| self.db(e))?;
            for (key, status, now) in deliveries {
                stmt.execute(params![flow, sink, key, status, timestamp(*now)]).map_err(|e| self.db(e))?;
            }
            Ok(())
        })
    }
}
