//! `flowgate fmt`: one canonical layout for `.flow` files.
//!
//! The layout is built from the syntax tree, not from the text, so two files that parse to
//! the same tree print the same, whatever their spacing. What the tree does not keep is
//! taken from the text: comments (by position, see [`comments`]), blank lines between
//! entries, and the spelling of literals, names and strings, which are copied as written
//! so `0.00` stays `0.00` and `90m` stays `90m`. The style is described in
//! docs/language.md ("Layout").

mod comments;
pub(crate) mod doc;
mod expr;
mod items;

use std::sync::Arc;

use crate::diagnostic::Diagnostics;
use crate::source::{SourceFile, Span};
use crate::syntax;
use comments::Comments;
use doc::{cat, Doc};

/// The formatted text of `file`, or its syntax errors: a file that does not parse is
/// never formatted, since what it means is not known.
pub fn format_file(file: &Arc<SourceFile>) -> Result<String, Diagnostics> {
    let file = file.clone();
    // Deep nesting recurses as deep in the printer as in the parser; give both the stack
    // the front end gets.
    let worker = std::thread::Builder::new().name("flowgate-fmt".into()).stack_size(256 << 20);
    match worker.spawn(move || format_here(&file)).map(|h| h.join()) {
        Ok(Ok(result)) => result,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        Err(e) => panic!("cannot start the formatter's thread: {e}"),
    }
}

/// [`format_file`] for a text with a name.
pub fn format_text(name: &str, text: &str) -> Result<String, Diagnostics> {
    format_file(&SourceFile::inline(name, text))
}

/// The text of every comment in `text`, in order: what formatting must keep.
pub fn comment_texts(text: &str) -> Vec<String> {
    let comments = Comments::scan(text);
    comments.all().map(|c| comments.text_of(c).to_string()).collect()
}

fn format_here(file: &Arc<SourceFile>) -> Result<String, Diagnostics> {
    let module = syntax::parse(file)?;
    let mut f = Fmt { text: &file.text, comments: Comments::scan(&file.text) };
    let doc = f.module(&module);
    let mut out = doc::print(&doc);
    if !out.is_empty() {
        out.push('\n');
    }
    Ok(out)
}

/// Where a span starts, as an index into the text.
fn lo(span: Span) -> usize {
    span.start as usize
}

/// Where a span ends, as an index into the text.
fn hi(span: Span) -> usize {
    span.end as usize
}

/// The printer's state: the text (for spellings and blank lines) and its comments.
pub(crate) struct Fmt<'a> {
    text: &'a str,
    comments: Comments<'a>,
}

/// How a block separates its entries.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Sep {
    /// `,` between entries, and after the last one when the block is broken: lists,
    /// arguments, match arms and lookup tables, where a line starting with `-`, `(` or
    /// `[` would otherwise continue the entry above.
    Comma,
    /// `, ` when on one line, nothing when broken: records, options and record types,
    /// whose entries start with a name and cannot run into each other.
    Newline,
}

/// How a bracketed block is laid out.
#[derive(Clone, Copy)]
struct Block {
    open: &'static str,
    close: &'static str,
    sep: Sep,
    /// `{ a }` rather than `[a]` when on one line.
    spaced: bool,
    /// One entry a line whatever the width.
    broken: bool,
    /// Empty lines between entries are kept (one at most).
    keep_blank: bool,
}

impl Block {
    const RECORD: Block =
        Block { open: "{", close: "}", sep: Sep::Newline, spaced: true, broken: false, keep_blank: true };
    const LIST: Block =
        Block { open: "[", close: "]", sep: Sep::Comma, spaced: false, broken: false, keep_blank: false };
    const ARGS: Block = Block { open: "(", close: ")", ..Block::LIST };

    fn broken(self) -> Block {
        Block { broken: true, ..self }
    }
}

impl<'a> Fmt<'a> {
    /// The text of `span` as written; comments inside it (in a string's interpolation)
    /// come along.
    fn verbatim(&mut self, span: Span) -> Doc {
        self.comments.skip_within(lo(span), hi(span));
        Doc::text(&self.text[lo(span)..hi(span)])
    }

