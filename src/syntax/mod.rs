//! Syntax: `.flow` text to an AST, reporting every independent syntax error.
//!
//! pest stops at the first error, so on failure the file is cut into declarations
//! (lines that start a declaration at column 0) and flows into their items (lines that
//! start a stage, source or sink), and each piece is parsed on its own.

pub mod ast;
pub mod dump;
mod error;
pub(crate) mod parser;

use std::sync::Arc;

pub use error::SyntaxError;

use crate::diagnostic::Diagnostics;
use crate::source::SourceFile;
use ast::{FlowDecl, Item, Module};
use parser::{parse_rule, Builder, Rule};

/// Parses one file. On error, the diagnostics name every piece that failed.
pub fn parse(file: &Arc<SourceFile>) -> Result<Module, Diagnostics> {
    let (module, errors) = parse_errors(&file.text);
    if errors.is_empty() {
        return Ok(module);
    }
    let mut diags = Diagnostics::default();
    for e in errors {
        diags.push(e.into_diagnostic(file));
    }
    diags.sort();
    Err(diags)
}

/// Parses text to a module and the syntax errors found; the module holds what parsed.
pub fn parse_errors(text: &str) -> (Module, Vec<SyntaxError>) {
    match parse_rule(Rule::file, text) {
        Ok(mut pairs) => {
            let mut b = Builder::new(0);
            let module = pairs.next().map(|p| b.file(p)).unwrap_or_default();
            (module, b.errors)
        }
        Err(err) => recover(text, &err),
    }
}

const DECL_WORDS: &[&str] = &["import", "type", "lookup", "fn", "flow"];
const FLOW_WORDS: &[&str] = &["source", "sink", "filter", "dedupe", "validate", "let", "split", "map", "hold", "batch"];

fn recover(text: &str, whole: &pest::error::Error<Rule>) -> (Module, Vec<SyntaxError>) {
    let mut module = Module::default();
    let mut errors = Vec::new();
    for (start, end) in chunks(text, 0, text.len(), DECL_WORDS, true) {
        let piece = &text[start..end];
        if piece.trim().is_empty() {
            continue;
        }
        match parse_rule(Rule::single_item, piece) {
            Ok(mut pairs) => {
                let mut b = Builder::new(start);
                if let Some(item) = pairs.next().and_then(|p| p.into_inner().next()) {
                    module.items.push(b.item(item));
                }
                errors.extend(b.errors);
            }
            Err(err) if starts_with_word(piece, "flow") => {
                let found = recover_flow(text, start, end);
                if found.is_empty() {
                    errors.push(SyntaxError::from_pest(&err, text, start));
                } else {
                    errors.extend(found);
                }
            }
            Err(err) => errors.push(SyntaxError::from_pest(&err, text, start)),
        }
    }
    if errors.is_empty() {
        // The pieces parse alone but not together; report what pest saw on the whole.
        errors.push(SyntaxError::from_pest(whole, text, 0));
    }
    (module, errors)
}

/// Errors inside a flow, item by item: each source, stage and sink is parsed alone.
fn recover_flow(text: &str, start: usize, end: usize) -> Vec<SyntaxError> {
    let body_start = match text[start..end].find('{') {
        Some(i) => start + i + 1,
        None => return Vec::new(),
    };
    let body_end = text[body_start..end].rfind('}').map_or(end, |i| body_start + i);
    let mut errors = Vec::new();
    let mut scratch = FlowDecl {
        name: ast::Ident::new(String::new(), Default::default()),
        sources: Vec::new(),
        stages: Vec::new(),
        sinks: Vec::new(),
        order: Vec::new(),
        span: Default::default(),
    };
    for (s, e) in chunks(text, body_start, body_end, FLOW_WORDS, false) {
        let piece = &text[s..e];
        if piece.trim().is_empty() {
            continue;
        }
        match parse_rule(Rule::single_flow_item, piece) {
            Ok(mut pairs) => {
                let mut b = Builder::new(s);
                if let Some(p) = pairs.next().and_then(|p| p.into_inner().next()) {
                    b.flow_item(p, &mut scratch);
                }
                errors.extend(b.errors);
            }
            Err(err) => errors.push(SyntaxError::from_pest(&err, text, s)),
        }
    }
    errors
}

/// Cuts `text[from..to]` before each line whose first word is one of `words`
/// (at column 0 when `column0`, else after any indentation).
fn chunks(text: &str, from: usize, to: usize, words: &[&str], column0: bool) -> Vec<(usize, usize)> {
    let mut cuts = vec![from];
    let mut pos = from;
    for line in text[from..to].split_inclusive('\n') {
        let trimmed = if column0 { line } else { line.trim_start() };
        if pos != from && words.iter().any(|w| starts_with_word(trimmed, w)) {
            cuts.push(pos + (line.len() - trimmed.len()));
        }
        pos += line.len();
    }
    cuts.push(to);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

fn starts_with_word(text: &str, word: &str) -> bool {
    text.strip_prefix(word).is_some_and(|rest| !rest.starts_with(|c: char| c.is_alphanumeric() || c == '_'))
}

/// Convenience for items that are flows.
pub fn flows(module: &Module) -> impl Iterator<Item = &FlowDecl> {
    module.items.iter().filter_map(|i| match i {
        Item::Flow(f) => Some(f),
        _ => None,
    })
}
