//! Completion: record fields after `.` from the inferred type, a module's declarations
//! after its name, builtins, lookups, functions and bindings in expressions, stage
//! keywords at the start of a stage line, and connector options inside a source, sink
//! or batch block. The context is read from the text, since a half-typed line rarely
//! parses; the types come from the checker.

use std::path::{Path, PathBuf};

use lsp_types::{CompletionItem, CompletionItemKind, Documentation, MarkupContent, MarkupKind};

use crate::syntax::ast::{Item, StageKind};
use crate::types::Type;

use super::documents::Analysis;

/// Stage words and what each begins, in the order stages are usually written.
const STAGES: &[(&str, &str)] = &[
    ("source", "source name: kind { options } : Type"),
    ("filter", "filter condition"),
    ("dedupe by", "dedupe by key within 7d"),
    ("validate", "validate { condition else hold \"code\" \"message\" }"),
    ("let", "let name = expr"),
    ("split", "split list"),
    ("map", "map : Type { field: expr }"),
    ("hold when", "hold when condition \"code\" \"message\""),
    ("batch", "batch { size: 100, max_wait: 5s }"),
    ("group by", "group by record.key { key: key, records: count() }"),
    ("enrich", "enrich name: http.get { url: ... } : Type"),
    ("state", "state name: Type by key = value"),
    ("sink", "sink name: kind { options }"),
];

/// The items offered at `offset` of `text` (the document at `path`).
pub fn at(
    text: &str,
    offset: usize,
    path: Option<&Path>,
    roots: &[PathBuf],
    current: &Analysis,
) -> Vec<CompletionItem> {
    let offset = floor_boundary(text, offset);
    let before = &text[..offset];
    let word_start =
        before.len() - before.chars().rev().take_while(|c| is_ident(*c)).map(char::len_utf8).sum::<usize>();
    let head = &before[..word_start];
    if let Some(dot_head) = head.strip_suffix('.') {
        let dot = dot_head.strip_suffix('?').map_or(dot_head.len(), str::len);
        return after_dot(text, dot, word_start, path, roots, current);
    }
    let line_start = head.rfind('\n').map_or(0, |i| i + 1);
    let at_line_start = head[line_start..].trim().is_empty();
    if let Some((open, header)) = enclosing_block(text, word_start) {
        let words: Vec<&str> = header.split_whitespace().collect();
        if at_line_start {
            let specs = match words.as_slice() {
                ["source", .., kind] => crate::options::source_options(kind),
                ["sink", .., kind] => crate::options::sink_options(kind),
                ["batch"] => Some(crate::options::batch_stage_options()),
                ["enrich", .., kind] => crate::options::enrich_options(kind),
                _ => None,
            };
            if let Some(specs) = specs {
                let block = &text[open..];
                return specs
                    .iter()
                    .filter(|s| !written_option(block, s.name))
                    .map(|s| {
                        let detail = format!("{}{:?}", if s.required { "required: " } else { "" }, s.kind);
                        let mut item = item(s.name, CompletionItemKind::PROPERTY, Some(detail));
                        item.insert_text = Some(format!("{}: ", s.name));
                        item.documentation = s.help.map(|h| Documentation::String(h.to_string()));
                        item
                    })
                    .collect();
            }
            if words.first() == Some(&"flow") {
                return STAGES
                    .iter()
                    .map(|(w, shape)| item(w, CompletionItemKind::KEYWORD, Some(shape.to_string())))
                    .collect();
            }
        }
    }
    in_expression(text, word_start, offset, path, roots, current)
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn floor_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

fn item(label: &str, kind: CompletionItemKind, detail: Option<String>) -> CompletionItem {
    CompletionItem { label: label.to_string(), kind: Some(kind), detail, ..Default::default() }
}

/// Whether `name: ...` is already written at the start of a line of a block's text
/// (up to its closing brace).
fn written_option(block: &str, name: &str) -> bool {
    let mut depth = 0i32;
    let mut end = block.len();
    for (i, c) in block.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    end = i;
                    break;
                }
            }
            _ => {}
        }
    }
    block[..end]
        .split(['\n', '{', ','])
        .any(|l| l.trim_start().strip_prefix(name).is_some_and(|rest| rest.trim_start().starts_with(':')))
}

/// The innermost `{` still open before `offset` (outside strings and comments), and the
/// text of its line before it: `source orders: http.poll`, `flow demo`, `batch`.
fn enclosing_block(text: &str, offset: usize) -> Option<(usize, &str)> {
    let mut open: Vec<usize> = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < offset {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                while i < offset && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'"' => {
                i += 1;
                while i < offset && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => open.push(i),
            b'}' | b']' | b')' => {
                open.pop();
            }
            _ => {}
        }
        i += 1;
    }
    let &at = open.last()?;
    if bytes[at] != b'{' {
        return None;
    }
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    Some((at, text[line_start..at].trim()))
}

