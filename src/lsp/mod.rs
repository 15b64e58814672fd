//! `flowgate lsp`: a language server over stdio.
//!
//! The editor sends the text of each open `.flow` document; the server checks it with
//! the same front end as `flowgate check` (imports beside the document's path, the
//! embedded stdlib) and answers with diagnostics, formatting, hover, definitions,
//! completion and document symbols. JSON-RPC and the protocol's types come from
//! `lsp-server` and `lsp-types`. See docs/tools.md ("Editor support").

mod actions;
mod completion;
mod definition;
mod diagnostics;
mod documents;
mod exprs;
mod formatting;
mod hover;
mod server;
mod stdlib;
mod symbols;

use std::time::Duration;

pub use documents::{path_to_uri, uri_to_path, LineIndex};
pub use server::serve;

/// How the server behaves.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long after an edit the document is checked and its diagnostics published:
    /// typing resets it, so a burst of keystrokes is checked once.
    pub debounce: Duration,
}

impl Default for Options {
    fn default() -> Self {
        Options { debounce: Duration::from_millis(150) }
    }
}
