//! Checking: the module graph to a typed program, or diagnostics saying why not.
//!
//! Modules are checked imports-first. Each gets an environment of types, lookups and
//! functions; flows are then checked stage by stage, the record type flowing from the
//! source through each stage to the sinks. Errors never stop the walk: an expression
//! already reported gets the `Error` type, which fits anywhere, so one mistake gives
//! one diagnostic.

mod call;
mod constant;
mod decls;
mod enrich;
mod error;
mod expr;
mod flow;
mod group;
mod lookup_http;
mod narrow;
mod operators;
mod scope;
mod state;
pub mod typed;
mod webhook;

use std::collections::HashMap;
use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic, Diagnostics};
use crate::modules::{ModuleGraph, ModuleId};
use crate::source::{SourceFile, Span};

use crate::types::Type;
use scope::Scope;
use typed::Program;

/// Checks every module reachable from `roots`.
pub fn check(graph: &ModuleGraph, roots: &[ModuleId]) -> (Program, Diagnostics) {
    let mut c = Checker::new(graph);
    for id in order(graph, roots) {
        c.check_module(id);
    }
    (c.program, c.diags)
}

/// Modules in dependency order: every module after the ones it imports.
fn order(graph: &ModuleGraph, roots: &[ModuleId]) -> Vec<ModuleId> {
    fn visit(graph: &ModuleGraph, id: ModuleId, seen: &mut Vec<bool>, out: &mut Vec<ModuleId>) {
        if seen[id] {
            return;
        }
        seen[id] = true;
        for imp in &graph.get(id).imports {
            visit(graph, imp.module, seen, out);
        }
        out.push(id);
    }
    let mut seen = vec![false; graph.modules.len()];
    let mut out = Vec::new();
    for &r in roots {
        visit(graph, r, &mut seen, &mut out);
    }
    out
}

#[derive(Clone, Debug)]
struct Declared<T> {
    value: T,
    span: Span,
    used: bool,
}

#[derive(Clone, Debug)]
struct FnSig {
    index: usize,
    params: Vec<(String, Type)>,
    ret: Type,
}

#[derive(Clone, Debug)]
struct LookupSig {
    index: usize,
    key: Type,
    value: Type,
}

/// What one module declares, as seen by itself and its importers.
#[derive(Debug, Default)]
struct ModuleEnv {
    name: String,
    types: HashMap<String, Declared<Type>>,
    fns: HashMap<String, Declared<FnSig>>,
    lookups: HashMap<String, Declared<LookupSig>>,
    imports: HashMap<String, Declared<ModuleId>>,
    /// Aliases of imports that failed (already reported).
    failed_imports: Vec<String>,
}

pub(crate) struct Checker<'g> {
    graph: &'g ModuleGraph,
    envs: HashMap<ModuleId, ModuleEnv>,
    program: Program,
    diags: Diagnostics,
    module: ModuleId,
    file: Arc<SourceFile>,
    scope: Scope,
    /// The type of `record` where a flow stage is being checked.
    record: Option<Type>,
    /// The `let` names of the flow being checked, with where each was bound.
    flow_lets: Vec<(String, Span)>,
    /// The names the flow's `enrich` stages bind that are not bound yet.
    enrich_ahead: Vec<(String, Span)>,
    /// The `state` names of the flow being checked, with where each was declared.
    flow_states: Vec<(String, Span)>,
}

impl<'g> Checker<'g> {
    /// Remembers that a value of type `found` now stands as an `expected` (see
    /// `typed::Program::widened`), when that changes a record type it carries.
    fn note_widened(&mut self, found: &Type, expected: &Type) {
        if !found.same_records_as(expected) && !self.program.widened.contains(found) {
            self.program.widened.push(found.clone());
        }
    }

    fn new(graph: &'g ModuleGraph) -> Self {
        let file = graph.modules.first().map(|m| m.file.clone()).unwrap_or_else(|| SourceFile::inline("<none>", ""));
        Checker {
            graph,
            envs: HashMap::new(),
            program: Program::default(),
            diags: Diagnostics::default(),
            module: 0,
            file,
            scope: Scope::default(),
            record: None,
            flow_lets: Vec::new(),
            enrich_ahead: Vec::new(),
            flow_states: Vec::new(),
        }
    }

