//! Syntax: `.flow` text to an AST, reporting every independent syntax error.
//!
//! pest stops at the first error, so on failure the file is cut into declarations
//! (lines that start a declaration at column 0) and flows into their items (lines that
//! start a stage, source or sink), and each piece is parsed on its own.

pub mod ast;
mod depth;
pub mod dump;
mod error;
pub(crate) mod parser;
mod pieces;
mod units;

use std::sync::Arc;

pub use error::SyntaxError;
pub(crate) use parser::parse_duration;

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

/// How deep brackets and expressions may nest. Real flows stay far below; the limit
/// keeps a hostile or generated file from exhausting the stack.
pub const MAX_DEPTH: usize = 256;

/// Parses text to a module and the syntax errors found; the module holds what parsed.
pub fn parse_errors(text: &str) -> (Module, Vec<SyntaxError>) {
    if let Some(at) = too_deep(text) {
        return (Module::default(), vec![SyntaxError::TooDeep { span: crate::source::Span::new(at, at + 1) }]);
    }
    let (module, mut errors) = parse_unchecked(text);
    if errors.is_empty() {
        if let Some(span) = depth::deepest_beyond(&module, MAX_DEPTH) {
            errors.push(SyntaxError::TooDeep { span });
            return (Module::default(), errors);
        }
    }
    (module, errors)
}

/// The offset where nesting first exceeds `MAX_DEPTH`, outside strings and comments:
/// brackets, and `if`/`match` within one declaration (an `else if` chain nests too).
fn too_deep(text: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0usize);
    let mut branches = 0usize;
    let (mut in_str, mut in_line, mut in_block) = (false, false, false);
    while i < bytes.len() {
        let (c, next) = (bytes[i], bytes.get(i + 1).copied());
        match c {
            b'\n' if in_line => in_line = false,
            _ if in_line => {}
            b'*' if in_block && next == Some(b'/') => {
                in_block = false;
                i += 1;
            }
            _ if in_block => {}
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            _ if in_str => {}
            b'/' if next == Some(b'/') => in_line = true,
            b'/' if next == Some(b'*') => in_block = true,
            b'(' | b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Some(i);
                }
            }
            b'\n' if DECL_WORDS.iter().any(|w| starts_with_word(&text[i + 1..], w)) => branches = 0,
            b'i' | b'm'
                if (i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_'))
                    && (starts_with_word(&text[i..], "if") || starts_with_word(&text[i..], "match")) =>
            {
                branches += 1;
                if branches > MAX_DEPTH {
                    return Some(i);
                }
            }
            b')' | b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

fn parse_unchecked(text: &str) -> (Module, Vec<SyntaxError>) {
    if let Some(parsed) = pieces::parse_by_item(text) {
        return parsed;
    }
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
const FLOW_WORDS: &[&str] = &[
    "source", "sink", "filter", "dedupe", "validate", "let", "split", "map", "hold", "batch", "group", "enrich",
    "state",
];

fn recover(text: &str, whole: &pest::error::Error<Rule>) -> (Module, Vec<SyntaxError>) {
    let mut module = Module::default();
    let mut errors = Vec::new();
    for (start, end) in chunks(text, 0, text.len(), DECL_WORDS, true) {
        let piece = &text[start..end];
        if is_blank(piece) {
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
        if is_blank(piece) {
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

/// Only white space and comments.
fn is_blank(piece: &str) -> bool {
    piece.trim().is_empty() || parse_rule(Rule::blank, piece).is_ok()
}

/// Cuts `text[from..to]` before each line whose first word is one of `words`
/// (at column 0 when `column0`, else after any indentation), never inside a block comment.
fn chunks(text: &str, from: usize, to: usize, words: &[&str], column0: bool) -> Vec<(usize, usize)> {
    let mut cuts = vec![from];
    let mut pos = from;
    let mut in_comment = false;
    for line in text[from..to].split_inclusive('\n') {
        let trimmed = if column0 { line } else { line.trim_start() };
        if pos != from && !in_comment && words.iter().any(|w| starts_with_word(trimmed, w) && !is_field(trimmed, w)) {
            cuts.push(pos + (line.len() - trimmed.len()));
        }
        if let (Some(open), close) = (line.rfind("/*"), line.rfind("*/")) {
            in_comment = close.is_none_or(|c| c < open);
        } else if in_comment && line.contains("*/") {
            in_comment = false;
        }
        pos += line.len();
    }
    cuts.push(to);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// `state: "CA"` in a record is a field (addresses have one), not a `state` stage.
fn is_field(text: &str, word: &str) -> bool {
    word == "state" && text[word.len()..].trim_start().starts_with(':')
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
