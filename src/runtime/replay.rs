//! Replaying holds: each held record, as it entered, goes through the current version
//! of its flow. A record that now gets through is marked replayed with how it ended; one
//! that is held again stays held, with its attempts counted and its message refreshed.

use std::io::Write;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use super::outcome::Event;
use super::run::run;
use super::{RunOptions, RuntimeError, Summary};
use crate::ir;
use crate::state::{Hold, HoldCount, HoldFilter, HoldId, InboxItem, NewHold, StateError, StateStore};

/// How one replayed hold ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Replayed {
    pub id: HoldId,
    /// `delivered to erp`, `filtered at ...`, or `held again: reason: message`.
    pub outcome: String,
    pub held_again: bool,
}

/// Runs `holds` through `flow`. The holds' records become the run's input, in order;
/// sinks deliver for real unless `opts.dry_run`, and then nothing is marked.
pub async fn replay(
    program: &ir::Program,
    flow: &ir::Flow,
    store: Arc<dyn StateStore>,
    holds: &[Hold],
    mut opts: RunOptions,
) -> Result<(Vec<Replayed>, Summary), RuntimeError> {
    let (holds, groups) = with_their_batches(store.as_ref(), &flow.name, holds)?;
    let holds = holds.as_slice();
    let dir = tempfile::tempdir().map_err(|e| RuntimeError::Input(e.to_string()))?;
    let input = dir.path().join("held.ndjson");
    let mut file = std::fs::File::create(&input).map_err(|e| RuntimeError::Input(e.to_string()))?;
    for h in holds {
        writeln!(file, "{}", replay_line(h)).map_err(|e| RuntimeError::Input(e.to_string()))?;
    }
    drop(file);
    // Every replay marks its records, those held alone too (`None`), so a group stage can
    // tell a record held before it from one held with its group.
    opts.regroup = Some(Arc::new(groups));
    opts.inputs = Some(vec![input.to_string_lossy().to_string()]);
    // Written one record a line, whatever format the flow's own source reads.
    opts.input_format = Some(crate::connectors::Format::Ndjson);
    opts.keep_events = true;
    let dry_run = opts.dry_run;
    let now = opts.now.to_utc();
    let capture = Arc::new(Capturing { inner: store.clone(), captured: Mutex::new(Vec::new()) });
    let report = run(program, flow, capture, opts).await?;
    let mut results = Vec::new();
    for (i, h) in holds.iter().enumerate() {
        let line = i + 1;
        let events: Vec<&Event> =
            report.events.iter().filter(|e| input_lines(e).is_some_and(|r| r.contains(&line))).collect();
        let again = events.iter().find_map(|e| match e {
            Event::Held { hold, .. } => Some(hold),
            _ => None,
        });
        let (outcome, held_again) = match again {
            Some(hold) => (format!("held again: {}: {}", hold.reason, hold.message), true),
            // A record that came back with no end at all was not taken anywhere: it stays
            // held, and the replay says it failed.
            None if events.is_empty() => (NO_OUTCOME.to_string(), true),
            None => (describe(&events), false),
        };
        if !dry_run {
            let message = again.map_or(outcome.as_str(), |h| h.message.as_str());
            mark(store.as_ref(), h.id, &outcome, held_again, Some(message), now)?;
        }
        results.push(Replayed { id: h.id, outcome, held_again });
    }
    Ok((results, report.summary))
}