    /// Comments written before `pos` and not printed yet, in an expression or type: each
    /// ends its line if it ended one in the source.
    fn lead(&mut self, pos: usize) -> Doc {
        let mut parts = Vec::new();
        for c in self.comments.take_before(pos) {
            parts.push(Doc::text(self.comments.text_of(&c)));
            parts.push(if self.comments.ends_line(&c) { Doc::HardLine } else { Doc::text(" ") });
        }
        Doc::Concat(parts)
    }

    /// Comments before an entry of a block or of the file, one a line, with the empty
    /// lines between them kept.
    fn lead_lines(&mut self, pos: usize) -> Doc {
        let taken = self.comments.take_before(pos);
        let mut parts = Vec::new();
        for (i, c) in taken.iter().enumerate() {
            if i > 0 && self.comments.blank_before(c.start) {
                parts.push(Doc::HardLine);
            }
            parts.push(Doc::text(self.comments.text_of(c)));
            parts.push(if self.comments.ends_line(c) { Doc::HardLine } else { Doc::text(" ") });
        }
        if taken.last().is_some_and(|c| self.comments.ends_line(c)) && self.comments.blank_before(pos) {
            parts.push(Doc::HardLine);
        }
        Doc::Concat(parts)
    }

    /// A comment on the same line after `end`, to print at the end of that line.
    fn trail(&mut self, end: usize) -> Doc {
        match self.comments.take_trailing(end) {
            Some(c) => {
                let text = Doc::text(format!(" {}", self.comments.text_of(&c)));
                if c.line {
                    cat![text, Doc::BreakParent]
                } else {
                    text
                }
            }
            None => Doc::Concat(Vec::new()),
        }
    }

    /// Whether the source has an empty line before the entry at `pos` (or before the
    /// first comment above it).
    fn blank_above(&self, pos: usize) -> bool {
        let first = self.comments.first_untaken_before(pos).unwrap_or(pos);
        self.comments.blank_before(first)
    }

    /// A bracketed block of `items`; `close` is where the block's closing bracket is in the
    /// source, so comments after the last entry stay inside.
    fn block<T>(
        &mut self,
        style: Block,
        items: &[T],
        bounds: impl Fn(&T) -> (usize, usize),
        mut entry: impl FnMut(&mut Self, &T) -> Doc,
        close: usize,
    ) -> Doc {
        let line = || if style.spaced { Doc::Line } else { Doc::SoftLine };
        let mut inner = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let (start, end) = bounds(item);
            if style.keep_blank && i > 0 && self.blank_above(start) {
                inner.push(Doc::HardLine);
            }
            // Entries after the first are apart by a space when the block is on one line.
            inner.push(if i == 0 { line() } else { Doc::Line });
            inner.push(self.lead_lines(start));
            inner.push(entry(self, item));
            let last = i + 1 == items.len();
            inner.push(match (style.sep, last) {
                (Sep::Comma, false) => Doc::text(","),
                (Sep::Comma, true) => Doc::IfBreak(",", ""),
                (Sep::Newline, false) => Doc::IfBreak("", ","),
                (Sep::Newline, true) => Doc::text(""),
            });
            inner.push(self.trail(end));
        }
        let dangling = self.comments.take_before(close);
        for (i, c) in dangling.iter().enumerate() {
            if (i > 0 || !items.is_empty()) && self.comments.blank_before(c.start) {
                inner.push(Doc::HardLine);
            }
            inner.push(Doc::HardLine);
            inner.push(Doc::text(self.comments.text_of(c)));
        }
        if inner.is_empty() {
            return cat![style.open, style.close];
        }
        let body = cat![style.open, Doc::nest(Doc::Concat(inner)), line(), style.close];
        if style.broken {
            Doc::broken(body)
        } else {
            Doc::group(body)
        }
    }
}

#[cfg(test)]
mod tests;
