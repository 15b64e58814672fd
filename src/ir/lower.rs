//! Lowering: the typed program to IR. Runs only on programs without errors.

use crate::check::typed::{self as t, Callee, TExpr, TExprKind};
use crate::modules::ModuleGraph;
use crate::types::Type;

use super::*;

/// Lowers a checked program, whose modules are in `graph`. Flows without a source
/// (already reported) are skipped.
pub fn lower(p: &t::Program, graph: &ModuleGraph) -> Program {
    Program {
        flows: p.flows.iter().filter_map(|f| flow(f, p, graph)).collect(),
        functions: p.fns.iter().map(function).collect(),
        lookups: p.lookups.iter().map(lookup).collect(),
        widened: p.widened.clone(),
    }
}

fn flow(f: &t::TFlow, p: &t::Program, graph: &ModuleGraph) -> Option<Flow> {
    let source = f.source.as_ref()?;
    Some(Flow {
        name: f.name.clone(),
        file: f.file.clone(),
        version: super::version::version(f, p, graph),
        source: Connector {
            name: source.name.clone(),
            kind: source.kind.clone(),
            options: options(&source.options),
            ty: source.ty.clone(),
            span: source.span,
        },
        stages: f
            .stages
            .iter()
            .map(|s| Stage {
                kind: stage(&s.kind),
                input: s.input.clone(),
                output: s.output.clone(),
                span: s.span,
                line: f.file.line_col(s.span.start).0,
            })
            .collect(),
        sinks: f
            .sinks
            .iter()
            .map(|s| Connector {
                name: s.name.clone(),
                kind: s.kind.clone(),
                options: options(&s.options),
                ty: s.input.clone(),
                span: s.span,
            })
            .collect(),
        slots: f.locals,
        span: f.span,
    })
}

fn options(opts: &[t::TOption]) -> Vec<(String, Expr)> {
    opts.iter().map(|o| (o.name.clone(), expr(&o.value))).collect()
}

fn stage(k: &t::TStageKind) -> StageKind {
    match k {
        t::TStageKind::Filter(e) => StageKind::Filter(expr(e)),
        t::TStageKind::Dedupe { key, within_ms } => StageKind::Dedupe { key: expr(key), within_ms: *within_ms },
        t::TStageKind::Validate(rules) => StageKind::Validate(
            rules.iter().map(|r| Rule { cond: expr(&r.cond), hold: hold(&r.hold), span: r.span }).collect(),
        ),
        t::TStageKind::Let { local, name, value } => {
            StageKind::Let { slot: *local, name: name.clone(), value: expr(value) }
        }
        t::TStageKind::Split(e) => StageKind::Split(expr(e)),
        t::TStageKind::Map(e) => StageKind::Map(expr(e)),
        t::TStageKind::HoldWhen { cond, hold: h } => StageKind::HoldWhen { cond: expr(cond), hold: hold(h) },
        t::TStageKind::Batch { size, max_wait_ms } => StageKind::Batch { size: *size, max_wait_ms: *max_wait_ms },
        t::TStageKind::Group(g) => StageKind::Group(Box::new(Group {
            key: expr(&g.key),
            within_ms: g.within_ms,
            key_slot: g.key_local,
            aggregates: g.aggregates.iter().map(|a| (a.kind, a.arg.as_ref().map(expr), a.local)).collect(),
            body: expr(&g.body),
        })),
        t::TStageKind::Enrich(e) => StageKind::Enrich(Box::new(super::Enrich {
            slot: e.local,
            name: e.name.clone(),
            call: Connector {
                name: e.name.clone(),
                kind: e.kind.clone(),
                options: options(&e.options),
                ty: e.ty.clone(),
                span: crate::source::Span::default(),
            },
            select: e.select.clone(),
        })),
        t::TStageKind::FilterRemember(e) => StageKind::FilterRemember(expr(e)),
        t::TStageKind::State(s) => StageKind::State(Box::new(StateStage {
            slot: s.local,
            name: s.name.clone(),
            ty: s.ty.clone(),
            key: expr(&s.key),
            value: expr(&s.value),
        })),
    }
}

