//! The durable state of flows: holds, dedupe keys, remembered values, source cursors, the
//! delivery log and the webhook inbox, behind one trait so the runtime never knows which database
//! keeps them. SQLite is the embedded default; `MemoryStore` serves dry runs and tests.
//!
//! The store owns no policy: when to hold, when a key may be committed and what a
//! replay does belong to the runtime. The store promises only that what it has
//! acknowledged is kept: a write returns after its transaction has committed.

mod check;
mod identity;
mod json_text;
mod kv;
mod lease;
mod memory;
mod retention;
mod sqlite;

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use identity::record_identity;
pub use json_text::JsonText;
pub use kv::StateWrite;
pub use lease::{Lease, LeaseHolder};
pub use memory::MemoryStore;
pub use retention::{Erased, Purged, ERASED, PURGED};
pub use sqlite::SqliteStore;

/// A hold's number, unique in its store and never reused.
pub type HoldId = i64;

/// Everything a flow's durable state must do. Every method is one transaction: it
/// either happened completely or not at all when it returns.
pub trait StateStore: Send + Sync {
    /// Takes the exclusive lease on this state for `holder`, before anything is read or
    /// sent; it is held until the `Lease` is dropped or the process ends. Fails with
    /// `Leased`, naming the holder, while another process has it.
    fn lease(&self, holder: &LeaseHolder) -> Result<Lease, StateError>;

    /// Stores holds in one transaction and returns their ids in the same order. When
    /// this returns `Ok`, the holds survive a crash of the process. A hold for a record
    /// that is already held (same flow, and the same `source_ref` or the same record as
    /// `record_identity` tells, status held) is not stored again: its existing id is
    /// returned, so a run restarted after a crash, reading its input again, holds each
    /// record once.
    fn add_holds(&self, holds: Vec<NewHold>) -> Result<Vec<HoldId>, StateError>;
    /// Whether `flow` has any hold still held: only then does a run work out the
    /// identity of the records it ends, to end their holds.
    fn has_open_holds(&self, flow: &str) -> Result<bool, StateError>;
    /// A later run took records to their end: each hold of `flow` still held whose record
    /// has the identity given (`record_identity`) is marked `replayed`, with the outcome
    /// given and `now`. Returns how many holds ended.
    fn end_holds(&self, flow: &str, ended: &[(String, String)], now: DateTime<Utc>) -> Result<u64, StateError>;
    /// One hold, whatever its status.
    fn hold(&self, id: HoldId) -> Result<Option<Hold>, StateError>;
    /// The holds the filter matches, oldest first (in the order they were stored, by
    /// id), so a replay takes them first in, first out.
    fn holds(&self, filter: &HoldFilter) -> Result<Vec<Hold>, StateError>;
    /// How many holds the filter matches, by flow, reason and status, with the oldest
    /// and newest `created_at` of each group; ordered by flow, reason, then status
    /// (held, replayed, discarded).
    fn hold_summary(&self, filter: &HoldFilter) -> Result<Vec<HoldCount>, StateError>;
    /// A replay delivered (or filtered) the held record: status `replayed`, `outcome`
    /// says how. Fails with `NoSuchHold` or `NotHeld`.
    fn mark_replayed(&self, id: HoldId, outcome: &str, now: DateTime<Utc>) -> Result<(), StateError>;
    /// An operator gave up on the record: status `discarded`, `why` kept as the
    /// outcome. The hold stays in the store. Fails with `NoSuchHold` or `NotHeld`.
    fn mark_discarded(&self, id: HoldId, why: &str, now: DateTime<Utc>) -> Result<(), StateError>;
    /// A replay held the record again: `attempts` goes up by one, the message and
    /// `updated_at` are refreshed, the status stays `held`. Fails with `NoSuchHold` or
    /// `NotHeld`.
    fn record_attempt(&self, id: HoldId, message: &str, now: DateTime<Utc>) -> Result<(), StateError>;

