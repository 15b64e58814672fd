//! Document symbols: types and their fields, lookups, functions, and flows with their
//! source, stages and sinks.

use lsp_types::{DocumentSymbol, SymbolKind};

use crate::source::Span;
use crate::syntax::ast::{Item, Module, StageKind, TypeExprKind};

use super::documents::LineIndex;

pub fn of_module(module: &Module, index: &LineIndex<'_>) -> Vec<DocumentSymbol> {
    let sym = |name: &str, detail: Option<String>, kind, span: Span, sel: Span, children: Vec<DocumentSymbol>| {
        #[allow(deprecated)]
        DocumentSymbol {
            name: name.to_string(),
            detail,
            kind,
            tags: None,
            deprecated: None,
            range: index.range(span),
            selection_range: index.range(sel),
            children: (!children.is_empty()).then_some(children),
        }
    };
    let mut out = Vec::new();
    for item in &module.items {
        match item {
            Item::Import(_) => {}
            Item::Type(t) => {
                let fields = match &t.ty.node {
                    TypeExprKind::Record(fields) => fields
                        .iter()
                        .map(|f| {
                            let span = f.name.span.to(f.ty.span);
                            sym(&f.name.node, None, SymbolKind::FIELD, span, f.name.span, Vec::new())
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                out.push(sym(&t.name.node, None, SymbolKind::STRUCT, t.span, t.name.span, fields));
            }
            Item::Lookup(l) => out.push(sym(&l.name.node, None, SymbolKind::CONSTANT, l.span, l.name.span, Vec::new())),
            Item::Fn(f) => out.push(sym(&f.name.node, None, SymbolKind::FUNCTION, f.span, f.name.span, Vec::new())),
            Item::Flow(flow) => {
                let mut parts = Vec::new();
                for s in &flow.sources {
                    parts.push(sym(
                        &s.name.node,
                        Some(format!("source {}", s.kind.node)),
                        SymbolKind::EVENT,
                        s.span,
                        s.name.span,
                        Vec::new(),
                    ));
                }
                for stage in &flow.stages {
                    let (name, sel) = match &stage.node {
                        StageKind::Filter(_) => ("filter".to_string(), stage.span),
                        StageKind::Dedupe { .. } => ("dedupe".to_string(), stage.span),
                        StageKind::Validate(_) => ("validate".to_string(), stage.span),
                        StageKind::Let { name, .. } => (format!("let {}", name.node), name.span),
                        StageKind::Split(_) => ("split".to_string(), stage.span),
                        StageKind::Map { target, .. } => match target {
                            Some(t) => (format!("map : {}", index_text(index, t.span)), stage.span),
                            None => ("map".to_string(), stage.span),
                        },
                        StageKind::HoldWhen { hold, .. } => (format!("hold when \"{}\"", hold.code.node), stage.span),
                        StageKind::Batch(_) => ("batch".to_string(), stage.span),
                        StageKind::Group(_) => ("group by".to_string(), stage.span),
                        StageKind::Enrich(e) => (format!("enrich {}", e.name.node), e.name.span),
                        StageKind::FilterRemember(_) => ("filter else remember".to_string(), stage.span),
                        StageKind::State { name, .. } => (format!("state {}", name.node), name.span),
                    };
                    parts.push(sym(
                        &name,
                        Some("stage".to_string()),
                        SymbolKind::OPERATOR,
                        stage.span,
                        sel,
                        Vec::new(),
                    ));
                }
                for s in &flow.sinks {
                    parts.push(sym(
                        &s.name.node,
                        Some(format!("sink {}", s.kind.node)),
                        SymbolKind::EVENT,
                        s.span,
                        s.name.span,
                        Vec::new(),
                    ));
                }
                out.push(sym(
                    &flow.name.node,
                    Some("flow".to_string()),
                    SymbolKind::MODULE,
                    flow.span,
                    flow.name.span,
                    parts,
                ));
            }
        }
    }
    out
}

fn index_text(index: &LineIndex<'_>, span: Span) -> String {
    index.slice(span).split_whitespace().collect::<Vec<_>>().join(" ")
}
