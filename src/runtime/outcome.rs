//! How a record ends: the messages tasks send the collector, and the events a report keeps.

use std::sync::Arc;

use super::summary::Summary;
use super::unit::Unit;
use crate::connectors::Delivery;
use crate::state::NewHold;

/// One record's end, as a report shows it.
#[derive(Clone, Debug)]
pub enum Event {
    Delivered { seq: (u64, u32), source_ref: Arc<str>, sink: String, delivery: Delivery },
    Filtered { seq: (u64, u32), source_ref: Arc<str>, stage: String, why: String },
    Held { seq: (u64, u32), hold: Box<NewHold> },
}

impl Event {
    pub fn seq(&self) -> (u64, u32) {
        match self {
            Event::Delivered { seq, .. } | Event::Filtered { seq, .. } | Event::Held { seq, .. } => *seq,
        }
    }
}

/// What a run did: the summary, and (when kept) every event in input order.
#[derive(Debug)]
pub struct RunReport {
    pub summary: Summary,
    pub events: Vec<Event>,
    /// A dry run's state values that a real run would have committed, one per state and
    /// key, in name and key order.
    pub state: Vec<crate::state::StateWrite>,
}

/// Where a record stopped: the stage's index and label, or `None` for the source or sinks.
pub(crate) type At = Option<(usize, String)>;

/// What the collector hears: a record's end, or that a split made more records.
pub(crate) enum Msg {
    Delivered {
        unit: Unit,
        deliveries: Vec<(String, Delivery)>,
    },
    Filtered {
        unit: Unit,
        stage: At,
        why: String,
        /// Filtered as a repeat of a record seen before: its hold, if it has one, stays.
        repeat: bool,
    },
    Held {
        unit: Unit,
        stage: At,
        hold: Box<NewHold>,
    },
    /// A record of input `seq` became `n` more records (split).
    SplitExtra {
        seq: u64,
        n: u64,
    },
}

impl Msg {
    /// `identify`: whether the flow has holds open that this end may close.
    pub(crate) fn delivered(unit: Unit, deliveries: Vec<(String, Delivery)>, identify: bool) -> Msg {
        Msg::Delivered { unit: unit.at_end(identify), deliveries }
    }

    /// Filtered by a rule of the flow: a record filtered this way is at its end, and so
    /// is a hold of it.
    pub(crate) fn filtered(unit: Unit, stage: At, why: String, identify: bool) -> Msg {
        Msg::Filtered { unit: unit.at_end(identify), stage, why, repeat: false }
    }

    /// Filtered as a repeat (a dedupe key seen before): the record may never have been
    /// delivered, so a hold of it stays open.
    pub(crate) fn repeat(unit: Unit, stage: At, why: String) -> Msg {
        Msg::Filtered { unit: unit.at_end(false), stage, why, repeat: true }
    }
}
