//! Parser tests.
//!
//! - `fixtures/syntax/ok/*.flow` must parse without errors; each snapshot is the
//!   S-expression dump of the tree (`flowgate::syntax::dump`).
//! - `fixtures/syntax/err/*.flow` must fail; each snapshot is the source followed by the
//!   rendered diagnostics. A fixture with a `// expect-errors-at: 4 9` line must report
//!   an error on each of those lines (so recovery that stops early is caught).
//! - Inline tests pin operator precedence and a few edge cases.

use std::path::Path;

use flowgate::diagnostic::{render_plain, Diagnostics};
use flowgate::source::SourceFile;
use flowgate::syntax::ast::{ExprKind, Item, Module};
use flowgate::syntax::dump::{dump, dump_expr, dump_with_spans};
use flowgate::syntax::{self, parse};

fn file_name(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().into_owned()
}

fn parse_ok(name: &str, text: &str) -> Module {
    match parse(&SourceFile::inline(name, text)) {
        Ok(module) => module,
        Err(diags) => panic!("{name} should parse, but:\n{}", render_plain(&diags)),
    }
}

fn parse_err(name: &str, text: &str) -> Diagnostics {
    match parse(&SourceFile::inline(name, text)) {
        Ok(module) => panic!("{name} should not parse, but gave:\n{}", dump(&module)),
        Err(diags) => diags,
    }
}

/// The lines listed after `// expect-errors-at:` in a fixture, if it has that line.
fn expected_error_lines(text: &str) -> Option<Vec<usize>> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("// expect-errors-at:"))
        .map(|list| list.split_whitespace().map(|n| n.parse().expect("expect-errors-at takes line numbers")).collect())
}

#[test]
fn ok_fixtures() {
    insta::glob!("fixtures/syntax/ok/*.flow", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = file_name(path);
        assert!(text.starts_with("//"), "{name} should start with a comment saying what it shows");
        let module = parse_ok(&name, &text);
        insta::assert_snapshot!(dump(&module));
    });
}

#[test]
fn err_fixtures() {
    insta::glob!("fixtures/syntax/err/*.flow", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let name = file_name(path);
        assert!(text.starts_with("//"), "{name} should start with a comment saying what it shows");
        let diags = parse_err(&name, &text);
        assert!(diags.has_errors(), "{name}: no error among the diagnostics");
        if let Some(lines) = expected_error_lines(&text) {
            let file = SourceFile::inline(&name, &text);
            let found: Vec<usize> =
                diags.iter().filter(|d| d.is_error()).map(|d| file.line_col(d.primary.span.start).0).collect();
            for line in lines {
                assert!(
                    found.contains(&line),
                    "{name}: no error reported on line {line} (errors on lines {found:?}):\n{}",
                    render_plain(&diags)
                );
            }
        }
        insta::assert_snapshot!(format!("----- SOURCE\n{text}\n----- DIAGNOSTICS\n{}", render_plain(&diags)));
    });
}

// ---------------------------------------------------------------- whole files

#[test]
fn empty_file_is_an_empty_module() {
    assert_eq!(parse_ok("empty.flow", ""), Module::default());
    assert_eq!(parse_ok("blank.flow", " \n\t\r\n  "), Module::default());
    assert_eq!(parse_ok("comment.flow", "// only"), Module::default());
    assert_eq!(parse_ok("block.flow", "/* only */"), Module::default());
}

#[test]
fn items_keep_their_order() {
    let m = parse_ok("order.flow", "flow a {}\nimport x\ntype T = Int\nfn f() -> Int = 1\nlookup l: Int -> Int = {}\n");
    let kinds: Vec<&str> = m
        .items
        .iter()
        .map(|i| match i {
            Item::Import(_) => "import",
            Item::Type(_) => "type",
            Item::Lookup(_) => "lookup",
            Item::Fn(_) => "fn",
            Item::Flow(_) => "flow",
        })
        .collect();
    assert_eq!(kinds, ["flow", "import", "type", "fn", "lookup"]);
}

