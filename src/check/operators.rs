//! Operators: unary and binary operators, `??`, equality and arithmetic, and the types
//! their results take (Int stays Int, Decimal scales are tracked exactly, Decimal never
//! meets Float).

use crate::builtins;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{BinOp, Expr, ExprKind, StrPart, UnOp};
use crate::types::{join, Type};

use super::expr::texpr;
use super::narrow::facts;
use super::typed::{TExpr, TExprKind};
use super::Checker;

impl Checker<'_> {
    pub(super) fn unary(&mut self, op: UnOp, inner: &Expr, span: Span) -> TExpr {
        let t = match op {
            UnOp::Not => self.expr_against(inner, &Type::Bool, "`not`"),
            UnOp::Neg => {
                let t = self.expr(inner, None);
                if t.ty == Type::Duration {
                    // A duration is a span of time to wait or keep: the runtime has no
                    // negative one, so every record would fail here.
                    let d = Diagnostic::new(
                        Code::InvalidDuration,
                        &self.file,
                        span,
                        "a duration cannot be negative",
                        "negative duration",
                    )
                    .with_help("to go back in time, subtract a duration from a time: `now() - 1d`");
                    self.report(d);
                    return texpr(TExprKind::Unary(op, Box::new(t)), Type::Error, span);
                }
                if !(t.ty.is_numeric() || matches!(t.ty, Type::Error | Type::Never)) {
                    let d = self.bad_operand(&t.ty, inner.span, "-", "a number");
                    self.report(d);
                }
                t
            }
        };
        let ty = match op {
            UnOp::Not => Type::Bool,
            UnOp::Neg => t.ty.clone(),
        };
        texpr(TExprKind::Unary(op, Box::new(t)), ty, span)
    }

    fn bad_operand(&self, ty: &Type, span: Span, op: &str, wanted: &str) -> Diagnostic {
        if ty.is_optional() {
            return Diagnostic::new(
                Code::UnhandledOptional,
                &self.file,
                span,
                format!("`{op}` needs {wanted}, but this value may be absent ({ty})"),
                "may be absent",
            )
            .with_help("give a default with `?? value`, or hold with `?? hold \"code\"`");
        }
        Diagnostic::new(
            Code::BadOperands,
            &self.file,
            span,
            format!("`{op}` needs {wanted}, found {ty}"),
            format!("this is {ty}"),
        )
    }

    pub(super) fn binary(&mut self, op: BinOp, l: &Expr, r: &Expr, span: Span, expected: Option<&Type>) -> TExpr {
        match op {
            BinOp::And | BinOp::Or => {
                let tl = self.expr_against(l, &Type::Bool, &format!("`{}`", op.symbol()));
                self.scope.push();
                for p in facts(l, op == BinOp::And) {
                    self.scope.assume_present(p);
                }
                let tr = self.expr_against(r, &Type::Bool, &format!("`{}`", op.symbol()));
                self.scope.pop();
                texpr(TExprKind::Binary(op, Box::new(tl), Box::new(tr)), Type::Bool, span)
            }
            BinOp::Coalesce => self.coalesce(l, r, span, expected),
            BinOp::Eq | BinOp::Ne => {
                let tl = self.expr(l, None);
                let tr = self.expr(r, None);
                self.check_equality(&tl, &tr, l, r, op);
                texpr(TExprKind::Binary(op, Box::new(tl), Box::new(tr)), Type::Bool, span)
            }
            _ => {
                let tl = self.expr(l, None);
                let tr = self.expr(r, None);
                let ty = self.arith(op, &tl, &tr, l.span, r.span);
                texpr(TExprKind::Binary(op, Box::new(tl), Box::new(tr)), ty, span)
            }
        }
    }

    fn coalesce(&mut self, l: &Expr, r: &Expr, span: Span, expected: Option<&Type>) -> TExpr {
        let tl = self.expr(l, expected.map(|t| t.clone().optional()).as_ref());
        if !tl.ty.is_optional() && !matches!(tl.ty, Type::Error | Type::Json) {
            let d = Diagnostic::new(
                Code::NeedlessOptionalHandling,
                &self.file,
                l.span,
                format!("`??` has no effect: this value is never absent ({})", tl.ty),
                "never absent",
            )
            .with_help("remove `?? ...`");
            self.report(d);
        }
        let inner = tl.ty.unwrap_optional();
        let tr = self.expr(r, Some(expected.unwrap_or(&inner)));
        let ty = match join(&inner, &tr.ty) {
            Some(Type::Never) => Type::Never,
            Some(t) => t,
            None => {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    &self.file,
                    r.span,
                    format!("the default is {}, but the value it replaces is {inner}", tr.ty),
                    format!("this is {}", tr.ty),
                )
                .with_secondary(&self.file, l.span, format!("this is {}", tl.ty));
                self.report(d);
                Type::Error
            }
        };
        texpr(TExprKind::Binary(BinOp::Coalesce, Box::new(tl), Box::new(tr)), ty, span)
    }

    fn check_equality(&mut self, tl: &TExpr, tr: &TExpr, l: &Expr, r: &Expr, op: BinOp) {
        let (a, b) = (tl.ty.unwrap_optional(), tr.ty.unwrap_optional());
        if matches!(a, Type::Never | Type::Error | Type::Json) || matches!(b, Type::Never | Type::Error | Type::Json) {
            return;
        }
        // A string literal compared with a union must be a member.
        for (union, other, lit_span) in [(&a, r, r.span), (&b, l, l.span)] {
            if let (Type::Union(members), ExprKind::Str(parts)) = (union, &other.node) {
                if let [StrPart::Text(s)] = parts.as_slice() {
                    if !members.contains(s) {
                        let help = did_you_mean(s, members.iter().map(String::as_str));
                        let d = Diagnostic::new(
                            Code::NotInUnion,
                            &self.file,
                            lit_span,
                            format!("{s:?} is not one of {union}, so this comparison is always {}", op == BinOp::Ne),
                            "not a member",
                        )
                        .with_help_opt(help);
                        self.report(d);
                    }
                    return;
                }
            }
        }
        if matches!((&a, &b), (Type::Decimal(_), Type::Float) | (Type::Float, Type::Decimal(_))) {
            let d = Diagnostic::new(
                Code::DecimalFloatMix,
                &self.file,
                l.span.to(r.span),
                format!("cannot compare {a} with {b}: Decimal and Float do not mix"),
                "Decimal and Float",
            )
            .with_help("convert one side explicitly with `to_decimal(x)` or `to_float(x)`");
            self.report(d);
            return;
        }
        if join(&a, &b).is_none() && !(a.is_numeric() && b.is_numeric()) {
            let d = Diagnostic::new(
                Code::BadOperands,
                &self.file,
                l.span.to(r.span),
                format!("{a} and {b} can never be equal"),
                format!("{a} {} {b}", op.symbol()),
            )
            .with_help_opt(if a == Type::String || b == Type::String {
                Some("convert the other side with `to_string(x)` or parse the string".into())
            } else {
                None
            });
            self.report(d);
        }
    }

    /// Arithmetic and ordering: exact scale tracking for Decimal.
    fn arith(&mut self, op: BinOp, tl: &TExpr, tr: &TExpr, ls: Span, rs: Span) -> Type {
        use Type::*;
        let (a, b) = (&tl.ty, &tr.ty);
        if matches!(a, Error | Never) || matches!(b, Error | Never) {
            return if matches!(op, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge) {
                Bool
            } else if matches!(a, Error) || matches!(b, Error) {
                Error
            } else {
                // An operand that holds: the result is never produced, as with `hold` itself.
                Never
            };
        }
        for (t, s) in [(a, ls), (b, rs)] {
            if t.is_optional() {
                let d = self.bad_operand(t, s, op.symbol(), "a value");
                self.report(d);
                return Error;
            }
        }
        if matches!((a, b), (Decimal(_), Float) | (Float, Decimal(_))) {
            let d = Diagnostic::new(
                Code::DecimalFloatMix,
                &self.file,
                ls.to(rs),
                format!("`{}` between {a} and {b}: Decimal and Float do not mix", op.symbol()),
                "Decimal and Float",
            )
            .with_help("convert explicitly with `to_decimal(x)` (money stays Decimal) or `to_float(x)`");
            self.report(d);
            return Error;
        }
        if let (BinOp::Add, List(x), List(y)) = (op, a, b) {
            return self.concatenation(x, y, ls, rs);
        }
        let result = match op {
            BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => {
                let ok = (a.is_numeric() && b.is_numeric()) || (a == b && builtins::Constraint::Comparable.admits(a));
                ok.then_some(Bool)
            }
            BinOp::Add => match (a, b) {
                (String | Union(_), String | Union(_)) => Some(String),
                (Secret, String | Secret | Union(_)) | (String | Union(_), Secret) => Some(Secret),
                (DateTime, Duration) | (Duration, DateTime) => Some(DateTime),
                (Duration, Duration) => Some(Duration),
                _ => numeric(op, a, b),
            },
            BinOp::Sub => match (a, b) {
                (DateTime, Duration) => Some(DateTime),
                (DateTime, DateTime) | (Duration, Duration) => Some(Duration),
                _ => numeric(op, a, b),
            },
            BinOp::Mul => match (a, b) {
                (Duration, Int) | (Int, Duration) => Some(Duration),
                _ => numeric(op, a, b),
            },
            _ => numeric(op, a, b),
        };
        result.unwrap_or_else(|| {
            let help = match (a, b) {
                (String, t) | (t, String) if op == BinOp::Add && t.is_scalar() => {
                    Some("to build text, interpolate: \"${a}${b}\"".to_string())
                }
                _ => None,
            };
            let d = Diagnostic::new(
                Code::BadOperands,
                &self.file,
                ls.to(rs),
                format!("`{}` does not apply to {a} and {b}", op.symbol()),
                format!("{a} {} {b}", op.symbol()),
            )
            .with_help_opt(help);
            self.report(d);
            Error
        })
    }
}

