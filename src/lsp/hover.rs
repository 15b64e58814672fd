//! Hover: the type of what is under the cursor, and a builtin's signature and doc.

use crate::check::typed::{Callee, TExprKind, TStageKind};
use crate::syntax::ast::{Item, StageKind};

use super::documents::Analysis;
use super::exprs;

/// Markdown for the hover at `offset`, with the span it is about.
pub fn at(analysis: &Analysis, offset: usize) -> Option<(String, crate::source::Span)> {
    if let Some(found) = binding(analysis, offset) {
        return Some(found);
    }
    let e = exprs::innermost(analysis, offset)?;
    let on_self = !exprs::in_children(e, offset);
    let ty = &e.ty;
    let text = match &e.kind {
        TExprKind::Call { callee: Callee::Builtin(b), .. } if on_self => {
            let mut t = code(b.signature);
            if !b.doc.is_empty() {
                t.push_str("\n\n");
                t.push_str(b.doc);
            }
            t.push_str(&format!("\n\nHere: `{ty}`"));
            t
        }
        TExprKind::Call { callee: Callee::Fn(i), .. } if on_self => {
            let f = analysis.outcome.program.fns.get(*i)?;
            let params: Vec<String> = f.params.iter().map(|(_, n, t)| format!("{n}: {t}")).collect();
            code(&format!("fn {}({}) -> {}", f.name, params.join(", "), f.ret))
        }
        TExprKind::LookupGet { lookup, .. } if on_self => {
            let l = analysis.outcome.program.lookups.get(*lookup)?;
            format!(
                "{}\n\nHere: `{ty}` (absent when the key is not in the table)",
                code(&format!("lookup {}: {} -> {}", l.name, l.key, l.value))
            )
        }
        _ if ty.is_error() => return None,
        TExprKind::Field { name, .. } => code(&format!("{name}: {ty}")),
        TExprKind::Local(_, name) => code(&format!("{name}: {ty}")),
        TExprKind::CurrentRecord => code(&format!("record: {ty}")),
        _ => code(&ty.to_string()),
    };
    Some((text, e.span))
}

fn code(text: &str) -> String {
    format!("```flowgate\n{text}\n```")
}

/// A `let` name (its value's type) or a declared type's name (its declaration).
fn binding(analysis: &Analysis, offset: usize) -> Option<(String, crate::source::Span)> {
    let o = offset as u32;
    let inside = |s: crate::source::Span| s.start <= o && o <= s.end;
    let program = &analysis.outcome.program;
    for item in &analysis.module().ast.items {
        match item {
            Item::Type(t) if inside(t.name.span) => {
                return Some((code(analysis.file.slice(t.span)), t.name.span));
            }
            Item::Flow(flow) if inside(flow.span) => {
                for stage in &flow.stages {
                    let StageKind::Let { name, .. } = &stage.node else { continue };
                    if !inside(name.span) {
                        continue;
                    }
                    let typed = program
                        .flows
                        .iter()
                        .filter(|f| std::sync::Arc::ptr_eq(&f.file, &analysis.file))
                        .flat_map(|f| &f.stages)
                        .find(|s| s.span == stage.span && matches!(s.kind, TStageKind::Let { .. }))?;
                    let TStageKind::Let { value, .. } = &typed.kind else { return None };
                    return Some((code(&format!("let {}: {}", name.node, value.ty)), name.span));
                }
            }
            _ => {}
        }
    }
    None
}