#[test]
fn flow_parts_print_in_written_order() {
    let m = parse_ok("order.flow", "flow f {\n  sink o: stdout\n  filter true\n  source s: stdin : Int\n}\n");
    assert_eq!(dump(&m), "(flow f (sink o stdout) (filter true) (source s stdin (: Int)))\n");
}

#[test]
fn dump_with_spans_shows_byte_ranges() {
    let text = "fn f(a: Int) -> Int = a + 1";
    let m = parse_ok("spans.flow", text);
    assert_eq!(
        dump_with_spans(&m),
        "(fn @0..27 f@3..4\n  (params (a:@5..6 Int@8..11))\n  (-> Int@16..19)\n  (+ @22..27 a@22..23 1@26..27))\n"
    );
}

#[test]
fn spans_of_recovered_items_point_into_the_file() {
    // The second declaration parses alone after the first fails; its spans must be
    // offsets into the whole file, not into the piece.
    let text = "type A = {\n\ntype B = { b: Int }\n";
    let (module, errors) = syntax::parse_errors(text);
    assert_eq!(errors.len(), 1, "{errors:?}");
    let Some(Item::Type(b)) = module.items.first() else { panic!("type B should survive recovery: {module:?}") };
    let start = text.find("type B").unwrap();
    assert_eq!(b.span.start as usize, start);
    assert_eq!(&text[b.name.span.start as usize..b.name.span.end as usize], "B");
}

// ---------------------------------------------------------------- expressions

/// Parses `text` as the body of a function and dumps it.
fn expr(text: &str) -> String {
    let src = format!("fn t() -> T = {text}\n");
    let m = parse_ok("expr.flow", &src);
    match &m.items[..] {
        [Item::Fn(f)] => dump_expr(&f.body),
        _ => panic!("one fn expected: {m:?}"),
    }
}

#[test]
fn precedence_coalesce_binds_looser_than_arithmetic() {
    assert_eq!(expr("a ?? b + c"), "(?? a (+ b c))");
    assert_eq!(expr("a + b ?? c"), "(?? (+ a b) c)");
    assert_eq!(expr("a ?? b * c"), "(?? a (* b c))");
}

#[test]
fn precedence_coalesce_binds_tighter_than_comparison() {
    assert_eq!(expr("a ?? 0 > b"), "(> (?? a 0) b)");
    assert_eq!(expr("a == b ?? c"), "(== a (?? b c))");
}

#[test]
fn coalesce_is_right_associative() {
    assert_eq!(expr("a ?? b ?? c"), "(?? a (?? b c))");
}

#[test]
fn arithmetic_is_left_associative() {
    assert_eq!(expr("a - b - c"), "(- (- a b) c)");
    assert_eq!(expr("a / b * c % d"), "(% (* (/ a b) c) d)");
    assert_eq!(expr("a + b * c - d"), "(- (+ a (* b c)) d)");
}

#[test]
fn precedence_not_binds_looser_than_comparison() {
    assert_eq!(expr("not a == b"), "(not (== a b))");
    assert_eq!(expr("not a and b"), "(and (not a) b)");
    assert_eq!(expr("a and not b or c"), "(or (and a (not b)) c)");
    assert_eq!(expr("not not a"), "(not (not a))");
}

#[test]
fn precedence_and_binds_tighter_than_or() {
    assert_eq!(expr("a or b and c"), "(or a (and b c))");
    assert_eq!(expr("a and b or c"), "(or (and a b) c)");
    assert_eq!(expr("a or b or c"), "(or (or a b) c)");
}

