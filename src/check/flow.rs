//! Flows: the source, each stage in order with the record type it sees, and the sinks.

use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{
    Expr, ExprKind, FlowDecl, FlowPart, Literal, OptionEntry, SinkDecl, SourceDecl, Stage, StageKind,
};

use super::error::mismatch;
use super::narrow::facts;
use super::typed::{TExpr, TExprKind, TFlow, TOption, TRecordEntry, TRule, TSink, TSource, TStage, TStageKind};
use super::Checker;
use crate::options::{batch_stage_options, sink_options, source_options, OptKind, OptSpec, SINK_KINDS, SOURCE_KINDS};
use crate::types::{Mismatch, Type};

impl Checker<'_> {
    pub(super) fn check_flow(&mut self, f: &FlowDecl) {
        self.flow_lets.clear();
        self.flow_states.clear();
        self.warn_remember_without_state(f);
        let mut sink_names: Vec<(&str, Span)> = Vec::new();
        for s in &f.sinks {
            if let Some((_, first)) = sink_names.iter().find(|(n, _)| *n == s.name.node) {
                let first = *first;
                self.duplicate(&s.name.node, s.name.span, first);
            }
            sink_names.push((&s.name.node, s.name.span));
        }
        self.scope.reset_ids();
        self.scope.push();
        self.check_order(f);
        let source = self.flow_source(f);
        let mut rec = source.as_ref().map_or(Type::Error, |s| s.ty.clone());
        let mut stages = Vec::new();
        let mut holds_always: Option<Span> = None;
        let mut warned = false;
        let later_spans = f.stages.iter().map(|s| s.span).chain(f.sinks.iter().map(|s| s.span));
        let mut later = later_spans.collect::<Vec<_>>().into_iter();
        let mut batched: Option<Span> = None;
        let mut grouped: Option<Span> = None;
        // The `let`s bound before the last group, and the group.
        let mut lets_before_group: Option<(Vec<String>, Span)> = None;
        self.enrich_ahead = f
            .stages
            .iter()
            .filter_map(|s| match &s.node {
                StageKind::Enrich(e) => Some((e.name.node.clone(), e.name.span)),
                _ => None,
            })
            .collect();
        for stage in &f.stages {
            if let Some((lets, group)) = &lets_before_group {
                self.lets_after_group(&super::group::stage_exprs(stage), lets, *group);
            }
            let span = later.next().unwrap_or(stage.span);
            self.warn_unreachable(holds_always, span, &mut warned);
            match (&stage.node, batched) {
                (StageKind::Batch(_), _) => batched = Some(stage.span),
                (StageKind::Split(_), Some(batch)) => self.split_after_batch(stage.span, batch),
                _ => {}
            }
            match (&stage.node, grouped) {
                (StageKind::Group(g), _) => {
                    self.group_placement(f, g, stage.span, batched);
                    grouped = Some(stage.span);
                }
                (StageKind::Split(_), Some(group)) => self.split_after_group(stage.span, group),
                _ => {}
            }
            self.record = Some(rec.clone());
            let (t, always) = self.stage(stage, &rec);
            if always && holds_always.is_none() {
                holds_always = Some(stage.span);
            }
            rec = t.output.clone();
            stages.push(t);
            if let StageKind::Group(_) = &stage.node {
                lets_before_group = Some((self.flow_lets.iter().map(|(n, _)| n.clone()).collect(), stage.span));
            }
        }
        if f.sinks.is_empty() {
            let d = Diagnostic::new(
                Code::MissingSink,
                &self.file,
                f.name.span,
                format!("flow `{}` has no sink", f.name.node),
                "records go nowhere",
            )
            .with_help("add a sink, e.g. `sink out: stdout {}`");
            self.report(d);
        }
        let mut sinks = Vec::new();
        if let Some((lets, group)) = &lets_before_group {
            let exprs: Vec<&Expr> = f.sinks.iter().flat_map(|s| s.options.iter().map(|o| &o.value)).collect();
            self.lets_after_group(&exprs, lets, *group);
        }
        for s in &f.sinks {
            self.warn_unreachable(holds_always, s.span, &mut warned);
            if let Some(t) = self.sink(s, &rec) {
                sinks.push(t);
            }
        }
        self.record = None;
        self.enrich_ahead.clear();
        let locals = self.scope.local_count();
        for local in self.scope.pop() {
            if local.warn_unused && !local.used && !local.name.starts_with('_') {
                let d = Diagnostic::new(
                    Code::UnusedBinding,
                    &self.file,
                    local.span,
                    format!("`{}` is never used", local.name),
                    "bound here",
                )
                .with_help(format!("remove the `let`, or name it `_{}`", local.name));
                self.report(d);
            }
        }
        self.program.flows.push(TFlow {
            name: f.name.node.clone(),
            file: self.file.clone(),
            source,
            stages,
            sinks,
            locals,
            span: f.span,
        });
    }

    fn warn_unreachable(&mut self, holds_always: Option<Span>, span: Span, warned: &mut bool) {
        let Some(h) = holds_always else { return };
        if *warned {
            return;
        }
        *warned = true;
        let d = Diagnostic::new(
            Code::UnreachableStage,
            &self.file,
            span,
            "no record ever reaches this point",
            "unreachable",
        )
        .with_secondary(&self.file, h, "every record is held here")
        .with_help("the stage before holds every record; remove it or make its condition depend on the record");
        self.report(d);
    }

    /// The source comes first, sinks last.
    fn check_order(&mut self, f: &FlowDecl) {
        let mut seen_stage_or_sink = false;
        let mut seen_sink = false;
        for (part, span) in &f.order {
            match part {
                FlowPart::Source if seen_stage_or_sink => self.error(
                    Code::StageOrder,
                    *span,
                    "the source must come first in a flow",
                    "source after stages or sinks",
                ),
                FlowPart::Stage if seen_sink => {
                    self.error(Code::StageOrder, *span, "stages must come before the sinks", "stage after a sink")
                }
                FlowPart::Stage => seen_stage_or_sink = true,
                FlowPart::Sink => {
                    seen_stage_or_sink = true;
                    seen_sink = true;
                }
                FlowPart::Source => {}
            }
        }
    }

    fn flow_source(&mut self, f: &FlowDecl) -> Option<TSource> {
        let Some(first) = f.sources.first() else {
            let d = Diagnostic::new(
                Code::MissingSource,
                &self.file,
                f.name.span,
                format!("flow `{}` has no source", f.name.node),
                "no records come in",
            )
            .with_help("add e.g. `source orders: file { path: \"orders.json\" } : shopify.Order`");
            self.report(d);
            return None;
        };
        for extra in &f.sources[1..] {
            let d = Diagnostic::new(
                Code::MultipleSources,
                &self.file,
                extra.span,
                "a flow has one source",
                "second source",
            )
            .with_secondary(&self.file, first.span, "first source")
            .with_help("write one flow per source; they may share types, lookups and functions");
            self.report(d);
        }
        Some(self.source(first))
    }

    fn source(&mut self, s: &SourceDecl) -> TSource {
        let ty = self.resolve_type(&s.ty);
        let options = match source_options(&s.kind.node) {
            Some(specs) => {
                self.scope.push();
                if s.kind.node == "http.poll" {
                    self.scope.bind("cursor", Type::String.optional(), s.kind.span, false);
                }
                let opts =
                    self.options(&s.options, &specs, &format!("`{}` source", s.kind.node), s.kind.span, Some(&ty));
                self.scope.pop();
                if s.kind.node == "webhook" {
                    self.webhook_rules(&opts, s.kind.span);
                }
                opts
            }
            None => {
                self.unknown_connector(&s.kind.node, s.kind.span, SOURCE_KINDS, "source");
                Vec::new()
            }
        };
        TSource { name: s.name.node.clone(), kind: s.kind.node.clone(), options, ty, span: s.span }
    }

    fn sink(&mut self, s: &SinkDecl, rec: &Type) -> Option<TSink> {
        let Some(specs) = sink_options(&s.kind.node) else {
            self.unknown_connector(&s.kind.node, s.kind.span, SINK_KINDS, "sink");
            return None;
        };
        let options = self.options(&s.options, &specs, &format!("`{}` sink", s.kind.node), s.kind.span, Some(rec));
        Some(TSink { name: s.name.node.clone(), kind: s.kind.node.clone(), options, input: rec.clone(), span: s.span })
    }

    pub(super) fn unknown_connector(&mut self, kind: &str, span: Span, known: &[&str], what: &str) {
        let help =
            did_you_mean(kind, known.iter().copied()).unwrap_or_else(|| format!("{what} kinds: {}", known.join(", ")));
        let d = Diagnostic::new(
            Code::UnknownConnector,
            &self.file,
            span,
            format!("unknown {what} kind `{kind}`"),
            "not a known kind",
        )
        .with_help(help);
        self.report(d);
    }

    /// Checks an options block against the specs; `rec` is `record` for per-record options.
    pub(super) fn options(
        &mut self,
        entries: &[OptionEntry],
        specs: &[OptSpec],
        owner: &str,
        owner_span: Span,
        rec: Option<&Type>,
    ) -> Vec<TOption> {
        let mut out: Vec<TOption> = Vec::new();
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for entry in entries {
            let name = entry.name.node.as_str();
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                let first = *first;
                self.duplicate(name, entry.name.span, first);
                continue;
            }
            seen.push((name, entry.name.span));
            let Some(spec) = specs.iter().find(|s| s.name == name) else {
                let names: Vec<&str> = specs.iter().map(|s| s.name).collect();
                let help = did_you_mean(name, names.iter().copied())
                    .unwrap_or_else(|| format!("{owner} options: {}", names.join(", ")));
                let d = Diagnostic::new(
                    Code::UnknownOption,
                    &self.file,
                    entry.name.span,
                    format!("{owner} has no option `{name}`"),
                    "unknown option",
                )
                .with_help(help);
                self.report(d);
                continue;
            };
            let saved = self.record.take();
            self.record = if spec.per_record { rec.cloned() } else { None };
            let value = self.option_value(spec, &entry.value);
            self.record = saved;
            out.push(TOption { name: name.to_string(), value });
        }
        for spec in specs.iter().filter(|s| s.required) {
            if !seen.iter().any(|(n, _)| *n == spec.name) {
                let d = Diagnostic::new(
                    Code::MissingOption,
                    &self.file,
                    owner_span,
                    format!("{owner} needs the option `{}`", spec.name),
                    "missing option",
                )
                .with_help_opt(spec.help.map(str::to_string));
                self.report(d);
            }
        }
        out
    }

    fn option_value(&mut self, spec: &OptSpec, e: &Expr) -> TExpr {
        let what = format!("option `{}`", spec.name);
        match &spec.kind {
            OptKind::Of(t) => {
                let t = self.expr_against(e, t, &what);
                self.positive_fields(&t, &what);
                t
            }
            OptKind::Present(t) => {
                let t = self.expr_against(e, t, &what);
                if t.ty.is_optional() {
                    let found = &t.ty;
                    let d = Diagnostic::new(
                        Code::UnhandledOptional,
                        &self.file,
                        e.span,
                        format!("{what} may be absent ({found}), and would then be sent as `null`"),
                        "may be absent",
                    )
                    .with_help(format!(
                        "say what absence means: hold the record with `?? hold \"no_{}\"`, or give a default with `?? value`",
                        spec.name
                    ));
                    self.report(d);
                }
                t
            }
            OptKind::Headers => self.headers(e),
            OptKind::Duration => self.positive_duration(e, &what),
            OptKind::Rate => {
                let t = self.expr(e, None);
                match (&t.ty, &t.kind) {
                    (Type::Rate, TExprKind::Lit(Literal::Rate(0, _))) => self.error(
                        Code::InvalidRate,
                        e.span,
                        format!("{what} must allow at least one request"),
                        "zero rate",
                    ),
                    (Type::Rate | Type::Error, _) => {}
                    (Type::Int, _) => {
                        let d = Diagnostic::new(
                            Code::InvalidRate,
                            &self.file,
                            e.span,
                            format!("{what} is a rate: a count per unit of time"),
                            "a bare number",
                        )
                        .with_help("write e.g. `10/s`, `600/m` or `1000/h`");
                        self.report(d);
                    }
                    (other, _) => {
                        let d = mismatch(&self.file, e.span, other, &Type::Rate, &Mismatch::Types, &what)
                            .with_help("write e.g. `10/s`, `600/m` or `1000/h`");
                        self.report(d);
                    }
                }
                t
            }
            OptKind::Count => {
                let t = self.expr_against(e, &Type::Int, &what);
                if let TExprKind::Lit(Literal::Int(n)) = t.kind {
                    if n < 1 {
                        self.error(Code::TypeMismatch, e.span, format!("{what} must be at least 1"), "too small");
                    }
                }
                t
            }
        }
    }

    /// A duration longer than zero; a bare number gets a hint to add a unit.
    pub(super) fn positive_duration(&mut self, e: &Expr, what: &str) -> TExpr {
        let t = self.expr(e, None);
        match &t.ty {
            Type::Duration => {
                self.require_positive(&t, what);
            }
            Type::Error => {}
            Type::Int => {
                let d = Diagnostic::new(
                    Code::InvalidDuration,
                    &self.file,
                    e.span,
                    format!("{what} is a duration, but this number has no unit"),
                    "no unit",
                )
                .with_help("write the unit: `500ms`, `30s`, `5m`, `2h`, `7d`");
                self.report(d);
            }
            other => {
                let d = mismatch(&self.file, e.span, other, &Type::Duration, &Mismatch::Types, what);
                self.report(d);
            }
        }
        t
    }

    /// The durations of a record-valued option (`batch: { max_wait: ... }`) are spans of
    /// time to wait, like the options that are durations themselves.
    fn positive_fields(&mut self, t: &TExpr, what: &str) {
        let TExprKind::Record(entries) = &t.kind else { return };
        for entry in entries {
            if let TRecordEntry::Field(name, value) = entry {
                let what = format!("`{name}` of {what}");
                self.require_positive(value, &what);
                self.positive_fields(value, &what);
            }
        }
    }

    /// Headers: each value a String or a Secret (the one place a secret may go).
    pub(super) fn headers(&mut self, e: &Expr) -> TExpr {
        let t = self.expr(e, None);
        let fields = match &t.ty {
            Type::Record(r) => r.fields.clone(),
            Type::Error => return t,
            other => {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    &self.file,
                    e.span,
                    format!("headers are a record of names to values, found {other}"),
                    "not a record",
                )
                .with_help("write e.g. `{ Authorization: \"Bearer \" + secret(\"TOKEN\") }`");
                self.report(d);
                return t;
            }
        };
        for (name, ty) in &fields {
            let ok = matches!(ty, Type::String | Type::Secret | Type::Union(_) | Type::Error | Type::Never);
            if ok {
                continue;
            }
            let span = field_span(e, name).unwrap_or(e.span);
            let d = if ty.is_optional() {
                mismatch(&self.file, span, ty, &Type::String, &Mismatch::Optional, &format!("header `{name}`"))
            } else {
                mismatch(&self.file, span, ty, &Type::String, &Mismatch::Types, &format!("header `{name}`"))
            };
            self.report(d);
        }
        t
    }

    /// After `batch`, a record is its batch and its members end with it. Each part of a
    /// split would carry every member, so a member would end once per part: counted
    /// delivered several times, or held for a part and replayed as a partial batch.
    fn split_after_batch(&mut self, split: Span, batch: Span) {
        let d = Diagnostic::new(
            Code::SplitAfterBatch,
            &self.file,
            split,
            "`split` after `batch` would take each record of the batch to its end once per part",
            "splits a batch",
        )
        .with_secondary(&self.file, batch, "records are batched here")
        .with_help(
            "split the records before batching them (`split ...` then `batch { ... }`), or build what each part \
             needs inside a `map` over the batch",
        );
        self.report(d);
    }

    /// Checks one stage; the bool says whether it holds every record.
    fn stage(&mut self, stage: &Stage, rec: &Type) -> (TStage, bool) {
        let mut output = rec.clone();
        let mut always = false;
        let kind = match &stage.node {
            StageKind::Filter(cond) => {
                let t = self.expr_against(cond, &Type::Bool, "a `filter` condition");
                self.assume(cond, true);
                TStageKind::Filter(t)
            }
            StageKind::FilterRemember(cond) => {
                let t = self.expr_against(cond, &Type::Bool, "a `filter` condition");
                self.assume(cond, true);
                TStageKind::FilterRemember(t)
            }
            StageKind::State { name, ty, key, value } => self.state_stage(name, ty, key, value),
            StageKind::Dedupe { key, within } => {
                let k = self.expr(key, None);
                if !(k.ty.is_scalar() || k.ty.is_error()) {
                    let d = if k.ty.contains_secret() {
                        mismatch(&self.file, key.span, &k.ty, &Type::String, &Mismatch::Secret, "a dedupe key")
                    } else if k.ty.is_optional() {
                        mismatch(
                            &self.file,
                            key.span,
                            &k.ty,
                            &k.ty.unwrap_optional(),
                            &Mismatch::Optional,
                            "a dedupe key",
                        )
                    } else {
                        Diagnostic::new(
                            Code::TypeMismatch,
                            &self.file,
                            key.span,
                            format!("a dedupe key must be a string, number or date, found {}", k.ty),
                            "not a key",
                        )
                        .with_help("build a string key: \"${record.id}:${record.updated_at}\"")
                    };
                    self.report(d);
                }
                let within_ms = within.as_ref().and_then(|w| match self.positive_duration(w, "`within`").kind {
                    TExprKind::Lit(Literal::Duration(ms)) => Some(ms),
                    _ => None,
                });
                TStageKind::Dedupe { key: k, within_ms }
            }
            StageKind::Validate(rules) => {
                let mut out = Vec::new();
                for r in rules {
                    let cond = self.expr_against(&r.cond, &Type::Bool, "a `validate` rule");
                    always |= matches!(r.cond.node, ExprKind::Lit(Literal::Bool(false)));
                    let hold = self.hold(&r.hold);
                    self.assume(&r.cond, true);
                    out.push(TRule { cond, hold, span: r.span });
                }
                TStageKind::Validate(out)
            }
            StageKind::Let { name, ty, value } => {
                self.check_let_name(name);
                let t = match ty {
                    Some(te) => {
                        let declared = self.resolve_type(te);
                        let mut t = self.expr_against(value, &declared, &format!("`{}`", name.node));
                        if !declared.is_error() {
                            self.note_widened(&t.ty, &declared);
                            t.ty = declared;
                        }
                        t
                    }
                    None => self.expr(value, None),
                };
                always = t.ty == Type::Never;
                let local = self.scope.bind(&name.node, t.ty.clone(), name.span, true);
                TStageKind::Let { local, name: name.node.clone(), value: t }
            }
            StageKind::Split(e) => {
                let t = self.expr(e, None);
                output = match &t.ty {
                    Type::List(inner) => (**inner).clone(),
                    Type::Error => Type::Error,
                    other => {
                        let d = if other.is_optional() {
                            mismatch(
                                &self.file,
                                e.span,
                                other,
                                &other.unwrap_optional(),
                                &Mismatch::Optional,
                                "`split`",
                            )
                        } else {
                            Diagnostic::new(
                                Code::NotAList,
                                &self.file,
                                e.span,
                                format!("`split` needs a list, found {other}"),
                                "not a list",
                            )
                            .with_help(
                                "split takes a list and emits one record per element, e.g. `split record.line_items`",
                            )
                        };
                        self.report(d);
                        Type::Error
                    }
                };
                self.scope.forget("record");
                TStageKind::Split(t)
            }
            StageKind::Map { target, body } => {
                let target_ty = target.as_ref().map(|t| self.resolve_type(t));
                let t = match &body.node {
                    ExprKind::Record(entries) => self.record(entries, body.span, target_ty.as_ref()),
                    _ => self.expr(body, target_ty.as_ref()),
                };
                if t.ty.contains_secret() {
                    let d = mismatch(
                        &self.file,
                        body.span,
                        &t.ty,
                        &Type::Json,
                        &Mismatch::Secret,
                        "a field of a mapped record",
                    );
                    self.report(d);
                }
                output = target_ty.filter(|t| !t.is_error()).unwrap_or_else(|| t.ty.clone());
                self.scope.forget("record");
                TStageKind::Map(t)
            }
            StageKind::HoldWhen { cond, hold } => {
                let c = self.expr_against(cond, &Type::Bool, "a `hold when` condition");
                always = matches!(cond.node, ExprKind::Lit(Literal::Bool(true)));
                let hold = self.hold(hold);
                self.assume(cond, false);
                TStageKind::HoldWhen { cond: c, hold }
            }
            StageKind::Batch(opts) => {
                let t = self.options(opts, &batch_stage_options(), "`batch`", stage.span, None);
                let lit = |name: &str| {
                    t.iter().find(|o| o.name == name).and_then(|o| match o.value.kind {
                        TExprKind::Lit(Literal::Int(n)) => u64::try_from(n).ok(),
                        TExprKind::Lit(Literal::Duration(ms)) => Some(ms),
                        _ => None,
                    })
                };
                output = rec.clone().list();
                TStageKind::Batch { size: lit("size").unwrap_or(1), max_wait_ms: lit("max_wait") }
            }
            StageKind::Group(g) => {
                let (t, out) = self.group_stage(g, rec);
                output = out;
                TStageKind::Group(Box::new(t))
            }
            StageKind::Enrich(e) => self.enrich(e, rec),
        };
        let t = TStage { kind, input: rec.clone(), output, span: stage.span };
        (t, always)
    }

    /// `let record` would hide the record; a second `let` of one name hides the first.
    pub(super) fn check_let_name(&mut self, name: &crate::syntax::ast::Ident) {
        if name.node == "record" {
            let d = Diagnostic::new(
                Code::DuplicateDefinition,
                &self.file,
                name.span,
                "`record` is the record flowing through the stage",
                "reserved name",
            )
            .with_help("choose another name for the binding");
            self.report(d);
            return;
        }
        if let Some(first) = self.flow_lets.iter().find(|(n, _)| *n == name.node).map(|(_, s)| *s) {
            self.duplicate(&name.node, name.span, first);
        }
        self.flow_lets.push((name.node.clone(), name.span));
    }

    /// After a stage, what its condition proved holds for every later stage.
    fn assume(&mut self, cond: &Expr, positive: bool) {
        for p in facts(cond, positive) {
            self.scope.assume_present(p);
        }
    }
}

fn field_span(e: &Expr, name: &str) -> Option<Span> {
    match &e.node {
        ExprKind::Record(entries) => entries.iter().find_map(|en| match en {
            crate::syntax::ast::RecordEntry::Field(n, v) if n.node == name => Some(v.span),
            _ => None,
        }),
        _ => None,
    }
}
