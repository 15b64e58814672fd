//! Modules: resolving `import`s to files on disk or to the embedded stdlib.
//!
//! `import name` looks for `name.flow` beside the importing file first, then for the
//! stdlib module `name`; `import "path.flow" as m` is always relative to the importer.
//! Cycles and missing modules become diagnostics; parsing happens here, checking does not.

mod stdlib;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use stdlib::{stdlib_module, STDLIB};

use crate::confine::{Confinement, ReadError, MAX_FLOW_BYTES};
use crate::diagnostic::{did_you_mean, Code, Diagnostic, Diagnostics};
use crate::source::{Origin, SourceFile, Span};
use crate::syntax::ast::{ImportTarget, Item, Module};

/// Index of a module in a `ModuleGraph`.
pub type ModuleId = usize;

#[derive(Debug)]
pub struct LoadedModule {
    pub file: Arc<SourceFile>,
    pub ast: Module,
    /// The imports of this module that resolved, in source order.
    pub imports: Vec<ResolvedImport>,
    /// False when the module failed to parse (its diagnostics are already reported).
    pub parsed: bool,
}

#[derive(Clone, Debug)]
pub struct ResolvedImport {
    pub alias: String,
    pub module: ModuleId,
    pub span: Span,
}

/// Every module reachable from the roots, each loaded once.
#[derive(Debug, Default)]
pub struct ModuleGraph {
    pub modules: Vec<LoadedModule>,
    by_key: HashMap<Origin, ModuleId>,
    /// Where imports and lookup files may be read from.
    pub confinement: Confinement,
}

impl ModuleGraph {
    pub fn get(&self, id: ModuleId) -> &LoadedModule {
        &self.modules[id]
    }

    /// Loads a root file and everything it imports.
    pub fn load_root(&mut self, file: Arc<SourceFile>, diags: &mut Diagnostics) -> ModuleId {
        let mut stack = Vec::new();
        self.load(file, &mut stack, diags)
    }

    fn load(&mut self, file: Arc<SourceFile>, stack: &mut Vec<ModuleId>, diags: &mut Diagnostics) -> ModuleId {
        if let Some(&id) = self.by_key.get(&file.origin) {
            return id;
        }
        let (ast, parsed) = match crate::syntax::parse(&file) {
            Ok(ast) => (ast, true),
            Err(d) => {
                diags.extend(d);
                (Module::default(), false)
            }
        };
        let id = self.modules.len();
        if file.origin != Origin::Inline {
            self.by_key.insert(file.origin.clone(), id);
        }
        self.modules.push(LoadedModule { file: file.clone(), ast, imports: Vec::new(), parsed });
        stack.push(id);
        let imports = self.resolve_imports(id, stack, diags);
        stack.pop();
        self.modules[id].imports = imports;
        id
    }

    fn resolve_imports(
        &mut self,
        id: ModuleId,
        stack: &mut Vec<ModuleId>,
        diags: &mut Diagnostics,
    ) -> Vec<ResolvedImport> {
        let file = self.modules[id].file.clone();
        let imports: Vec<_> = self.modules[id]
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Import(imp) => Some(imp.clone()),
                _ => None,
            })
            .collect();
        let mut out: Vec<ResolvedImport> = Vec::new();
        for imp in imports {
            let (alias, alias_span) = match (&imp.alias, &imp.target) {
                (Some(a), _) => (a.node.clone(), a.span),
                (None, ImportTarget::Name(n)) => (n.node.clone(), n.span),
                (None, ImportTarget::Path(p)) => (file_stem(&p.node), p.span),
            };
            if let Some(prev) = out.iter().find(|r| r.alias == alias) {
                diags.push(
                    Diagnostic::new(
                        Code::DuplicateImport,
                        &file,
                        alias_span,
                        format!("`{alias}` is imported twice"),
                        "imported again here",
                    )
                    .with_secondary(&file, prev.span, "first imported here")
                    .with_help("give one of them another name with `as`"),
                );
                continue;
            }
            let target = match resolve(&file, &imp.target, &self.confinement) {
                Ok(target) => target,
                Err(None) => {
                    diags.push(unknown_module(&file, &imp.target));
                    continue;
                }
                Err(Some(refused)) => {
                    diags.push(refused.diagnostic(&file, &imp.target));
                    continue;
                }
            };
            if let Some(&existing) = self.by_key.get(&target.origin) {
                if let Some(pos) = stack.iter().position(|&m| m == existing) {
                    diags.push(cycle(&file, imp.span, &self.modules, &stack[pos..]));
                    continue;
                }
            }
            let module = self.load(target, stack, diags);
            out.push(ResolvedImport { alias, module, span: imp.span });
        }
        out
    }
}

fn file_stem(path: &str) -> String {
    Path::new(path).file_stem().and_then(|s| s.to_str()).unwrap_or(path).to_string()
}

/// An import that names a file which exists but may not be read. The diagnostic names
/// the path and why, never what the file holds.
struct Refused {
    path: PathBuf,
    why: Why,
}

