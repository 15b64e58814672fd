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
