//! `hold when COND "code" "message"`: a record for which the condition holds is held.

use super::{Next, Outcome, Stage, StageCx, Stop};
use crate::ir;
use crate::runtime::eval::{compile, truthy, Compiled, Frame};
use crate::runtime::unit::Unit;

pub(crate) struct HoldWhen {
    cond: Compiled,
    code: String,
    message: Option<Compiled>,
}

impl HoldWhen {
    pub fn new(cond: &ir::Expr, hold: &ir::Hold) -> HoldWhen {
        HoldWhen { cond: compile(cond), code: hold.code.clone(), message: hold.message.as_ref().map(|m| compile(m)) }
    }
}

impl Stage for HoldWhen {
    fn apply(&self, _: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        if truthy(&(self.cond)(frame)?) {
            let message = match &self.message {
                Some(m) => m(frame)?.to_string(),
                None => self.code.clone(),
            };
            return Err(Outcome::Held(Stop { code: self.code.clone(), message }));
        }
        Ok(Next::Same)
    }
}
