//! The stdlib: `.flow` modules compiled into the binary so `flowgate` works anywhere.

use std::sync::Arc;

use crate::source::{Origin, SourceFile};

/// Every embedded module: its import name and its text.
pub const STDLIB: &[(&str, &str)] =
    &[("erp", include_str!("../../stdlib/erp.flow")), ("shopify", include_str!("../../stdlib/shopify.flow"))];

/// The embedded module `name`, if there is one.
pub fn stdlib_module(name: &str) -> Option<Arc<SourceFile>> {
    STDLIB
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, text)| SourceFile::new(format!("stdlib/{n}.flow"), Origin::Stdlib(n), *text))
}
