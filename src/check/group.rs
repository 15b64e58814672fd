//! `group by key within d : T { ... }`: the key, the window, and the body that folds a
//! group's records into one.
//!
//! The body is checked as a record built once per group: each aggregate call over
//! `record` (`sum(record.qty)`) becomes a local holding its folded value, `key` is the
//! group's key, and nothing else of a single record may be read there, since a group has
//! many and none of them is the one meant.

use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{
    Arg, Expr, ExprKind, FlowDecl, GroupStage, Literal, MatchArm, RecordEntry, Stage, StageKind, StrPart,
};
use crate::types::Type;

use super::decls::error_expr;
use super::typed::{Aggregate, LocalId, TAggregate, TExprKind, TGroup};
use super::Checker;

/// The local standing for a value already reported as wrong: it has the `Error` type,
/// so the rest of the body is checked without a second diagnostic.
const ERROR_LOCAL: &str = "<error>";

impl Checker<'_> {
    /// Checks a `group` stage over records of type `rec`; returns it and its output type.
    pub(super) fn group_stage(&mut self, g: &GroupStage, rec: &Type) -> (TGroup, Type) {
        let key = self.group_key(&g.key, rec);
        let within_ms = g.within.as_ref().and_then(|w| match self.positive_duration(w, "`within`").kind {
            TExprKind::Lit(Literal::Duration(ms)) => Some(ms),
            _ => None,
        });
        let target = g.target.as_ref().map(|t| self.resolve_type(t));
        self.scope.push();
        let key_local = self.scope.bind("key", key.ty.clone(), g.key.span, false);
        self.scope.bind(ERROR_LOCAL, Type::Error, g.body.span, false);
        let mut fold = Fold { aggregates: Vec::new() };
        let mut body = g.body.clone();
        self.aggregates(&mut body, rec, &mut fold);
        self.outside_aggregates(&mut body);
        let saved = self.record.take();
        let t = match &body.node {
            ExprKind::Record(entries) => self.record(entries, body.span, target.as_ref()),
            _ => self.expr(&body, target.as_ref()),
        };
        self.record = saved;
        let locals = self.scope.pop();
        let key_used = locals.iter().any(|l| l.id == key_local && l.used);
        if !key_used && !key.ty.is_error() {
            let d = Diagnostic::new(
                Code::GroupDropsKey,
                &self.file,
                g.body.span,
                "the grouped record does not say which group it is",
                "no field reads `key`",
            )
            .with_secondary(&self.file, g.key.span, "records are grouped by this")
            .with_help("add a field with the group's key, e.g. `location: key`");
            self.report(d);
        }
        self.scope.forget("record");
        let output = target.filter(|t| !t.is_error()).unwrap_or_else(|| t.ty.clone());
        (TGroup { key, within_ms, key_local, aggregates: fold.aggregates, body: t }, output)
    }

    /// The key: a scalar read from each record, never absent.
    fn group_key(&mut self, key: &Expr, rec: &Type) -> super::typed::TExpr {
        if let ExprKind::Field { base, name, .. } = &key.node {
            let fields = rec.record_fields();
            if let (ExprKind::Name(r), Some(fields)) = (&base.node, fields) {
                if r == "record" && !fields.contains_key(&name.node) {
                    let help = did_you_mean(&name.node, fields.keys().map(String::as_str)).unwrap_or_else(|| {
                        format!("its fields: {}", fields.keys().cloned().collect::<Vec<_>>().join(", "))
                    });
                    let d = Diagnostic::new(
                        Code::GroupKey,
                        &self.file,
                        name.span,
                        format!("records of type {rec} have no field `{}` to group by", name.node),
                        "no such field",
                    )
                    .with_help(help);
                    self.report(d);
                    return error_expr(key.span);
                }
            }
        }
        let k = self.expr(key, None);
        if !(k.ty.is_scalar() || k.ty.is_error()) {
            let (message, help) = if k.ty.is_optional() {
                (
                    format!("a group key may be absent ({}), and absent keys would be one group", k.ty),
                    "say what absence means: `?? hold \"no_key\"`, or a default with `?? value`",
                )
            } else {
                (
                    format!("a group key must be a string, number or date, found {}", k.ty),
                    "group by a field of the record, or build a string key: \"${record.a}:${record.b}\"",
                )
            };
            let d = Diagnostic::new(Code::GroupKey, &self.file, key.span, message, "not a key").with_help(help);
            self.report(d);
        }
        k
    }

    /// Replaces each aggregate call over `record` in `e` by a local for its folded value,
    /// checking its argument against one record.
    fn aggregates(&mut self, e: &mut Expr, rec: &Type, fold: &mut Fold) {
        if let ExprKind::Call { func, args } = &e.node {
            if let ExprKind::Name(name) = &func.node {
                // A value of each record: read from `record`, or from a `let` bound for each.
                // In the body, `key` is the group's, whatever a `let` before it was called.
                let mut per_record: Vec<String> =
                    self.flow_lets.iter().map(|(n, _)| n.clone()).filter(|n| n != "key").collect();
                per_record.push("record".into());
                let over_record = args.iter().any(|a| {
                    let mut found = Vec::new();
                    reads_of(a.expr(), &per_record, &mut found);
                    !found.is_empty()
                });
                let shadowed = self.scope.names().iter().any(|n| n == name);
                if let Some(kind) = Aggregate::from_name(name).filter(|_| !shadowed) {
                    if over_record || (kind == Aggregate::Count && args.is_empty()) {
                        let local = self.aggregate(kind, args, e.span, rec, fold);
                        e.node = ExprKind::Name(local);
                        return;
                    }
                }
                let known = shadowed || self.env().fns.contains_key(name) || crate::builtins::lookup(name).is_some();
                if over_record && !known {
                    let help = did_you_mean(name, Aggregate::NAMES.iter().copied()).unwrap_or_else(|| {
                        format!(
                            "aggregates: {}",
                            Aggregate::NAMES.iter().map(|n| format!("{n}()")).collect::<Vec<_>>().join(", ")
                        )
                    });
                    let d = Diagnostic::new(
                        Code::UnknownAggregate,
                        &self.file,
                        func.span,
                        format!("unknown aggregate `{name}`"),
                        "not an aggregate",
                    )
                    .with_help(help);
                    self.report(d);
                    e.node = ExprKind::Name(ERROR_LOCAL.into());
                    return;
                }
            }
        }
        for child in children(e) {
            self.aggregates(child, rec, fold);
        }
    }

    /// Checks one aggregate call and binds the local its folded value goes into.
    fn aggregate(&mut self, kind: Aggregate, args: &[Arg], span: Span, rec: &Type, fold: &mut Fold) -> String {
        let saved = self.record.replace(rec.clone());
        let arg = match (kind, args) {
            (Aggregate::Count, []) => None,
            (Aggregate::Count, _) => {
                self.error(
                    Code::AggregateType,
                    span,
                    "`count()` counts the records of the group and takes no argument",
                    "an argument",
                );
                None
            }
            (_, [Arg::Positional(a)]) => Some(self.expr(a, None)),
            _ => {
                self.error(
                    Code::AggregateType,
                    span,
                    format!("`{}` takes one value of each record, e.g. `{}(record.qty)`", kind.name(), kind.name()),
                    "wrong arguments",
                );
                None
            }
        };
        self.record = saved;
        let ty = match (&arg, kind) {
            (_, Aggregate::Count) => Type::Int,
            (None, _) => Type::Error,
            (Some(a), _) => self.aggregate_type(kind, &a.ty, a.span),
        };
        let name = format!("{}(..)#{}", kind.name(), fold.aggregates.len());
        let local: LocalId = self.scope.bind(&name, ty, span, false);
        fold.aggregates.push(TAggregate { kind, arg, local });
        name
    }

    /// The type of an aggregate's value, given the type of what it folds.
    fn aggregate_type(&mut self, kind: Aggregate, t: &Type, span: Span) -> Type {
        if t.is_error() {
            return Type::Error;
        }
        let bad = |this: &mut Self, what: &str, help: &str| {
            let d = Diagnostic::new(
                Code::AggregateType,
                &this.file,
                span,
                format!("`{}` {what}, found {t}", kind.name()),
                "cannot be folded",
            )
            .with_help(help.to_string());
            this.report(d);
            Type::Error
        };
        match kind {
            Aggregate::Sum => match t {
                Type::Int | Type::Decimal(_) => t.clone(),
                Type::Optional(_) => {
                    bad(self, "adds numbers that are always there", "give absence a value: `sum(record.qty ?? 0)`")
                }
                Type::Float => bad(
                    self,
                    "adds exact numbers (Int or Decimal)",
                    "a sum of floats is inexact; declare the field as a Decimal",
                ),
                _ => bad(self, "adds Int or Decimal values", "sum a number field, e.g. `sum(record.qty)`"),
            },
            Aggregate::Min | Aggregate::Max => {
                let ordered = matches!(
                    t,
                    Type::Int
                        | Type::Decimal(_)
                        | Type::Float
                        | Type::String
                        | Type::Date
                        | Type::DateTime
                        | Type::Duration
                );
                if ordered {
                    t.clone()
                } else {
                    bad(self, "compares numbers, strings, dates or durations", "compare a field that is always there")
                }
            }
            Aggregate::First | Aggregate::Last => t.clone(),
            Aggregate::List => t.clone().list(),
            Aggregate::Count => Type::Int,
        }
    }

    /// Reports each read of `record`, or of a binding made for each record, left in the
    /// body once the aggregates are out of it: a group has many records, and the body is
    /// built once for all of them.
    fn outside_aggregates(&mut self, e: &mut Expr) {
        if let ExprKind::Name(name) = &e.node {
            let per_record = name == "record" || (name != "key" && self.flow_lets.iter().any(|(n, _)| n == name));
            if per_record {
                // Reported here, so not unused as well.
                self.scope.use_local(name);
                let what =
                    if name == "record" { "`record`".to_string() } else { format!("`{name}`, bound for each record,") };
                let d = Diagnostic::new(
                    Code::RecordOutsideAggregate,
                    &self.file,
                    e.span,
                    format!("{what} is read outside an aggregate, but a group has many records"),
                    "which record's?",
                )
                .with_help(if name == "record" {
                    "fold it over the group's records: `first(record.sku)`, `list(record.sku)`, `sum(record.qty)`; or group by it and read `key`".to_string()
                } else {
                    format!("fold it over the group's records: `first({name})`, `last({name})`, `list({name})`")
                });
                self.report(d);
                e.node = ExprKind::Name(ERROR_LOCAL.into());
            }
            return;
        }
        if let ExprKind::Lambda { .. } = &e.node {
            return;
        }
        for child in children(e) {
            self.outside_aggregates(child);
        }
    }

    /// A group can end its records only if it closes: at the end of the run's input, or
    /// when its window does. And it carries its records as members, as a batch does, so
    /// it cannot be formed of batches, nor split.
    pub(super) fn group_placement(&mut self, f: &FlowDecl, g: &GroupStage, span: Span, batched: Option<Span>) {
        if g.within.is_none() {
            if let Some(s) = f.sources.first() {
                let endless = s.kind.node == "webhook"
                    || (s.kind.node == "http.poll" && s.options.iter().any(|o| o.name.node == "every"));
                if endless {
                    let d = Diagnostic::new(
                        Code::GroupNeverEnds,
                        &self.file,
                        span,
                        "this group would never close: the source's input never ends",
                        "needs `within`",
                    )
                    .with_secondary(&self.file, s.kind.span, "an endless source")
                    .with_help("close groups after a time: `group by ... within 5m { ... }`");
                    self.report(d);
                }
            }
        }
        if let Some(batch) = batched {
            let d = Diagnostic::new(
                Code::GroupNeverEnds,
                &self.file,
                span,
                "`group` after `batch` would group batches, and their records would end twice",
                "groups batches",
            )
            .with_secondary(&self.file, batch, "records are batched here")
            .with_help("group the records first, then batch the groups");
            self.report(d);
        }
    }

    /// After `group`, a record is its group; each part of a split would end every record
    /// of the group once more.
    pub(super) fn split_after_group(&mut self, split: Span, group: Span) {
        let d = Diagnostic::new(
            Code::GroupNeverEnds,
            &self.file,
            split,
            "`split` after `group` would take each record of the group to its end once per part",
            "splits a group",
        )
        .with_secondary(&self.file, group, "records are grouped here")
        .with_help("split the records before grouping them, or collect what each part needs with `list(...)`");
        self.report(d);
    }
}

