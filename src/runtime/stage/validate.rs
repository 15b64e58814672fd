//! `validate { COND else hold "code" "message" ... }`: every rule is evaluated; the first
//! failing one names the hold, and the others are listed in its message.

use super::{Next, Outcome, Stage, StageCx, Stop};
use crate::builtins::{EvalError, Failure};
use crate::ir;
use crate::runtime::eval::{compile, truthy, Compiled, Frame};
use crate::runtime::unit::Unit;

struct Rule {
    cond: Compiled,
    code: String,
    message: Option<Compiled>,
}

pub(crate) struct Validate(Vec<Rule>);

impl Validate {
    pub fn new(rules: &[ir::Rule]) -> Validate {
        Validate(
            rules
                .iter()
                .map(|r| Rule {
                    cond: compile(&r.cond),
                    code: r.hold.code.clone(),
                    message: r.hold.message.as_ref().map(|m| compile(m)),
                })
                .collect(),
        )
    }

    fn failed(&self, frame: &Frame<'_>) -> Result<Option<Stop>, EvalError> {
        let mut failed: Vec<Stop> = Vec::new();
        for rule in &self.0 {
            match (rule.cond)(frame) {
                Ok(v) if truthy(&v) => {}
                Ok(_) => {
                    let message = match &rule.message {
                        Some(m) => m(frame)?.to_string(),
                        None => format!("rule `{}` failed", rule.code),
                    };
                    failed.push(Stop { code: rule.code.clone(), message });
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
}

impl Stage for Validate {
    fn apply(&self, _: &mut Unit, frame: &Frame<'_>, _: &StageCx<'_>) -> Result<Next, Outcome> {
        match self.failed(frame)? {
            None => Ok(Next::Same),
            Some(stop) => Err(Outcome::Held(stop)),
        }
    }
}
