//! `split LIST`: one record becomes one record per item, each ending on its own.

use super::{Next, Outcome, Stage, StageCx, Stop};
use crate::builtins::EvalError;
use crate::ir;
use crate::runtime::eval::{compile, Compiled, Frame};
use crate::runtime::unit::Unit;
use crate::value::Value;

pub(crate) struct Split(Compiled);

impl Split {
    pub fn new(list: &ir::Expr) -> Split {
        Split(compile(list))
    }
}

impl Stage for Split {
    fn apply(&self, unit: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        if !unit.members.is_empty() {
            // Each part would carry every member of the batch, so each member would end
            // once per part. The checker refuses `split` after `batch`; this keeps the
            // promise for a program that reached here some other way.
            return Err(Outcome::Held(Stop {
                code: "internal_error".into(),
                message: "a batch cannot be split: split the records before the `batch` stage".into(),
            }));
        }
        match (self.0)(frame)? {
            Value::List(items) => Ok(Next::Splits(items.iter().cloned().collect())),
            Value::Null => Ok(Next::Splits(Vec::new())),
            other => Err(EvalError::failed(format!("split needs a list, found {}", other.kind())).into()),
        }
    }
}
