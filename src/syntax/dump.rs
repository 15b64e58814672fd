//! A compact, stable S-expression view of the syntax tree, for parser snapshots.
//!
//! Every node prints as `(head child ...)`. A form that fits in 80 columns stays on one
//! line; a longer one keeps its head and what names the node (a declaration's name, a
//! source's kind, a lambda's parameters, ...) on the first line and puts each further
//! child on its own line, indented by two spaces. Spans are left out unless asked for
//! with [`dump_with_spans`], which writes them as `@start..end` after the head.
//!
//! ```text
//! (flow demo
//!   (source orders file (opt path "x.json") (: shopify.Order))
//!   (filter (> (. record total) 10))
//!   (sink out stdout))
//! ```
//!
//! The shapes, by node:
//!
//! - items: `(import shopify)`, `(import "p.flow" as p)`, `(type T <type>)`,
//!   `(lookup l (: K -> V) (table (=> k v) ...))`, `(lookup l (: K -> V) (file csv <args>))`,
//!   `(fn f (params (a: T)) (-> R) <body>)`, `(flow f <parts in written order>)`
//! - flow parts: `(source n kind (opt name v)... (: T))`, `(sink n kind (opt name v)...)`,
//!   `(filter e)`, `(dedupe e (within e))`, `(validate (rule e (hold "code" msg)) ...)`,
//!   `(let n (: T) e)`, `(split e)`, `(map (: T) e)`, `(hold-when e (hold "code" msg))`,
//!   `(batch (opt name v) ...)`
//!   `(group key (within d)? (: T)? body)`
//!   `(enrich name kind (opt name v) ... (: T))`
//! - types: `Int`, `shopify.Order`, `(Decimal 2)`, `(list T)`, `(record (a: T) ...)`,
//!   `"paid"`, `(| A B)`, `(? T)`
//! - expressions: `42`, `19.99` (Decimal), `1.5e3` (Float), `5400000ms`, `10/s`, `5xx`,
//!   `null`, `true`, `"text"`, `(str "a " (interp e))`, `name`, `(. e f)`, `(?. e f)`,
//!   `([] e i)`, `(?[] e i)`, `(call f arg (name: arg))`, `(.m recv arg)`, `(?.m recv)`,
//!   `(- e)`, `(not e)`, `(+ a b)`, `(lambda (a b) e)`, `(if c a b)`,
//!   `(match e ("a" | "b" => e) (_ => e))`, `(list e ...)`, `(record (a: e) (.. e))`,
//!   `(hold "code" msg)`
//!
//! Names that are not plain identifiers (`"b-c"` as a field name) are quoted.

use super::ast::*;
use crate::source::Span;

/// The tree of `module`, one top-level form per item, without spans.
pub fn dump(module: &Module) -> String {
    Dumper { spans: false }.module(module)
}

/// The tree of `module` with `@start..end` byte spans after each node's head.
pub fn dump_with_spans(module: &Module) -> String {
    Dumper { spans: true }.module(module)
}

/// One expression, without spans (for precedence tests).
pub fn dump_expr(expr: &Expr) -> String {
    let mut out = String::new();
    Dumper { spans: false }.expr(expr).write(0, &mut out);
    out
}

/// One type, without spans.
pub fn dump_type(ty: &TypeExpr) -> String {
    let mut out = String::new();
    Dumper { spans: false }.ty(ty).write(0, &mut out);
    out
}

const WIDTH: usize = 80;

/// An S-expression: an atom or a parenthesised list.
enum Sx {
    Atom(String),
    /// `keep` leading items (the head and what names the node) stay on the opening line
    /// when the list is too long for one line.
    List {
        items: Vec<Sx>,
        keep: usize,
    },
}

impl Sx {
    fn flat_len(&self) -> usize {
        match self {
            Sx::Atom(a) => a.chars().count(),
            Sx::List { items, .. } => 2 + items.iter().map(Sx::flat_len).sum::<usize>() + items.len().saturating_sub(1),
        }
    }