enum Why {
    Read(ReadError),
    /// Only `.flow` files are modules: anything else would be parsed, and its text
    /// quoted in the syntax errors.
    NotAFlow,
}

impl Refused {
    fn diagnostic(&self, file: &Arc<SourceFile>, target: &ImportTarget) -> Diagnostic {
        let span = match target {
            ImportTarget::Name(n) => n.span,
            ImportTarget::Path(p) => p.span,
        };
        let shown = display_path(&self.path);
        match &self.why {
            Why::Read(e @ ReadError::Outside { .. }) => {
                Diagnostic::new(Code::PathOutside, file, span, format!("cannot import `{shown}`: {e}"), "outside")
                    .with_help("imports and lookup files are read only from the directories being checked")
            }
            Why::Read(e) => {
                Diagnostic::new(Code::FileRefused, file, span, format!("cannot import `{shown}`: {e}"), "not read")
            }
            Why::NotAFlow => Diagnostic::new(
                Code::FileRefused,
                file,
                span,
                format!("cannot import `{shown}`: a module is a `.flow` file"),
                "not a .flow file",
            )
            .with_help("rename the module to end in `.flow`"),
        }
    }
}

/// Finds the file an import names, reading it from disk or from the embedded stdlib.
/// `Err(None)` when there is no such module.
fn resolve(
    importer: &SourceFile,
    target: &ImportTarget,
    confinement: &Confinement,
) -> Result<Arc<SourceFile>, Option<Refused>> {
    let dir = match &importer.origin {
        Origin::File(p) => p.parent().map(Path::to_path_buf),
        _ => None,
    };
    match target {
        ImportTarget::Name(name) => {
            if let Some(dir) = &dir {
                match read_flow(&dir.join(format!("{}.flow", name.node)), confinement) {
                    Err(None) => {}
                    found => return found,
                }
            }
            stdlib_module(&name.node).ok_or(None)
        }
        ImportTarget::Path(path) => match (&importer.origin, dir) {
            (Origin::Stdlib(_), _) => stdlib_module(&file_stem(&path.node)).ok_or(None),
            (_, Some(dir)) => read_flow(&dir.join(&path.node), confinement),
            (_, None) => read_flow(Path::new(&path.node), confinement),
        },
    }
}

/// A module file, if it may be read: `Err(None)` when there is none.
fn read_flow(path: &Path, confinement: &Confinement) -> Result<Arc<SourceFile>, Option<Refused>> {
    let refused = |why| Some(Refused { path: path.to_path_buf(), why });
    if std::fs::symlink_metadata(path).is_err() {
        return Err(None);
    }
    // Where it leads first: a path out of the tree is named as such, whatever it is.
    let read = confinement.resolve(path).and_then(|canonical| {
        if path.extension().is_none_or(|e| e != "flow") {
            return Ok(None);
        }
        Ok(Some((crate::confine::read_text(&canonical, MAX_FLOW_BYTES)?, canonical)))
    });
    match read {
        Ok(Some((text, canonical))) => Ok(SourceFile::new(display_path(path), Origin::File(canonical), text)),
        Ok(None) => Err(refused(Why::NotAFlow)),
        Err(e) if e.is_not_found() => Err(None),
        Err(e) => Err(refused(Why::Read(e))),
    }
}

/// A path as the user would type it: relative to the working directory when possible.
pub fn display_path(path: &Path) -> String {
    let cwd = std::env::current_dir().unwrap_or_default();
    let p: PathBuf = path.strip_prefix(&cwd).map(Path::to_path_buf).unwrap_or_else(|_| path.to_path_buf());
    let s = p.display().to_string();
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

fn unknown_module(file: &Arc<SourceFile>, target: &ImportTarget) -> Diagnostic {
    match target {
        ImportTarget::Name(name) => {
            let names = STDLIB.iter().map(|(n, _)| *n);
            let help = did_you_mean(&name.node, names).unwrap_or_else(|| {
                format!(
                    "no `{}.flow` beside this file, and the stdlib has: {}",
                    name.node,
                    STDLIB.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(", ")
                )
            });
            Diagnostic::new(
                Code::UnknownModule,
                file,
                name.span,
                format!("unknown module `{}`", name.node),
                "no such module",
            )
            .with_help(help)
        }
        ImportTarget::Path(path) => Diagnostic::new(
            Code::UnknownModule,
            file,
            path.span,
            format!("cannot read module file `{}`", path.node),
            "no such file",
        )
        .with_help("paths in quotes are relative to the importing file"),
    }
}

fn cycle(file: &Arc<SourceFile>, span: Span, modules: &[LoadedModule], chain: &[ModuleId]) -> Diagnostic {
    let mut names: Vec<&str> = chain.iter().map(|&m| modules[m].file.name.as_str()).collect();
    if let Some(first) = names.first().copied() {
        names.push(first);
    }
    Diagnostic::new(Code::ImportCycle, file, span, "import cycle", "this import closes the cycle")
        .with_help(format!("{}; move what both need into a third module", names.join(" -> ")))
}
