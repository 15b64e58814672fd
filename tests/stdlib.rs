//! The stdlib as shipped: every module in `stdlib/` is embedded, importable, and checks.

use std::path::{Path, PathBuf};

use flowgate::modules::{stdlib_module, STDLIB};

/// The `.flow` files in `stdlib/`, sorted, with their module names.
fn shipped() -> Vec<(String, PathBuf)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("stdlib");
    let mut files: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .map(|p| (p.file_stem().unwrap().to_str().unwrap().to_string(), p))
        .collect();
    files.sort();
    files
}

#[test]
fn every_file_in_stdlib_is_embedded_as_it_is() {
    let shipped = shipped();
    assert!(shipped.len() >= 4, "{shipped:?}");
    let embedded: Vec<&str> = STDLIB.iter().map(|(n, _)| *n).collect();
    let names: Vec<&str> = shipped.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(embedded, names);
    for (name, path) in &shipped {
        let module = stdlib_module(name).unwrap_or_else(|| panic!("`{name}` is not embedded"));
        assert_eq!(*module.text, *std::fs::read_to_string(path).unwrap(), "{name}");
    }
}

#[test]
fn every_stdlib_module_checks_on_its_own() {
    for (name, path) in shipped() {
        let outcome = flowgate::check_files(&[path]).unwrap();
        assert!(!outcome.diagnostics.has_errors(), "{name}: {:#?}", outcome.diagnostics);
    }
}

#[test]
fn every_stdlib_module_is_importable_by_name() {
    for (name, _) in shipped() {
        let outcome = flowgate::check_text("uses.flow", &format!("import {name}\n"));
        assert!(!outcome.diagnostics.has_errors(), "import {name}: {:#?}", outcome.diagnostics);
    }
}