    fn write_flat(&self, out: &mut String) {
        match self {
            Sx::Atom(a) => out.push_str(a),
            Sx::List { items, .. } => {
                out.push('(');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(' ');
                    }
                    item.write_flat(out);
                }
                out.push(')');
            }
        }
    }

    /// Writes the form starting at column `indent` (the caller has written the indentation).
    fn write(&self, indent: usize, out: &mut String) {
        let (items, keep) = match self {
            Sx::List { items, keep } if indent + self.flat_len() > WIDTH => (items, *keep),
            _ => return self.write_flat(out),
        };
        out.push('(');
        let mut column = indent + 1;
        let mut rest = items.iter().enumerate().peekable();
        // The head always opens the line; the next kept items join it while they fit.
        while let Some((i, item)) = rest.peek() {
            let fits = matches!(item, Sx::Atom(_)) || column + 1 + item.flat_len() < WIDTH;
            if *i > 0 && (*i >= keep || !fits) {
                break;
            }
            if *i > 0 {
                out.push(' ');
                column += 1;
            }
            item.write(column, out);
            column += item.flat_len();
            rest.next();
        }
        for (_, item) in rest {
            out.push('\n');
            out.push_str(&" ".repeat(indent + 2));
            item.write(indent + 2, out);
        }
        out.push(')');
    }
}

fn atom(s: impl Into<String>) -> Sx {
    Sx::Atom(s.into())
}

/// A list whose first `keep` items stay on the opening line.
fn list(keep: usize, items: Vec<Sx>) -> Sx {
    Sx::List { items, keep }
}

/// A string literal, quoted and escaped the way Rust's `Debug` does.
fn quoted(s: &str) -> Sx {
    Sx::Atom(format!("{s:?}"))
}

