//! A flow's version: the short hash that reports and holds carry.
//!
//! A hold has to say what held it, and what a flow does is decided by more than its own
//! file: the modules it imports (the types it decodes against, the functions it calls)
//! and the lookup files it reads. So the version is a hash of the flow's file, of every
//! module it imports, directly or not, and of the contents of every lookup file the
//! flow reads. A change to any of them is a new version; a change to a file the flow
//! does not use is not.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;

use sha2::{Digest, Sha256};

use crate::check::typed::{self as t, Callee, TExpr, TExprKind};
use crate::modules::{ModuleGraph, ModuleId};

/// The version of flow `f` of program `p`, whose modules are in `graph`.
pub(super) fn version(f: &t::TFlow, p: &t::Program, graph: &ModuleGraph) -> String {
    let mut hash = Sha256::new();
    let modules = module_texts(f, graph);
    if modules.is_empty() {
        // A flow not in the graph (never the case once checked): its own text at least.
        part(&mut hash, b"module", f.file.text.as_bytes());
    }
    for text in modules {
        part(&mut hash, b"module", text.as_bytes());
    }
    for path in lookup_files(f, p) {
        match std::fs::read(&path) {
            Ok(bytes) => part(&mut hash, b"lookup", &bytes),
            // The run refuses to start without it; the version still differs.
            Err(_) => part(&mut hash, b"missing lookup", path.to_string_lossy().as_bytes()),
        }
    }
    hash.finalize().iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// One part of the hashed whole, tagged and length-prefixed, so that no two different
/// sets of parts hash the same bytes.
fn part(hash: &mut Sha256, kind: &[u8], bytes: &[u8]) {
    hash.update(kind);
    hash.update((bytes.len() as u64).to_le_bytes());
    hash.update(bytes);
}

/// The texts of the flow's own module and of every module it imports, directly or
/// not, each once, in the order the imports are written (depth first). Texts, not
/// names: a file's name depends on the directory a command runs from.
fn module_texts<'g>(f: &t::TFlow, graph: &'g ModuleGraph) -> Vec<&'g Arc<str>> {
    let Some(root) = graph.modules.iter().position(|m| Arc::ptr_eq(&m.file, &f.file)) else {
        return Vec::new();
    };
    let mut seen: Vec<ModuleId> = Vec::new();
    let mut stack = vec![root];
    while let Some(id) = stack.pop() {
        if seen.contains(&id) {
            continue;
        }
        seen.push(id);
        stack.extend(graph.get(id).imports.iter().rev().map(|i| i.module));
    }
    seen.into_iter().map(|id| &graph.get(id).file.text).collect()
}

/// The files of the file lookups the flow reads: in its stages and connector options,
/// and in the functions they call, directly or not.
fn lookup_files(f: &t::TFlow, p: &t::Program) -> Vec<PathBuf> {
    let mut exprs: Vec<&TExpr> = Vec::new();
    for s in &f.stages {
        match &s.kind {
            t::TStageKind::Filter(e) | t::TStageKind::Split(e) | t::TStageKind::Map(e) => exprs.push(e),
            t::TStageKind::Dedupe { key, .. } => exprs.push(key),
            t::TStageKind::Let { value, .. } => exprs.push(value),
            t::TStageKind::Validate(rules) => {
                for r in rules {
                    exprs.push(&r.cond);
                    exprs.extend(r.hold.message.as_deref());
                }
            }
            t::TStageKind::HoldWhen { cond, hold } => {
                exprs.push(cond);
                exprs.extend(hold.message.as_deref());
            }
            t::TStageKind::Batch { .. } => {}
            t::TStageKind::Group(g) => {
                exprs.push(&g.key);
                exprs.extend(g.aggregates.iter().filter_map(|a| a.arg.as_ref()));
                exprs.push(&g.body);
            }
            t::TStageKind::Enrich(e) => exprs.extend(e.options.iter().map(|o| &o.value)),
            t::TStageKind::FilterRemember(e) => exprs.push(e),
            t::TStageKind::State(s) => exprs.extend([&s.key, &s.value]),
        }
    }
    let options = f.source.iter().flat_map(|s| &s.options).chain(f.sinks.iter().flat_map(|s| &s.options));
    exprs.extend(options.map(|o| &o.value));

    let (mut lookups, mut fns) = (BTreeSet::new(), BTreeSet::new());
    while let Some(e) = exprs.pop() {
        super::lower::visit(e, &mut |x| match &x.kind {
            TExprKind::LookupGet { lookup, .. } => {
                lookups.insert(*lookup);
            }
            TExprKind::Call { callee: Callee::Fn(i), .. } if fns.insert(*i) => {
                exprs.extend(p.fns.get(*i).map(|function| &function.body));
            }
            _ => {}
        });
    }
    let mut paths: Vec<PathBuf> = lookups
        .into_iter()
        .filter_map(|i| match &p.lookups.get(i)?.data {
            t::TLookupData::File { path, .. } => Some(path.clone()),
            t::TLookupData::Table(_) | t::TLookupData::Http(_) => None,
        })
        .collect();
    paths.dedup();
    paths
}
