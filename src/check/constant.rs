//! What an expression is before the flow runs, where that is known: literals and the
//! arithmetic of durations. A mistake in a constant fails every record alike, so the
//! checker reports it rather than letting the run hold each record in turn.

use crate::builtins::{Builtin, Failure};
use crate::diagnostic::{Code, Diagnostic};
use crate::syntax::ast::{BinOp, Literal, UnOp};
use crate::types::Type;
use crate::value::Value;

use super::typed::{TExpr, TExprKind, TStrPart};
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

/// A constant argument as the call would receive it at run time.
fn value(t: &TExpr) -> Option<Value> {
    match (&t.kind, &t.ty) {
        (TExprKind::Str(parts), _) => {
            let mut text = String::new();
            for part in parts {
                match part {
                    TStrPart::Text(s) => text.push_str(s),
                    TStrPart::Interp(_) => return None,
                }
            }
            Some(Value::str(&text))
        }
        (_, Type::Duration) => folded(t).and_then(|ms| u64::try_from(ms).ok()).map(Value::Duration),
        (_, Type::Int) => folded(t).and_then(|n| i64::try_from(n).ok()).map(Value::Int),
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
    /// so longer than zero; then the builtin's own check, made with the code it runs.
    pub(super) fn check_constant_args(&mut self, b: &Builtin, args: &[TExpr]) {
        let mut reported = false;
        for (p, a) in b.params.iter().zip(args) {
            if p.ty == Type::Duration {
                reported |= self.require_positive(a, &format!("argument `{}` of `{}`", p.name, b.name));
            }
        }
        if reported || (b.check.is_none() && b.lint.is_none()) {
            return;
        }
        let values: Vec<Option<Value>> = args.iter().map(value).collect();
        let Some(check) = b.check else { return self.lint_constant_args(b, args, &values) };
        let Err((i, e)) = check(&values) else { return self.lint_constant_args(b, args, &values) };
        let (Some(p), Some(a)) = (b.params.get(i), args.get(i)) else { return };
        let reason = reason(&e);
        // Parameters are named alike across the builtins: a `zone` is an IANA zone name,
        // a `time` a time of day.
        let code = match p.name.as_str() {
            _ if p.ty == Type::Duration => Code::InvalidDuration,
            "zone" => Code::UnknownTimeZone,
            "time" => Code::InvalidTimeOfDay,
            _ => Code::InvalidArgument,
        };
        let d = Diagnostic::new(
            code,
            &self.file,
            a.span,
            format!("argument `{}` of `{}`: {}", p.name, b.name, reason),
            "fails for every record",
        )
        .with_help(format!(
            "this argument is the same for every record, so `{}` would fail, and hold, each one",
            b.name
        ));
        self.report(d);
    }

    /// A literal format that reads a date and time without an offset (W0008).
    fn lint_constant_args(&mut self, b: &Builtin, args: &[TExpr], values: &[Option<Value>]) {
        let Some(lint) = b.lint else { return };
        let Err((i, e)) = lint(values) else { return };
        let Some(a) = args.get(i) else { return };
        let d = Diagnostic::new(Code::TimeWithoutZone, &self.file, a.span, format!("`{}`: {}", b.name, reason(&e)), "no offset")
            .with_help("if the text is a local time, say whose: `parse_local(s, format, \"Europe/London\")`; if it is UTC, add `%z` to the format and `+0000` to the text");
        self.report(d);
    }
}

fn reason(e: &crate::builtins::EvalError) -> String {
    match e.failure() {
        Failure::Failed(m) => m.clone(),
        Failure::Hold { code, .. } => code.clone(),
    }
}
