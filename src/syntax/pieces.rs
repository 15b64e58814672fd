//! Parsing a file a piece at a time, so memory stays bounded on a very large file.
//!
//! pest keeps a token for every rule it matched until its parse ends: one parse of a
//! 50 MiB file held gigabytes of them. Here a file is parsed one declaration at a time,
//! and a large inline lookup table a run of rows at a time. Whenever a piece fails on its
//! own, the caller parses the whole file as before, so errors read as they always did.
//!
//! The result equals the whole file's parse. A piece that parses alone ends after only
//! white space and comments (a piece cut inside a string or a comment fails), the next
//! piece starts a line with a declaration word or a row's string, and nothing in the
//! grammar continues a declaration with a name such as `type`, or a row with a string
//! on a new line; so the whole parse ends each declaration and row at the same place.

use pest::iterators::Pair;

use super::ast::{
    Expr, ExprKind, FieldDecl, Ident, Item, LookupBody, LookupDecl, Module, StrPart, TypeDecl, TypeExpr, TypeExprKind,
};
use super::parser::{next, parse_rule, Builder, Rule};
use super::{is_blank, starts_with_word, SyntaxError, DECL_WORDS};
use crate::source::{Span, Spanned};

/// Rows read per piece of a lookup table: large enough that pest's start-up per piece
/// does not count, small enough that its tokens stay a few megabytes.
const ROWS_PER_PIECE: usize = 4096;

/// Lookup declarations smaller than this are parsed whole.
const LARGE_TABLE: usize = 1 << 20;

/// The module and the errors in its literals, or `None` when a piece fails alone.
pub(super) fn parse_by_item(text: &str) -> Option<(Module, Vec<SyntaxError>)> {
    let mut module = Module::default();
    let mut errors = Vec::new();
    for (start, end) in declarations(text) {
        let piece = &text[start..end];
        if start == 0 && is_blank(piece) {
            continue;
        }
        let mut b = Builder::new(start);
        let item = match plain_type(text, start, end).or_else(|| large_table(text, start, end, &mut b)) {
            Some(item) => item,
            None => {
                b = Builder::new(start);
                let mut pairs = parse_rule(Rule::single_item, piece).ok()?;
                b.item(pairs.next()?.into_inner().next()?)
            }
        };
        module.items.push(item);
        errors.extend(b.errors);
    }
    Some((module, errors))
}

/// Cuts the file before each line that starts with a declaration word at column 0,
/// outside strings and comments. Unlike the cutting error recovery does line by line, a
/// `/*` inside a string (`"in/*.json"`) opens no comment here.
fn declarations(text: &str) -> Vec<(usize, usize)> {
    let bytes = text.as_bytes();
    let mut cuts = vec![0];
    let (mut i, mut in_str) = (0usize, false);
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_str => i += 1,
            b'"' => in_str = !in_str,
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'/') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n) - 1;
            }
            b'/' if !in_str && bytes.get(i + 1) == Some(&b'*') => {
                i = text[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 1);
            }
            b'\n' => {
                // A string never spans lines; one left open here is an error the parse reports.
                in_str = false;
                if DECL_WORDS.iter().any(|w| starts_with_word(&text[i + 1..], w)) {
                    cuts.push(i + 1);
                }
            }
            _ => {}
        }
        i += 1;
    }
    cuts.push(text.len());
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

/// A lookup declaration with a large inline table, read head first and then a run of
/// rows at a time; `None` when the piece is not one or any part fails.
fn large_table(text: &str, start: usize, end: usize, b: &mut Builder) -> Option<Item> {
    let piece = &text[start..end];
    if piece.len() < LARGE_TABLE || !piece.trim_start().starts_with("lookup") {
        return None;
    }
    let head = parse_rule(Rule::lookup_head, piece).ok()?.next()?;
    let body_start = start + head.as_span().end();
    // The declaration starts at its keyword, after any comments before it.
    let decl_start = start + head.clone().into_inner().next()?.as_span().start();
    // The table must end in its `}` followed by nothing but white space and comments.
    let close = body_start + text[body_start..end].rfind('}')?;
    if !is_blank(&text[close + 1..end]) {
        return None;
    }
    let (name, key, value) = lookup_head(b, head);
    let mut rows = Vec::new();
    for (s, e) in row_runs(text, body_start, close) {
        if let Some(plain) = plain_rows(text, s, e) {
            rows.extend(plain);
            continue;
        }
        let mut pairs = parse_rule(Rule::lookup_rows, &text[s..e]).ok()?;
        let mut rb = Builder::new(s);
        rows.extend(
            pairs.next()?.into_inner().filter(|p| p.as_rule() == Rule::lookup_entry).map(|p| rb.lookup_entry(p)),
        );
        b.errors.extend(rb.errors);
    }
    let span = Span::new(decl_start, close + 1);
    Some(Item::Lookup(LookupDecl { name, key, value, body: LookupBody::Table(rows), span }))
}

