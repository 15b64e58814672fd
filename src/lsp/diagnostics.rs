//! The checker's diagnostics as LSP diagnostics: the same code, span, message and help
//! as `flowgate check`, with positions in UTF-16 code units.

use std::sync::Arc;

use lsp_types::{DiagnosticRelatedInformation, DiagnosticSeverity, Location, NumberOrString, Uri};

use crate::diagnostic::{Diagnostic, Severity};

use super::documents::{Analysis, LineIndex};
use super::stdlib::StdlibFiles;

/// Every diagnostic of the document. An error in a module it imports is shown on the
/// import that brings it in, naming where it is, since the editor may not have that
/// file open.
pub fn of_document(analysis: &Analysis, uri: &Uri, stdlib: &mut StdlibFiles) -> Vec<lsp_types::Diagnostic> {
    let index = LineIndex::new(&analysis.file.text);
    let mut out = Vec::new();
    for d in analysis.outcome.diagnostics.iter() {
        if Arc::ptr_eq(d.file(), &analysis.file) {
            out.push(convert(d, &index, uri, stdlib));
        } else if d.is_error() {
            if let Some(import) = importing(analysis, d) {
                let (line, col) = d.file().line_col(d.primary.span.start);
                let mut lsp = convert(d, &index, uri, stdlib);
                lsp.range = index.range(import);
                lsp.message = format!("in {}:{line}:{col}: {}", d.file().name, lsp.message);
                lsp.related_information = stdlib.uri_of(d.file(), uri).map(|u| {
                    let range = LineIndex::new(&d.file().text).range(d.primary.span);
                    vec![DiagnosticRelatedInformation {
                        location: Location::new(u, range),
                        message: d.primary.message.clone(),
                    }]
                });
                out.push(lsp);
            }
        }
    }
    out
}

/// The span of the root's import through which the file of `d` was loaded.
fn importing(analysis: &Analysis, d: &Diagnostic) -> Option<crate::source::Span> {
    let graph = &analysis.outcome.graph;
    let target = graph.modules.iter().position(|m| Arc::ptr_eq(&m.file, d.file()))?;
    let reaches = |from: usize| {
        let mut stack = vec![from];
        let mut seen = vec![false; graph.modules.len()];
        while let Some(m) = stack.pop() {
            if m == target {
                return true;
            }
            if !std::mem::replace(&mut seen[m], true) {
                stack.extend(graph.get(m).imports.iter().map(|i| i.module));
            }
        }
        false
    };
    analysis.module().imports.iter().find(|i| reaches(i.module)).map(|i| i.span)
}

/// One diagnostic of the document, as published.
pub fn of_one(d: &Diagnostic, index: &LineIndex<'_>, uri: &Uri) -> Vec<lsp_types::Diagnostic> {
    vec![convert(d, index, uri, &mut StdlibFiles::none())]
}

fn convert(d: &Diagnostic, index: &LineIndex<'_>, uri: &Uri, stdlib: &mut StdlibFiles) -> lsp_types::Diagnostic {
    let mut message = d.message.clone();
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let mut related = vec![DiagnosticRelatedInformation {
        location: Location::new(uri.clone(), index.range(d.primary.span)),
        message: d.primary.message.clone(),
    }];
    for label in &d.secondary {
        let range = if Arc::ptr_eq(&label.file, d.file()) {
            index.range(label.span)
        } else {
            LineIndex::new(&label.file.text).range(label.span)
        };
        let Some(u) = stdlib.uri_of(&label.file, uri) else { continue };
        related
            .push(DiagnosticRelatedInformation { location: Location::new(u, range), message: label.message.clone() });
    }
    lsp_types::Diagnostic {
        range: index.range(d.primary.span),
        severity: Some(match d.severity() {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(d.code.as_str().to_string())),
        source: Some("flowgate".to_string()),
        message,
        related_information: Some(related),
        ..Default::default()
    }
}
