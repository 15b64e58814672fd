//! `let NAME = EXPR`: a value later stages and sinks read by name, kept in a slot.

use super::{Next, Outcome, Stage, StageCx};
use crate::ir;
use crate::runtime::eval::{compile, Compiled, Frame};
use crate::runtime::unit::Unit;

pub(crate) struct Let {
    slot: u32,
    value: Compiled,
}

impl Let {
    pub fn new(slot: ir::Slot, value: &ir::Expr) -> Let {
        Let { slot, value: compile(value) }
    }
}

impl Stage for Let {
    fn apply(&self, _: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        frame.set(self.slot, (self.value)(frame)?);
        Ok(Next::Same)
    }
}
