//! `dedupe KEY [within D]`: a record whose key was delivered, filtered or held before (or
//! is on its way now) ends, filtered. The key is committed with the record's end.

use super::{Next, Outcome, Stage, StageCx};
use crate::ir;
use crate::runtime::eval::{compile, Compiled, Frame};
use crate::runtime::unit::Unit;

pub(crate) struct Dedupe {
    key: Compiled,
    within_ms: Option<u64>,
}

impl Dedupe {
    pub fn new(key: &ir::Expr, within_ms: Option<u64>) -> Dedupe {
        Dedupe { key: compile(key), within_ms }
    }
}

impl Stage for Dedupe {
    fn apply(&self, unit: &mut Unit, frame: &Frame<'_>, cx: &StageCx<'_>) -> Result<Next, Outcome> {
        let key = (self.key)(frame)?.key().into_owned();
        let info = cx.info;
        // Only dedupe stages take the lock on the keys in flight.
        let mut in_flight = info.in_flight();
        if in_flight.contains(&key) || cx.store.dedupe_seen(&info.name, &key, info.now).unwrap_or(false) {
            return Err(Outcome::Repeat(format!("duplicate of key {key}")));
        }
        in_flight.insert(key.clone());
        let expires = self
            .within_ms
            .and_then(|ms| i64::try_from(ms).ok())
            .map(|ms| info.now + chrono::Duration::milliseconds(ms));
        unit.dedupe.push((key, expires));
        Ok(Next::Same)
    }
}
