//! Open documents: their text, where they live on disk, positions in the editor's
//! units (UTF-16 code units), and the last analysis of each.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use lsp_types::{Position, Range, Uri};

use crate::confine::Confinement;
use crate::modules::ModuleId;
use crate::source::{Origin, SourceFile, Span};
use crate::CheckOutcome;

/// Converts between byte offsets and LSP positions (line, UTF-16 code unit) in one text.
pub struct LineIndex<'a> {
    text: &'a str,
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let starts = std::iter::once(0).chain(text.match_indices('\n').map(|(i, _)| i + 1)).collect();
        LineIndex { text, starts }
    }

    pub fn position(&self, offset: usize) -> Position {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = match self.starts.binary_search(&offset) {
            Ok(i) => i,
            Err(i) => i - 1,
        };
        let start = self.starts[line];
        let character = self.text[start..offset].encode_utf16().count();
        Position::new(line as u32, character as u32)
    }

    pub fn range(&self, span: Span) -> Range {
        Range::new(self.position(span.start as usize), self.position(span.end as usize))
    }

    /// The byte offset of a position; past the end of a line is its end.
    pub fn offset(&self, pos: Position) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else {
            return self.text.len();
        };
        let mut units = 0u32;
        for (i, c) in self.text[start..].char_indices() {
            if units >= pos.character || c == '\n' {
                return start + i;
            }
            units += c.len_utf16() as u32;
        }
        self.text.len()
    }

    pub fn slice(&self, span: Span) -> &'a str {
        self.text.get(span.start as usize..span.end as usize).unwrap_or("")
    }

    /// The range of the whole text.
    pub fn full_range(&self) -> Range {
        Range::new(Position::new(0, 0), self.position(self.text.len()))
    }
}

/// The path of a `file:` URI.
pub fn uri_to_path(uri: &Uri) -> Option<PathBuf> {
    let rest = uri.as_str().strip_prefix("file://")?;
    let path = rest.find('/').map(|i| &rest[i..])?;
    let bytes = path.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    Some(PathBuf::from(String::from_utf8(out).ok()?))
}

/// The `file:` URI of an absolute path.
pub fn path_to_uri(path: &Path) -> Option<Uri> {
    let mut s = String::from("file://");
    for b in path.to_str()?.bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("%{b:02X}"));
        }
    }
    s.parse().ok()
}

/// What the front end made of a document's text at one version.
pub struct Analysis {
    pub outcome: CheckOutcome,
    pub root: ModuleId,
    pub file: Arc<SourceFile>,
}

impl Analysis {
    /// Checks `text` as the document at `path` (or as a file with no directory).
    pub fn run(path: Option<&Path>, text: &str, roots: &[PathBuf]) -> Analysis {
        let (file, confinement) = match path {
            Some(path) => {
                let name = crate::modules::display_path(path);
                let mut confinement = Confinement::around(&[path.to_path_buf()]);
                for r in roots {
                    confinement.allow(r);
                }
                (SourceFile::new(name, Origin::File(path.to_path_buf()), text), confinement)
            }
            None => (SourceFile::inline("untitled.flow", text), Confinement::unconfined()),
        };
        let outcome = crate::check_source(file.clone(), confinement);
        let root = outcome.roots.first().copied().unwrap_or(0);
        Analysis { outcome, root, file }
    }

    pub fn parsed(&self) -> bool {
        self.outcome.graph.modules.get(self.root).is_some_and(|m| m.parsed)
    }

    pub fn module(&self) -> &crate::modules::LoadedModule {
        self.outcome.graph.get(self.root)
    }
}

/// One open document.
pub struct Document {
    pub uri: Uri,
    pub path: Option<PathBuf>,
    pub text: String,
    pub version: i32,
    /// When its diagnostics are due, while an edit waits for the debounce.
    pub due: Option<Instant>,
    /// The analysis of the current text, once made.
    pub analysis: Option<Analysis>,
}

impl Document {
    pub fn new(uri: Uri, text: String, version: i32) -> Self {
        let path = uri_to_path(&uri);
        Document { uri, path, text, version, due: None, analysis: None }
    }

    pub fn index(&self) -> LineIndex<'_> {
        LineIndex::new(&self.text)
    }

    /// The analysis of the current text, made now if an edit has not been checked yet.
    pub fn analysis(&mut self, roots: &[PathBuf]) -> &Analysis {
        if self.analysis.is_none() {
            self.analysis = Some(Analysis::run(self.path.as_deref(), &self.text, roots));
        }
        self.analysis.as_ref().expect("just made")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_utf16_units() {
        let text = "a\n€😀x\n";
        let idx = LineIndex::new(text);
        let x = text.find('x').unwrap();
        assert_eq!(idx.position(x), Position::new(1, 3));
        assert_eq!(idx.offset(Position::new(1, 3)), x);
        assert_eq!(idx.offset(Position::new(1, 99)), x + 1);
    }

    #[test]
    fn file_uris_round_trip() {
        let p = Path::new("/tmp/a dir/ü.flow");
        let uri = path_to_uri(p).unwrap();
        assert_eq!(uri.as_str(), "file:///tmp/a%20dir/%C3%BC.flow");
        assert_eq!(uri_to_path(&uri).unwrap(), p);
    }
}
