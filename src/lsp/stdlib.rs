//! The embedded stdlib as files an editor can open.
//!
//! Go to definition into `shopify.Order` needs a location the editor can show. A custom
//! URI scheme (`flowgate-stdlib:///shopify.flow`) is shown only by clients taught to ask
//! the server for its text, which needs an extension in VS Code and custom handlers in
//! Neovim and Helix. A plain `file:` URI works in every client, so the modules are
//! written, read-only, to a cache directory named after their content (a new flowgate
//! with another stdlib writes another directory, never changing one an editor has open).
//! The `flowgate/stdlib` request also returns a module's text by name, for clients that
//! prefer not to read files.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use lsp_types::Uri;

use crate::modules::STDLIB;
use crate::source::{Origin, SourceFile};

use super::documents::path_to_uri;

/// Where the stdlib modules are written, once asked for.
pub struct StdlibFiles {
    base: Option<PathBuf>,
    written: Option<PathBuf>,
}

impl StdlibFiles {
    /// `$FLOWGATE_CACHE_DIR`, else `$XDG_CACHE_HOME/flowgate`, else `~/.cache/flowgate`,
    /// else the system's temporary directory.
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        let base = var("FLOWGATE_CACHE_DIR")
            .or_else(|| var("XDG_CACHE_HOME").map(|p| p.join("flowgate")))
            .or_else(|| var("HOME").map(|p| p.join(".cache").join("flowgate")))
            .unwrap_or_else(|| std::env::temp_dir().join("flowgate"));
        StdlibFiles { base: Some(base), written: None }
    }

    /// Writes nothing: stdlib locations are left out.
    pub fn none() -> Self {
        StdlibFiles { base: None, written: None }
    }

    /// The directory holding every stdlib module, written on first use.
    fn dir(&mut self) -> Option<&Path> {
        if self.written.is_none() {
            let base = self.base.take()?;
            let mut h = std::collections::hash_map::DefaultHasher::new();
            STDLIB.hash(&mut h);
            let dir = base.join(format!("stdlib-{}-{:016x}", env!("CARGO_PKG_VERSION"), h.finish()));
            std::fs::create_dir_all(&dir).ok()?;
            for (name, text) in STDLIB {
                let path = dir.join(format!("{name}.flow"));
                if std::fs::read_to_string(&path).is_ok_and(|t| t == *text) {
                    continue;
                }
                let _ = std::fs::remove_file(&path);
                std::fs::write(&path, text).ok()?;
                let mut perms = std::fs::metadata(&path).ok()?.permissions();
                perms.set_readonly(true);
                let _ = std::fs::set_permissions(&path, perms);
            }
            self.written = Some(dir.canonicalize().unwrap_or(dir));
        }
        self.written.as_deref()
    }

    /// The URI an editor opens for a module.
    pub fn uri_of(&mut self, file: &SourceFile, document: &Uri) -> Option<Uri> {
        match &file.origin {
            Origin::File(p) => path_to_uri(p),
            Origin::Stdlib(name) => {
                let path = self.dir()?.join(format!("{name}.flow"));
                path_to_uri(&path)
            }
            Origin::Inline => Some(document.clone()),
        }
    }
}

/// The text of the stdlib module `name` (`shopify` or `shopify.flow`).
pub fn text_of(name: &str) -> Option<&'static str> {
    let name = name.trim_end_matches(".flow");
    let name = name.rsplit('/').next().unwrap_or(name);
    STDLIB.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
}
