//! flowgate: a compiler and interpreter for `.flow` integration pipelines.
//!
//! A flow travels one way through the crate:
//!
//! ```text
//! text --syntax::parse--> AST --modules--> module graph --check--> typed program --ir::lower--> IR
//! ```
//!
//! `check_files` runs the front end over files on disk; `check_text` over a string.
//!
//! ```
//! let outcome = flowgate::check_text("demo.flow", r#"
//! import shopify
//! flow demo {
//!   source orders: stdin {} : shopify.Order
//!   filter record.line_items.count() > 0
//!   sink out: stdout {}
//! }
//! "#);
//! assert!(!outcome.diagnostics.has_errors());
//! ```

pub mod builtins;
pub mod check;
pub mod cli;
pub mod confine;
pub mod connectors;
pub mod diagnostic;
pub mod fmt;
pub mod graph;
pub mod ir;
pub mod lookup_file;
pub mod lsp;
pub mod metrics;
pub mod modules;
pub mod options;
pub mod project;
pub mod runtime;
pub mod scaffold;
pub mod scrub;
pub mod source;
pub mod state;
pub mod syntax;
pub mod testing;
pub mod types;
pub mod value;
mod yaml;

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use confine::Confinement;
use diagnostic::Diagnostics;
use modules::{ModuleGraph, ModuleId};
use source::{Origin, SourceFile};

/// What the front end made of a set of files.
#[derive(Debug)]
pub struct CheckOutcome {
    pub diagnostics: Diagnostics,
    pub graph: ModuleGraph,
    pub roots: Vec<ModuleId>,
    pub program: check::typed::Program,
}

impl CheckOutcome {
    /// The IR of everything checked, or `None` when there were errors.
    pub fn ir(&self) -> Option<ir::Program> {
        (!self.diagnostics.has_errors()).then(|| ir::lower(&self.program, &self.graph))
    }

    /// The readable IR, for `--emit ir`.
    pub fn dump_ir(&self) -> String {
        self.ir().map(|p| ir::display(&p)).unwrap_or_default()
    }
}

impl CheckOutcome {
    /// The syntax trees of the root files, for `--emit ast`.
    pub fn dump_ast(&self) -> String {
        self.roots
            .iter()
            .map(|&r| format!("// {}\n{:#?}\n", self.graph.get(r).file.name, self.graph.get(r).ast))
            .collect()
    }
}

/// Checks files on disk (and what they import), reading only from their directories
/// and the working directory (see `check_files_in`). Fails only when a file cannot be read.
pub fn check_files(paths: &[PathBuf]) -> io::Result<CheckOutcome> {
    let mut confinement = Confinement::around(paths);
    confinement.allow(Path::new("."));
    check_files_in(paths, confinement)
}

/// Checks files on disk, reading them, their imports and their lookup files only inside
/// `confinement` (`crate::confine`). Fails only when a file named in `paths` cannot be
/// read: it is outside, not a regular `.flow` file, too large or not UTF-8.
pub fn check_files_in(paths: &[PathBuf], confinement: Confinement) -> io::Result<CheckOutcome> {
    let mut files = Vec::new();
    for p in paths {
        let refused = |e: confine::ReadError| {
            let kind = match &e {
                confine::ReadError::Io(io) => io.kind(),
                _ => io::ErrorKind::InvalidData,
            };
            io::Error::new(kind, format!("{}: {e}", p.display()))
        };
        if p.extension().is_none_or(|e| e != "flow") {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{}: not a .flow file (only .flow files are checked)", p.display()),
            ));
        }
        let (canonical, text) = confinement.read_text(p, confine::MAX_FLOW_BYTES).map_err(refused)?;
        files.push(SourceFile::new(modules::display_path(p), Origin::File(canonical), text));
    }
    Ok(check_sources(files, confinement))
}

/// Checks one text, as if it were a file with no directory (stdlib imports only).
pub fn check_text(name: &str, text: &str) -> CheckOutcome {
    check_sources(vec![SourceFile::inline(name, text)], Confinement::unconfined())
}

/// Checks one source file as given (an editor's unsaved text, with the path it will be
/// saved at), reading its imports and lookup files only inside `confinement`.
pub fn check_source(file: Arc<SourceFile>, confinement: Confinement) -> CheckOutcome {
    check_sources(vec![file], confinement)
}

/// The front end recurses over the syntax tree; it runs on its own thread with a stack
/// large enough for anything the nesting limit lets through, whoever calls it. The
/// memory is reserved, not used, until deep input needs it.
const FRONT_END_STACK: usize = 256 << 20;

fn check_sources(files: Vec<Arc<SourceFile>>, confinement: Confinement) -> CheckOutcome {
    let worker = std::thread::Builder::new().name("flowgate-check".into()).stack_size(FRONT_END_STACK);
    match worker.spawn(move || check_sources_here(files, confinement)).map(|h| h.join()) {
        Ok(Ok(outcome)) => outcome,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the front end's thread: {e}"),
    }
}

fn check_sources_here(files: Vec<Arc<SourceFile>>, confinement: Confinement) -> CheckOutcome {
    let mut diagnostics = Diagnostics::default();
    let mut graph = ModuleGraph::default();
    graph.confinement = confinement;
    let roots: Vec<ModuleId> = files.into_iter().map(|f| graph.load_root(f, &mut diagnostics)).collect();
    let (program, check_diags) = check::check(&graph, &roots);
    diagnostics.extend(check_diags);
    diagnostics.sort();
    CheckOutcome { diagnostics, graph, roots, program }
}