/// Fields of the expression before the dot at `dot` (re-checked with the dot and the
/// half-typed name blanked out, so that the rest parses), or a module's declarations.
fn after_dot(
    text: &str,
    dot: usize,
    word_start: usize,
    path: Option<&Path>,
    roots: &[PathBuf],
    current: &Analysis,
) -> Vec<CompletionItem> {
    let name_start =
        text[..dot].len() - text[..dot].chars().rev().take_while(|c| is_ident(*c)).map(char::len_utf8).sum::<usize>();
    let base_name = &text[name_start..dot];
    let mut patched = text.to_string();
    let end = floor_boundary(
        text,
        word_start + text[word_start..].chars().take_while(|c| is_ident(*c)).map(char::len_utf8).sum::<usize>(),
    );
    patched.replace_range(dot..end, &" ".repeat(end - dot));
    let analysis = Analysis::run(path, &patched, roots);
    for a in [current, &analysis] {
        if let Some(imp) = a.module().imports.iter().find(|i| i.alias == base_name) {
            return module_items(a.outcome.graph.get(imp.module));
        }
    }
    // The smallest expression ending at the dot is the one the dot applies to.
    let base = super::exprs::all(&analysis)
        .into_iter()
        .filter(|e| e.span.end as usize == dot && !e.span.is_empty())
        .min_by_key(|e| e.span.len());
    let Some(base) = base else { return Vec::new() };
    let mut items = Vec::new();
    let ty = base.ty.strip_optional();
    if let Some(fields) = ty.record_fields() {
        for (name, t) in fields {
            let mut it = item(name, CompletionItemKind::FIELD, Some(t.to_string()));
            it.sort_text = Some(format!("0{name}"));
            items.push(it);
        }
    }
    // `x.f(y)` calls a builtin with `x` first.
    for it in builtins().into_iter().filter(|it| first_param_fits(&it.label, ty)) {
        items.push(CompletionItem { sort_text: Some(format!("1{}", it.label)), ..it });
    }
    items
}

fn first_param_fits(name: &str, ty: &Type) -> bool {
    crate::builtins::lookup(name).is_some_and(|overloads| {
        overloads.iter().any(|b| {
            b.params
                .first()
                .is_some_and(|p| p.ty.contains_var() || crate::types::assignable(ty, &p.ty).is_ok() || ty.is_error())
        })
    })
}

fn builtins() -> Vec<CompletionItem> {
    let mut names: Vec<&str> = crate::builtins::names().collect();
    names.sort_unstable();
    names
        .into_iter()
        .filter_map(|n| {
            let overloads = crate::builtins::lookup(n)?;
            let first = overloads.first()?;
            let signatures: Vec<&str> = overloads.iter().map(|b| b.signature).collect();
            let mut it = item(n, CompletionItemKind::FUNCTION, Some(signatures.join("\n")));
            it.documentation = Some(Documentation::MarkupContent(MarkupContent {
                kind: MarkupKind::Markdown,
                value: first.doc.to_string(),
            }));
            Some(it)
        })
        .collect()
}

/// The types, functions and lookups a module declares.
fn module_items(m: &crate::modules::LoadedModule) -> Vec<CompletionItem> {
    m.ast
        .items
        .iter()
        .filter_map(|i| match i {
            Item::Type(t) => Some(item(&t.name.node, CompletionItemKind::STRUCT, None)),
            Item::Fn(f) => Some(item(&f.name.node, CompletionItemKind::FUNCTION, None)),
            Item::Lookup(l) => Some(item(&l.name.node, CompletionItemKind::CONSTANT, None)),
            _ => None,
        })
        .collect()
}

/// In an expression: bindings, lookups, functions, imports, constants and builtins.
fn in_expression(
    text: &str,
    word_start: usize,
    offset: usize,
    path: Option<&Path>,
    roots: &[PathBuf],
    current: &Analysis,
) -> Vec<CompletionItem> {
    let patched;
    let analysis = if current.parsed() {
        current
    } else {
        let mut t = text.to_string();
        t.replace_range(word_start..offset, &" ".repeat(offset - word_start));
        patched = Analysis::run(path, &t, roots);
        &patched
    };
    let mut items = vec![item("record", CompletionItemKind::VARIABLE, Some("the current record".to_string()))];
    let module = analysis.module();
    for imp in &module.imports {
        items.push(item(&imp.alias, CompletionItemKind::MODULE, None));
    }
    for i in &module.ast.items {
        match i {
            Item::Lookup(l) => items.push(item(&l.name.node, CompletionItemKind::CONSTANT, Some("lookup".to_string()))),
            Item::Fn(f) => items.push(item(&f.name.node, CompletionItemKind::FUNCTION, None)),
            Item::Flow(flow) if flow.span.start as usize <= word_start && word_start <= flow.span.end as usize => {
                for s in &flow.stages {
                    if let StageKind::Let { name, .. } = &s.node {
                        if (s.span.end as usize) <= word_start {
                            items.push(item(&name.node, CompletionItemKind::VARIABLE, Some("let".to_string())));
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for c in ["half_even", "half_up", "half_down", "down", "up", "floor", "ceiling", "timeout", "connection_error"] {
        let ty = crate::builtins::constant(c).map(|t| t.to_string());
        items.push(item(c, CompletionItemKind::CONSTANT, ty));
    }
    items.extend(builtins());
    items
}
