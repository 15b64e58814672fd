//! `state NAME: T by KEY = VALUE`: binds the value last committed under the key (null
//! when there is none) and carries VALUE on the record, to be committed with its end
//! (`collect.rs`) only if it is delivered or filtered by a `filter ... else remember`.
//!
//! A record sees the value the last earlier record of the run with its key assigned
//! (`FlowInfo::assigned`), whatever that record's end turns out to be, because the store
//! learns it only once that end is known. Without it, 10 → 8 → 10 within one input
//! would compare the last 10 with the stored 10 and drop it, leaving the receiver at 8.

use super::{Next, Outcome, Stage, StageCx, Stop};
use crate::ir;
use crate::runtime::eval::{compile, Compiled, Frame};
use crate::runtime::unit::Unit;
use crate::state::StateWrite;
use crate::types::Type;
use crate::value::{decode_json, to_json_string, Redaction, Value};

pub(crate) struct State {
    slot: u32,
    name: String,
    ty: Type,
    key: Compiled,
    value: Compiled,
}

impl State {
    pub fn new(s: &ir::StateStage) -> State {
        State { slot: s.slot, name: s.name.clone(), ty: s.ty.clone(), key: compile(&s.key), value: compile(&s.value) }
    }

    /// What the store remembers under `key`, as the declared type.
    fn stored(&self, key: &str, cx: &StageCx<'_>) -> Result<Value, Outcome> {
        let text = cx.store.state_get(&cx.info.name, &self.name, key).map_err(|e| {
            Outcome::Held(Stop {
                code: "state_unavailable".into(),
                message: format!("state `{}` could not be read for key {key}: {e}", self.name),
            })
        })?;
        let Some(text) = text else { return Ok(Value::Null) };
        decode_json(text.as_bytes(), &self.ty).map_err(|e| {
            Outcome::Held(Stop {
                code: "state_unreadable".into(),
                message: format!("state `{}` under key {key} does not read as {}: {e}", self.name, self.ty),
            })
        })
    }
}

impl Stage for State {
    fn apply(&self, unit: &mut Unit, frame: &Frame<'_>, cx: &StageCx<'_>) -> Result<Next, Outcome> {
        let key = (self.key)(frame)?.key().into_owned();
        let value = (self.value)(frame)?;
        let json = to_json_string(&value, Redaction::Redact);
        let k = (self.name.clone(), key);
        // Held across the store's read: a value the collector commits meanwhile is in
        // the store before it leaves here.
        let mut assigned = cx.info.assigned();
        let last = match assigned.get(&k) {
            Some((_, v)) => v.clone(),
            None => self.stored(&k.1, cx)?,
        };
        frame.set(self.slot, last);
        let key = k.1.clone();
        assigned.insert(k, (unit.seq, value));
        unit.state.push((unit.seq, StateWrite { name: self.name.clone(), key, value: json }));
        Ok(Next::Same)
    }
}

/// State values to start a dry run or test case with, from a seed file's text:
/// `{ "NAME": { "KEY": value, ... }, ... }`, each NAME a `state` of `flow` and each
/// value of its type.
pub fn seed(flow: &ir::Flow, text: &str) -> Result<Vec<StateWrite>, String> {
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let serde_json::Value::Object(names) = json else {
        return Err("expected an object of state names, each an object of keys to values".into());
    };
    let mut out = Vec::new();
    for (name, keys) in names {
        let ty = flow
            .stages
            .iter()
            .find_map(|s| match &s.kind {
                ir::StageKind::State(s) if s.name == name => Some(&s.ty),
                _ => None,
            })
            .ok_or_else(|| format!("flow `{}` has no state `{name}`", flow.name))?;
        let serde_json::Value::Object(keys) = keys else {
            return Err(format!("state `{name}`: expected an object of keys to values"));
        };
        for (key, value) in keys {
            crate::value::decode_json_value(&value, ty)
                .map_err(|e| format!("state `{name}` under key {key:?} is not a {ty}: {e}"))?;
            out.push(StateWrite { name: name.clone(), key, value: value.to_string() });
        }
    }
    Ok(out)
}