    /// Retention: what is older than `before` and no longer needed goes. Holds that
    /// ended (replayed or discarded) before it lose their payload (the record, the stage
    /// input and the message; reason, key, status, outcome and times stay); inbox
    /// requests done and received before it are deleted; delivery-log entries older than
    /// it are deleted. A hold still held keeps everything: it is the only copy of a record
    /// not yet delivered.
    fn purge(&self, before: DateTime<Utc>) -> Result<Purged, StateError>;
    /// A data subject's erasure: every hold whose key is `key` or whose record, stage
    /// input or message mentions it (case-insensitively) loses its payload and key, and a
    /// hold still held is discarded with that reason; inbox requests whose body mentions
    /// it lose their body and are marked done; dedupe and delivery-log keys that contain
    /// it are deleted.
    fn erase(&self, key: &str, now: DateTime<Utc>) -> Result<Erased, StateError>;

    /// Whether `key` was committed for `flow` and has not expired at `now`.
    fn dedupe_seen(&self, flow: &str, key: &str, now: DateTime<Utc>) -> Result<bool, StateError>;
    /// Commits dedupe keys once their records reached an end (delivered, filtered or
    /// held), so a crash before that replays the record instead of losing it. An
    /// expiry of `None` keeps the key forever. Committing a key again keeps the later
    /// of the two expiries. Keys of `flow` that expired by `now` are purged.
    fn dedupe_commit(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.commit_ends(flow, keys, &[], now)
    }

