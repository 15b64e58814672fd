//! The stdlib: `.flow` modules compiled into the binary so `flowgate` works anywhere.
//!
//! `STDLIB` is written by `build.rs` from the listing of `stdlib/`, sorted by name.

use std::sync::Arc;

use crate::source::{Origin, SourceFile};

include!(concat!(env!("OUT_DIR"), "/stdlib.rs"));

/// The embedded module `name`, if there is one.
pub fn stdlib_module(name: &str) -> Option<Arc<SourceFile>> {
    STDLIB
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| SourceFile::new(format!("stdlib/{n}.flow"), Origin::Stdlib(n), *text))
}
