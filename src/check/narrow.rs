//! Narrowing facts: which paths a condition proves present.

use crate::syntax::ast::{BinOp, Expr, ExprKind, Literal, UnOp};

/// The path an expression reads (`record.customer.email`), if it is a plain path.
pub fn path_key(e: &Expr) -> Option<String> {
    match &e.node {
        ExprKind::Name(n) => Some(n.clone()),
        ExprKind::Field { base, name, .. } => Some(format!("{}.{}", path_key(base)?, name.node)),
        _ => None,
    }
}

/// Paths known present when `cond` is `positive` (true) or not (false).
pub fn facts(cond: &Expr, positive: bool) -> Vec<String> {
    let mut out = Vec::new();
    collect(cond, positive, &mut out);
    out
}

fn collect(cond: &Expr, positive: bool, out: &mut Vec<String>) {
    match &cond.node {
        ExprKind::Binary(op @ (BinOp::Ne | BinOp::Eq), l, r) => {
            let is_null = |e: &Expr| matches!(e.node, ExprKind::Lit(Literal::Null));
            let equal = (*op == BinOp::Eq) == positive;
            match (is_null(l), is_null(r)) {
                // `x != null` true, or `x == null` false: x is present.
                (false, true) if !equal => present_path(l, out),
                (true, false) if !equal => present_path(r, out),
                // `x == "paid"` true: x equals something present, so it is present.
                (false, false) if equal => {
                    if is_literal(r) {
                        present_path(l, out);
                    }
                    if is_literal(l) {
                        present_path(r, out);
                    }
                }
                _ => {}
            }
        }
        ExprKind::Binary(BinOp::And, l, r) if positive => {
            collect(l, true, out);
            collect(r, true, out);
        }
        ExprKind::Binary(BinOp::Or, l, r) if !positive => {
            collect(l, false, out);
            collect(r, false, out);
        }
        ExprKind::Unary(UnOp::Not, inner) => collect(inner, !positive, out),
        _ => {}
    }
}

fn is_literal(e: &Expr) -> bool {
    matches!(e.node, ExprKind::Lit(_) | ExprKind::Str(_))
}

/// `a?.b?.c` present means `a`, `a.b` and `a.b.c` are all present.
fn present_path(e: &Expr, out: &mut Vec<String>) {
    if let Some(k) = path_key(e) {
        out.push(k);
    }
    if let ExprKind::Field { base, optional: true, .. } = &e.node {
        present_path(base, out);
    }
}