    /// Commits what records that reached their end leave behind, in one transaction:
    /// dedupe keys as `dedupe_commit` does, and state values (the later of two writes to
    /// one key wins). A crash before it returns keeps neither.
    fn commit_ends(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError>;
    /// The value (JSON text) last committed for `flow`'s state `name` under `key`.
    fn state_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError>;

    /// Stores a webhook request before it is answered, so an answered request is never
    /// lost. `Ok(false)` when a request with the same dedupe key is already stored: the
    /// sender delivered it twice.
    fn inbox_add(
        &self,
        flow: &str,
        dedupe_key: Option<&str>,
        headers: &serde_json::Value,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StateError>;
    /// Stores several webhook requests in one transaction, each as `inbox_add` would,
    /// and answers for each whether it was new: under a burst, one fsync covers many
    /// requests instead of one each.
    fn inbox_add_many(&self, requests: &[NewRequest<'_>], now: DateTime<Utc>) -> Result<Vec<bool>, StateError> {
        requests.iter().map(|r| self.inbox_add(r.flow, r.dedupe_key, r.headers, r.body, now)).collect()
    }
    /// Pending requests of `flow` stored after `after_id`, oldest first, at most `limit`.
    fn inbox_pending(&self, flow: &str, after_id: i64, limit: usize) -> Result<Vec<InboxItem>, StateError>;
    /// Requests whose records reached their end (delivered, filtered or held).
    fn inbox_done(&self, flow: &str, ids: &[i64]) -> Result<(), StateError>;

    /// Where a polling source of `flow` left off, if it ever committed a cursor.
    fn cursor(&self, flow: &str, source: &str) -> Result<Option<String>, StateError>;
    /// Moves a polling source's cursor; commit it only after every record before it
    /// reached an end.
    fn set_cursor(&self, flow: &str, source: &str, value: &str) -> Result<(), StateError>;
    /// Whether a delivery with this idempotency key to `sink` was recorded.
    fn delivered(&self, flow: &str, sink: &str, key: &str) -> Result<bool, StateError>;
    /// Records that `sink` accepted the record with idempotency key `key` (with the
    /// status it answered), so a replay never sends it twice. Recording the same key
    /// again updates the status and time.
    fn record_delivery(
        &self,
        flow: &str,
        sink: &str,
        key: &str,
        status: u16,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.record_deliveries(flow, sink, &[(key.to_string(), status, now)])
    }
    /// Records several accepted deliveries to `sink` (key, status, when) in one
    /// transaction, each as `record_delivery` would: a sink with many requests in flight
    /// pays for one durable commit per group instead of one per request.
    fn record_deliveries(
        &self,
        flow: &str,
        sink: &str,
        deliveries: &[(String, u16, DateTime<Utc>)],
    ) -> Result<(), StateError>;
}

/// A webhook request to store, as `inbox_add` takes it.
#[derive(Clone, Copy, Debug)]
pub struct NewRequest<'a> {
    pub flow: &'a str,
    pub dedupe_key: Option<&'a str>,
    pub headers: &'a serde_json::Value,
    pub body: &'a [u8],
}

/// A record a flow could not take to its end, as the runtime hands it to the store.
/// A webhook request as the inbox keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct InboxItem {
    pub id: i64,
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct NewHold {
    /// The flow's name.
    pub flow: String,
    /// The hash of the flow's text when it held the record.
    pub flow_version: String,
    /// Where it stopped: `"validate"`, `"source"`, `"sink erp"`, ...
    pub stage: String,
    /// The line of that stage in the flow file (0 when it has none).
    pub stage_line: u32,
    /// The reason code, e.g. `"invalid"`, `"retries_exhausted"`.
    pub reason: String,
    /// What an operator reads.
    pub message: String,
    /// The order id, order number or SKU the record is about, to search by.
    pub blocking_key: Option<String>,
    /// How many times the record was tried.
    pub attempts: u32,
    /// Where the record came from, e.g. `"payloads/a.json#3"`.
    pub source_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    /// The record as it entered the flow.
    pub record: JsonText,
    /// What the stage that held it received.
    pub stage_input: JsonText,
    /// Held with a batch: the batch's name, shared by its records' holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

/// A stored hold: the `NewHold` fields, its id, status and what became of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Hold {
    pub id: HoldId,
    pub status: HoldStatus,
    pub flow: String,
    pub flow_version: String,
    pub stage: String,
    pub stage_line: u32,
    pub reason: String,
    pub message: String,
    pub blocking_key: Option<String>,
    pub attempts: u32,
    pub source_ref: Option<String>,
    pub created_at: DateTime<Utc>,
    /// When the status, message or attempts last changed (`created_at` until then).
    pub updated_at: DateTime<Utc>,
    /// How the replay ended, or why the hold was discarded.
    pub outcome: Option<String>,
    pub record: JsonText,
    pub stage_input: JsonText,
    /// Held with a batch: the batch's name, shared by its records' holds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
}

impl Hold {
    /// A freshly stored hold: status `held`, no outcome, `updated_at` = `created_at`.
    pub fn stored(id: HoldId, new: NewHold) -> Hold {
        Hold {
            id,
            status: HoldStatus::Held,
            updated_at: new.created_at,
            outcome: None,
            flow: new.flow,
            flow_version: new.flow_version,
            stage: new.stage,
            stage_line: new.stage_line,
            reason: new.reason,
            message: new.message,
            blocking_key: new.blocking_key,
            attempts: new.attempts,
            source_ref: new.source_ref,
            created_at: new.created_at,
            record: new.record,
            stage_input: new.stage_input,
            batch: new.batch,
        }
    }
}

/// Where a hold is in its life. Holds are never deleted: a replayed or discarded hold
/// stays, for the record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HoldStatus {
    /// Waiting for a replay or a discard.
    Held,
    /// A replay took the record to its end.
    Replayed,
    /// An operator gave up on it.
    Discarded,
}

impl HoldStatus {
    pub const ALL: [HoldStatus; 3] = [HoldStatus::Held, HoldStatus::Replayed, HoldStatus::Discarded];

    pub fn as_str(self) -> &'static str {
        match self {
            HoldStatus::Held => "held",
            HoldStatus::Replayed => "replayed",
            HoldStatus::Discarded => "discarded",
        }
    }
}

impl fmt::Display for HoldStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status name that is not one of `held`, `replayed`, `discarded`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown hold status `{0}` (expected held, replayed or discarded)")]
pub struct UnknownStatus(pub String);

impl FromStr for HoldStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        HoldStatus::ALL.into_iter().find(|st| st.as_str() == s).ok_or_else(|| UnknownStatus(s.to_string()))
    }
}

