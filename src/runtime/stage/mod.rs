//! Stages: what happens to one record between the source and the sinks. Each kind is a
//! file of its own behind the `Stage` trait; the stages task runs them in turn, so a new
//! stage is one new file here plus its grammar and checker rule.

mod bind;
mod dedupe;
mod filter;
mod hold_when;
mod map;
mod split;
mod state;

pub use state::seed as state_seed;
mod validate;

use super::eval::{Frame, Shared};
use super::flow_info::FlowInfo;
use super::unit::Unit;
use crate::builtins::{EvalError, Failure};
use crate::ir::{self, StageKind};
use crate::state::StateStore;
use crate::value::Value;

/// Why a record stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Stop {
    pub code: String,
    pub message: String,
}

impl Stop {
    pub fn from_eval(e: EvalError) -> Stop {
        match e.into_failure() {
            Failure::Hold { code, message } => Stop { message: message.unwrap_or_else(|| code.clone()), code },
            Failure::Failed(m) => Stop { code: "expression_failed".into(), message: m },
        }
    }
}

/// What a stage may consult besides the record: the flow's functions and lookups, the
/// facts of the run, and the state store.
pub(crate) struct StageCx<'a> {
    pub shared: &'a Shared,
    pub info: &'a FlowInfo,
    pub store: &'a dyn StateStore,
}

/// One kind of stage, compiled once before the first record.
pub(crate) trait Stage: Send + Sync {
    /// The stage's work on one record: how it goes on, or why it stops. `unit` is the
    /// record's own, for what it carries on (dedupe keys); `frame` evaluates expressions.
    fn apply(&self, unit: &mut Unit, frame: &Frame<'_>, cx: &StageCx<'_>) -> Result<Next, Outcome>;
}

/// What a stage makes of a record that goes on.
pub(crate) enum Next {
    Same,
    /// A map's result.
    Becomes(Value),
    /// A split's records.
    Splits(Vec<Value>),
}

/// Why a record stops at a stage.
pub(crate) enum Outcome {
    Filtered(String),
    /// Filtered as a repeat of a record seen before.
    Repeat(String),
    Held(Stop),
}

impl From<EvalError> for Outcome {
    fn from(e: EvalError) -> Outcome {
        Outcome::Held(Stop::from_eval(e))
    }
}

/// How a record left a stage. A record that stops comes back with it (without its slots,
/// which nothing after a stop reads), so the stage need not keep a copy of every record.
pub(crate) enum StageResult {
    /// The record goes on, as it was or as a map made it. Not in a `Vec`: nearly every
    /// record goes on from every stage, and each would cost an allocation.
    Continue(Unit),
    /// The records a split made of it, in order.
    Split(Vec<Unit>),
    Filtered {
        why: String,
        unit: Box<Unit>,
        repeat: bool,
    },
    Held {
        stop: Stop,
        input: Value,
        unit: Box<Unit>,
    },
}

/// Compiles a stage of the flow. `batch` and `enrich` are not among them: each works in
/// a task of its own, between runs of stages.
pub(crate) fn build(s: &ir::Stage) -> Box<dyn Stage> {
    match &s.kind {
        StageKind::Filter(e) => Box::new(filter::Filter::new(e, false)),
        StageKind::FilterRemember(e) => Box::new(filter::Filter::new(e, true)),
        StageKind::State(s) => Box::new(state::State::new(s)),
        StageKind::Dedupe { key, within_ms } => Box::new(dedupe::Dedupe::new(key, *within_ms)),
        StageKind::Validate(rules) => Box::new(validate::Validate::new(rules)),
        StageKind::Let { slot, value, .. } => Box::new(bind::Let::new(*slot, value)),
        StageKind::Split(e) => Box::new(split::Split::new(e)),
        StageKind::Map(e) => Box::new(map::Map::new(e)),
        StageKind::HoldWhen { cond, hold } => Box::new(hold_when::HoldWhen::new(cond, hold)),
        StageKind::Batch { .. } | StageKind::Group(_) | StageKind::Enrich(_) => Box::new(filter::Pass),
    }
}

/// Runs `stage` on the record in `unit`, leaving the record in `unit` whatever happens,
/// so that a caller that catches a panic still has the record to hold.
pub(crate) fn apply(stage: &dyn Stage, unit: &mut Unit, cx: &StageCx<'_>) -> Result<Next, Outcome> {
    let frame = Frame::new(unit.record.clone(), std::mem::take(&mut unit.slots), cx.shared);
    let result = stage.apply(unit, &frame, cx);
    if result.is_ok() {
        unit.slots = frame.slots.into_inner();
    }
    result
}

/// Where the record goes after `apply`.
pub(crate) fn conclude(result: Result<Next, Outcome>, mut unit: Unit) -> StageResult {
    match result {
        Err(Outcome::Filtered(why)) => StageResult::Filtered { why, unit: Box::new(unit), repeat: false },
        Err(Outcome::Repeat(why)) => StageResult::Filtered { why, unit: Box::new(unit), repeat: true },
        Err(Outcome::Held(stop)) => {
            let input = unit.record.clone();
            StageResult::Held { stop, input, unit: Box::new(unit) }
        }
        Ok(Next::Same) => StageResult::Continue(unit),
        Ok(Next::Becomes(record)) => {
            unit.record = record;
            StageResult::Continue(unit)
        }
        Ok(Next::Splits(records)) if records.is_empty() => {
            StageResult::Filtered { why: "split gave no records".into(), unit: Box::new(unit), repeat: false }
        }
        Ok(Next::Splits(records)) => {
            let base = unit.seq;
            let parts = records
                .into_iter()
                .enumerate()
                .map(|(i, r)| Unit {
                    seq: (base.0, base.1 * 1000 + u32::try_from(i).unwrap_or(u32::MAX)),
                    record: r,
                    ..unit.clone()
                })
                .collect();
            StageResult::Split(parts)
        }
    }
}
