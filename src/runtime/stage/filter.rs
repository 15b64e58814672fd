//! `filter COND`: a record for which the condition is false ends, filtered. With `else
//! remember`, such a record still commits the state values it carries.

use super::{Next, Outcome, Stage, StageCx};
use crate::ir;
use crate::runtime::eval::{compile, truthy, Compiled, Frame};
use crate::runtime::unit::Unit;

pub(crate) struct Filter {
    cond: Compiled,
    remember: bool,
}

impl Filter {
    pub fn new(cond: &ir::Expr, remember: bool) -> Filter {
        Filter { cond: compile(cond), remember }
    }
}

impl Stage for Filter {
    fn apply(&self, unit: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        if !truthy(&(self.cond)(frame)?) {
            unit.remember = self.remember;
            return Err(Outcome::Filtered("condition false".into()));
        }
        Ok(Next::Same)
    }
}

/// A stage that lets every record go on as it is.
pub(crate) struct Pass;

impl Stage for Pass {
    fn apply(&self, _: &mut Unit, _: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        Ok(Next::Same)
    }
}