#[test]
fn precedence_negation_binds_tightest_but_after_postfix() {
    assert_eq!(expr("-x.y"), "(- (. x y))");
    assert_eq!(expr("-x[0]"), "(- ([] x 0))");
    assert_eq!(expr("-f(1)"), "(- (call f 1))");
    assert_eq!(expr("-a * b"), "(* (- a) b)");
    assert_eq!(expr("a - -b"), "(- a (- b))");
    assert_eq!(expr("- - a"), "(- (- a))");
    assert_eq!(expr("-1"), "(- 1)");
}

#[test]
fn comparisons_are_left_associative() {
    assert_eq!(expr("a < b == c"), "(== (< a b) c)");
}

#[test]
fn parentheses_override_precedence() {
    assert_eq!(expr("(a ?? b) + c"), "(+ (?? a b) c)");
    assert_eq!(expr("(a or b) and c"), "(and (or a b) c)");
    assert_eq!(expr("((a))"), "a");
}

#[test]
fn postfix_chains_group_left_to_right() {
    assert_eq!(expr("a.b?.c[0]?[1](2)"), "(call (?[] ([] (?. (. a b) c) 0) 1) 2)");
    assert_eq!(expr("a.b(1).c"), "(. (.b a 1) c)");
    assert_eq!(expr("a?.b()"), "(?.b a)");
    assert_eq!(expr("f(x)(y)"), "(call (call f x) y)");
}

#[test]
fn lambdas_take_the_rest_of_the_expression() {
    assert_eq!(expr("x => x + 1"), "(lambda (x) (+ x 1))");
    assert_eq!(expr("(a, b) => a ?? b"), "(lambda (a b) (?? a b))");
    assert_eq!(expr("() => 1"), "(lambda () 1)");
    assert_eq!(expr("a => b => a"), "(lambda (a) (lambda (b) a))");
}

#[test]
fn if_else_branch_extends_as_far_as_possible() {
    assert_eq!(expr("if a then b else c + d"), "(if a b (+ c d))");
    assert_eq!(expr("1 + if a then b else c"), "(+ 1 (if a b c))");
}

#[test]
fn prefix_operator_after_infix() {
    assert_eq!(expr("a == not b"), "(== a (not b))");
    assert_eq!(expr("a and not b == c"), "(and a (not (== b c)))");
}

#[test]
fn literal_values() {
    assert_eq!(expr("1h30m"), "5400000ms");
    assert_eq!(expr("500ms"), "500ms");
    assert_eq!(expr("1.50"), "1.50");
    assert_eq!(expr("1.5e3"), "1.5e3");
    assert_eq!(expr("10/s"), "10/s");
    assert_eq!(expr("5xx"), "5xx");
}

#[test]
fn division_by_a_name_with_spaces_is_division() {
    assert_eq!(expr("10 / s"), "(/ 10 s)");
    assert_eq!(expr("10/sec"), "(/ 10 sec)");
}