impl Checker<'_> {
    /// A `let` before a group holds one record's value; after the group, the record is
    /// the group, and which of its records' values the name would give is anyone's guess
    /// (the first's, as it happens). Reports each such read in `exprs`.
    pub(super) fn lets_after_group(&mut self, exprs: &[&Expr], lets: &[String], group: Span) {
        let mut found = Vec::new();
        for e in exprs {
            reads_of(e, lets, &mut found);
        }
        for (name, span) in found {
            let d = Diagnostic::new(
                Code::RecordOutsideAggregate,
                &self.file,
                span,
                format!("`{name}` was bound for each record before the group, but a group has many records"),
                "which record's?",
            )
            .with_secondary(&self.file, group, "records are grouped here")
            .with_help(format!(
                "fold it in the group's body (`{name}s: list({name})`, `first({name})`) and read that field"
            ));
            self.report(d);
        }
    }
}

/// The expressions of a stage, for `lets_after_group`.
pub(super) fn stage_exprs(stage: &Stage) -> Vec<&Expr> {
    match &stage.node {
        StageKind::Filter(e) | StageKind::Split(e) => vec![e],
        StageKind::Dedupe { key, .. } => vec![key],
        StageKind::Validate(rules) => {
            rules.iter().flat_map(|r| std::iter::once(&r.cond).chain(r.hold.message.as_deref())).collect()
        }
        StageKind::Let { value, .. } => vec![value],
        StageKind::Map { body, .. } => vec![body],
        StageKind::HoldWhen { cond, hold } => std::iter::once(cond).chain(hold.message.as_deref()).collect(),
        StageKind::Batch(opts) => opts.iter().map(|o| &o.value).collect(),
        StageKind::Group(g) => vec![&g.key, &g.body],
        StageKind::Enrich(e) => e.options.iter().map(|o| &o.value).collect(),
        StageKind::State { key, value, .. } => vec![key, value],
        StageKind::FilterRemember(e) => vec![e],
    }
}

