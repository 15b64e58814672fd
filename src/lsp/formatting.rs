//! Formatting through `flowgate fmt`'s formatter. A text that does not parse gets no
//! edits: what it means is not known, so it is never rewritten.

use lsp_types::TextEdit;

use super::documents::LineIndex;

/// One edit replacing the whole text by its formatted layout, none when it is already
/// formatted or does not parse.
pub fn edits(name: &str, text: &str) -> Vec<TextEdit> {
    match crate::fmt::format_text(name, text) {
        Ok(formatted) if formatted != text => {
            vec![TextEdit { range: LineIndex::new(text).full_range(), new_text: formatted }]
        }
        _ => Vec::new(),
    }
}
