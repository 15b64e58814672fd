//! Declarations, flows and their parts, and types.

use super::doc::{cat, Doc};
use super::expr::ends_with_hold;
use super::{hi, lo, Block, Fmt, Sep};
use crate::syntax::ast::*;

/// One part of a flow, in the order written.
enum Part<'t> {
    Source(&'t SourceDecl),
    Stage(&'t Stage),
    Sink(&'t SinkDecl),
}

impl Part<'_> {
    fn start(&self) -> usize {
        match self {
            Part::Source(s) => lo(s.span),
            Part::Stage(s) => lo(s.span),
            Part::Sink(s) => lo(s.span),
        }
    }

    fn end(&self) -> usize {
        match self {
            Part::Source(s) => hi(s.span),
            Part::Stage(s) => hi(s.span),
            Part::Sink(s) => hi(s.span),
        }
    }
}

impl Fmt<'_> {
    /// The file: declarations one after another, an empty line between any two that are
    /// not both imports, and the file's last comments at the end.
    pub(super) fn module(&mut self, module: &Module) -> Doc {
        let mut parts = Vec::new();
        for (i, item) in module.items.iter().enumerate() {
            let span = item.span();
            if i > 0 {
                let both_imports = matches!((item, &module.items[i - 1]), (Item::Import(_), Item::Import(_)));
                parts.push(Doc::HardLine);
                if !both_imports || self.blank_above(lo(span)) {
                    parts.push(Doc::HardLine);
                }
            }
            parts.push(self.lead_lines(lo(span)));
            parts.push(self.item(item));
            parts.push(self.trail(hi(span)));
        }
        let rest = self.comments.take_before(usize::MAX);
        for (i, c) in rest.iter().enumerate() {
            if i > 0 || !module.items.is_empty() {
                parts.push(Doc::HardLine);
                if self.comments.blank_before(c.start) {
                    parts.push(Doc::HardLine);
                }
            }
            parts.push(Doc::text(self.comments.text_of(c)));
        }
        Doc::Concat(parts)
    }

    fn item(&mut self, item: &Item) -> Doc {
        match item {
            Item::Import(import) => {
                let target = match &import.target {
                    ImportTarget::Name(n) => self.verbatim(n.span),
                    ImportTarget::Path(p) => self.verbatim(p.span),
                };
                let alias = match &import.alias {
                    Some(a) => cat![" as ", self.verbatim(a.span)],
                    None => Doc::Concat(Vec::new()),
                };
                cat!["import ", target, alias]
            }
            Item::Type(decl) => {
                let name = self.verbatim(decl.name.span);
                // A declared record type is one field a line: each field is looked up,
                // commented and changed on its own.
                cat!["type ", name, " = ", self.ty(&decl.ty, true)]
            }
            Item::Lookup(decl) => self.lookup(decl),
            Item::Fn(decl) => {
                let name = self.verbatim(decl.name.span);
                let params = self.block(
                    Block::ARGS,
                    &decl.params,
                    |p| (lo(p.name.span), hi(p.ty.span)),
                    |f, p| {
                        let name = f.verbatim(p.name.span);
                        cat![name, ": ", f.ty(&p.ty, false)]
                    },
                    lo(decl.ret.span),
                );
                let ret = self.ty(&decl.ret, false);
                // A body that does not fit after the signature starts on the next line,
                // unless it opens a bracket there.
                let body = match &decl.body.node {
                    ExprKind::Record(_) | ExprKind::List(_) | ExprKind::Match { .. } => {
                        cat![" = ", self.expr(&decl.body)]
                    }
                    _ => Doc::group(cat![" =", Doc::nest(cat![Doc::Line, self.expr(&decl.body)])]),
                };
                cat!["fn ", name, params, " -> ", ret, body]
            }
            Item::Flow(flow) => self.flow(flow),
        }
    }

    fn lookup(&mut self, decl: &LookupDecl) -> Doc {
        let name = self.verbatim(decl.name.span);
        let key = self.ty(&decl.key, false);
        let value = self.ty(&decl.value, false);
        let body = match &decl.body {
            LookupBody::Table(entries) => {
                // A table is read as a table: one entry a line.
                let style = Block { open: "{", close: "}", spaced: true, keep_blank: true, ..Block::LIST };
                self.block(
                    style.broken(),
                    entries,
                    |(k, v)| (lo(k.span), hi(v.span)),
                    |f, (k, v)| {
                        let k = f.expr(k);
                        cat![k, " => ", f.expr(v)]
                    },
                    hi(decl.span),
                )
            }
            LookupBody::File { loader, args } => {
                let loader = self.verbatim(loader.span);
                cat![loader, self.args(args, hi(decl.span))]
            }
        };
        cat!["lookup ", name, ": ", key, " -> ", value, " = ", body]
    }

    /// A flow is always one part a line, with the empty lines between parts kept.
    fn flow(&mut self, flow: &FlowDecl) -> Doc {
        let name = self.verbatim(flow.name.span);
        let (mut sources, mut stages, mut sinks) = (flow.sources.iter(), flow.stages.iter(), flow.sinks.iter());
        let parts: Vec<Part> = flow
            .order
            .iter()
            .filter_map(|(kind, _)| match kind {
                FlowPart::Source => sources.next().map(Part::Source),
                FlowPart::Stage => stages.next().map(Part::Stage),
                FlowPart::Sink => sinks.next().map(Part::Sink),
            })
            .collect();
        let style = Block { sep: Sep::Newline, ..Block::RECORD }.broken();
        let body = self.block(style, &parts, |p| (p.start(), p.end()), |f, p| f.part(p), hi(flow.span));
        cat!["flow ", name, " ", body]
    }

    fn part(&mut self, part: &Part) -> Doc {
        match part {
            Part::Source(s) => {
                let name = self.verbatim(s.name.span);
                // The options block ends at the last `}` before the record type.
                let close = self
                    .comments
                    .closing_brace_before(lo(s.ty.span))
                    .filter(|&at| at >= hi(s.kind.span))
                    .map_or(hi(s.kind.span), |at| at + 1);
                let options = self.options(&s.options, close);
                let ty = self.ty(&s.ty, false);
                cat!["source ", name, ": ", s.kind.node.as_str(), " ", options, " : ", ty]
            }
            Part::Sink(s) => {
                let name = self.verbatim(s.name.span);
                let options = self.options(&s.options, hi(s.span));
                cat!["sink ", name, ": ", s.kind.node.as_str(), " ", options]
            }
            Part::Stage(stage) => self.stage(stage),
        }
    }

    fn options(&mut self, options: &[OptionEntry], close: usize) -> Doc {
        self.block(
            Block::RECORD,
            options,
            |o| (lo(o.name.span), hi(o.value.span)),
            |f, o| {
                let name = f.verbatim(o.name.span);
                cat![name, ": ", f.expr(&o.value)]
            },
            close,
        )
    }

    fn stage(&mut self, stage: &Stage) -> Doc {
        match &stage.node {
            StageKind::Filter(e) => cat!["filter ", self.expr(e)],
            StageKind::Dedupe { key, within } => {
                let key = self.expr(key);
                let within = match within {
                    Some(w) => cat![" within ", self.expr(w)],
                    None => Doc::Concat(Vec::new()),
                };
                cat!["dedupe by ", key, within]
            }
            StageKind::Validate(rules) => {
                let style = Block { sep: Sep::Newline, ..Block::RECORD }.broken();
                let rules = self.block(
                    style,
                    rules,
                    |r| (lo(r.span), hi(r.span)),
                    |f, r| {
                        let cond = f.expr(&r.cond);
                        Doc::group(cat![cond, Doc::nest(cat![Doc::Line, "else hold ", f.reason(&r.hold)])])
                    },
                    hi(stage.span),
                );
                cat!["validate ", rules]
            }
            StageKind::Let { name, ty, value } => {
                let name = self.verbatim(name.span);
                let ty = match ty {
                    Some(t) => cat![": ", self.ty(t, false)],
                    None => Doc::Concat(Vec::new()),
                };
                cat!["let ", name, ty, " = ", self.expr(value)]
            }
            StageKind::Split(e) => cat!["split ", self.expr(e)],
            StageKind::Map { target, body } => {
                let target = match target {
                    Some(t) => cat![": ", self.ty(t, false), " "],
                    None => Doc::Concat(Vec::new()),
                };
                let lead = self.lead(lo(body.span));
                // A map builds the flow's output: one field a line, whatever its width.
                let body = match &body.node {
                    ExprKind::Record(entries) => self.record(entries, hi(body.span), Block::RECORD.broken()),
                    _ => self.expr(body),
                };
                cat!["map ", target, lead, body]
            }
            StageKind::HoldWhen { cond, hold } => {
                // `hold when x ?? hold "a" "code"` would read "code" as the inner message.
                let cond = if ends_with_hold(cond) { cat!["(", self.expr(cond), ")"] } else { self.expr(cond) };
                cat!["hold when ", cond, " ", self.reason(hold)]
            }
            StageKind::Batch(options) => cat!["batch ", self.options(options, hi(stage.span))],
            StageKind::Group(g) => {
                let key = self.expr(&g.key);
                let within = match &g.within {
                    Some(w) => cat![" within ", self.expr(w)],
                    None => Doc::Concat(Vec::new()),
                };
                let target = match &g.target {
                    Some(t) => cat![" : ", self.ty(t, false)],
                    None => Doc::Concat(Vec::new()),
                };
                let lead = self.lead(lo(g.body.span));
                // Like a map's, a group's body is one field a line.
                let body = match &g.body.node {
                    ExprKind::Record(entries) => self.record(entries, hi(g.body.span), Block::RECORD.broken()),
                    _ => self.expr(&g.body),
                };
                cat!["group by ", key, within, target, " ", lead, body]
            }
            StageKind::Enrich(e) => {
                let name = self.verbatim(e.name.span);
                let Some(t) = &e.ty else {
                    let options = self.options(&e.options, hi(stage.span));
                    return cat!["enrich ", name, ": ", e.kind.node.as_str(), " ", options];
                };
                // The options block ends at the last `}` before the response type.
                let close = self
                    .comments
                    .closing_brace_before(lo(t.span))
                    .filter(|&at| at >= hi(e.kind.span))
                    .map_or(hi(e.kind.span), |at| at + 1);
                let options = self.options(&e.options, close);
                let ty = self.ty(t, false);
                cat!["enrich ", name, ": ", e.kind.node.as_str(), " ", options, " : ", ty]
            }
            StageKind::FilterRemember(e) => cat!["filter ", self.expr(e), " else remember"],
            StageKind::State { name, ty, key, value } => {
                let name = self.verbatim(name.span);
                let ty = self.ty(ty, false);
                let key = self.expr(key);
                cat!["state ", name, ": ", ty, " by ", key, " = ", self.expr(value)]
            }
        }
    }

    /// A type; `broken` lays a record type out one field a line.
    pub(super) fn ty(&mut self, t: &TypeExpr, broken: bool) -> Doc {
        let lead = self.lead(lo(t.span));
        let body = match &t.node {
            TypeExprKind::Named { module, name } => {
                let module = match module {
                    Some(m) => cat![self.verbatim(m.span), "."],
                    None => Doc::Concat(Vec::new()),
                };
                cat![module, self.verbatim(name.span)]
            }
            TypeExprKind::ScaledDecimal(scale) => Doc::text(format!("Decimal({scale})")),
            TypeExprKind::List(inner) => cat!["[", self.ty(inner, false), "]"],
            TypeExprKind::Record(fields) => {
                let style = if broken { Block::RECORD.broken() } else { Block::RECORD };
                self.block(
                    style,
                    fields,
                    |f| (lo(f.name.span), hi(f.ty.span)),
                    |f, field| {
                        let name = f.verbatim(field.name.span);
                        cat![name, ": ", f.ty(&field.ty, false)]
                    },
                    hi(t.span),
                )
            }
            TypeExprKind::RecordSpread(entries) => {
                let style = if broken { Block::RECORD.broken() } else { Block::RECORD };
                self.block(
                    style,
                    entries,
                    |e| match e {
                        RecordTypeEntry::Spread { span, .. } => (lo(*span), hi(*span)),
                        RecordTypeEntry::Field(field) => (lo(field.name.span), hi(field.ty.span)),
                    },
                    |f, e| match e {
                        RecordTypeEntry::Spread { ty, .. } => cat!["..", f.ty_term(ty, true)],
                        RecordTypeEntry::Field(field) => {
                            let name = f.verbatim(field.name.span);
                            cat![name, ": ", f.ty(&field.ty, false)]
                        }
                    },
                    hi(t.span),
                )
            }
            TypeExprKind::Literal(_) => self.verbatim(t.span),
            TypeExprKind::Union(members) => {
                let mut rest = Vec::new();
                let mut first = Doc::Concat(Vec::new());
                for (i, m) in members.iter().enumerate() {
                    let doc = self.ty_term(m, true);
                    if i == 0 {
                        first = doc;
                    } else {
                        rest.push(cat![Doc::Line, "| ", doc]);
                    }
                }
                Doc::group(cat![first, Doc::nest(Doc::Concat(rest))])
            }
            TypeExprKind::Optional(inner) => cat![self.ty_term(inner, false), "?"],
        };
        cat![lead, body]
    }

    /// A type where a union, or (before `?`) an optional, needs parentheses.
    fn ty_term(&mut self, t: &TypeExpr, in_union: bool) -> Doc {
        let needs = match &t.node {
            TypeExprKind::Union(_) => true,
            TypeExprKind::Optional(_) => !in_union,
            _ => false,
        };
        if needs {
            cat!["(", self.ty(t, false), ")"]
        } else {
            self.ty(t, false)
        }
    }
}
