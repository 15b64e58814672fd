//! Running one stage on one record: continue (one or several records), filter or hold.

use std::collections::HashSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::eval::{compile, truthy, Compiled, Frame, Shared};
use crate::builtins::{EvalError, Failure};
use crate::ir::{self, StageKind};
use crate::value::Value;

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
    pub raw: Option<crate::connectors::RawText>,
    pub record: Value,
    pub slots: Vec<Value>,
    /// Dedupe keys to commit once the record reaches its end.
    pub dedupe: Vec<(String, Option<DateTime<Utc>>)>,
    /// After a `batch` stage: the records in the batch (the record is their list).
    pub members: Vec<Unit>,
    /// A polled record's cursor value: where the next poll starts once it has ended.
    pub cursor: Option<Arc<str>>,
}

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

/// How a record left a stage. A record that stops comes back with it (without its slots,
/// which nothing after a stop reads), so the stage need not keep a copy of every record.
pub enum StageResult {
    /// The record goes on, as it was or as a map made it. Not in a `Vec`: nearly every
    /// record goes on from every stage, and each would cost an allocation.
    Continue(Unit),
    /// The records a split made of it, in order.
    Split(Vec<Unit>),
    Filtered(String, Box<Unit>),
    Held {
        stop: Stop,
        input: Value,
        unit: Box<Unit>,
    },
}

/// A stage compiled once.
pub enum CompiledStage {
    Filter(Compiled),
    Dedupe { key: Compiled, within_ms: Option<u64> },
    Validate(Vec<(Compiled, String, Option<Compiled>)>),
    Let { slot: u32, value: Compiled },
    Split(Compiled),
    Map(Compiled),
    HoldWhen { cond: Compiled, code: String, message: Option<Compiled> },
    Batch,
}

pub fn compile_stage(s: &ir::Stage) -> CompiledStage {
    match &s.kind {
        StageKind::Filter(e) => CompiledStage::Filter(compile(e)),
        StageKind::Dedupe { key, within_ms } => CompiledStage::Dedupe { key: compile(key), within_ms: *within_ms },
        StageKind::Validate(rules) => CompiledStage::Validate(
            rules
                .iter()
                .map(|r| (compile(&r.cond), r.hold.code.clone(), r.hold.message.as_ref().map(|m| compile(m))))
                .collect(),
        ),
        StageKind::Let { slot, value, .. } => CompiledStage::Let { slot: *slot, value: compile(value) },
        StageKind::Split(e) => CompiledStage::Split(compile(e)),
        StageKind::Map(e) => CompiledStage::Map(compile(e)),
        StageKind::HoldWhen { cond, hold } => CompiledStage::HoldWhen {
            cond: compile(cond),
            code: hold.code.clone(),
            message: hold.message.as_ref().map(|m| compile(m)),
        },
        StageKind::Batch { .. } => CompiledStage::Batch,
    }
}

/// What the dedupe stage consults: keys taken by records still on their way (not yet
/// committed to the store), and the durable ones.
pub struct DedupeView<'a> {
    pub in_flight: &'a mut HashSet<String>,
    pub seen_before: &'a dyn Fn(&str) -> bool,
    pub now: DateTime<Utc>,
}

