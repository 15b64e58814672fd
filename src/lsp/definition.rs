//! Go to definition: types, record fields, functions, lookups, `let` bindings and
//! imports, in the document, in modules beside it and in the embedded stdlib.

use std::sync::Arc;

use crate::check::typed::{Callee, TExprKind};
use crate::modules::{LoadedModule, ModuleId};
use crate::source::{SourceFile, Span};
use crate::syntax::ast::{FieldDecl, Item, RecordTypeEntry, StageKind, TypeExpr, TypeExprKind};
use crate::types::Type;

use super::documents::Analysis;
use super::exprs;

/// Where the thing under the cursor is declared: a file and a span in it.
pub fn at(analysis: &Analysis, offset: usize) -> Option<(Arc<SourceFile>, Span)> {
    let o = offset as u32;
    let inside = |s: Span| s.start <= o && o <= s.end;
    let graph = &analysis.outcome.graph;
    let module = analysis.module();
    // An import: the module it loads.
    for imp in &module.imports {
        if inside(imp.span) {
            return Some((graph.get(imp.module).file.clone(), Span::default()));
        }
    }
    // A type written in the document.
    let mut found = None;
    for_each_type_expr(module, &mut |t| {
        if let TypeExprKind::Named { module: m, name } = &t.node {
            if inside(name.span) {
                found = type_decl(analysis, m.as_ref().map(|m| m.node.as_str()), &name.node);
            } else if let Some(m) = m.as_ref().filter(|m| inside(m.span)) {
                found = import(analysis, &m.node).map(|id| (graph.get(id).file.clone(), Span::default()));
            }
        }
    });
    if found.is_some() {
        return found;
    }
    let e = exprs::innermost(analysis, offset)?;
    let program = &analysis.outcome.program;
    match &e.kind {
        TExprKind::Call { callee: Callee::Fn(i), .. } if !exprs::in_children(e, offset) => {
            let f = program.fns.get(*i)?;
            Some((module_named(analysis, &f.module)?.file.clone(), f.span))
        }
        TExprKind::LookupGet { lookup, .. } if !exprs::in_children(e, offset) => {
            let l = program.lookups.get(*lookup)?;
            Some((module_named(analysis, &l.module)?.file.clone(), l.span))
        }
        TExprKind::Field { base, name, .. } if !exprs::in_children(e, offset) => field_decl(analysis, &base.ty, name),
        TExprKind::Local(_, name) => {
            for item in &module.ast.items {
                let Item::Flow(flow) = item else { continue };
                if !inside(flow.span) {
                    continue;
                }
                let bound = flow.stages.iter().rev().filter(|s| s.span.end <= o).find_map(|s| match &s.node {
                    StageKind::Let { name: n, .. } | StageKind::State { name: n, .. } if n.node == *name => {
                        Some(n.span)
                    }
                    _ => None,
                });
                return bound.map(|s| (analysis.file.clone(), s));
            }
            None
        }
        _ => None,
    }
}

/// The module an import alias of the document names.
fn import(analysis: &Analysis, alias: &str) -> Option<ModuleId> {
    analysis.module().imports.iter().find(|i| i.alias == alias).map(|i| i.module)
}

/// The module the checker calls `name` (a file's stem), the document's own first.
fn module_named<'a>(analysis: &'a Analysis, name: &str) -> Option<&'a LoadedModule> {
    let graph = &analysis.outcome.graph;
    let stem =
        |m: &LoadedModule| std::path::Path::new(&m.file.name).file_stem().and_then(|s| s.to_str()).map(str::to_string);
    std::iter::once(analysis.module()).chain(graph.modules.iter()).find(|m| stem(m).as_deref() == Some(name))
}