fn is_plain_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A field or option name: bare when it is an identifier, else quoted.
fn name_text(s: &str) -> String {
    if is_plain_name(s) {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

struct Dumper {
    spans: bool,
}

impl Dumper {
    /// `(head @span rest...)`; `keep` of `rest` stay beside the head when it breaks.
    fn node(&self, head: &str, keep: usize, span: Span, rest: Vec<Sx>) -> Sx {
        let mut items = Vec::with_capacity(rest.len() + 2);
        items.push(atom(head));
        let mut keep = keep + 1;
        if self.spans {
            items.push(self.span_atom(span));
            keep += 1;
        }
        items.extend(rest);
        list(keep, items)
    }

    /// A list headed by `head`, without a span of its own.
    fn plain(&self, head: &str, keep: usize, rest: Vec<Sx>) -> Sx {
        let mut items = Vec::with_capacity(rest.len() + 1);
        items.push(atom(head));
        items.extend(rest);
        list(keep + 1, items)
    }

    fn span_atom(&self, span: Span) -> Sx {
        atom(format!("@{}..{}", span.start, span.end))
    }

    /// An atom, followed by `@span` when spans are shown.
    fn atom_at(&self, text: String, span: Span) -> Sx {
        if self.spans {
            atom(format!("{text}@{}..{}", span.start, span.end))
        } else {
            atom(text)
        }
    }

    fn ident(&self, id: &Ident) -> Sx {
        self.atom_at(name_text(&id.node), id.span)
    }

    /// `name:` for a field, parameter or named argument.
    fn label(&self, id: &Ident) -> Sx {
        self.atom_at(format!("{}:", name_text(&id.node)), id.span)
    }

    fn module(&self, module: &Module) -> String {
        let mut out = String::new();
        for item in &module.items {
            self.item(item).write(0, &mut out);
            out.push('\n');
        }
        out
    }

    fn item(&self, item: &Item) -> Sx {
        match item {
            Item::Import(i) => {
                let target = match &i.target {
                    ImportTarget::Name(n) => self.ident(n),
                    ImportTarget::Path(p) => self.atom_at(format!("{:?}", p.node), p.span),
                };
                let mut rest = vec![target];
                if let Some(alias) = &i.alias {
                    rest.push(atom("as"));
                    rest.push(self.ident(alias));
                }
                self.node("import", 3, i.span, rest)
            }
            Item::Type(t) => self.node("type", 1, t.span, vec![self.ident(&t.name), self.ty(&t.ty)]),
            Item::Lookup(l) => {
                let sig = self.plain(":", 2, vec![self.ty(&l.key), atom("->"), self.ty(&l.value)]);
                let body = match &l.body {
                    LookupBody::Table(entries) => self.plain(
                        "table",
                        0,
                        entries.iter().map(|(k, v)| self.plain("=>", 1, vec![self.expr(k), self.expr(v)])).collect(),
                    ),
                    LookupBody::File { loader, args } => {
                        let mut rest = vec![self.ident(loader)];
                        rest.extend(args.iter().map(|a| self.arg(a)));
                        self.plain("file", 1, rest)
                    }
                };
                self.node("lookup", 2, l.span, vec![self.ident(&l.name), sig, body])
            }
            Item::Fn(f) => {
                let params = self.plain("params", 0, f.params.iter().map(|p| self.typed(&p.name, &p.ty)).collect());
                let ret = self.plain("->", 1, vec![self.ty(&f.ret)]);
                self.node("fn", 1, f.span, vec![self.ident(&f.name), params, ret, self.expr(&f.body)])
            }
            Item::Flow(f) => self.flow(f),
        }
    }

    /// `(name: T)`
    fn typed(&self, name: &Ident, ty: &TypeExpr) -> Sx {
        list(1, vec![self.label(name), self.ty(ty)])
    }

    fn flow(&self, f: &FlowDecl) -> Sx {
        let mut sources = f.sources.iter();
        let mut stages = f.stages.iter();
        let mut sinks = f.sinks.iter();
        let mut parts = vec![self.ident(&f.name)];
        for (part, _) in &f.order {
            let sx = match part {
                FlowPart::Source => sources.next().map(|s| self.source(s)),
                FlowPart::Stage => stages.next().map(|s| self.stage(s)),
                FlowPart::Sink => sinks.next().map(|s| self.sink(s)),
            };
            parts.extend(sx);
        }
        // Parts not listed in `order` (a tree built by hand) still print, grouped by kind.
        parts.extend(sources.map(|s| self.source(s)));
        parts.extend(stages.map(|s| self.stage(s)));
        parts.extend(sinks.map(|s| self.sink(s)));
        self.node("flow", 1, f.span, parts)
    }

    fn options(&self, options: &[OptionEntry]) -> Vec<Sx> {
        options.iter().map(|o| self.plain("opt", 1, vec![self.ident(&o.name), self.expr(&o.value)])).collect()
    }

    fn source(&self, s: &SourceDecl) -> Sx {
        let mut rest = vec![self.ident(&s.name), self.atom_at(s.kind.node.clone(), s.kind.span)];
        rest.extend(self.options(&s.options));
        rest.push(self.plain(":", 1, vec![self.ty(&s.ty)]));
        self.node("source", 2, s.span, rest)
    }

    fn sink(&self, s: &SinkDecl) -> Sx {
        let mut rest = vec![self.ident(&s.name), self.atom_at(s.kind.node.clone(), s.kind.span)];
        rest.extend(self.options(&s.options));
        self.node("sink", 2, s.span, rest)
    }

    fn stage(&self, stage: &Stage) -> Sx {
        let span = stage.span;
        match &stage.node {
            StageKind::Filter(e) => self.node("filter", 0, span, vec![self.expr(e)]),
            StageKind::FilterRemember(e) => {
                self.node("filter", 0, span, vec![self.expr(e), self.plain("else", 0, vec![atom("remember")])])
            }
            StageKind::State { name, ty, key, value } => self.node(
                "state",
                2,
                span,
                vec![self.ident(name), self.plain(":", 1, vec![self.ty(ty)]), self.expr(key), self.expr(value)],
            ),
            StageKind::Dedupe { key, within } => {
                let mut rest = vec![self.expr(key)];
                if let Some(w) = within {
                    rest.push(self.plain("within", 0, vec![self.expr(w)]));
                }
                self.node("dedupe", 0, span, rest)
            }
            StageKind::Validate(rules) => self.node(
                "validate",
                0,
                span,
                rules
                    .iter()
                    .map(|r| self.node("rule", 0, r.span, vec![self.expr(&r.cond), self.hold_reason(&r.hold)]))
                    .collect(),
            ),
            StageKind::Let { name, ty, value } => {
                let mut rest = vec![self.ident(name)];
                if let Some(t) = ty {
                    rest.push(self.plain(":", 1, vec![self.ty(t)]));
                }
                let keep = rest.len();
                rest.push(self.expr(value));
                self.node("let", keep, span, rest)
            }
            StageKind::Split(e) => self.node("split", 0, span, vec![self.expr(e)]),
            StageKind::Map { target, body } => {
                let mut rest = Vec::new();
                if let Some(t) = target {
                    rest.push(self.plain(":", 1, vec![self.ty(t)]));
                }
                let keep = rest.len();
                rest.push(self.expr(body));
                self.node("map", keep, span, rest)
            }
            StageKind::HoldWhen { cond, hold } => {
                self.node("hold-when", 0, span, vec![self.expr(cond), self.hold_reason(hold)])
            }
            StageKind::Batch(options) => self.node("batch", 0, span, self.options(options)),
            StageKind::Group(g) => {
                let mut rest = vec![self.expr(&g.key)];
                if let Some(w) = &g.within {
                    rest.push(self.plain("within", 0, vec![self.expr(w)]));
                }
                if let Some(t) = &g.target {
                    rest.push(self.plain(":", 1, vec![self.ty(t)]));
                }
                let keep = rest.len();
                rest.push(self.expr(&g.body));
                self.node("group", keep, span, rest)
            }
            StageKind::Enrich(e) => {
                let mut rest = vec![self.ident(&e.name), self.atom_at(e.kind.node.clone(), e.kind.span)];
                rest.extend(self.options(&e.options));
                if let Some(t) = &e.ty {
                    rest.push(self.plain(":", 1, vec![self.ty(t)]));
                }
                self.node("enrich", 2, span, rest)
            }
        }
    }

    /// `(hold "code")`, `(hold "code" message)`
    fn hold_reason(&self, hold: &HoldReason) -> Sx {
        self.hold_list(hold, None)
    }

    fn hold_list(&self, hold: &HoldReason, span: Option<Span>) -> Sx {
        let mut rest = vec![self.atom_at(format!("{:?}", hold.code.node), hold.code.span)];
        if let Some(m) = &hold.message {
            rest.push(self.expr(m));
        }
        match span {
            Some(span) => self.node("hold", 1, span, rest),
            None => self.plain("hold", 1, rest),
        }
    }

    // ------------------------------------------------------------ types

    fn ty(&self, ty: &TypeExpr) -> Sx {
        let span = ty.span;
        match &ty.node {
            TypeExprKind::Named { module, name } => {
                let text = match module {
                    Some(m) => format!("{}.{}", m.node, name.node),
                    None => name.node.clone(),
                };
                self.atom_at(text, span)
            }
            TypeExprKind::ScaledDecimal(n) => self.node("Decimal", 1, span, vec![atom(n.to_string())]),
            TypeExprKind::List(t) => self.node("list", 0, span, vec![self.ty(t)]),
            TypeExprKind::Record(fields) => {
                self.node("record", 0, span, fields.iter().map(|f| self.typed(&f.name, &f.ty)).collect())
            }
            TypeExprKind::RecordSpread(entries) => self.node(
                "record",
                0,
                span,
                entries
                    .iter()
                    .map(|e| match e {
                        RecordTypeEntry::Spread { ty, span } => self.node("..", 0, *span, vec![self.ty(ty)]),
                        RecordTypeEntry::Field(f) => self.typed(&f.name, &f.ty),
                    })
                    .collect(),
            ),
            TypeExprKind::Literal(s) => self.atom_at(format!("{s:?}"), span),
            TypeExprKind::Union(arms) => self.node("|", 0, span, arms.iter().map(|t| self.ty(t)).collect()),
            TypeExprKind::Optional(t) => self.node("?", 0, span, vec![self.ty(t)]),
        }
    }

    // ------------------------------------------------------------ expressions

    fn expr(&self, e: &Expr) -> Sx {
        let span = e.span;
        match &e.node {
            ExprKind::Lit(lit) => self.atom_at(literal(lit), span),
            ExprKind::Str(parts) => match parts.as_slice() {
                [StrPart::Text(t)] => self.atom_at(format!("{t:?}"), span),
                _ => self.node(
                    "str",
                    0,
                    span,
                    parts
                        .iter()
                        .map(|p| match p {
                            StrPart::Text(t) => quoted(t),
                            StrPart::Interp(e) => self.plain("interp", 0, vec![self.expr(e)]),
                        })
                        .collect(),
                ),
            },
            ExprKind::Name(n) => self.atom_at(n.clone(), span),
            ExprKind::Field { base, name, optional } => {
                self.node(if *optional { "?." } else { "." }, 0, span, vec![self.expr(base), self.ident(name)])
            }
            ExprKind::Index { base, index, optional } => {
                self.node(if *optional { "?[]" } else { "[]" }, 0, span, vec![self.expr(base), self.expr(index)])
            }
            ExprKind::Call { func, args } => {
                let mut rest = vec![self.expr(func)];
                rest.extend(args.iter().map(|a| self.arg(a)));
                self.node("call", 1, span, rest)
            }
            ExprKind::Method { receiver, name, args, optional } => {
                let head = format!("{}{}", if *optional { "?." } else { "." }, name_text(&name.node));
                let mut rest = vec![self.expr(receiver)];
                rest.extend(args.iter().map(|a| self.arg(a)));
                self.node(&head, 0, span, rest)
            }
            ExprKind::Unary(op, operand) => {
                let head = match op {
                    UnOp::Neg => "-",
                    UnOp::Not => "not",
                };
                self.node(head, 0, span, vec![self.expr(operand)])
            }
            ExprKind::Binary(op, lhs, rhs) => self.node(op.symbol(), 0, span, vec![self.expr(lhs), self.expr(rhs)]),
            ExprKind::Lambda { params, body } => {
                let params = list(usize::MAX, params.iter().map(|p| self.ident(p)).collect());
                self.node("lambda", 1, span, vec![params, self.expr(body)])
            }
            ExprKind::If { cond, then, otherwise } => {
                self.node("if", 0, span, vec![self.expr(cond), self.expr(then), self.expr(otherwise)])
            }
            ExprKind::Match { scrutinee, arms } => {
                let mut rest = vec![self.expr(scrutinee)];
                rest.extend(arms.iter().map(|a| self.arm(a)));
                self.node("match", 1, span, rest)
            }
            ExprKind::List(items) => self.node("list", 0, span, items.iter().map(|i| self.expr(i)).collect()),
            ExprKind::Record(entries) => self.node(
                "record",
                0,
                span,
                entries
                    .iter()
                    .map(|entry| match entry {
                        RecordEntry::Field(name, value) => list(1, vec![self.label(name), self.expr(value)]),
                        RecordEntry::Spread(e) => self.plain("..", 0, vec![self.expr(e)]),
                    })
                    .collect(),
            ),
            ExprKind::Hold(reason) => self.hold_list(reason, Some(span)),
        }
    }

    fn arg(&self, arg: &Arg) -> Sx {
        match arg {
            Arg::Positional(e) => self.expr(e),
            Arg::Named(name, e) => list(1, vec![self.label(name), self.expr(e)]),
        }
    }

    /// `(p1 | p2 => body)`
    fn arm(&self, arm: &MatchArm) -> Sx {
        let mut items = Vec::new();
        for (i, p) in arm.patterns.iter().enumerate() {
            if i > 0 {
                items.push(atom("|"));
            }
            items.push(self.pattern(p));
        }
        items.push(atom("=>"));
        let keep = items.len();
        items.push(self.expr(&arm.body));
        list(keep, items)
    }

    fn pattern(&self, p: &Pattern) -> Sx {
        let text = match &p.node {
            PatternKind::Wildcard => "_".to_string(),
            PatternKind::Null => "null".to_string(),
            PatternKind::Bool(b) => b.to_string(),
            PatternKind::Str(s) => format!("{s:?}"),
            PatternKind::Int(n) => n.to_string(),
            PatternKind::Decimal(d) => d.to_string(),
            PatternKind::Bind(name) => name.clone(),
        };
        self.atom_at(text, p.span)
    }
}

/// A literal's text: Decimals keep their scale, Floats always show an exponent so they
/// never read as Decimals, durations are in milliseconds.
fn literal(lit: &Literal) -> String {
    match lit {
        Literal::Null => "null".to_string(),
        Literal::Bool(b) => b.to_string(),
        Literal::Int(n) => n.to_string(),
        Literal::Decimal(d) => d.to_string(),
        Literal::Float(f) => format!("{f:e}"),
        Literal::Duration(ms) => format!("{ms}ms"),
        Literal::Rate(n, unit) => {
            let unit = match unit {
                RateUnit::Second => "s",
                RateUnit::Minute => "m",
                RateUnit::Hour => "h",
            };
            format!("{n}/{unit}")
        }
        Literal::StatusClass(c) => format!("{c}xx"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(sx: Sx) -> String {
        let mut out = String::new();
        sx.write(0, &mut out);
        out
    }

    #[test]
    fn short_forms_stay_on_one_line() {
        assert_eq!(render(list(1, vec![atom("+"), atom("a"), atom("b")])), "(+ a b)");
    }

    #[test]
    fn long_forms_keep_their_head_and_put_each_other_child_on_a_line() {
        let long = "x".repeat(70);
        let out =
            render(list(2, vec![atom("f"), atom("name"), list(1, vec![atom("a"), atom(long.clone())]), atom("b")]));
        assert_eq!(out, format!("(f name\n  (a {long})\n  b)"));
    }

    #[test]
    fn a_kept_list_that_does_not_fit_moves_to_its_own_line() {
        let long = "x".repeat(90);
        let out = render(list(2, vec![atom("f"), list(1, vec![atom(long.clone())])]));
        assert_eq!(out, format!("(f\n  ({long}))"));
    }

    #[test]
    fn field_names_are_quoted_when_not_identifiers() {
        assert_eq!(name_text("type"), "type");
        assert_eq!(name_text("b-c"), "\"b-c\"");
        assert_eq!(name_text(""), "\"\"");
    }
}