pub fn run_stage(
    stage: &CompiledStage,
    mut unit: Unit,
    shared: &Shared,
    dedupe: Option<DedupeView<'_>>,
) -> StageResult {
    let frame = Frame::new(unit.record.clone(), std::mem::take(&mut unit.slots), shared);
    let result = match eval_stage(stage, &mut unit, &frame, dedupe) {
        Ok(result) => result,
        Err(Outcome::Filtered(why)) => return StageResult::Filtered(why, Box::new(unit)),
        Err(Outcome::Held(stop)) => {
            let input = unit.record.clone();
            return StageResult::Held { stop, input, unit: Box::new(unit) };
        }
    };
    unit.slots = frame.slots.into_inner();
    match result {
        Next::Same => StageResult::Continue(unit),
        Next::Becomes(record) => {
            unit.record = record;
            StageResult::Continue(unit)
        }
        Next::Splits(records) if records.is_empty() => {
            StageResult::Filtered("split gave no records".into(), Box::new(unit))
        }
        Next::Splits(records) => {
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

/// What a stage makes of a record that goes on.
enum Next {
    Same,
    /// A map's result.
    Becomes(Value),
    /// A split's records.
    Splits(Vec<Value>),
}

/// Why a record stops at a stage.
enum Outcome {
    Filtered(String),
    Held(Stop),
}

impl From<EvalError> for Outcome {
    fn from(e: EvalError) -> Outcome {
        Outcome::Held(Stop::from_eval(e))
    }
}

/// The stage's work on one record, when it goes on.
fn eval_stage(
    stage: &CompiledStage,
    unit: &mut Unit,
    frame: &Frame<'_>,
    dedupe: Option<DedupeView<'_>>,
) -> Result<Next, Outcome> {
    Ok(match stage {
        CompiledStage::Filter(cond) => {
            if !truthy(&cond(frame)?) {
                return Err(Outcome::Filtered("condition false".into()));
            }
            Next::Same
        }
        CompiledStage::Dedupe { key, within_ms } => {
            let key = key(frame)?.key().into_owned();
            if let Some(view) = dedupe {
                if view.in_flight.contains(&key) || (view.seen_before)(&key) {
                    return Err(Outcome::Filtered(format!("duplicate of key {key}")));
                }
                view.in_flight.insert(key.clone());
                let expires = within_ms
                    .and_then(|ms| i64::try_from(ms).ok())
                    .map(|ms| view.now + chrono::Duration::milliseconds(ms));
                unit.dedupe.push((key, expires));
            }
            Next::Same
        }
        CompiledStage::Validate(rules) => match validate(rules, frame)? {
            None => Next::Same,
            Some(stop) => return Err(Outcome::Held(stop)),
        },
        CompiledStage::Let { slot, value } => {
            frame.set(*slot, value(frame)?);
            Next::Same
        }
        CompiledStage::Split(list) => match list(frame)? {
            Value::List(items) => Next::Splits(items.iter().cloned().collect()),
            Value::Null => Next::Splits(Vec::new()),
            other => return Err(EvalError::failed(format!("split needs a list, found {}", other.kind())).into()),
        },
        CompiledStage::Map(body) => Next::Becomes(body(frame)?),
        CompiledStage::HoldWhen { cond, code, message } => {
            if truthy(&cond(frame)?) {
                let message = match message {
                    Some(m) => m(frame)?.to_string(),
                    None => code.clone(),
                };
                return Err(Outcome::Held(Stop { code: code.clone(), message }));
            }
            Next::Same
        }
        CompiledStage::Batch => Next::Same,
    })
}

/// Every rule is evaluated; the first failing one names the hold, the others are listed.
fn validate(rules: &[(Compiled, String, Option<Compiled>)], frame: &Frame<'_>) -> Result<Option<Stop>, EvalError> {
    let mut failed: Vec<Stop> = Vec::new();
    for (cond, code, message) in rules {
        match cond(frame) {
            Ok(v) if truthy(&v) => {}
            Ok(_) => {
                let message = match message {
                    Some(m) => m(frame)?.to_string(),
                    None => format!("rule `{code}` failed"),
                };
                failed.push(Stop { code: code.clone(), message });
            }
            Err(e) if matches!(e.failure(), Failure::Hold { .. }) => failed.push(Stop::from_eval(e)),
            Err(e) => return Err(e),
        }
    }
    let mut it = failed.into_iter();
    Ok(it.next().map(|mut first| {
        let others: Vec<String> = it.map(|s| s.code).collect();
        if !others.is_empty() {
            first.message = format!("{} (also failed: {})", first.message, others.join(", "));
        }
        first
    }))
}
