//! Facts about the running flow that every task needs: how to make a hold, and the
//! dedupe keys taken by records still on their way.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};

use super::outcome::Msg;
use super::stage::Stop;
use super::unit::Unit;
use super::RuntimeError;
use crate::connectors::sink::body_json;
use crate::ir;
use crate::state::{JsonText, NewHold, StateStore, StateWrite};
use crate::types::Type;
use crate::value::{DecodeError, Plan, Value};

/// A state value as a record assigned it: the record's place, and the value.
pub(crate) type Assigned = ((u64, u32), Value);

pub(crate) struct FlowInfo {
    pub name: String,
    /// The source's name, for its cursor.
    pub source: String,
    pub version: String,
    pub now: DateTime<Utc>,
    /// What of each input record to build: the fields the flow may read.
    pub decode: Plan,
    /// Dedupe keys taken by records not yet at their end: a duplicate arriving while the
    /// first is on its way is caught here, since the store learns a key only once its
    /// record ended. The collector removes keys as it commits them, so this stays as
    /// small as the records in flight however long the run (a dry run commits nothing).
    pub in_flight: Mutex<HashSet<String>>,
    /// State values assigned by records of this run whose commit is still to come, per
    /// state name and key, with the place of the record that assigned each. A later
    /// record compares with these rather than with the store, which learns a value only
    /// once its record ended; the collector removes a value once it is committed, so this
    /// stays as small as the records in flight (and those held after assigning).
    pub assigned: Mutex<HashMap<(String, String), Assigned>>,
    /// The flow has holds still open: records that end say who they are, so that a hold
    /// of the same record ends with them.
    pub identify: bool,
}

impl FlowInfo {
    pub fn in_flight(&self) -> MutexGuard<'_, HashSet<String>> {
        // The set stays whole if a holder panicked: it is only ever added to or removed from.
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn assigned(&self) -> MutexGuard<'_, HashMap<(String, String), Assigned>> {
        self.assigned.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Commits the dedupe keys and state values (each with the place of the record that
    /// assigned it) of records that ended, in one transaction; they are then the store's
    /// to know.
    pub fn commit_keys(
        &self,
        store: &dyn StateStore,
        keys: &mut Vec<(String, Option<DateTime<Utc>>)>,
        states: &mut Vec<((u64, u32), StateWrite)>,
    ) -> Result<(), RuntimeError> {
        if keys.is_empty() && states.is_empty() {
            return Ok(());
        }
        let writes: Vec<StateWrite> = states.iter().map(|(_, w)| w.clone()).collect();
        store.commit_ends(&self.name, keys, &writes, self.now)?;
        // Committed, a value is read from the store; one a later record assigned since stays.
        let mut assigned = self.assigned();
        for (seq, w) in states.drain(..) {
            let k = (w.name, w.key);
            if assigned.get(&k).is_some_and(|(at, _)| *at == seq) {
                assigned.remove(&k);
            }
        }
        drop(assigned);
        let mut in_flight = self.in_flight();
        for (k, _) in keys.drain(..) {
            in_flight.remove(&k);
        }
        Ok(())
    }

    /// Input that could not become a record, held with its raw form kept exactly.
    pub fn bad_input(
        &self,
        n: u64,
        source_ref: Arc<str>,
        raw: serde_json::Value,
        error: &DecodeError,
        stage: &str,
        line: usize,
    ) -> Msg {
        let stop = Stop { code: error.reason().to_string(), message: error.to_string() };
        self.unreadable(n, source_ref, raw, stop, stage, line)
    }

    /// Input held before it became a record: bad input, or a decoder that failed on it.
    pub fn unreadable(
        &self,
        n: u64,
        source_ref: Arc<str>,
        raw: serde_json::Value,
        stop: Stop,
        stage: &str,
        line: usize,
    ) -> Msg {
        let entered = crate::value::decode_json_value(&raw, &Type::Json).unwrap_or(Value::Null);
        let unit = Unit::entering(n, source_ref, entered.clone(), None, 0, None);
        let mut hold = self.hold(&unit, stage, line, stop, &entered);
        hold.record = JsonText::from(&raw);
        hold.stage_input = hold.record.clone();
        Msg::Held { unit, stage: None, hold }
    }

    /// A hold of `unit`. Its message and the stage's input are scrubbed here, where
    /// every hold is made, before a log line, the state or a report sees them: a message
    /// may quote an answer that echoed a secret back. The record is kept as it entered,
    /// for a replay to read exactly.
    pub fn hold(&self, unit: &Unit, stage: &str, line: usize, stop: Stop, input: &Value) -> Box<NewHold> {
        let record = entered_json(unit);
        // Before any map or split the stage's input is the record as it entered.
        let stage_input = if is_entered(unit, input) { record.clone() } else { JsonText::from(body_json(input)) };
        let stage_input = scrubbed_json(stage_input);
        let mut stop = stop;
        crate::scrub::scrub_string(&mut stop.message);
        Box::new(NewHold {
            flow: self.name.clone(),
            flow_version: self.version.clone(),
            stage: stage.to_string(),
            stage_line: u32::try_from(line).unwrap_or(0),
            reason: stop.code,
            message: stop.message,
            blocking_key: blocking_key(&unit.entered),
            record,
            stage_input,
            attempts: 1,
            source_ref: Some(unit.source_ref.to_string()),
            created_at: self.now,
            batch: None,
        })
    }
}

/// The record as it entered the flow, as a hold keeps it: its JSON text as it arrived
/// (every field, in the sender's order, at any depth) when the source kept it. A source
/// keeps the text only of a record it decoded, so the text is known to be JSON.
pub(crate) fn entered_json(unit: &Unit) -> JsonText {
    match &unit.raw {
        Some(raw) => JsonText::read_as_json(raw.bytes()),
        None => JsonText::from(body_json(&unit.entered)),
    }
}

/// `text` with any secret in its strings replaced; the same text when there is none.
pub(crate) fn scrubbed_json(text: JsonText) -> JsonText {
    if matches!(crate::scrub::scrub(text.as_str()), std::borrow::Cow::Borrowed(_)) {
        return text;
    }
    match text.value() {
        Some(mut v) => {
            crate::scrub::scrub_json(&mut v);
            JsonText::from(v)
        }
        None => JsonText::from_bytes(crate::scrub::scrub(text.as_str()).as_bytes()),
    }
}

/// Whether `v` is the record the unit entered the flow as (not yet mapped or split).
fn is_entered(unit: &Unit, v: &Value) -> bool {
    match (v, &*unit.entered) {
        (Value::Record(a), Value::Record(b)) => crate::value::Record::same(a, b),
        _ => false,
    }
}

/// The key an operator searches by: the order name or number, else an id or SKU.
pub(crate) fn blocking_key(v: &Value) -> Option<String> {
    ir::KEY_FIELDS.iter().find_map(|k| {
        v.field(k).filter(|x| !x.is_null() && !matches!(x, Value::Record(_) | Value::List(_))).map(|x| x.to_string())
    })
}

/// A record's blocking key in a log line, worked out only when a line shows it. With no
/// tracing subscriber set, `tracing` hands every span's fields to the `log` crate, which
/// drops them unless a logger wants them: a key computed up front was computed for every
/// record at every stage, for nothing.
pub(crate) struct KeyOf<'a>(pub &'a Value);