impl Checker<'_> {
    /// `xs + ys`: a list of the join of both element types, or an error naming them.
    fn concatenation(&mut self, x: &Type, y: &Type, ls: Span, rs: Span) -> Type {
        if let Some(t) = join(x, y) {
            return t.list();
        }
        let help = if matches!((x, y), (Type::Decimal(_), Type::Float) | (Type::Float, Type::Decimal(_))) {
            "Decimal and Float do not mix: convert the elements of one list with `map(x => to_decimal(x))`".to_string()
        } else {
            format!("convert the elements of one list with `map` so that both hold {x}")
        };
        let d = Diagnostic::new(
            Code::TypeMismatch,
            &self.file,
            ls.to(rs),
            format!("`+` joins lists of one element type, but these hold {x} and {y}"),
            format!("[{x}] + [{y}]"),
        )
        .with_help(help);
        self.report(d);
        Type::Error
    }
}

/// Numeric results: Int stays Int, Decimal scales are tracked exactly.
fn numeric(op: BinOp, a: &Type, b: &Type) -> Option<Type> {
    use Type::*;
    let scale = |t: &Type| match t {
        Int => Some(Some(0)),
        Decimal(s) => Some(*s),
        _ => None,
    };
    Some(match (a, b) {
        (Int, Int) if op == BinOp::Div => Decimal(None),
        (Int, Int) => Int,
        (Float, Float | Int) | (Int, Float) => Float,
        (Decimal(_) | Int, Decimal(_) | Int) => {
            let (sa, sb) = (scale(a)?, scale(b)?);
            Decimal(match op {
                BinOp::Add | BinOp::Sub | BinOp::Rem => sa.zip(sb).map(|(x, y)| x.max(y)),
                BinOp::Mul => sa.zip(sb).map(|(x, y)| (x + y).min(28)),
                _ => None,
            })
        }
        _ => return None,
    })
}
