//! How deep the syntax tree goes, without recursing further than the limit allows, so
//! a hostile file cannot exhaust the stack in the stages after parsing.

use crate::source::Span;

use super::ast::{Arg, Expr, ExprKind, Item, LookupBody, Module, RecordEntry, StageKind, StrPart};

/// The span of the first expression nested deeper than `limit`, if any.
pub fn deepest_beyond(m: &Module, limit: usize) -> Option<Span> {
    let mut found = None;
    for item in &m.items {
        let mut exprs: Vec<&Expr> = Vec::new();
        match item {
            Item::Fn(f) => exprs.push(&f.body),
            Item::Lookup(l) => {
                if let LookupBody::Table(rows) = &l.body {
                    exprs.extend(rows.iter().flat_map(|(k, v)| [k, v]));
                }
            }
            Item::Flow(f) => {
                for s in &f.stages {
                    match &s.node {
                        StageKind::Filter(e) | StageKind::Split(e) | StageKind::FilterRemember(e) => exprs.push(e),
                        StageKind::State { key, value, .. } => exprs.extend([key, value]),
                        StageKind::Dedupe { key, .. } => exprs.push(key),
                        StageKind::Validate(rules) => exprs.extend(rules.iter().map(|r| &r.cond)),
                        StageKind::Let { value, .. } => exprs.push(value),
                        StageKind::Map { body, .. } => exprs.push(body),
                        StageKind::HoldWhen { cond, .. } => exprs.push(cond),
                        StageKind::Batch(opts) => exprs.extend(opts.iter().map(|o| &o.value)),
                        StageKind::Group(g) => exprs.extend([&g.key, &g.body].into_iter().chain(&g.within)),
                        StageKind::Enrich(e) => exprs.extend(e.options.iter().map(|o| &o.value)),
                    }
                }
                for o in f.sources.iter().flat_map(|s| &s.options).chain(f.sinks.iter().flat_map(|s| &s.options)) {
                    exprs.push(&o.value);
                }
            }
            _ => {}
        }
        for e in exprs {
            walk(e, 0, limit, &mut found);
            if found.is_some() {
                return found;
            }
        }
    }
    found
}

fn walk(e: &Expr, depth: usize, limit: usize, found: &mut Option<Span>) {
    if found.is_some() {
        return;
    }
    if depth > limit {
        *found = Some(e.span);
        return;
    }
    let d = depth + 1;
    let mut go = |x: &Expr| walk(x, d, limit, found);
    match &e.node {
        ExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let StrPart::Interp(x) = p {
                go(x)
            }
        }),
        ExprKind::Field { base, .. } => go(base),
        ExprKind::Index { base, index, .. } => {
            go(base);
            go(index)
        }
        ExprKind::Call { func, args } => {
            go(func);
            args.iter().map(Arg::expr).for_each(go)
        }
        ExprKind::Method { receiver, args, .. } => {
            go(receiver);
            args.iter().map(Arg::expr).for_each(go)
        }
        ExprKind::Unary(_, x) => go(x),
        ExprKind::Binary(_, a, b) => {
            go(a);
            go(b)
        }
        ExprKind::Lambda { body, .. } => go(body),
        ExprKind::If { cond, then, otherwise } => {
            go(cond);
            go(then);
            go(otherwise)
        }
        ExprKind::Match { scrutinee, arms } => {
            go(scrutinee);
            arms.iter().for_each(|a| go(&a.body))
        }
        ExprKind::List(items) => items.iter().for_each(go),
        ExprKind::Record(entries) => entries.iter().for_each(|en| match en {
            RecordEntry::Field(_, x) | RecordEntry::Spread(x) => go(x),
        }),
        ExprKind::Hold(h) => {
            if let Some(m) = &h.message {
                go(m)
            }
        }
        ExprKind::Lit(_) | ExprKind::Name(_) => {}
    }
}