/// Reads of any of `names` in `e`, outside lambdas that bind the name again.
fn reads_of(e: &Expr, names: &[String], found: &mut Vec<(String, Span)>) {
    match &e.node {
        ExprKind::Name(n) if names.contains(n) => found.push((n.clone(), e.span)),
        ExprKind::Lambda { params, .. } => {
            let rebound: Vec<String> =
                names.iter().filter(|n| !params.iter().any(|p| &p.node == *n)).cloned().collect();
            let mut e = e.clone();
            for c in children(&mut e) {
                reads_of(c, &rebound, found);
            }
        }
        _ => {
            let mut e = e.clone();
            for c in children(&mut e) {
                reads_of(c, names, found);
            }
        }
    }
}

/// What the aggregates of one body fold into.
struct Fold {
    aggregates: Vec<TAggregate>,
}

/// The expressions directly inside `e`.
fn children(e: &mut Expr) -> Vec<&mut Expr> {
    match &mut e.node {
        ExprKind::Lit(_) | ExprKind::Name(_) => Vec::new(),
        ExprKind::Str(parts) => parts
            .iter_mut()
            .filter_map(|p| match p {
                StrPart::Interp(x) => Some(x),
                StrPart::Text(_) => None,
            })
            .collect(),
        ExprKind::Field { base, .. } => vec![base],
        ExprKind::Index { base, index, .. } => vec![base, index],
        ExprKind::Call { func, args } => std::iter::once(&mut **func).chain(args.iter_mut().map(arg_mut)).collect(),
        ExprKind::Method { receiver, args, .. } => {
            std::iter::once(&mut **receiver).chain(args.iter_mut().map(arg_mut)).collect()
        }
        ExprKind::Unary(_, x) => vec![x],
        ExprKind::Binary(_, a, b) => vec![a, b],
        ExprKind::Lambda { body, .. } => vec![body],
        ExprKind::If { cond, then, otherwise } => vec![cond, then, otherwise],
        ExprKind::Match { scrutinee, arms } => {
            std::iter::once(&mut **scrutinee).chain(arms.iter_mut().map(|a: &mut MatchArm| &mut a.body)).collect()
        }
        ExprKind::List(items) => items.iter_mut().collect(),
        ExprKind::Record(entries) => entries
            .iter_mut()
            .map(|en| match en {
                RecordEntry::Field(_, v) | RecordEntry::Spread(v) => v,
            })
            .collect(),
        ExprKind::Hold(h) => h.message.iter_mut().map(|m| &mut **m).collect(),
    }
}

fn arg_mut(a: &mut Arg) -> &mut Expr {
    match a {
        Arg::Positional(e) | Arg::Named(_, e) => e,
    }
}