/// The rows of `text[from..to]` when every one is two plain strings (`"a" => "b"`, a
/// comma or none, no escape, interpolation or comment), read without pest: each rule pest
/// tries on a row (every operator that could follow a string) costs more than the row.
/// `None` sends the run to pest. The nodes are the ones pest's reading builds.
fn plain_rows(text: &str, from: usize, to: usize) -> Option<Vec<(Expr, Expr)>> {
    let bytes = text.as_bytes();
    let blank = |mut i: usize| {
        while i < to && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    };
    let string = |i: usize| -> Option<(Expr, usize)> {
        if bytes.get(i) != Some(&b'"') {
            return None;
        }
        let len = text[i + 1..to].find(['"', '\\', '$', '\n'])?;
        let end = i + 1 + len;
        if bytes[end] != b'"' {
            return None;
        }
        let part = StrPart::Text(text[i + 1..end].to_string());
        Some((Spanned::new(ExprKind::Str(vec![part]), Span::new(i, end + 1)), end + 1))
    };
    let mut rows = Vec::new();
    let mut i = blank(from);
    while i < to {
        let (key, after) = string(i)?;
        i = blank(after);
        if !text[i..to].starts_with("=>") {
            return None;
        }
        let (value, after) = string(blank(i + 2))?;
        i = blank(after);
        if i < to && bytes[i] == b',' {
            i = blank(i + 1);
        }
        rows.push((key, value));
    }
    Some(rows)
}

/// A declaration `type T = { name: Type, other: Type? }` (names only: no strings,
/// comments, unions, lists or qualified names), read without pest into the nodes pest's
/// reading builds; `None` sends the piece to pest.
fn plain_type(text: &str, start: usize, end: usize) -> Option<Item> {
    let bytes = text.as_bytes();
    let blank = |mut i: usize| {
        while i < end && matches!(bytes[i], b' ' | b'\t' | b'\r' | b'\n') {
            i += 1;
        }
        i
    };
    // A name from `i` (`raw` allows a reserved word), with its end.
    let name = |i: usize, raw: bool| -> Option<(Ident, usize)> {
        let first = *bytes.get(i)?;
        if !(first.is_ascii_alphabetic() || first == b'_') {
            return None;
        }
        let len = bytes[i..end].iter().position(|b| !(b.is_ascii_alphanumeric() || *b == b'_')).unwrap_or(end - i);
        let word = &text[i..i + len];
        if !raw && RESERVED.contains(&word) {
            return None;
        }
        Some((Spanned::new(word.to_string(), Span::new(i, i + len)), i + len))
    };
    if !starts_with_word(&text[start..end], "type") {
        return None;
    }
    let (decl_name, i) = name(blank(start + 4), false)?;
    let i = blank(i);
    if bytes.get(i) != Some(&b'=') {
        return None;
    }
    let open = blank(i + 1);
    if bytes.get(open) != Some(&b'{') {
        return None;
    }
    let mut fields = Vec::new();
    let mut i = blank(open + 1);
    while bytes.get(i) != Some(&b'}') {
        let (field, after) = name(i, true)?;
        let colon = blank(after);
        if bytes.get(colon) != Some(&b':') {
            return None;
        }
        let (ty_name, after) = name(blank(colon + 1), false)?;
        let atom_span = ty_name.span;
        let mut ty = Spanned::new(TypeExprKind::Named { module: None, name: ty_name }, atom_span);
        i = blank(after);
        if bytes.get(i) == Some(&b'?') {
            ty = Spanned::new(TypeExprKind::Optional(Box::new(ty)), Span::new(atom_span.start as usize, i + 1));
            i = blank(i + 1);
        }
        if bytes.get(i) == Some(&b',') {
            i = blank(i + 1);
        }
        // Anything else here (`(`, `.`, `|`, `[`, a comment) is for pest to read.
        if !matches!(bytes.get(i), Some(b) if *b == b'}' || b.is_ascii_alphabetic() || *b == b'_') {
            return None;
        }
        fields.push(FieldDecl { name: field, ty });
    }
    if blank(i + 1) != end {
        return None;
    }
    let ty = Spanned::new(TypeExprKind::Record(fields), Span::new(open, i + 1));
    Some(Item::Type(TypeDecl { name: decl_name, ty, span: Span::new(start, i + 1) }))
}