fn function(f: &t::TFn) -> Function {
    Function {
        name: f.name.clone(),
        module: f.module.clone(),
        params: f.params.iter().map(|p| p.0).collect(),
        param_types: f.params.iter().map(|p| p.2.clone()).collect(),
        slots: max_slot(&f.body).max(f.params.iter().map(|p| p.0 + 1).max().unwrap_or(0)),
        ret: f.ret.clone(),
        body: expr(&f.body),
    }
}

/// Functions number their own locals from zero; this is how many they need.
fn max_slot(e: &TExpr) -> u32 {
    let mut max = 0;
    visit(e, &mut |x| match &x.kind {
        TExprKind::Local(id, _) => max = max.max(id + 1),
        TExprKind::Lambda { params, .. } => max = max.max(params.iter().map(|p| p + 1).max().unwrap_or(0)),
        TExprKind::Match { arms, .. } => {
            for a in arms {
                for p in &a.patterns {
                    if let t::TPattern::Bind(id) = p {
                        max = max.max(id + 1);
                    }
                }
            }
        }
        _ => {}
    });
    max
}

pub(super) fn visit<'a>(e: &'a TExpr, f: &mut dyn FnMut(&'a TExpr)) {
    f(e);
    match &e.kind {
        TExprKind::Str(parts) => parts.iter().for_each(|p| {
            if let t::TStrPart::Interp(x) = p {
                visit(x, f)
            }
        }),
        TExprKind::Field { base, .. } => visit(base, f),
        TExprKind::Index { base, index, .. } => {
            visit(base, f);
            visit(index, f)
        }
        TExprKind::LookupGet { key, .. } => visit(key, f),
        TExprKind::Call { args, .. } | TExprKind::List(args) => args.iter().for_each(|a| visit(a, f)),
        TExprKind::Unary(_, x) => visit(x, f),
        TExprKind::Binary(_, a, b) => {
            visit(a, f);
            visit(b, f)
        }
        TExprKind::Lambda { body, .. } => visit(body, f),
        TExprKind::If { cond, then, otherwise } => {
            visit(cond, f);
            visit(then, f);
            visit(otherwise, f)
        }
        TExprKind::Match { scrutinee, arms } => {
            visit(scrutinee, f);
            arms.iter().for_each(|a| visit(&a.body, f))
        }
        TExprKind::Record(entries) => entries.iter().for_each(|en| match en {
            t::TRecordEntry::Field(_, x) | t::TRecordEntry::Spread(x) => visit(x, f),
        }),
        TExprKind::Hold(h) => {
            if let Some(m) = &h.message {
                visit(m, f)
            }
        }
        _ => {}
    }
}

fn lookup(l: &t::TLookup) -> Lookup {
    Lookup {
        name: l.name.clone(),
        module: l.module.clone(),
        key: l.key.clone(),
        value: l.value.clone(),
        data: match &l.data {
            t::TLookupData::Table(rows) => LookupData::Table(rows.iter().map(|(k, v)| (expr(k), expr(v))).collect()),
            t::TLookupData::Http(h) => LookupData::Http(Box::new(super::HttpLookup {
                url: expr(&h.url),
                headers: h.headers.as_ref().map(expr),
                select: h.select.clone(),
                key: h.key.clone(),
                value: h.value.clone(),
                refresh_ms: h.refresh_ms,
            })),
            t::TLookupData::File { format, path, key, value } => {
                LookupData::File { format: format.clone(), path: path.clone(), key: key.clone(), value: value.clone() }
            }
        },
    }
}

fn hold(h: &t::THold) -> Hold {
    Hold { code: h.code.clone(), message: h.message.as_ref().map(|m| Box::new(expr(m))) }
}

