//! Rendering diagnostics: miette reports for people, JSON and GitHub annotations for CI.

use std::fmt::{self, Write as _};

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};

use super::{Diagnostic, Diagnostics, Severity};

/// The miette view of one diagnostic. Labels in another file than the primary one
/// cannot be drawn on the same snippet, so they become notes in the help text.
struct Report<'a> {
    diag: &'a Diagnostic,
    source: NamedSource<String>,
    help: Option<String>,
}

impl<'a> Report<'a> {
    fn new(diag: &'a Diagnostic) -> Self {
        let file = diag.file();
        let source = NamedSource::new(file.name.clone(), file.text.to_string());
        let mut help = diag.help.clone();
        for label in diag.secondary.iter().filter(|l| l.file.name != file.name) {
            let (line, col) = label.file.line_col(label.span.start);
            let note = format!("{}: {}:{line}:{col}", label.message, label.file.name);
            help = Some(match help {
                Some(h) => format!("{h}\n{note}"),
                None => note,
            });
        }
        Report { diag, source, help }
    }
}

impl fmt::Debug for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.diag.message)
    }
}

impl std::error::Error for Report<'_> {}

impl miette::Diagnostic for Report<'_> {
    fn code<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        Some(Box::new(self.diag.code.as_str()))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity() {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn fmt::Display + 'b>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let primary = &self.diag.primary;
        let first = LabeledSpan::new_primary_with_span(Some(primary.message.clone()), primary.span);
        let rest = self
            .diag
            .secondary
            .iter()
            .filter(move |l| l.file.name == primary.file.name)
            .map(|l| LabeledSpan::new_with_span(Some(l.message.clone()), l.span));
        Some(Box::new(std::iter::once(first).chain(rest)))
    }
}

fn render_with(handler: &GraphicalReportHandler, diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let report = Report::new(d);
        if handler.render_report(&mut out, &report).is_err() {
            let _ = writeln!(out, "{}: {}", d.code.as_str(), d.message);
        }
        out.push('\n');
    }
    out
}

/// Deterministic rendering for snapshots: no colour, unicode, 80 columns.
pub fn render_plain(diags: &Diagnostics) -> String {
    let handler =
        GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor()).with_width(80).with_links(false);
    render_with(&handler, diags)
}

/// Rendering for a terminal or a log: colour only when asked for.
pub fn render_human(diags: &Diagnostics, colour: bool) -> String {
    let theme = if colour { GraphicalTheme::unicode() } else { GraphicalTheme::unicode_nocolor() };
    let handler = GraphicalReportHandler::new_themed(theme).with_links(false);
    render_with(&handler, diags)
}

/// One JSON object per line and diagnostic: code, severity, file, line, column, end, message,
/// label, help. Lines and columns are 1-based; `end` is the position just after the span.
pub fn render_json(diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let file = d.file();
        let (line, column) = file.line_col(d.primary.span.start);
        let (end_line, end_column) = file.line_col(d.primary.span.end);
        let value = serde_json::json!({
            "code": d.code.as_str(),
            "severity": d.severity().as_str(),
            "file": file.name,
            "line": line,
            "column": column,
            "end": { "line": end_line, "column": end_column },
            "message": d.message,
            "label": d.primary.message,
            "help": d.help,
        });
        out.push_str(&value.to_string());
        out.push('\n');
    }
    out
}

/// GitHub Actions workflow commands: `::error file=..,line=..,col=..,title=E0104::message`.
pub fn render_github(diags: &Diagnostics) -> String {
    let mut out = String::new();
    for d in diags.iter() {
        let file = d.file();
        let (line, col) = file.line_col(d.primary.span.start);
        // GitHub's endColumn is the last column of the span, not the one after it.
        let (end_line, end_col) = file.line_col(d.primary.span.end.saturating_sub(1).max(d.primary.span.start));
        let level = match d.severity() {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = format!("{}: {}", d.primary.message, d.message);
        if let Some(help) = &d.help {
            message.push_str(&format!("\nhelp: {help}"));
        }
        let _ = writeln!(
            out,
            "::{level} file={},line={line},col={col},endLine={end_line},endColumn={end_col},title={} {}::{}",
            escape_property(&file.name),
            d.code.as_str(),
            escape_property(d.code.title()),
            escape_data(&message)
        );
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}