impl std::fmt::Display for KeyOf<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(blocking_key(self.0).as_deref().unwrap_or("-"))
    }
}

/// The text of a panic's payload, for the hold that reports it.
pub(crate) fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}

/// The stop for a record whose handling panicked: held, never lost, and named so an
/// operator reports it rather than retrying it.
pub(crate) fn internal_error(at: &str, payload: &(dyn std::any::Any + Send)) -> Stop {
    Stop {
        code: "internal_error".into(),
        message: format!("{at} failed inside flowgate: {} (please report this)", panic_text(payload)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::MemoryStore;

    fn info() -> FlowInfo {
        FlowInfo {
            name: "orders".into(),
            source: "in".into(),
            version: "v1".into(),
            now: chrono::Utc::now(),
            decode: Plan::Build,
            in_flight: Mutex::default(),
            assigned: Mutex::default(),
            identify: false,
        }
    }

    #[test]
    fn committed_dedupe_keys_leave_the_in_flight_set_for_the_store() {
        let (info, store) = (info(), MemoryStore::new());
        info.in_flight().extend(["a".to_string(), "b".to_string(), "c".to_string()]);
        let mut keys = vec![("a".to_string(), None), ("b".to_string(), None)];
        info.commit_keys(&store, &mut keys, &mut Vec::new()).unwrap();
        assert!(keys.is_empty());
        // A long run's set holds only the keys of records still on their way ...
        assert_eq!(info.in_flight().iter().collect::<Vec<_>>(), vec!["c"]);
        // ... and the store knows the others, so a later duplicate is still caught.
        assert!(store.dedupe_seen("orders", "a", info.now).unwrap());
        assert!(!store.dedupe_seen("orders", "c", info.now).unwrap());
    }

    #[test]
    fn a_committed_value_is_read_from_the_store_and_one_assigned_since_stays() {
        let (info, store) = (info(), MemoryStore::new());
        let w = |key: &str, v: &str| StateWrite { name: "last".into(), key: key.into(), value: v.into() };
        info.assigned().insert(("last".into(), "A".into()), ((1, 0), Value::Int(8)));
        info.assigned().insert(("last".into(), "B".into()), ((3, 0), Value::Int(4)));
        let mut states = vec![((1, 0), w("A", "8")), ((2, 0), w("B", "5"))];
        info.commit_keys(&store, &mut Vec::new(), &mut states).unwrap();
        assert!(states.is_empty());
        assert_eq!(store.state_get("orders", "last", "A").unwrap().as_deref(), Some("8"));
        let left: Vec<String> = info.assigned().keys().map(|(_, k)| k.clone()).collect();
        assert_eq!(left, ["B"], "B was assigned again by record 3, still on its way");
    }
}
