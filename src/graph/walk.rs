//! What an expression can do beyond computing a value: read a lookup, or hold the
//! record. Calls are followed into the functions they call, each once.

use std::cell::RefCell;
use std::collections::{BTreeSet, HashSet};

use crate::ir::{Expr, ExprKind, Hold, Program, StrPart};

pub(super) struct Walker<'p> {
    program: &'p Program,
    /// Functions already walked; a recursive function is walked once. One walker per
    /// part, so each part finds everything its own calls reach.
    seen: RefCell<HashSet<usize>>,
}

impl<'p> Walker<'p> {
    pub fn new(program: &'p Program) -> Self {
        Walker { program, seen: RefCell::new(HashSet::new()) }
    }

    pub fn hold(&self, h: &Hold, lookups: &mut BTreeSet<String>, holds: &mut BTreeSet<String>) {
        holds.insert(h.code.clone());
        if let Some(m) = &h.message {
            self.expr(m, lookups, holds);
        }
    }

    pub fn expr(&self, e: &Expr, lookups: &mut BTreeSet<String>, holds: &mut BTreeSet<String>) {
        let mut children: Vec<&Expr> = Vec::new();
        match &e.kind {
            ExprKind::Literal(_) | ExprKind::Record | ExprKind::Local(_) | ExprKind::Constant(_) => {}
            ExprKind::Concat(parts) => children.extend(parts.iter().filter_map(|p| match p {
                StrPart::Value(v) => Some(v),
                StrPart::Text(_) => None,
            })),
            ExprKind::Field { base, .. } => children.push(base),
            ExprKind::Index { base, index, .. } => children.extend([&**base, &**index]),
            ExprKind::Lookup { table, key } => {
                children.push(key);
                if let Some(l) = self.program.lookups.get(*table) {
                    lookups.insert(l.name.clone());
                }
            }
            ExprKind::Builtin { args, .. } | ExprKind::List(args) => children.extend(args),
            ExprKind::CallFn { function, args } => {
                children.extend(args);
                let first_visit = self.seen.borrow_mut().insert(*function);
                if let (true, Some(f)) = (first_visit, self.program.functions.get(*function)) {
                    children.push(&f.body);
                }
            }
            ExprKind::Unary(_, x) => children.push(x),
            ExprKind::Binary(_, a, b) => children.extend([&**a, &**b]),
            ExprKind::Lambda { body, .. } => children.push(body),
            ExprKind::If { cond, then, otherwise } => children.extend([&**cond, &**then, &**otherwise]),
            ExprKind::Match { scrutinee, arms } => {
                children.push(scrutinee);
                children.extend(arms.iter().map(|(_, body)| body));
            }
            ExprKind::MakeRecord { spreads, fields } => {
                children.extend(spreads);
                children.extend(fields.iter().map(|(_, v)| v));
            }
            ExprKind::Hold(h) => self.hold(h, lookups, holds),
        }
        for c in children {
            self.expr(c, lookups, holds);
        }
    }
}
