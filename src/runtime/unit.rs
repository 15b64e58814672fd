//! A record on its way through the flow, and how records travel between tasks.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::connectors::RawText;
use crate::state::StateWrite;
use crate::value::Value;

/// Chunks of records waiting between two tasks. Small: memory stays flat, and a stop
/// drains fast.
pub(crate) const CHANNEL: usize = 4;

/// Most records a file source sends on at once. Records travel between tasks in chunks,
/// so a task wakes once for many records rather than once for each: on a busy core the
/// wake-ups otherwise cost more than the work. Small, because a record is worked on
/// fastest while its decoded form is still in the cache: chunks of 32 ran the order
/// benchmark 20% slower than chunks of 8 (4 was no faster).
pub(crate) const CHUNK: usize = 8;

/// Records travelling together from one task to the next, in input order.
pub(crate) type Chunk = Vec<Unit>;

/// A record on its way through the flow, with what it carries between stages.
#[derive(Clone, Debug)]
pub struct Unit {
    /// Position in the input, then position within a split: the order of the output.
    pub seq: (u64, u32),
    pub source_ref: Arc<str>,
    /// The record as it was decoded when it entered the flow. Fields the flow never
    /// reads may be left out of it (see `ir::Demand`), so holds show `raw` when there is one.
    pub entered: Arc<Value>,
    /// The record's JSON text as it arrived, for holds and replays (UTF-8: it decoded).
    pub raw: Option<RawText>,
    pub record: Value,
    pub slots: Vec<Value>,
    /// Dedupe keys to commit once the record reaches its end.
    pub dedupe: Vec<(String, Option<DateTime<Utc>>)>,
    /// State values to commit if the record is delivered (or filtered with `remember`),
    /// each with the place of the record that assigned it: the later one wins.
    pub state: Vec<((u64, u32), StateWrite)>,
    /// Filtered by a `filter ... else remember`: its state values are committed too.
    pub remember: bool,
    /// After a `batch` stage: the records in the batch (the record is their list).
    pub members: Vec<Unit>,
    /// A polled record's cursor value: where the next poll starts once it has ended.
    pub cursor: Option<Arc<str>>,
    /// At its end, when the flow has holds still open: the record's identity
    /// (`state::record_identity`), to end a hold of the same record.
    pub identity: Option<Box<str>>,
}

impl Unit {
    /// A record as it enters the flow: input number `n`, nothing carried yet.
    pub(crate) fn entering(
        n: u64,
        source_ref: Arc<str>,
        value: Value,
        raw: Option<RawText>,
        slots: usize,
        cursor: Option<Arc<str>>,
    ) -> Unit {
        Unit {
            seq: (n, 0),
            source_ref,
            entered: Arc::new(value.clone()),
            raw,
            record: value,
            slots: vec![Value::Null; slots],
            dedupe: Vec::new(),
            state: Vec::new(),
            remember: false,
            members: Vec::new(),
            cursor,
            identity: None,
        }
    }

    /// One unit for records that travel and end together (a batch, a group): the first
    /// record's place, every record's dedupe keys and state values, their list as the
    /// record, and the records themselves as members, each to end with it.
    pub(crate) fn carrying(members: Vec<Unit>) -> Unit {
        let records: Vec<Value> = members.iter().map(|u| u.record.clone()).collect();
        let head = &members[0];
        let last = members.last().map_or("", |u| &u.source_ref);
        let source_ref: Arc<str> = match members.len() {
            1 => head.source_ref.clone(),
            n if *head.source_ref == *last => Arc::from(format!("{} ({n} records)", head.source_ref)),
            n => Arc::from(format!("{} .. {last} ({n} records)", head.source_ref)),
        };
        Unit {
            seq: head.seq,
            source_ref,
            entered: head.entered.clone(),
            raw: head.raw.clone(),
            record: Value::list(records.into()),
            slots: head.slots.clone(),
            dedupe: members.iter().flat_map(|u| u.dedupe.clone()).collect(),
            state: members.iter().flat_map(|u| u.state.clone()).collect(),
            remember: false,
            cursor: None,
            identity: None,
            members,
        }
    }

    /// What the collector needs of a record delivered or filtered: its place in the input
    /// and what it leaves behind (dedupe keys, state values, cursor), not its data.
    /// Messages to the collector then stay small however far it falls behind. With `identify`, the
    /// record's identity too, worked out here rather than in the collector, which every
    /// record passes through.
    pub(crate) fn at_end(self, identify: bool) -> Unit {
        static NOTHING: std::sync::LazyLock<Arc<Value>> = std::sync::LazyLock::new(|| Arc::new(Value::Null));
        let identity = (identify && self.members.is_empty())
            .then(|| crate::state::record_identity(super::flow_info::entered_json(&self).as_str()).into());
        Unit {
            seq: self.seq,
            source_ref: self.source_ref,
            entered: NOTHING.clone(),
            raw: None,
            record: Value::Null,
            slots: Vec::new(),
            dedupe: self.dedupe,
            state: self.state,
            remember: self.remember,
            members: self.members.into_iter().map(|m| m.at_end(identify)).collect(),
            cursor: self.cursor,
            identity,
        }
    }
}

/// The receiving end of a chunk channel, one record at a time.
pub(crate) struct Units {
    rx: mpsc::Receiver<Chunk>,
    pending: std::vec::IntoIter<Unit>,
}

impl Units {
    pub(crate) fn new(rx: mpsc::Receiver<Chunk>) -> Units {
        Units { rx, pending: Vec::new().into_iter() }
    }

    /// The next record; `None` once the channel is closed and drained. Cancel-safe: a
    /// chunk is taken whole or not at all.
    pub(crate) async fn recv(&mut self) -> Option<Unit> {
        loop {
            if let Some(u) = self.pending.next() {
                return Some(u);
            }
            self.pending = self.rx.recv().await?.into_iter();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_at_its_end_keeps_its_place_and_keys_not_its_data() {
        let value = Value::record(vec![("id".to_string(), Value::Int(1))]);
        let mut unit =
            Unit::entering(7, Arc::from("in.ndjson:7"), value, Some(RawText::from(&b"{\"id\":1}"[..])), 2, None);
        unit.dedupe.push(("k".into(), None));
        let end = unit.at_end(false);
        assert_eq!((end.seq, &*end.source_ref, end.dedupe.len()), ((7, 0), "in.ndjson:7", 1));
        assert!(end.record.is_null() && end.entered.is_null() && end.raw.is_none() && end.slots.is_empty());
    }
}
