//! `map EXPR`: the record becomes what the expression builds.

use super::{Next, Outcome, Stage, StageCx};
use crate::ir;
use crate::runtime::eval::{compile, Compiled, Frame};
use crate::runtime::unit::Unit;

pub(crate) struct Map(Compiled);

impl Map {
    pub fn new(body: &ir::Expr) -> Map {
        Map(compile(body))
    }
}

impl Stage for Map {
    fn apply(&self, _: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        Ok(Next::Becomes((self.0)(frame)?))
    }
}
