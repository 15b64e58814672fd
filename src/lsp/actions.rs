//! Code actions: the fixes the checker's diagnostics spell out. "did you mean `x`?"
//! replaces the name, an optional value used as if present gets `?? hold "missing_..."`,
//! and an unrounded Decimal is wrapped in `round(..., N, half_even)`, as the help says.

use std::collections::HashMap;

use lsp_types::{CodeAction, CodeActionKind, CodeActionOrCommand, Range, TextEdit, Uri, WorkspaceEdit};

use crate::diagnostic::{Code, Diagnostic};
use crate::source::Span;

use super::documents::{Analysis, LineIndex};

/// The fixes for the document's diagnostics whose spans meet `range`.
pub fn at(analysis: &Analysis, uri: &Uri, range: Range) -> Vec<CodeActionOrCommand> {
    let index = LineIndex::new(&analysis.file.text);
    let (lo, hi) = (index.offset(range.start) as u32, index.offset(range.end) as u32);
    let mut out = Vec::new();
    for d in analysis.outcome.diagnostics.iter() {
        let span = d.primary.span;
        if !std::sync::Arc::ptr_eq(d.file(), &analysis.file) || span.end < lo || span.start > hi {
            continue;
        }
        let Some((title, new_text)) = fix(d, analysis.file.slice(span), &analysis.file.text, span) else { continue };
        let edit = TextEdit { range: index.range(span), new_text };
        out.push(CodeActionOrCommand::CodeAction(CodeAction {
            title,
            kind: Some(CodeActionKind::QUICKFIX),
            diagnostics: Some(super::diagnostics::of_one(d, &index, uri)),
            edit: Some(WorkspaceEdit {
                changes: Some(HashMap::from([(uri.clone(), vec![edit])])),
                ..Default::default()
            }),
            is_preferred: Some(true),
            ..Default::default()
        }));
    }
    out
}

/// A title and the text to put in place of the diagnostic's span.
fn fix(d: &Diagnostic, written: &str, text: &str, span: Span) -> Option<(String, String)> {
    let help = d.help.as_deref().unwrap_or("");
    if let Some(name) = help.strip_prefix("did you mean `").and_then(|r| r.strip_suffix("`?")) {
        let is_name = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_name(written) && is_name(name) {
            return Some((format!("Replace with `{name}`"), name.to_string()));
        }
        return None;
    }
    match d.code {
        Code::UnhandledOptional => {
            let last = written.rsplit(|c: char| !(c.is_alphanumeric() || c == '_')).find(|s| !s.is_empty());
            let reason = format!("missing_{}", last.unwrap_or("value"));
            let held = format!("{written} ?? hold \"{reason}\"");
            // Bare where nothing binds tighter around it, else in parentheses.
            let before = text[..span.start as usize].trim_end().chars().last();
            let after = text[span.end as usize..].trim_start().chars().next();
            let bare = matches!(before, Some(':' | '=' | '(' | ',' | '{' | '[') | None)
                && matches!(after, Some('\n' | ',' | ')' | '}' | ']') | None)
                || text[span.end as usize..].starts_with('\n');
            let new_text = if bare { held } else { format!("({held})") };
            Some((format!("Hold the record when it is absent: `?? hold \"{reason}\"`"), new_text))
        }
        Code::UnroundedDecimal => {
            let call = help.split('`').nth(1)?;
            let args = call.strip_prefix("round(value, ")?;
            Some((format!("Round it: `round(..., {args}`"), format!("round({written}, {args}")))
        }
        _ => None,
    }
}