fn boxed(e: &TExpr) -> Box<Expr> {
    Box::new(expr(e))
}

fn expr(e: &TExpr) -> Expr {
    let kind = match &e.kind {
        TExprKind::Lit(l) => ExprKind::Literal(l.clone()),
        TExprKind::Str(parts) => ExprKind::Concat(
            parts
                .iter()
                .map(|p| match p {
                    t::TStrPart::Text(s) => StrPart::Text(s.clone()),
                    t::TStrPart::Interp(x) => StrPart::Value(expr(x)),
                })
                .collect(),
        ),
        TExprKind::CurrentRecord => ExprKind::Record,
        TExprKind::Local(id, _) => ExprKind::Local(*id),
        TExprKind::Constant(c) => ExprKind::Constant(c.clone()),
        TExprKind::Field { base, name, optional } => ExprKind::Field {
            slot: field_slot(&base.ty, name),
            base: boxed(base),
            name: name.clone(),
            optional: *optional,
        },
        TExprKind::Index { base, index, optional } => {
            ExprKind::Index { base: boxed(base), index: boxed(index), optional: *optional }
        }
        TExprKind::LookupGet { lookup, key } => ExprKind::Lookup { table: *lookup, key: boxed(key) },
        TExprKind::Call { callee, args, optional } => {
            let args = args.iter().map(expr).collect();
            match callee {
                Callee::Builtin(b) => ExprKind::Builtin { builtin: b, args, optional: *optional },
                Callee::Fn(i) => ExprKind::CallFn { function: *i, args },
            }
        }
        TExprKind::Unary(op, x) => ExprKind::Unary(*op, boxed(x)),
        TExprKind::Binary(op, a, b) => ExprKind::Binary(*op, boxed(a), boxed(b)),
        TExprKind::Lambda { params, body } => ExprKind::Lambda { params: params.clone(), body: boxed(body) },
        TExprKind::If { cond, then, otherwise } => {
            ExprKind::If { cond: boxed(cond), then: boxed(then), otherwise: boxed(otherwise) }
        }
        TExprKind::Match { scrutinee, arms } => ExprKind::Match {
            scrutinee: boxed(scrutinee),
            arms: arms.iter().map(|a| (a.patterns.iter().map(pattern).collect(), expr(&a.body))).collect(),
        },
        TExprKind::List(items) => ExprKind::List(items.iter().map(expr).collect()),
        TExprKind::Record(entries) => {
            let mut spreads = Vec::new();
            let mut fields = Vec::new();
            for en in entries {
                match en {
                    t::TRecordEntry::Spread(x) => spreads.push(expr(x)),
                    t::TRecordEntry::Field(n, x) => fields.push((n.clone(), expr(x))),
                }
            }
            ExprKind::MakeRecord { spreads, fields }
        }
        TExprKind::Hold(h) => ExprKind::Hold(hold(h)),
        TExprKind::Error => unreachable!("lowering runs only on programs without errors"),
    };
    Expr { kind, ty: e.ty.clone(), span: e.span }
}

fn field_slot(base: &Type, name: &str) -> Option<u32> {
    match base.unwrap_optional() {
        Type::Record(r) => r.fields.get_index_of(name).and_then(|i| u32::try_from(i).ok()),
        _ => None,
    }
}

fn pattern(p: &t::TPattern) -> Pattern {
    match p {
        t::TPattern::Wildcard => Pattern::Any,
        t::TPattern::Null => Pattern::Null,
        t::TPattern::Bool(b) => Pattern::Bool(*b),
        t::TPattern::Str(s) => Pattern::Str(s.clone()),
        t::TPattern::Int(n) => Pattern::Int(*n),
        t::TPattern::Decimal(d) => Pattern::Decimal(*d),
        t::TPattern::Bind(s) => Pattern::Bind(*s),
    }
}