/// The holds to replay, each held batch whole: a hold held with a batch brings every
/// still-held hold of its batch, next to each other, so the batch is sent again as it
/// was and never in part (a stock level summed over part of a batch is a wrong one).
/// With them, for each, the number of its batch in this replay.
fn with_their_batches(
    store: &dyn StateStore,
    flow: &str,
    chosen: &[Hold],
) -> Result<(Vec<Hold>, Vec<Option<u32>>), StateError> {
    if chosen.iter().all(|h| h.batch.is_none()) {
        return Ok((chosen.to_vec(), vec![None; chosen.len()]));
    }
    let held = store.holds(&HoldFilter {
        flow: Some(flow.to_string()),
        status: Some(crate::state::HoldStatus::Held),
        ..HoldFilter::default()
    })?;
    let (mut out, mut groups, mut seen_batches, mut seen_ids) =
        (Vec::new(), Vec::new(), Vec::<&str>::new(), std::collections::HashSet::new());
    for h in chosen {
        match &h.batch {
            None if seen_ids.insert(h.id) => {
                out.push(h.clone());
                groups.push(None);
            }
            None => {}
            Some(b) if !seen_batches.contains(&b.as_str()) => {
                seen_batches.push(b);
                let n = u32::try_from(seen_batches.len()).unwrap_or(u32::MAX);
                for member in held.iter().filter(|m| m.batch.as_deref() == Some(b)) {
                    if seen_ids.insert(member.id) {
                        out.push(member.clone());
                        groups.push(Some(n));
                    }
                }
            }
            Some(_) => {}
        }
    }
    Ok((out, groups))
}

/// What a replay says of a hold whose record reached no end in the replay run.
const NO_OUTCOME: &str = "no outcome: the replay did not take the record to any end; it stays held";

/// The input line a held record is written as: its JSON, or for input that never
/// parsed, the original text on one line, so the same error shows again until fixed.
/// A record kept as its text because it nests deeper than a tree is built for (in a
/// field nobody declared) is replayed as that text too.
fn replay_line(h: &Hold) -> String {
    let text = h.record.as_str();
    if h.reason != "malformed_input" || !text.starts_with('"') {
        // JSON on one line, however deep.
        return text.to_string();
    }
    match h.record.value() {
        Some(serde_json::Value::String(raw)) if raw.trim().is_empty() => "\"\"".to_string(),
        Some(serde_json::Value::String(raw)) => raw.replace(['\n', '\r'], " "),
        _ => text.to_string(),
    }
}

/// Which lines of the replay input an event is about: `held.ndjson:3` is line 3, and a
/// batch's `held.ndjson:4 .. held.ndjson:6 (3 records)` lines 4 to 6.
fn input_lines(e: &Event) -> Option<std::ops::RangeInclusive<usize>> {
    let source_ref = match e {
        Event::Delivered { source_ref, .. } | Event::Filtered { source_ref, .. } => source_ref.to_string(),
        Event::Held { hold, .. } => hold.source_ref.clone()?,
    };
    let line = |part: &str| -> Option<usize> {
        let (_, line) = part.rsplit_once(':')?;
        line.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
    };
    match source_ref.split_once(" .. ") {
        Some((first, last)) => Some(line(first)?..=line(last)?),
        None => line(&source_ref).map(|n| n..=n),
    }
}

