//! Embeds every module in `stdlib/`: the list is made from the directory itself, so a
//! module added there cannot ship without being importable.

use std::fmt::Write;
use std::path::Path;

fn main() {
    // Read when the script runs, not when it was compiled: a build script compiled for
    // one checkout and reused (a shared target directory) must still list this one's.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("Cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("stdlib");
    // A directory's entry makes Cargo rerun this script when a file in it is added,
    // removed or changed.
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut modules: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .map(|e| e.unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display())).path())
        .filter(|p| p.extension().is_some_and(|x| x == "flow"))
        .map(|p| {
            let name = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
            let plain = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            assert!(plain, "{}: a stdlib module's name must be a lower-case identifier", p.display());
            (name, p.display().to_string())
        })
        .collect();
    modules.sort();
    let mut out = String::from("/// Every embedded module, by name: its import name and its text.\n");
    out.push_str("pub const STDLIB: &[(&str, &str)] = &[\n");
    for (name, path) in &modules {
        writeln!(out, "    ({name:?}, include_str!({path:?})),").unwrap();
    }
    out.push_str("];\n");
    let target = Path::new(&std::env::var("OUT_DIR").expect("Cargo sets OUT_DIR")).join("stdlib.rs");
    std::fs::write(&target, out).unwrap_or_else(|e| panic!("cannot write {}: {e}", target.display()));
}