/// Which holds to list, count or export. Every field left `None` matches everything:
/// `HoldFilter::default()` is every hold of every status (the CLI narrows to `held`
/// unless told otherwise).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HoldFilter {
    pub flow: Option<String>,
    pub reason: Option<String>,
    pub status: Option<HoldStatus>,
    /// Only these ids (an empty list matches none).
    pub ids: Option<Vec<HoldId>>,
    /// Only holds about this order, SKU or person: the blocking key is it, or the
    /// record mentions it (case-insensitively). For a data subject's request.
    pub mentions: Option<String>,
}

impl HoldFilter {
    /// The holds still waiting: status `held`, every flow and reason.
    pub fn held() -> HoldFilter {
        HoldFilter { status: Some(HoldStatus::Held), ..HoldFilter::default() }
    }

    /// Whether `hold` passes the filter.
    pub fn matches(&self, hold: &Hold) -> bool {
        self.flow.as_ref().is_none_or(|f| *f == hold.flow)
            && self.reason.as_ref().is_none_or(|r| *r == hold.reason)
            && self.status.is_none_or(|s| s == hold.status)
            && self.ids.as_ref().is_none_or(|ids| ids.contains(&hold.id))
            && self.mentions.as_ref().is_none_or(|k| retention::mentions(hold, k))
    }
}

/// How many holds share a flow, reason and status, and how old they are.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldCount {
    pub flow: String,
    pub reason: String,
    pub status: HoldStatus,
    pub count: u64,
    /// The earliest `created_at` in the group.
    pub oldest: DateTime<Utc>,
    /// The latest `created_at` in the group.
    pub newest: DateTime<Utc>,
}

/// What can go wrong with the state store. Every message names the database.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A read-only command found no database (it never creates one).
    #[error("no state database at {}", path.display())]
    Missing { path: PathBuf },
    #[error("cannot create the directory of the state database {}: {source}", path.display())]
    CreateDir { path: PathBuf, source: std::io::Error },
    /// The database refused: cannot open, locked for too long, disk full, not a database.
    #[error("state database {}: {source}", path.display())]
    Db { path: PathBuf, source: Box<dyn std::error::Error + Send + Sync> },
    #[error(
        "state database {} was written by a newer flowgate (schema version {found}; this one knows up to {known})",
        path.display()
    )]
    TooNew { path: PathBuf, found: i64, known: i64 },
    /// A value in the database is not what this version wrote (bad JSON, status, time).
    #[error("state database {} holds bad data: {what}", path.display())]
    Corrupt { path: PathBuf, what: String },
    /// The file is not a flowgate state (empty, or another program's database). It is
    /// never written to.
    #[error(
        "{} is not a flowgate state database ({why}); it was left as it is. Point --state at the flow's state, \
         or move the file away to start from empty state",
        path.display()
    )]
    Foreign { path: PathBuf, why: String },
    /// SQLite's own check of the file failed.
    #[error(
        "state database {} is damaged: {}; restore it from a backup (`flowgate state backup`), or run \
         `flowgate state check` for every problem",
        path.display(),
        problems.join("; ")
    )]
    Damaged { path: PathBuf, problems: Vec<String> },
    /// Another process owns the state.
    #[error(
        "state database {} is in use by {holder}; two processes on one state would send the same records \
         twice. Wait for it or stop it; a process that was killed has already let go",
        path.display()
    )]
    Leased { path: PathBuf, holder: Box<LeaseHolder> },
    #[error("no hold {id} in {}", path.display())]
    NoSuchHold { path: PathBuf, id: HoldId },
    #[error("hold {id} in {} is {status}, not held", path.display())]
    NotHeld { path: PathBuf, id: HoldId, status: HoldStatus },
}

impl StateError {
    /// The id named does not exist, or the hold is no longer held: the request was
    /// understood but there is nothing to do (as opposed to a store that cannot work).
    pub fn is_about_a_hold(&self) -> bool {
        matches!(self, StateError::NoSuchHold { .. } | StateError::NotHeld { .. })
    }
}
