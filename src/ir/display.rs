//! A stable, readable text form of the IR, for `flowgate check --emit ir` and snapshots.

use std::fmt::Write;

use crate::syntax::ast::{Literal, RateUnit, UnOp};

use super::*;

pub fn display(p: &Program) -> String {
    let mut out = String::new();
    for (i, l) in p.lookups.iter().enumerate() {
        let _ = write!(out, "lookup #{i} {}.{}: {} -> {} = ", l.module, l.name, l.key, l.value);
        match &l.data {
            LookupData::Table(rows) => {
                let _ = writeln!(out, "table ({} rows)", rows.len());
            }
            LookupData::Http(h) => {
                let every = h.refresh_ms.map(duration).unwrap_or_else(|| "never".into());
                let _ = writeln!(
                    out,
                    "http {} select {:?} key {:?} value {:?} refresh {every}",
                    expr(&h.url),
                    h.select,
                    h.key,
                    h.value
                );
            }
            LookupData::File { format, path, key, value } => {
                let name = path.file_name().map(|n| n.to_string_lossy().to_string()).unwrap_or_default();
                let _ = writeln!(out, "{format} {name:?} key {key:?} value {value:?}");
            }
        }
    }
    for (i, f) in p.functions.iter().enumerate() {
        let params: Vec<String> = f.params.iter().map(|s| format!("${s}")).collect();
        let _ = writeln!(
            out,
            "fn #{i} {}.{}({}) -> {} =\n    {}",
            f.module,
            f.name,
            params.join(", "),
            f.ret,
            expr(&f.body)
        );
    }
    for f in &p.flows {
        flow(&mut out, f);
    }
    out
}

fn flow(out: &mut String, f: &Flow) {
    let _ = writeln!(out, "\nflow {} ({} slots)", f.name, f.slots);
    connector(out, "source", &f.source);
    for (i, s) in f.stages.iter().enumerate() {
        let _ = writeln!(out, "  stage {} {} (line {}): {} -> {}", i + 1, s.kind.name(), s.line, s.input, s.output);
        match &s.kind {
            StageKind::Filter(e) => line(out, "keep when", e),
            StageKind::Dedupe { key, within_ms } => {
                line(out, "key", key);
                if let Some(ms) = within_ms {
                    let _ = writeln!(out, "    within {}", duration(*ms));
                }
            }
            StageKind::Validate(rules) => {
                for r in rules {
                    let _ = writeln!(out, "    rule {} else {}", expr(&r.cond), hold(&r.hold));
                }
            }
            StageKind::Let { slot, name, value } => {
                let _ = writeln!(out, "    ${slot} ({name}) = {}", expr(value));
            }
            StageKind::Split(e) => line(out, "each of", e),
            StageKind::Map(e) => line(out, "into", e),
            StageKind::HoldWhen { cond, hold: h } => {
                let _ = writeln!(out, "    when {} {}", expr(cond), hold(h));
            }
            StageKind::Batch { size, max_wait_ms } => {
                let wait = max_wait_ms.map(duration).unwrap_or_else(|| "none".into());
                let _ = writeln!(out, "    size {size}, max_wait {wait}");
            }
            StageKind::Group(g) => {
                let within = g.within_ms.map(duration).unwrap_or_else(|| "the run".into());
                let _ = writeln!(out, "    by {} into ${} within {within}", expr(&g.key), g.key_slot);
                for (kind, arg, slot) in &g.aggregates {
                    let arg = arg.as_ref().map(expr).unwrap_or_default();
                    let _ = writeln!(out, "    ${slot} = {}({arg})", kind.name());
                }
                line(out, "into", &g.body);
            }
            StageKind::Enrich(e) => {
                let _ = writeln!(out, "    ${} ({}) = {} ({})", e.slot, e.name, e.call.kind, e.call.ty);
                for (name, x) in &e.call.options {
                    let _ = writeln!(out, "    {name} = {}", expr(x));
                }
            }
            StageKind::FilterRemember(e) => {
                line(out, "keep when", e);
                let _ = writeln!(out, "    else remember");
            }
            StageKind::State(s) => {
                let _ = writeln!(out, "    ${} ({}: {}?) = last by {}", s.slot, s.name, s.ty, expr(&s.key));
                line(out, "remember", &s.value);
            }
        }
    }
    for s in &f.sinks {
        connector(out, "sink", s);
    }
}

fn connector(out: &mut String, what: &str, c: &Connector) {
    let _ = writeln!(out, "  {what} {}: {} ({})", c.name, c.kind, c.ty);
    for (name, e) in &c.options {
        let _ = writeln!(out, "    {name} = {}", expr(e));
    }
}

