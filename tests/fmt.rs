//! The formatter over every flow the project has: the fixtures, flows/ and stdlib/.
//!
//! For each file that parses, formatting must keep its meaning (the same syntax tree
//! without spans, the same diagnostic codes, the same IR), keep every comment, and be
//! idempotent. A file that does not parse must be refused. A bounded property test
//! re-spaces and comments the example flows and checks the same.

use std::path::{Path, PathBuf};

use flowgate::fmt::{comment_texts, format_text};
use flowgate::source::SourceFile;
use flowgate::syntax::{self, dump::dump};
use proptest::prelude::*;

fn flow_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dirs = [root.join("tests/fixtures"), root.join("flows"), root.join("stdlib")];
    let files = flowgate::project::collect_flow_files(&dirs).unwrap();
    assert!(files.len() > 50, "the corpus should hold the fixtures and examples, found {}", files.len());
    files
}

fn tree(name: &str, text: &str) -> Option<String> {
    syntax::parse(&SourceFile::inline(name, text)).ok().map(|m| dump(&m))
}

/// What the checker makes of a text, with line numbers (which formatting moves) left out.
fn checked(name: &str, text: &str) -> (Vec<String>, String) {
    let outcome = flowgate::check_text(name, text);
    let codes = outcome.diagnostics.iter().map(|d| d.code.as_str().to_string()).collect();
    let lines = regex::Regex::new(r"\(line \d+\)").unwrap();
    (codes, lines.replace_all(&outcome.dump_ir(), "(line _)").into_owned())
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

/// Formats `text` and checks every property; returns the formatted text.
fn assert_formats_faithfully(name: &str, text: &str) -> String {
    let before = tree(name, text).expect("the text parses");
    let once = format_text(name, text).unwrap_or_else(|d| panic!("{name}: {}", flowgate::diagnostic::render_plain(&d)));
    let after = tree(name, &once).unwrap_or_else(|| panic!("{name}: the formatted text does not parse:\n{once}"));
    assert_eq!(before, after, "{name}: formatting changed the syntax tree; formatted:\n{once}");
    let twice = format_text(name, &once).unwrap();
    assert_eq!(once, twice, "{name}: formatting is not idempotent");
    assert_eq!(
        sorted(comment_texts(text)),
        sorted(comment_texts(&once)),
        "{name}: a comment was lost or changed; formatted:\n{once}"
    );
    once
}

#[test]
fn every_flow_keeps_its_meaning_and_comments_and_formats_once() {
    let (mut formatted, mut refused) = (0, 0);
    for path in flow_files() {
        let name = path.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        if tree(&name, &text).is_none() {
            assert!(format_text(&name, &text).is_err(), "{name} does not parse but was formatted");
            refused += 1;
            continue;
        }
        let once = assert_formats_faithfully(&name, &text);
        assert_eq!(checked(&name, &text), checked(&name, &once), "{name}: the checker sees another program");
        formatted += 1;
    }
    assert!(formatted > 40 && refused > 5, "formatted {formatted}, refused {refused}");
}

fn example_flows() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    flowgate::project::collect_flow_files(&[root.join("flows"), root.join("stdlib")])
        .unwrap()
        .into_iter()
        .map(|p| (p.to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect()
}

/// One way to change a line's layout without changing what it means.
#[derive(Clone, Debug)]
enum Edit {
    Keep,
    Indent(usize),
    /// A line comment at its end.
    LineComment,
    /// A block comment at its end.
    BlockComment,
    /// An empty line before it.
    Blank,
    /// Joined to the next line. Only where the line ends in neither a string (a `hold`
    /// reason would take the next line's string as its message) nor a comment.
    Join,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        6 => Just(Edit::Keep),
        2 => (0usize..7).prop_map(Edit::Indent),
        1 => Just(Edit::LineComment),
        1 => Just(Edit::BlockComment),
        1 => Just(Edit::Blank),
        2 => Just(Edit::Join),
    ]
}

fn apply(text: &str, edits: &[Edit]) -> String {
    let mut out = String::new();
    for (i, line) in text.lines().enumerate() {
        let edit = edits.get(i % edits.len().max(1)).cloned().unwrap_or(Edit::Keep);
        let code_end = !line.contains("//") && !line.contains("/*") && !line.trim_end().ends_with('"');
        match edit {
            Edit::Keep => out.push_str(line),
            Edit::Indent(n) => out.push_str(&format!("{}{}", " ".repeat(n), line.trim_start())),
            Edit::LineComment if code_end => out.push_str(&format!("{line} // note {i}")),
            Edit::BlockComment if code_end => out.push_str(&format!("{line} /* note {i} */")),
            Edit::Blank => out.push_str(&format!("\n{line}")),
            Edit::Join if code_end && !line.trim().is_empty() => {
                out.push_str(line);
                out.push(' ');
                continue;
            }
            _ => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn respaced_and_commented_examples_format_faithfully(
        which in 0usize..16,
        edits in proptest::collection::vec(edit(), 1..40),
    ) {
        let flows = example_flows();
        let (name, text) = &flows[which % flows.len()];
        let mutated = apply(text, &edits);
        let original = tree(name, text).unwrap();
        prop_assert_eq!(&tree(name, &mutated).expect("a re-spaced flow parses"), &original);
        let once = assert_formats_faithfully(name, &mutated);
        prop_assert_eq!(tree(name, &once).unwrap(), original);
    }
}
