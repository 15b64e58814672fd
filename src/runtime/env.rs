//! The environment a run reads: the variables its flow names, checked before it starts.

use std::collections::HashMap;

use super::{RunOptions, RuntimeError};
use crate::ir::{self, ExprKind, StageKind};

/// The environment the run reads. A real run refuses to start when a variable the flow
/// names is missing; a dry run fills it with a visible placeholder.
///
/// Every value the flow reads with `secret()`, and the password of every URL in a value
/// it reads with `env()`, is registered with the scrubber here, before the first record
/// or log line: whatever later echoes them back is scrubbed (`crate::scrub`).
pub(crate) fn prepare_env(
    program: &ir::Program,
    flow: &ir::Flow,
    opts: &RunOptions,
) -> Result<HashMap<String, String>, RuntimeError> {
    let mut names: Vec<(String, Read)> = Vec::new();
    let mut visit = |e: &ir::Expr| collect_env_names(e, &mut names);
    for f in &program.functions {
        visit(&f.body);
    }
    for (_, e) in flow.source.options.iter().chain(flow.sinks.iter().flat_map(|s| s.options.iter())) {
        visit(e);
    }
    for s in &flow.stages {
        each_stage_expr(&s.kind, &mut visit);
    }
    for l in &program.lookups {
        if let ir::LookupData::Http(h) = &l.data {
            visit(&h.url);
            h.headers.iter().for_each(&mut visit);
        }
    }
    let mut env = opts.env.clone();
    for (name, read) in &names {
        match (env.get(name), read) {
            (Some(v), Read::Secret) => crate::scrub::register_secret(v),
            (Some(v), Read::Env) => crate::scrub::register_url_credentials(v),
            (None, _) => {}
        }
    }
    let mut missing: Vec<String> = names.into_iter().map(|(n, _)| n).filter(|n| !env.contains_key(n)).collect();
    missing.sort();
    missing.dedup();
    if missing.is_empty() {
        return Ok(env);
    }
    if !opts.dry_run {
        return Err(RuntimeError::MissingEnv(missing));
    }
    for m in missing {
        let placeholder = format!("<{m}>");
        env.insert(m, placeholder);
    }
    Ok(env)
}

fn each_stage_expr(k: &StageKind, f: &mut dyn FnMut(&ir::Expr)) {
    match k {
        StageKind::Filter(e) | StageKind::Split(e) | StageKind::Map(e) => f(e),
        StageKind::Dedupe { key, .. } => f(key),
        StageKind::Validate(rules) => rules.iter().for_each(|r| f(&r.cond)),
        StageKind::Let { value, .. } => f(value),
        StageKind::HoldWhen { cond, .. } => f(cond),
        StageKind::Batch { .. } => {}
        StageKind::Group(g) => {
            f(&g.key);
            g.aggregates.iter().filter_map(|(_, a, _)| a.as_ref()).for_each(&mut *f);
            f(&g.body);
        }
        StageKind::Enrich(e) => e.call.options.iter().for_each(|(_, x)| f(x)),
        StageKind::FilterRemember(e) => f(e),
        StageKind::State(s) => {
            f(&s.key);
            f(&s.value);
        }
    }
}

/// How a flow reads a variable of its environment.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Read {
    Env,
    Secret,
}

/// Names passed as literals to `env()` and `secret()` anywhere in an expression.
fn collect_env_names(e: &ir::Expr, out: &mut Vec<(String, Read)>) {
    if let ExprKind::Builtin { builtin, args, .. } = &e.kind {
        let read = match builtin.name {
            "env" => Some(Read::Env),
            "secret" => Some(Read::Secret),
            _ => None,
        };
        if let (Some(read), Some(ExprKind::Concat(parts))) = (read, args.first().map(|a| &a.kind)) {
            if let [ir::StrPart::Text(t)] = parts.as_slice() {
                out.push((t.clone(), read));
            }
        }
    }
    match &e.kind {
        ExprKind::Concat(parts) => parts.iter().for_each(|p| {
            if let ir::StrPart::Value(v) = p {
                collect_env_names(v, out)
            }
        }),
        ExprKind::Field { base, .. } => collect_env_names(base, out),
        ExprKind::Index { base, index, .. } => {
            collect_env_names(base, out);
            collect_env_names(index, out)
        }
        ExprKind::Lookup { key, .. } => collect_env_names(key, out),
        ExprKind::Builtin { args, .. } | ExprKind::CallFn { args, .. } | ExprKind::List(args) => {
            args.iter().for_each(|a| collect_env_names(a, out))
        }
        ExprKind::Unary(_, x) => collect_env_names(x, out),
        ExprKind::Binary(_, a, b) => {
            collect_env_names(a, out);
            collect_env_names(b, out)
        }
        ExprKind::Lambda { body, .. } => collect_env_names(body, out),
        ExprKind::If { cond, then, otherwise } => {
            collect_env_names(cond, out);
            collect_env_names(then, out);
            collect_env_names(otherwise, out)
        }
        ExprKind::Match { scrutinee, arms } => {
            collect_env_names(scrutinee, out);
            arms.iter().for_each(|(_, b)| collect_env_names(b, out))
        }
        ExprKind::MakeRecord { spreads, fields } => {
            spreads.iter().for_each(|s| collect_env_names(s, out));
            fields.iter().for_each(|(_, v)| collect_env_names(v, out))
        }
        ExprKind::Hold(h) => {
            if let Some(m) = &h.message {
                collect_env_names(m, out)
            }
        }
        _ => {}
    }
}
