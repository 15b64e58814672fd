//! The generated parts of docs/ stay in sync with the code.

#[test]
fn builtins_md_matches_the_registry() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/builtins.md");
    let generated = flowgate::builtins::render_docs();
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(on_disk == generated, "docs/builtins.md is out of date: run `UPDATE_DOCS=1 cargo test --test docs`");
}

#[test]
fn every_builtin_is_documented_with_an_example() {
    for (_, builtins) in flowgate::builtins::all() {
        for b in builtins {
            assert!(!b.doc.is_empty(), "{} has no doc", b.signature);
            assert!(!b.examples.is_empty(), "{} has no example", b.signature);
        }
    }
}

#[path = "eval/harness.rs"]
mod harness;

/// Each example of docs/builtins.md runs through the checker and the evaluator (in the
/// flow of `eval/harness.rs`, where `record` is an order and `d` its date), calls the
/// builtin it documents, and gives the documented result. A result ending in `…"` shows
/// only the start of a string.
#[test]
fn every_builtin_example_gives_its_documented_result() {
    let mut wrong = Vec::new();
    for (_, builtins) in flowgate::builtins::all() {
        for b in builtins {
            for (call, documented) in b.examples {
                if let Err(why) = example(b.signature, call, documented) {
                    wrong.push(format!("{}: `{call}`: {why}", b.signature));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "examples in docs/builtins.md that do not hold:\n{}", wrong.join("\n"));
}

fn example(signature: &str, call: &str, documented: &str) -> Result<(), String> {
    let checked = harness::check(call).map_err(|d| flowgate::diagnostic::render_plain(&d))?;
    let mut called = Vec::new();
    harness::builtins_called(&checked.expr, &mut called);
    if !called.contains(&signature) {
        return Err(format!("calls {called:?}, not this builtin"));
    }
    let e = harness::eval(call);
    let v = e.result.map_err(|s| format!("holds the record: {}: {}", s.code, s.message))?;
    if let Some(m) = harness::misfit(&v, &e.ty) {
        return Err(format!("is typed {} but gives {m}", e.ty));
    }
    let shown = harness::show(&v, &e.ty);
    let holds = match documented.strip_suffix("…\"") {
        Some(start) => start.len() > 1 && shown.starts_with(start),
        None => shown == *documented,
    };
    if holds {
        Ok(())
    } else {
        Err(format!("gives {shown}, documented {documented}"))
    }
}
