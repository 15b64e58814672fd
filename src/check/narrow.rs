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
            let proves_present = (*op == BinOp::Ne) == positive;
            if !proves_present {
                return;
            }
            let subject = match (&l.node, &r.node) {
                (_, ExprKind::Lit(Literal::Null)) => l,
                (ExprKind::Lit(Literal::Null), _) => r,
                // `x == "a"` also proves x present.
                _ if *op == BinOp::Eq => {
                    present_path(l, out);
                    r
                }
                _ => return,
            };
            present_path(subject, out);
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

/// `a?.b?.c` present means `a`, `a.b` and `a.b.c` are all present.
fn present_path(e: &Expr, out: &mut Vec<String>) {
    if let Some(k) = path_key(e) {
        out.push(k);
    }
    if let ExprKind::Field { base, optional: true, .. } = &e.node {
        present_path(base, out);
    }
}