fn line(out: &mut String, label: &str, e: &Expr) {
    let _ = writeln!(out, "    {label} {}", expr(e));
}

fn hold(h: &Hold) -> String {
    match &h.message {
        Some(m) => format!("(hold {:?} {})", h.code, expr(m)),
        None => format!("(hold {:?})", h.code),
    }
}

fn duration(ms: u64) -> String {
    match ms {
        ms if ms % 86_400_000 == 0 => format!("{}d", ms / 86_400_000),
        ms if ms % 3_600_000 == 0 => format!("{}h", ms / 3_600_000),
        ms if ms % 60_000 == 0 => format!("{}m", ms / 60_000),
        ms if ms % 1_000 == 0 => format!("{}s", ms / 1_000),
        ms => format!("{ms}ms"),
    }
}

fn list(items: &[Expr]) -> String {
    items.iter().map(expr).collect::<Vec<_>>().join(" ")
}

/// One expression as an S-expression: `(field total_price@4 record)`.
pub fn expr(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Literal(l) => literal(l),
        ExprKind::Concat(parts) => {
            let ps: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => format!("{t:?}"),
                    StrPart::Value(v) => expr(v),
                })
                .collect();
            if ps.len() == 1 && matches!(parts.first(), Some(StrPart::Text(_))) {
                ps.join("")
            } else {
                format!("(concat {})", ps.join(" "))
            }
        }
        ExprKind::Record => "record".into(),
        ExprKind::Local(s) => format!("${s}"),
        ExprKind::Constant(c) => c.clone(),
        ExprKind::Field { base, slot, name, optional } => {
            let at = slot.map(|s| format!("@{s}")).unwrap_or_default();
            let q = if *optional { "?" } else { "" };
            format!("(field{q} {name}{at} {})", expr(base))
        }
        ExprKind::Index { base, index, optional } => {
            format!("(index{} {} {})", if *optional { "?" } else { "" }, expr(base), expr(index))
        }
        ExprKind::Lookup { table, key } => format!("(lookup #{table} {})", expr(key)),
        ExprKind::Builtin { builtin, args, optional } => {
            format!("({}{} {})", builtin.name, if *optional { "?" } else { "" }, list(args))
        }
        ExprKind::CallFn { function, args } => format!("(fn#{function} {})", list(args)),
        ExprKind::Unary(op, x) => format!("({} {})", if *op == UnOp::Not { "not" } else { "neg" }, expr(x)),
        ExprKind::Binary(op, a, b) => format!("({} {} {})", op.symbol(), expr(a), expr(b)),
        ExprKind::Lambda { params, body } => {
            let ps: Vec<String> = params.iter().map(|p| format!("${p}")).collect();
            format!("(lambda ({}) {})", ps.join(" "), expr(body))
        }
        ExprKind::If { cond, then, otherwise } => format!("(if {} {} {})", expr(cond), expr(then), expr(otherwise)),
        ExprKind::Match { scrutinee, arms } => {
            let arms: Vec<String> = arms
                .iter()
                .map(|(ps, body)| {
                    let ps: Vec<String> = ps.iter().map(pattern).collect();
                    format!("[{} => {}]", ps.join(" | "), expr(body))
                })
                .collect();
            format!("(match {} {})", expr(scrutinee), arms.join(" "))
        }
        ExprKind::List(items) => format!("[{}]", list(items)),
        ExprKind::MakeRecord { spreads, fields } => {
            let mut parts: Vec<String> = spreads.iter().map(|s| format!("..{}", expr(s))).collect();
            parts.extend(fields.iter().map(|(n, v)| format!("{n}: {}", expr(v))));
            format!("{{{}}}", parts.join(", "))
        }
        ExprKind::Hold(h) => hold(h),
    }
}

fn pattern(p: &Pattern) -> String {
    match p {
        Pattern::Any => "_".into(),
        Pattern::Null => "null".into(),
        Pattern::Bool(b) => b.to_string(),
        Pattern::Str(s) => format!("{s:?}"),
        Pattern::Int(n) => n.to_string(),
        Pattern::Decimal(d) => d.to_string(),
        Pattern::Bind(s) => format!("${s}"),
    }
}

fn literal(l: &Literal) -> String {
    match l {
        Literal::Null => "null".into(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(n) => n.to_string(),
        Literal::Decimal(d) => format!("{d}d"),
        Literal::Float(f) => format!("{f:e}"),
        Literal::Duration(ms) => duration(*ms),
        Literal::Rate(n, u) => format!(
            "{n}/{}",
            match u {
                RateUnit::Second => "s",
                RateUnit::Minute => "m",
                RateUnit::Hour => "h",
            }
        ),
        Literal::StatusClass(c) => format!("{c}xx"),
    }
}