/// The declaration of type `name`, in the document or in the module `module` names.
fn type_decl(analysis: &Analysis, module: Option<&str>, name: &str) -> Option<(Arc<SourceFile>, Span)> {
    let m = match module {
        Some(alias) => analysis.outcome.graph.get(import(analysis, alias)?),
        None => analysis.module(),
    };
    m.ast.items.iter().find_map(|i| match i {
        Item::Type(t) if t.name.node == name => Some((m.file.clone(), t.name.span)),
        _ => None,
    })
}

/// The declaration of field `name` of a record type: in the type declared with the
/// record's name when it has one, else in the record type written with exactly its fields.
fn field_decl(analysis: &Analysis, base: &Type, name: &str) -> Option<(Arc<SourceFile>, Span)> {
    let base = match base.strip_optional() {
        Type::List(t) => t.strip_optional(),
        t => t,
    };
    let Type::Record(rec) = base else { return None };
    let names: Vec<&str> = rec.fields.keys().map(String::as_str).collect();
    let mut best: Option<(bool, Arc<SourceFile>, Span)> = None;
    for m in &analysis.outcome.graph.modules {
        let stem = std::path::Path::new(&m.file.name).file_stem().and_then(|s| s.to_str()).unwrap_or("");
        for item in &m.ast.items {
            let Item::Type(decl) = item else { continue };
            let named = rec.name.as_deref().is_some_and(|n| {
                n == decl.name.node || n.strip_prefix(stem).and_then(|r| r.strip_prefix('.')) == Some(&decl.name.node)
            });
            visit_type(&decl.ty, &mut |t| {
                let TypeExprKind::Record(fields) = &t.node else { return };
                let top = std::ptr::eq(t, &decl.ty);
                let same = fields.iter().map(|f: &FieldDecl| f.name.node.as_str()).eq(names.iter().copied());
                if (named && top) || same {
                    if let Some(f) = fields.iter().find(|f| f.name.node == name) {
                        let exact = named && top;
                        if best.as_ref().is_none_or(|(e, _, _)| exact && !e) {
                            best = Some((exact, m.file.clone(), f.name.span));
                        }
                    }
                }
            });
        }
    }
    best.map(|(_, f, s)| (f, s))
}

fn visit_type<'a>(t: &'a TypeExpr, f: &mut dyn FnMut(&'a TypeExpr)) {
    f(t);
    match &t.node {
        TypeExprKind::List(inner) | TypeExprKind::Optional(inner) => visit_type(inner, f),
        TypeExprKind::Record(fields) => fields.iter().for_each(|d| visit_type(&d.ty, f)),
        TypeExprKind::RecordSpread(entries) => entries.iter().for_each(|e| match e {
            RecordTypeEntry::Spread { ty, .. } => visit_type(ty, f),
            RecordTypeEntry::Field(d) => visit_type(&d.ty, f),
        }),
        TypeExprKind::Union(arms) => arms.iter().for_each(|a| visit_type(a, f)),
        TypeExprKind::Named { .. } | TypeExprKind::ScaledDecimal(_) | TypeExprKind::Literal(_) => {}
    }
}

/// Every type written in a module: declarations, lookups, functions, sources, `let` and
/// `map` stages.
pub fn for_each_type_expr<'a>(m: &'a LoadedModule, f: &mut dyn FnMut(&'a TypeExpr)) {
    for item in &m.ast.items {
        match item {
            Item::Type(t) => visit_type(&t.ty, f),
            Item::Lookup(l) => {
                visit_type(&l.key, f);
                visit_type(&l.value, f);
            }
            Item::Fn(func) => {
                func.params.iter().for_each(|p| visit_type(&p.ty, f));
                visit_type(&func.ret, f);
            }
            Item::Flow(flow) => {
                flow.sources.iter().for_each(|s| visit_type(&s.ty, f));
                for stage in &flow.stages {
                    match &stage.node {
                        StageKind::Let { ty: Some(t), .. }
                        | StageKind::Map { target: Some(t), .. }
                        | StageKind::State { ty: t, .. } => visit_type(t, f),
                        _ => {}
                    }
                }
            }
            Item::Import(_) => {}
        }
    }
}
