//! The comments of a file, which the syntax tree does not keep: found by scanning the
//! text (outside string literals), then handed out to the printer by position so each
//! lands next to the node it was written next to.

#[derive(Clone, Debug)]
pub struct Comment {
    pub start: usize,
    pub end: usize,
    /// `//` to the end of the line: whatever follows must start on a new line.
    pub line: bool,
    taken: bool,
}

/// Every comment of one text, each printed exactly once.
pub struct Comments<'a> {
    text: &'a str,
    all: Vec<Comment>,
}

impl<'a> Comments<'a> {
    pub fn scan(text: &'a str) -> Self {
        Comments { text, all: scan(text) }
    }

    pub fn all(&self) -> impl Iterator<Item = &Comment> {
        self.all.iter()
    }

    pub fn text_of(&self, c: &Comment) -> &'a str {
        let t = &self.text[c.start..c.end];
        if c.line {
            t.trim_end()
        } else {
            t
        }
    }

    /// The comments not yet printed that start before `pos`, marked as printed.
    pub fn take_before(&mut self, pos: usize) -> Vec<Comment> {
        self.take_where(|c| c.start < pos)
    }

    /// A comment that starts after `end` on the same line, marked as printed: it ends that
    /// line in the source, so it ends the node's line in the output too.
    pub fn take_trailing(&mut self, end: usize) -> Option<Comment> {
        let text = self.text;
        let c = self.all.iter_mut().find(|c| !c.taken && c.start >= end)?;
        let between = &text[end.min(c.start)..c.start];
        if between.contains('\n') || !between.chars().all(|ch| ch.is_whitespace() || ch == ',') {
            return None;
        }
        c.taken = true;
        Some(c.clone())
    }

    /// Marks the comments inside `span` as printed: the span is copied as written.
    pub fn skip_within(&mut self, start: usize, end: usize) {
        for c in self.all.iter_mut().filter(|c| c.start >= start && c.end <= end) {
            c.taken = true;
        }
    }

    /// Where the first comment not yet printed starts, if it starts before `pos`.
    pub fn first_untaken_before(&self, pos: usize) -> Option<usize> {
        self.all.iter().find(|c| !c.taken && c.start < pos).map(|c| c.start)
    }

    /// Whether untaken comments start before `pos`.
    pub fn any_before(&self, pos: usize) -> bool {
        self.all.iter().any(|c| !c.taken && c.start < pos)
    }

    /// Whether the source has an empty line in the white space just before `pos`.
    pub fn blank_before(&self, pos: usize) -> bool {
        let before = &self.text[..pos.min(self.text.len())];
        let ws = before.len() - before.trim_end().len();
        before[before.len() - ws..].matches('\n').count() >= 2
    }

    /// Whether the comment is followed by a line break in the source.
    pub fn ends_line(&self, c: &Comment) -> bool {
        c.line || self.text[c.end..].trim_start_matches([' ', '\t', '\r']).starts_with('\n')
    }

    /// Where the last `}` before `pos` is, outside comments: the end of an options block
    /// whose node's span does not say where the block closed.
    pub fn closing_brace_before(&self, pos: usize) -> Option<usize> {
        let mut at = pos;
        while let Some(i) = self.text[..at].rfind('}') {
            match self.all.iter().find(|c| c.start <= i && i < c.end) {
                Some(c) => at = c.start,
                None => return Some(i),
            }
        }
        None
    }

    fn take_where(&mut self, keep: impl Fn(&Comment) -> bool) -> Vec<Comment> {
        let mut out = Vec::new();
        for c in self.all.iter_mut().filter(|c| !c.taken) {
            if keep(c) {
                c.taken = true;
                out.push(c.clone());
            }
        }
        out
    }
}

/// The comments of `text` in order. Strings are skipped, escapes included; an
/// interpolation's `${ ... }` inside a string is skipped with it, since strings are copied
/// as written.
fn scan(text: &str) -> Vec<Comment> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    // Nesting of strings and of interpolations inside them: `"a ${ f("b") } c"`.
    let mut strings: Vec<usize> = Vec::new();
    while i < bytes.len() {
        let next = bytes.get(i + 1).copied();
        if let Some(&braces) = strings.last() {
            // Inside a string, or inside an interpolation when `braces > 0`.
            match bytes[i] {
                b'\\' if braces == 0 => i += 1,
                // The string ends: back in the interpolation that held it, or in code.
                b'"' if braces == 0 => {
                    strings.pop();
                }
                b'$' if braces == 0 && next == Some(b'{') => {
                    *strings.last_mut().unwrap_or_else(|| unreachable!()) = 1;
                    i += 1;
                }
                b'{' if braces > 0 => *strings.last_mut().unwrap_or_else(|| unreachable!()) += 1,
                b'}' if braces > 0 => *strings.last_mut().unwrap_or_else(|| unreachable!()) -= 1,
                b'"' if braces > 0 => strings.push(0),
                _ => {}
            }
            i += 1;
            continue;
        }
        match (bytes[i], next) {
            (b'"', _) => strings.push(0),
            (b'/', Some(b'/')) => {
                let end = text[i..].find('\n').map_or(text.len(), |n| i + n);
                out.push(Comment { start: i, end, line: true, taken: false });
                i = end;
                continue;
            }
            (b'/', Some(b'*')) => {
                let end = text[i + 2..].find("*/").map_or(text.len(), |n| i + 2 + n + 2);
                out.push(Comment { start: i, end, line: false, taken: false });
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(src: &str) -> Vec<String> {
        let c = Comments::scan(src);
        c.all.iter().map(|x| c.text_of(x).to_string()).collect()
    }

    #[test]
    fn comments_are_found_outside_strings_only() {
        assert_eq!(texts("a // one\nb /* two */ \"// not\" c"), ["// one", "/* two */"]);
        assert_eq!(texts(r#"x = "${ f("//no") } \" // no" // yes"#), ["// yes"]);
    }

    #[test]
    fn a_closing_brace_inside_a_comment_is_not_the_block_end() {
        let c = Comments::scan("{ a: 1 } /* } */ : T");
        assert_eq!(c.closing_brace_before(17), Some(7));
    }
}
