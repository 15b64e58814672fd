//! The typed expressions of a document, found by position: what hover, definition and
//! completion ask the checker's typed program about.

use std::sync::Arc;

use crate::check::typed::{TExpr, TExprKind, THold, TLookupData, TRecordEntry, TStageKind, TStrPart};

use super::documents::Analysis;

/// The module name the checker gives the document's functions and lookups.
fn module_name(analysis: &Analysis) -> String {
    std::path::Path::new(&analysis.file.name).file_stem().and_then(|s| s.to_str()).unwrap_or("main").to_string()
}

/// Every typed expression written in the document, parents before children.
pub fn all(analysis: &Analysis) -> Vec<&TExpr> {
    let p = &analysis.outcome.program;
    let module = module_name(analysis);
    let mut out = Vec::new();
    for f in p.fns.iter().filter(|f| f.module == module) {
        walk(&f.body, &mut out);
    }
    for l in p.lookups.iter().filter(|l| l.module == module) {
        if let TLookupData::Table(rows) = &l.data {
            for (k, v) in rows {
                walk(k, &mut out);
                walk(v, &mut out);
            }
        }
    }
    for flow in p.flows.iter().filter(|f| Arc::ptr_eq(&f.file, &analysis.file)) {
        for o in flow.source.iter().flat_map(|s| &s.options) {
            walk(&o.value, &mut out);
        }
        for stage in &flow.stages {
            match &stage.kind {
                TStageKind::Filter(e) | TStageKind::Split(e) | TStageKind::Map(e) => walk(e, &mut out),
                TStageKind::Dedupe { key, .. } => walk(key, &mut out),
                TStageKind::Let { value, .. } => walk(value, &mut out),
                TStageKind::Validate(rules) => {
                    for r in rules {
                        walk(&r.cond, &mut out);
                        hold(&r.hold, &mut out);
                    }
                }
                TStageKind::HoldWhen { cond, hold: h } => {
                    walk(cond, &mut out);
                    hold(h, &mut out);
                }
                TStageKind::Batch { .. } => {}
                TStageKind::Group(g) => {
                    walk(&g.key, &mut out);
                    g.aggregates.iter().filter_map(|a| a.arg.as_ref()).for_each(|a| walk(a, &mut out));
                    walk(&g.body, &mut out);
                }
                TStageKind::Enrich(e) => {
                    for o in &e.options {
                        walk(&o.value, &mut out);
                    }
                }
                TStageKind::FilterRemember(e) => walk(e, &mut out),
                TStageKind::State(s) => {
                    walk(&s.key, &mut out);
                    walk(&s.value, &mut out);
                }
            }
        }
        for o in flow.sinks.iter().flat_map(|s| &s.options) {
            walk(&o.value, &mut out);
        }
    }
    out
}

fn hold<'a>(h: &'a THold, out: &mut Vec<&'a TExpr>) {
    if let Some(m) = &h.message {
        walk(m, out);
    }
}

fn walk<'a>(e: &'a TExpr, out: &mut Vec<&'a TExpr>) {
    out.push(e);
    match &e.kind {
        TExprKind::Lit(_)
        | TExprKind::CurrentRecord
        | TExprKind::Local(..)
        | TExprKind::Constant(_)
        | TExprKind::Error => {}
        TExprKind::Str(parts) => {
            for p in parts {
                if let TStrPart::Interp(e) = p {
                    walk(e, out);
                }
            }
        }
        TExprKind::Field { base, .. } => walk(base, out),
        TExprKind::Index { base, index, .. } => {
            walk(base, out);
            walk(index, out);
        }
        TExprKind::LookupGet { key, .. } => walk(key, out),
        TExprKind::Call { args, .. } | TExprKind::List(args) => args.iter().for_each(|a| walk(a, out)),
        TExprKind::Unary(_, a) => walk(a, out),
        TExprKind::Binary(_, a, b) => {
            walk(a, out);
            walk(b, out);
        }
        TExprKind::Lambda { body, .. } => walk(body, out),
        TExprKind::If { cond, then, otherwise } => {
            walk(cond, out);
            walk(then, out);
            walk(otherwise, out);
        }
        TExprKind::Match { scrutinee, arms } => {
            walk(scrutinee, out);
            arms.iter().for_each(|a| walk(&a.body, out));
        }
        TExprKind::Record(entries) => {
            for entry in entries {
                match entry {
                    TRecordEntry::Field(_, e) | TRecordEntry::Spread(e) => walk(e, out),
                }
            }
        }
        TExprKind::Hold(h) => hold(h, out),
    }
}

/// The smallest expression whose span holds `offset` (a cursor just after a name counts
/// as on it).
pub fn innermost(analysis: &Analysis, offset: usize) -> Option<&TExpr> {
    let offset = offset as u32;
    let mut best: Option<&TExpr> = None;
    for e in all(analysis) {
        let inside = e.span.start <= offset && offset <= e.span.end && !e.span.is_empty();
        if inside && best.is_none_or(|b| e.span.len() <= b.span.len()) {
            best = Some(e);
        }
    }
    best
}

/// Whether `offset` is inside one of the expressions below `e` (then `e` itself is not
/// what the cursor is on: a call's name is outside its arguments).
pub fn in_children(e: &TExpr, offset: usize) -> bool {
    let offset = offset as u32;
    let mut children = Vec::new();
    walk(e, &mut children);
    children.iter().skip(1).any(|c| c.span.start <= offset && offset <= c.span.end && !c.span.is_empty())
}