/// The reserved words (`reserved` in the grammar): never a type's name.
const RESERVED: &[&str] = &["if", "then", "else", "match", "and", "or", "not", "true", "false", "null", "hold"];

/// The name, key type and value type a lookup head declares.
fn lookup_head(b: &mut Builder, head: Pair<'_, Rule>) -> (Ident, TypeExpr, TypeExpr) {
    let mut inner = head.into_inner().skip(1);
    let name = b.ident(next(&mut inner));
    let key = b.type_expr(next(&mut inner));
    let value = b.type_expr(next(&mut inner));
    (name, key, value)
}

/// Cuts `text[from..to]` into runs of about `ROWS_PER_PIECE` lines, each cut before a
/// line that starts a row: its first character after indentation is a string's `"`, and
/// it has an `=>` (a row's value alone on its line is not cut from its key).
fn row_runs(text: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
    let mut cuts = vec![from];
    let (mut pos, mut lines) = (from, 0usize);
    for line in text[from..to].split_inclusive('\n') {
        if lines >= ROWS_PER_PIECE && line.trim_start().starts_with('"') && line.contains("=>") {
            cuts.push(pos);
            lines = 0;
        }
        lines += 1;
        pos += line.len();
    }
    cuts.push(to);
    cuts.windows(2).map(|w| (w[0], w[1])).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The whole file in one pest parse, as `parse_errors` does when a piece fails.
    fn whole(text: &str) -> Option<String> {
        let mut pairs = parse_rule(Rule::file, text).ok()?;
        let mut b = Builder::new(0);
        let module = b.file(pairs.next()?);
        Some(format!("{module:?} {:?}", b.errors))
    }

    fn by_pieces(text: &str) -> Option<String> {
        parse_by_item(text).map(|(module, errors)| format!("{module:?} {errors:?}"))
    }

    fn flow_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                flow_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "flow") {
                out.push(path);
            }
        }
    }

    #[test]
    fn every_flow_in_the_project_reads_the_same_by_pieces() {
        // Some fixtures nest deeply on purpose: parse on a stack as large as the front end's.
        let worker = std::thread::Builder::new().stack_size(256 << 20);
        let joined = worker.spawn(compare_every_flow).map(|h| h.join());
        assert!(matches!(joined, Ok(Ok(()))), "comparing the project's flows failed");
    }

    fn compare_every_flow() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        for dir in ["tests/fixtures", "flows", "stdlib", "docs", "benches"] {
            flow_files(&root.join(dir), &mut files);
        }
        assert!(files.len() > 50, "found only {} flow files", files.len());
        let mut pieced = 0;
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let (w, p) = (whole(&text), by_pieces(&text));
            if let Some(p) = &p {
                assert_eq!(w.as_ref(), Some(p), "{} reads differently by pieces", path.display());
                pieced += 1;
            }
        }
        assert!(pieced > 50, "only {pieced} files parsed by pieces");
    }

    /// Rows in every shape a table allows: commas or none, comments between and after
    /// rows, a row over three lines, escapes, interpolation and a bad escape.
    fn large_table_text() -> String {
        let mut text = String::from("// codes\nimport shopify\n\nlookup codes: String -> String = { // first\n");
        let mut i = 0;
        // Plain rows, read without pest, with an empty string and text beyond ASCII.
        for k in 0..3 * ROWS_PER_PIECE {
            text.push_str(&format!("  \"P{k}\" =>\"\"  ,\"Q{k}é\"\t=> \"W {k}\"\n"));
        }
        while text.len() < 3 * LARGE_TABLE {
            match i % 7 {
                0 => text.push_str(&format!("  \"K{i}\" => \"V{i}\",\n")),
                1 => text.push_str(&format!("  \"K{i}\" => \"V\\n{i}\"  // note\n")),
                2 => text.push_str(&format!("  \"K{i}\"\n    =>\n    \"V{i}\" /* spans\n  lines */\n")),
                3 => text.push_str(&format!("  \"K{i}\" => \"${{\"x\"}}{i}\" , \"L{i}\" => \"W\"\n")),
                4 => text.push_str(&format!("\n\n  \"K{i}\" => \"V{i}\" ?? \"none\"\n")),
                5 => text.push_str(&format!("  \"K\\q{i}\" => \"V{i}\"\n")),
                _ => text.push_str(&format!("  \"K{i}\" => \"V{i}\"\n")),
            }
            i += 1;
        }
        text.push_str("} /* end */ // done\n\ntype T = { sku: String }\n");
        text
    }

    #[test]
    fn a_large_table_reads_the_same_a_run_of_rows_at_a_time() {
        let text = large_table_text();
        let start = text.find("lookup").unwrap_or(0);
        let end = text.find("type T").unwrap_or(text.len());
        let mut b = Builder::new(start);
        assert!(large_table(&text, start, end, &mut b).is_some(), "the table was not read in runs");
        assert!(!b.errors.is_empty(), "the bad escape was not reported");
        let body = text[start..].find('{').map_or(0, |i| start + i + 1);
        let runs = row_runs(&text, body, end);
        assert!(runs.len() > 10);
        assert!(runs.iter().filter(|(s, e)| plain_rows(&text, *s, *e).is_some()).count() >= 2);
        assert!(runs.iter().filter(|(s, e)| plain_rows(&text, *s, *e).is_none()).count() >= 2);
        assert_eq!(by_pieces(&text), whole(&text));
    }

    #[test]
    fn a_table_that_does_not_read_in_runs_falls_back_to_the_whole_file() {
        // A row cut from its value, and a table that ends in a stray `}`.
        for broken in ["\"K\" =>\n\"V\"\n}\n", "\"K\" => \"V\"\n}\n}\n"] {
            let mut text = large_table_text();
            let cut = text.find("} /* end */").unwrap_or(text.len());
            text.truncate(cut);
            text.push_str(broken);
            let start = text.find("lookup").unwrap_or(0);
            let mut b = Builder::new(start);
            let read = large_table(&text, start, text.len(), &mut b);
            assert_eq!(read.is_some(), whole(&text).is_some(), "{broken:?}");
        }
    }

    #[test]
    fn strings_and_comments_hide_no_declaration_from_the_cutting() {
        let text = "flow f {\n  source s: file { path: \"in/*.json\" } : T\n  sink o: stdout\n}\n\
                    /* a comment\ntype Hidden = Int\n*/ // type\ntype T = { path: String }\n";
        let cuts = declarations(text);
        assert_eq!(cuts.len(), 2, "{cuts:?}");
        assert_eq!(&text[cuts[1].0..cuts[1].0 + 6], "type T");
        assert_eq!(by_pieces(text), whole(text));
        assert!(by_pieces(text).is_some());
    }

    #[test]
    fn plain_type_declarations_read_as_pest_reads_them() {
        let plain = [
            "type A = { sku: String, qty: Int, price: Decimal?, note: String? }\n",
            "type B={}\n",
            "type C = {\n  type: String ,\n  match: Int ?\n  x_1 : _T\n}\n\n",
        ];
        for text in plain {
            assert!(plain_type(text, 0, text.len()).is_some(), "{text:?} was not read as plain");
            assert_eq!(by_pieces(text), whole(text), "{text:?}");
        }
        let not_plain = [
            "type A = { d: Decimal(2) }\n",
            "type A = { s: shopify.Order }\n",
            "type A = { s: String | Int }\n",
            "type A = { s: [String] }\n",
            "type A = { s: String } // note\n",
            "type A = { \"s\": String }\n",
            "type A = { s: if }\n",
            "type if = { s: String }\n",
            "type A = { ..B, s: String }\n",
            "types A = { s: String }\n",
            "type A = Int\n",
        ];
        for text in not_plain {
            assert!(plain_type(text, 0, text.len()).is_none(), "{text:?} was read as plain");
            assert_eq!(by_pieces(text), whole(text), "{text:?}");
        }
    }

    #[test]
    fn a_piece_cut_wrongly_falls_back_to_the_whole_file() {
        // An interpolation over two lines whose second line starts with a name that is
        // also a declaration word: the cut lands inside the string, the first piece fails
        // alone, and the whole file is parsed.
        let text = "fn f(type: String) -> String = \"${\ntype}\"\n";
        assert_eq!(by_pieces(text), None);
        let (module, errors) = super::super::parse_errors(text);
        assert_eq!((module.items.len(), errors.len()), (1, 0), "{errors:?}");
    }
}