fn mark(
    store: &dyn StateStore,
    id: HoldId,
    outcome: &str,
    held_again: bool,
    message: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StateError> {
    if held_again {
        store.record_attempt(id, message.unwrap_or(outcome), now)
    } else {
        store.mark_replayed(id, outcome, now)
    }
}

fn describe(events: &[&Event]) -> String {
    let mut sinks: Vec<&str> = Vec::new();
    let mut filtered = None;
    for e in events {
        match e {
            Event::Delivered { sink, .. } if !sinks.contains(&sink.as_str()) => sinks.push(sink),
            Event::Filtered { stage, why, .. } => filtered = Some(format!("filtered at {stage}: {why}")),
            _ => {}
        }
    }
    match (sinks.is_empty(), filtered) {
        (false, _) => format!("delivered to {}", sinks.join(", ")),
        (true, Some(f)) => f,
        (true, None) => NO_OUTCOME.to_string(),
    }
}

/// The store as the replay sees it: holds made during the replay are kept aside (the
/// original hold is updated instead), everything else goes to the real store.
struct Capturing {
    inner: Arc<dyn StateStore>,
    captured: Mutex<Vec<NewHold>>,
}

impl StateStore for Capturing {
    fn lease(&self, holder: &crate::state::LeaseHolder) -> Result<crate::state::Lease, StateError> {
        self.inner.lease(holder)
    }
    fn purge(&self, before: DateTime<Utc>) -> Result<crate::state::Purged, StateError> {
        self.inner.purge(before)
    }
    fn erase(&self, key: &str, now: DateTime<Utc>) -> Result<crate::state::Erased, StateError> {
        self.inner.erase(key, now)
    }
    /// The replay ends the holds it replays itself, each with how it went.
    fn has_open_holds(&self, _flow: &str) -> Result<bool, StateError> {
        Ok(false)
    }
    fn end_holds(&self, _flow: &str, _ended: &[(String, String)], _now: DateTime<Utc>) -> Result<u64, StateError> {
        Ok(0)
    }
    fn add_holds(&self, holds: Vec<NewHold>) -> Result<Vec<HoldId>, StateError> {
        let mut c = self.captured.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let n = holds.len();
        c.extend(holds);
        Ok(vec![0; n])
    }
    fn hold(&self, id: HoldId) -> Result<Option<Hold>, StateError> {
        self.inner.hold(id)
    }
    fn holds(&self, filter: &HoldFilter) -> Result<Vec<Hold>, StateError> {
        self.inner.holds(filter)
    }
    fn hold_summary(&self, filter: &HoldFilter) -> Result<Vec<HoldCount>, StateError> {
        self.inner.hold_summary(filter)
    }
    fn mark_replayed(&self, id: HoldId, outcome: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.mark_replayed(id, outcome, now)
    }
    fn mark_discarded(&self, id: HoldId, why: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.mark_discarded(id, why, now)
    }
    fn record_attempt(&self, id: HoldId, message: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.inner.record_attempt(id, message, now)
    }
    /// A held record already passed its flow's dedupe stage once (its key was committed
    /// when it was held); seen again on replay it is the same record, not a duplicate.
    fn dedupe_seen(&self, _flow: &str, _key: &str, _now: DateTime<Utc>) -> Result<bool, StateError> {
        Ok(false)
    }
    fn commit_ends(
        &self,
        flow: &str,
        keys: &[(String, Option<DateTime<Utc>>)],
        states: &[crate::state::StateWrite],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.inner.commit_ends(flow, keys, states, now)
    }
    /// A replayed record compares with what is remembered now, not when it was held.
    fn state_get(&self, flow: &str, name: &str, key: &str) -> Result<Option<String>, StateError> {
        self.inner.state_get(flow, name, key)
    }
    fn inbox_add(
        &self,
        flow: &str,
        key: Option<&str>,
        headers: &serde_json::Value,
        body: &[u8],
        now: DateTime<Utc>,
    ) -> Result<bool, StateError> {
        self.inner.inbox_add(flow, key, headers, body, now)
    }
    fn inbox_pending(&self, flow: &str, after_id: i64, limit: usize) -> Result<Vec<InboxItem>, StateError> {
        self.inner.inbox_pending(flow, after_id, limit)
    }
    fn inbox_done(&self, flow: &str, ids: &[i64]) -> Result<(), StateError> {
        self.inner.inbox_done(flow, ids)
    }
    fn cursor(&self, flow: &str, source: &str) -> Result<Option<String>, StateError> {
        self.inner.cursor(flow, source)
    }
    fn set_cursor(&self, flow: &str, source: &str, value: &str) -> Result<(), StateError> {
        self.inner.set_cursor(flow, source, value)
    }
    fn delivered(&self, flow: &str, sink: &str, key: &str) -> Result<bool, StateError> {
        self.inner.delivered(flow, sink, key)
    }
    fn record_deliveries(
        &self,
        flow: &str,
        sink: &str,
        deliveries: &[(String, u16, DateTime<Utc>)],
    ) -> Result<(), StateError> {
        self.inner.record_deliveries(flow, sink, deliveries)
    }
}