#[test]
fn interpolation_splits_text_and_expressions() {
    assert_eq!(expr(r#""a${b}c""#), r#"(str "a" (interp b) "c")"#);
    assert_eq!(expr(r#""${b}""#), "(str (interp b))");
    assert_eq!(expr(r#""\${b}""#), r#""${b}""#);
}

#[test]
fn negative_number_patterns() {
    let m = parse_ok("p.flow", "fn f(x: Int) -> Int = match x { -1 => 1, -2.5 => 2, _ => 3 }\n");
    assert_eq!(dump(&m), "(fn f (params (x: Int)) (-> Int) (match x (-1 => 1) (-2.5 => 2) (_ => 3)))\n");
}

#[test]
fn method_vs_field_vs_module_call() {
    let m = parse_ok("m.flow", "fn f(x: Int) -> Int = x.len() + x.len + m.f(x)\n");
    let Item::Fn(f) = &m.items[0] else { panic!() };
    let ExprKind::Binary(_, lhs, _) = &f.body.node else { panic!() };
    assert_eq!(dump_expr(lhs), "(+ (.len x) (. x len))");
    assert_eq!(dump_expr(&f.body), "(+ (+ (.len x) (. x len)) (.f m x))");
}

#[test]
fn errors_point_at_the_offending_token() {
    let diags = parse_err("e.flow", "fn f() -> Int = a && b\n");
    let d = diags.iter().next().unwrap();
    assert_eq!(d.primary.span.start, 18);
    assert_eq!(d.help.as_deref(), Some("write `and`"));
}

// ---------------------------------------------------------------- recovery, commas, spans
//
// Behaviour the language reference promises, each once a parser bug.

#[test]
fn comments_before_the_first_item_add_no_error_during_recovery() {
    for text in [
        "// header\nfn f() -> Int = )\n",
        "/* header */\nfn f() -> Int = )\n",
        "flow f {\n  // first\n  source s: stdin : Int\n  filter >\n  sink o: stdout\n}\n",
    ] {
        let diags = parse_err("c.flow", text);
        assert_eq!(diags.error_count(), 1, "{text}\n{}", render_plain(&diags));
    }
}

#[test]
fn recovery_does_not_cut_inside_block_comments() {
    let text = "fn g() -> Int = 1\n/*\nflow notes are here\n*/\nfn f() -> Int = )\n";
    let diags = parse_err("c.flow", text);
    assert_eq!(diags.error_count(), 1, "{}", render_plain(&diags));
}

/// An entry that starts with `-` would continue the previous value as a subtraction, so
/// such entries are separated with a comma (docs/language.md, "Commas").
#[test]
fn negative_patterns_and_keys_after_a_comma() {
    parse_ok("m.flow", "fn f(x: Int) -> Int = match x {\n  1 => x,\n  -1 => 2\n  _ => 3\n}\n");
    parse_ok("l.flow", "lookup l: Int -> Int = {\n  1 => 5,\n  -1 => 2\n}\n");
}

/// Reading a number run into letters as a duration with a wrong unit changes no valid
/// text: literals, method calls on numbers, fields named like units, keywords as fields.
#[test]
fn numbers_next_to_letters_still_parse_as_before() {
    for text in [
        "1h30m + 500ms + 2w",
        "5xx",
        "10/s",
        "1.5e3 + 2E-4",
        "19.90.to_string()",
        "round(2.345, 2, half_even)",
        "record.ms + record.s1 + record.type + record.match",
        "xs[0].h",
        "[1, 2][1]",
        "if x then 1 else 2",
    ] {
        let src = format!("fn t() -> T = {text}\n");
        parse_ok("t.flow", &src);
    }
}

#[test]
fn hold_without_message_before_a_string_entry_needs_no_comma() {
    parse_ok("m.flow", "fn f(x: String) -> Int = match x {\n  \"a\" => hold \"bad\"\n  \"b\" => 1\n  _ => 2\n}\n");
    parse_ok("r.flow", "fn f(x: Int?) -> { a: Int, \"b-c\": Int } = {\n  a: x ?? hold \"no_x\"\n  \"b-c\": 1\n}\n");
}

#[test]
fn item_spans_end_at_their_last_token() {
    let text = "flow f {\n  source s: stdin : Int // the source\n  filter true // note\n\n  sink o: stdout\n}\nfn g() -> Int = 1 // trailing\n";
    let m = parse_ok("s.flow", text);
    let slice = |span: flowgate::source::Span| &text[span.start as usize..span.end as usize];
    let Item::Flow(f) = &m.items[0] else { panic!() };
    assert_eq!(slice(f.sources[0].span), "source s: stdin : Int");
    assert_eq!(slice(f.stages[0].span), "filter true");
    let Item::Fn(g) = &m.items[1] else { panic!() };
    assert_eq!(slice(g.span), "fn g() -> Int = 1");
}

#[test]
fn a_line_break_is_not_quoted_as_the_token_found() {
    let diags = parse_err("s.flow", "fn f() -> String = \"abc\nfn g() -> Int = 1\n");
    let text = render_plain(&diags);
    assert!(!text.contains("found `\n"), "{text}");
}
