//! A small Wadler-style layout engine: a document of text, possible line breaks and
//! groups, printed so that a group stays on one line when it fits and breaks all of its
//! own line breaks when it does not.
//!
//! The formatter builds one document per file and prints it once; it never measures text
//! itself, so every width decision lives here.

/// The width a line may take before a group breaks.
pub const WIDTH: usize = 100;
/// One level of indentation.
pub const INDENT: usize = 2;

#[derive(Clone, Debug)]
pub enum Doc {
    Text(String),
    /// A space when its group is flat, a line break when it is broken.
    Line,
    /// Nothing when its group is flat, a line break when it is broken.
    SoftLine,
    /// Always a line break; a group holding one can never be flat.
    HardLine,
    /// Forces the groups around it to break without printing anything: a line comment
    /// at the end of a line needs the line to end there.
    BreakParent,
    /// The first text when the enclosing group is broken, the second when it is flat.
    IfBreak(&'static str, &'static str),
    Concat(Vec<Doc>),
    /// The contents one indentation level deeper after each line break.
    Nest(Box<Doc>),
    Group(Box<Doc>),
    /// A group that is broken whatever its width (blocks whose style is one entry a line).
    Broken(Box<Doc>),
}

impl Doc {
    pub fn text(s: impl Into<String>) -> Doc {
        Doc::Text(s.into())
    }

    pub fn nest(d: Doc) -> Doc {
        Doc::Nest(Box::new(d))
    }

    pub fn group(d: Doc) -> Doc {
        Doc::Group(Box::new(d))
    }

    pub fn broken(d: Doc) -> Doc {
        Doc::Broken(Box::new(d))
    }
}

/// Builds a concatenation: `cat![a, b, c]`.
macro_rules! cat {
    ($($d:expr),* $(,)?) => { $crate::fmt::doc::Doc::Concat(vec![$($d.into()),*]) };
}
pub(crate) use cat;

impl From<&str> for Doc {
    fn from(s: &str) -> Doc {
        Doc::Text(s.to_string())
    }
}

impl From<String> for Doc {
    fn from(s: String) -> Doc {
        Doc::Text(s)
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

/// Prints `doc`; lines never end in blanks.
pub fn print(doc: &Doc) -> String {
    let mut out = String::new();
    let mut column = 0usize;
    let mut stack: Vec<(usize, Mode, &Doc)> = vec![(0, Mode::Break, doc)];
    while let Some((indent, mode, d)) = stack.pop() {
        match d {
            Doc::Text(s) => {
                out.push_str(s);
                column = match s.rfind('\n') {
                    Some(i) => s.len() - i - 1,
                    None => column + s.chars().count(),
                };
            }
            Doc::Line | Doc::SoftLine | Doc::HardLine if mode == Mode::Break || matches!(d, Doc::HardLine) => {
                while out.ends_with(' ') {
                    out.pop();
                }
                out.push('\n');
                out.extend(std::iter::repeat_n(' ', indent));
                column = indent;
            }
            Doc::Line => {
                out.push(' ');
                column += 1;
            }
            Doc::SoftLine | Doc::HardLine | Doc::BreakParent => {}
            Doc::IfBreak(broken, flat) => {
                let s = if mode == Mode::Break { broken } else { flat };
                out.push_str(s);
                column += s.len();
            }
            Doc::Concat(parts) => stack.extend(parts.iter().rev().map(|p| (indent, mode, p))),
            Doc::Nest(inner) => stack.push((indent + INDENT, mode, inner)),
            Doc::Broken(inner) => stack.push((indent, Mode::Break, inner)),
            Doc::Group(inner) => {
                let flat = mode == Mode::Flat || fits(inner, &stack, WIDTH.saturating_sub(column));
                stack.push((indent, if flat { Mode::Flat } else { Mode::Break }, inner));
            }
        }
    }
    while out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether `doc`, printed flat, and what follows it up to the next line break fit in
/// `room` columns.
fn fits(doc: &Doc, rest: &[(usize, Mode, &Doc)], room: usize) -> bool {
    let mut room = room as isize;
    let mut todo: Vec<(Mode, &Doc)> = vec![(Mode::Flat, doc)];
    let mut rest = rest.iter().rev();
    loop {
        let (mode, d) = match todo.pop() {
            Some(next) => next,
            None => match rest.next() {
                Some(&(_, mode, d)) => (mode, d),
                None => return true,
            },
        };
        match d {
            Doc::Text(s) => {
                if s.contains('\n') {
                    return mode == Mode::Break;
                }
                room -= s.chars().count() as isize;
            }
            Doc::Line if mode == Mode::Flat => room -= 1,
            Doc::SoftLine if mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine => return true,
            Doc::HardLine | Doc::BreakParent => return mode == Mode::Break,
            Doc::IfBreak(broken, flat) => room -= if mode == Mode::Break { broken.len() } else { flat.len() } as isize,
            Doc::Concat(parts) => todo.extend(parts.iter().rev().map(|p| (mode, p))),
            Doc::Nest(inner) | Doc::Group(inner) => todo.push((mode, inner)),
            Doc::Broken(inner) => {
                if mode == Mode::Flat {
                    return false;
                }
                todo.push((mode, inner));
            }
        }
        if room < 0 {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_breaks_only_when_it_does_not_fit() {
        let short = Doc::group(cat!["{", Doc::nest(cat![Doc::Line, "a: 1"]), Doc::Line, "}"]);
        assert_eq!(print(&short), "{ a: 1 }");
        let long_field = "x".repeat(WIDTH);
        let long = Doc::group(cat!["{", Doc::nest(cat![Doc::Line, long_field.as_str()]), Doc::Line, "}"]);
        assert_eq!(print(&long), format!("{{\n  {long_field}\n}}"));
    }

    #[test]
    fn a_break_parent_breaks_every_group_around_it() {
        let inner = Doc::group(cat!["(", Doc::SoftLine, "a // c", Doc::BreakParent, Doc::SoftLine, ")"]);
        let outer = Doc::group(cat!["[", Doc::SoftLine, inner, Doc::SoftLine, "]"]);
        assert_eq!(print(&outer), "[\n(\na // c\n)\n]");
    }
}