    fn report(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    fn error(&mut self, code: Code, span: Span, message: impl Into<String>, label: impl Into<String>) {
        let d = Diagnostic::new(code, &self.file, span, message, label);
        self.report(d);
    }

    fn env(&self) -> &ModuleEnv {
        &self.envs[&self.module]
    }

    fn env_mut(&mut self) -> &mut ModuleEnv {
        self.envs.entry(self.module).or_default()
    }

    fn check_module(&mut self, id: ModuleId) {
        let m = self.graph.get(id);
        if !m.parsed {
            return;
        }
        self.module = id;
        self.file = m.file.clone();
        let name =
            std::path::Path::new(&m.file.name).file_stem().and_then(|s| s.to_str()).unwrap_or("main").to_string();
        let mut env = ModuleEnv { name, ..ModuleEnv::default() };
        for imp in &m.imports {
            env.imports.insert(imp.alias.clone(), Declared { value: imp.module, span: imp.span, used: false });
        }
        // Imports that did not resolve were reported; their uses are not reported again.
        for item in &m.ast.items {
            if let crate::syntax::ast::Item::Import(imp) = item {
                let alias = match (&imp.alias, &imp.target) {
                    (Some(a), _) => a.node.clone(),
                    (None, crate::syntax::ast::ImportTarget::Name(n)) => n.node.clone(),
                    (None, crate::syntax::ast::ImportTarget::Path(p)) => {
                        std::path::Path::new(&p.node).file_stem().and_then(|s| s.to_str()).unwrap_or("").to_string()
                    }
                };
                if !env.imports.contains_key(&alias) {
                    env.failed_imports.push(alias);
                }
            }
        }
        self.envs.insert(id, env);
        let ast = &m.ast;
        self.declare_types(ast);
        self.declare_signatures(ast);
        self.check_bodies(ast);
        let mut flow_names: Vec<(&str, Span)> = Vec::new();
        for flow in crate::syntax::flows(ast) {
            if let Some((_, first)) = flow_names.iter().find(|(n, _)| *n == flow.name.node) {
                let first = *first;
                self.duplicate(&flow.name.node, flow.name.span, first);
            }
            flow_names.push((&flow.name.node, flow.name.span));
            self.check_flow(flow);
        }
        self.warn_unused(ast);
    }

    fn warn_unused(&mut self, ast: &crate::syntax::ast::Module) {
        let has_flow = crate::syntax::flows(ast).next().is_some();
        let env = &self.envs[&self.module];
        let mut found: Vec<(Code, Span, String)> = Vec::new();
        for (name, d) in &env.imports {
            if !d.used {
                found.push((Code::UnusedImport, d.span, format!("module `{name}` is imported but never used")));
            }
        }
        if has_flow {
            for (name, d) in &env.lookups {
                if !d.used {
                    found.push((Code::UnusedLookup, d.span, format!("lookup `{name}` is never used")));
                }
            }
            for (name, d) in &env.fns {
                if !d.used {
                    found.push((Code::UnusedFunction, d.span, format!("function `{name}` is never called")));
                }
            }
        }
        found.sort_by_key(|(_, s, _)| *s);
        for (code, span, message) in found {
            let help = match code {
                Code::UnusedImport => "remove the import",
                _ => "remove it, or use it in a flow",
            };
            let d = Diagnostic::new(code, &self.file, span, message, "declared here").with_help(help);
            self.report(d);
        }
    }

    /// "first defined here" for a name declared twice in one module.
    fn duplicate(&mut self, name: &str, span: Span, first: Span) {
        let d = Diagnostic::new(
            Code::DuplicateDefinition,
            &self.file,
            span,
            format!("`{name}` is defined twice"),
            "defined again here",
        )
        .with_secondary(&self.file, first, "first defined here")
        .with_help("rename one of them");
        self.report(d);
    }
}
