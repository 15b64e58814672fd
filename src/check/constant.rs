//! What an expression is before the flow runs, where that is known: literals and the
//! arithmetic of durations. A mistake in a constant fails every record alike, so the
//! checker reports it rather than letting the run hold each record in turn.

use crate::builtins::Builtin;
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{BinOp, Literal, UnOp};
use crate::types::Type;

use super::typed::{TExpr, TExprKind};
use super::Checker;

/// An Int or a Duration (in milliseconds) made only of literals, folded in a range wide
/// enough to see a negative duration the runtime could not hold. `None` when it depends
/// on the record or overflows.
pub(super) fn folded(t: &TExpr) -> Option<i128> {
    if !matches!(t.ty, Type::Int | Type::Duration) {
        return None;
    }
    match &t.kind {
        TExprKind::Lit(Literal::Int(n)) => Some(i128::from(*n)),
        TExprKind::Lit(Literal::Duration(ms)) => Some(i128::from(*ms)),
        TExprKind::Unary(UnOp::Neg, inner) => folded(inner).map(|n| -n),
        TExprKind::Binary(op, l, r) => {
            let (a, b) = (folded(l)?, folded(r)?);
            match op {
                BinOp::Add => a.checked_add(b),
                BinOp::Sub => a.checked_sub(b),
                BinOp::Mul => a.checked_mul(b),
                _ => None,
            }
        }
        _ => None,
    }
}

/// A span of time in the units it is written with, for messages.
fn shown(ms: i128) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

impl Checker<'_> {
    /// Reports a Duration known to be zero or negative; `what` names where it goes.
    /// Returns whether it did.
    pub(super) fn require_positive(&mut self, t: &TExpr, what: &str) -> bool {
        if t.ty != Type::Duration {
            return false;
        }
        let Some(ms) = folded(t) else { return false };
        if ms > 0 {
            return false;
        }
        let d = if ms == 0 {
            Diagnostic::new(
                Code::InvalidDuration,
                &self.file,
                t.span,
                format!("{what} must be longer than zero"),
                "zero duration",
            )
        } else {
            Diagnostic::new(
                Code::InvalidDuration,
                &self.file,
                t.span,
                format!("{what} must be longer than zero, but this comes to {}", shown(ms)),
                "negative duration",
            )
        };
        self.report(d.with_help("write a positive duration, e.g. `30s`, `5m`, `1d`"));
        true
    }

    /// A builtin's constant arguments: its durations are spans of time to wait or keep,
    /// so longer than zero.
    pub(super) fn check_constant_args(&mut self, b: &Builtin, args: &[TExpr]) {
        for (p, a) in b.params.iter().zip(args) {
            if p.ty == Type::Duration {
                self.require_positive(a, &format!("argument `{}` of `{}`", p.name, b.name));
            }
        }
    }
}
