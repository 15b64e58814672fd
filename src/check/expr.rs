//! Expressions: inferring types, checking against expected types, resolving names.
//!
//! Checking is bidirectional: where the context knows the type it wants (a map target
//! field, a function parameter), it is passed down, so record literals and lambdas
//! are checked field by field and errors point at the exact spot.

use std::sync::Arc;

use crate::types::Fields;

use crate::builtins;
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Expr, ExprKind, HoldReason, Literal, MatchArm, PatternKind, RecordEntry, StrPart};

use super::decls::error_expr;
use super::error::{mismatch, quote_list};
use super::narrow::{facts, path_key};
use super::typed::{TArm, TExpr, TExprKind, THold, TPattern, TRecordEntry, TStrPart};
use super::Checker;
use crate::types::{assignable, join, RecordType, Type};

pub(super) fn texpr(kind: TExprKind, ty: Type, span: Span) -> TExpr {
    TExpr { kind, ty, span }
}

impl Checker<'_> {
    /// Checks `e` where a value of type `expected` is required; reports a mismatch.
    pub(super) fn expr_against(&mut self, e: &Expr, expected: &Type, what: &str) -> TExpr {
        if let (ExprKind::Str(parts), Type::Union(members)) = (&e.node, expected.unwrap_optional()) {
            if let [StrPart::Text(s)] = parts.as_slice() {
                if !members.contains(s) {
                    let help = did_you_mean(s, members.iter().map(String::as_str)).unwrap_or_else(|| {
                        format!(
                            "expected one of {}",
                            members.iter().map(|m| format!("{m:?}")).collect::<Vec<_>>().join(", ")
                        )
                    });
                    let d = Diagnostic::new(
                        Code::NotInUnion,
                        &self.file,
                        e.span,
                        format!("{s:?} is not one of {}", Type::Union(members.clone())),
                        "not a member",
                    )
                    .with_help(help);
                    self.report(d);
                }
                return texpr(TExprKind::Str(vec![TStrPart::Text(s.clone())]), expected.clone(), e.span);
            }
        }
        let mut t = self.expr(e, Some(expected));
        match assignable(&t.ty, expected) {
            Ok(()) => {
                if !t.ty.contains_var()
                    && !matches!(t.ty, Type::Never)
                    && !expected.contains_var()
                    && needs_widening(&t.ty, expected)
                {
                    self.note_widened(&t.ty, expected);
                    t.ty = expected.clone();
                }
            }
            Err(why) => {
                let d = mismatch(&self.file, e.span, &t.ty, expected, &why, what);
                self.report(d);
            }
        }
        t
    }

    /// Infers the type of `e`; `expected` is a hint for literals and lambdas.
    pub(super) fn expr(&mut self, e: &Expr, expected: Option<&Type>) -> TExpr {
        let span = e.span;
        match &e.node {
            ExprKind::Lit(lit) => texpr(TExprKind::Lit(lit.clone()), literal_type(lit), span),
            ExprKind::Str(parts) => {
                let mut t = self.string(parts, span);
                // A literal that is a member of the expected union has the union's type.
                if let (Some(Type::Union(members)), [StrPart::Text(text)]) =
                    (expected.map(Type::unwrap_optional), parts.as_slice())
                {
                    if members.contains(text) {
                        t.ty = Type::Union(members);
                    }
                }
                t
            }
            ExprKind::Name(name) => self.name(name, span),
            ExprKind::Field { base, name, optional } => self.field(e, base, &name.node, name.span, *optional),
            ExprKind::Index { base, index, optional } => self.index(e, base, index, *optional),
            ExprKind::Call { func, args } => self.call(func, args, span, expected),
            ExprKind::Method { receiver, name, args, optional } => {
                self.method(receiver, name, args, *optional, span, expected)
            }
            ExprKind::Unary(op, inner) => self.unary(*op, inner, span),
            ExprKind::Binary(op, l, r) => self.binary(*op, l, r, span, expected),
            ExprKind::Lambda { .. } => {
                let d = Diagnostic::new(
                    Code::NotCallable,
                    &self.file,
                    span,
                    "a lambda can only be passed to a function that takes one",
                    "not expected here",
                )
                .with_help("lambdas go to list functions: `xs.map(x => ...)`, `xs.all(x => ...)`");
                self.report(d);
                error_expr(span)
            }
            ExprKind::If { cond, then, otherwise } => self.if_expr(cond, then, otherwise, span, expected),
            ExprKind::Match { scrutinee, arms } => self.match_expr(scrutinee, arms, span, expected),
            ExprKind::List(items) => self.list(items, span, expected),
            ExprKind::Record(entries) => self.record(entries, span, expected),
            ExprKind::Hold(h) => {
                let hold = self.hold(h);
                texpr(TExprKind::Hold(hold), Type::Never, span)
            }
        }
    }

    pub(super) fn hold(&mut self, h: &HoldReason) -> THold {
        let message = h.message.as_ref().map(|m| Box::new(self.expr_against(m, &Type::String, "a hold message")));
        THold { code: h.code.node.clone(), message }
    }

    fn string(&mut self, parts: &[StrPart], span: Span) -> TExpr {
        let mut out = Vec::new();
        let mut secret = false;
        for p in parts {
            match p {
                StrPart::Text(t) => out.push(TStrPart::Text(t.clone())),
                StrPart::Interp(e) => {
                    let t = self.expr(e, None);
                    match &t.ty {
                        Type::Secret => secret = true,
                        ty if ty.is_optional() => {
                            let d = mismatch(
                                &self.file,
                                e.span,
                                ty,
                                &Type::String,
                                &crate::types::Mismatch::Optional,
                                "interpolation",
                            );
                            self.report(d.with_help("give a default inside the braces: \"${x ?? \"\"}\""));
                        }
                        ty if ty.is_scalar() || matches!(ty, Type::Json | Type::Error | Type::Never) => {}
                        ty => self.error(
                            Code::BadOperands,
                            e.span,
                            format!("cannot interpolate a value of type {ty} into a string"),
                            "not text-like",
                        ),
                    }
                    out.push(TStrPart::Interp(t));
                }
            }
        }
        let ty = if secret { Type::Secret } else { Type::String };
        texpr(TExprKind::Str(out), ty, span)
    }

    fn name(&mut self, name: &str, span: Span) -> TExpr {
        if let Some(local) = self.scope.use_local(name) {
            let (id, mut ty) = (local.id, local.ty.clone());
            if ty.is_optional() && self.scope.is_present(name) {
                ty = ty.unwrap_optional();
            }
            return texpr(TExprKind::Local(id, name.to_string()), ty, span);
        }
        if name == "record" {
            if let Some(rec) = self.record.clone() {
                return texpr(TExprKind::CurrentRecord, rec, span);
            }
        }
        if let Some(ty) = builtins::constant(name) {
            return texpr(TExprKind::Constant(name.to_string()), ty, span);
        }
        self.unknown_name(name, span);
        error_expr(span)
    }

    fn unknown_name(&mut self, name: &str, span: Span) {
        if self.enrich_used_early(name, span) {
            return;
        }
        let env = self.env();
        let (message, label, help) = if env.lookups.contains_key(name) {
            (
                format!("lookup `{name}` is not a value"),
                "a lookup table",
                Some(format!("look a key up with `{name}[key]`")),
            )
        } else if env.fns.contains_key(name) || builtins::lookup(name).is_some() {
            (format!("function `{name}` is not a value"), "a function", Some(format!("call it: `{name}(...)`")))
        } else if env.imports.contains_key(name) {
            (
                format!("module `{name}` is not a value"),
                "a module",
                Some(format!("use one of its members: `{name}.Member`")),
            )
        } else if name == "record" {
            (
                "`record` is only available inside a flow's stages and sinks".to_string(),
                "not in a flow",
                Some("functions receive values as parameters".to_string()),
            )
        } else {
            let mut candidates = self.scope.names();
            if self.record.is_some() {
                candidates.push("record".into());
            }
            candidates.extend(builtins::CONSTANT_NAMES.iter().map(|s| s.to_string()));
            let help = did_you_mean(name, candidates.iter().map(String::as_str));
            (format!("unknown name `{name}`"), "not defined", help)
        };
        let d = Diagnostic::new(Code::UnknownName, &self.file, span, message, label).with_help_opt(help);
        self.report(d);
    }

    fn field(&mut self, whole: &Expr, base: &Expr, name: &str, name_span: Span, optional: bool) -> TExpr {
        let span = whole.span;
        if let ExprKind::Name(alias) = &base.node {
            if self.is_module_alias(alias) {
                if self.env().failed_imports.iter().any(|a| a == alias) {
                    return error_expr(span);
                }
                let d = Diagnostic::new(
                    Code::UnknownName,
                    &self.file,
                    span,
                    format!("`{alias}.{name}` is not a value"),
                    "a module member",
                )
                .with_help(format!(
                    "call a function with `{alias}.{name}(...)`, or look a key up with `{alias}.{name}[key]`"
                ));
                self.report(d);
                return error_expr(span);
            }
        }
        let tb = self.expr(base, None);
        let base_ty = tb.ty.clone();
        let inner = match (&base_ty, optional) {
            (t, true) if t.is_optional() => t.unwrap_optional(),
            (t, false) if t.is_optional() => {
                let what = self.file.slice(base.span).to_string();
                let d = Diagnostic::new(
                    Code::UnhandledOptional,
                    &self.file,
                    base.span,
                    format!("`{what}` may be absent, so `.{name}` cannot be read directly"),
                    format!("this is {base_ty}"),
                )
                .with_help(format!(
                    "use `{what}?.{name}` (absent if `{what}` is), `{what} ?? hold \"code\"`, or test `{what} != null` first"
                ));
                self.report(d);
                base_ty.unwrap_optional()
            }
            (t, _) => t.clone(),
        };
        let field_ty = match &inner {
            Type::Record(r) => match r.fields.get(name) {
                Some(t) => t.clone(),
                None => {
                    self.unknown_field(r, name, name_span, &inner);
                    Type::Error
                }
            },
            Type::Json => Type::Json,
            Type::Error | Type::Never => Type::Error,
            other => {
                let help = if matches!(other, Type::List(_)) {
                    Some(format!("a list has no fields; take an element with `.first()`, or `.map(x => x.{name})`"))
                } else {
                    None
                };
                let d = Diagnostic::new(
                    Code::UnknownField,
                    &self.file,
                    name_span,
                    format!("{other} has no field `{name}`"),
                    "no such field",
                )
                .with_help_opt(help);
                self.report(d);
                Type::Error
            }
        };
        let mut ty = if optional && base_ty.is_optional() { field_ty.optional() } else { field_ty };
        if ty.is_optional() && path_key(whole).is_some_and(|k| self.scope.is_present(&k)) {
            ty = ty.unwrap_optional();
        }
        texpr(TExprKind::Field { base: Box::new(tb), name: name.to_string(), optional }, ty, span)
    }

    fn unknown_field(&mut self, r: &Arc<RecordType>, name: &str, span: Span, ty: &Type) {
        let help = did_you_mean(name, r.fields.keys().map(String::as_str)).or_else(|| {
            let mut names: Vec<&str> = r.fields.keys().map(String::as_str).collect();
            if names.len() > 12 {
                names.truncate(12);
                names.push("…");
            }
            Some(format!("{ty} has: {}", names.join(", ")))
        });
        let d = Diagnostic::new(
            Code::UnknownField,
            &self.file,
            span,
            format!("{ty} has no field `{name}`"),
            "unknown field",
        )
        .with_help_opt(help);
        self.report(d);
    }

    /// Whether `name` is an import alias (one that failed counts: its uses stay silent).
    pub(super) fn is_module_alias(&mut self, name: &str) -> bool {
        self.scope.names().iter().all(|n| n != name)
            && (self.env().imports.contains_key(name) || self.env().failed_imports.iter().any(|a| a == name))
    }

    fn index(&mut self, whole: &Expr, base: &Expr, index: &Expr, optional: bool) -> TExpr {
        let span = whole.span;
        if let Some((lookup, key_ty, value_ty)) = self.lookup_ref(base) {
            let key = self.expr_against(index, &key_ty, "a lookup key");
            return texpr(TExprKind::LookupGet { lookup, key: Box::new(key) }, value_ty.optional(), span);
        }
        let tb = self.expr(base, None);
        let base_ty = if optional { tb.ty.unwrap_optional() } else { tb.ty.clone() };
        let elem = match &base_ty {
            Type::List(t) => {
                let ti = self.expr_against(index, &Type::Int, "a list index");
                let ty = (**t).clone().optional();
                return texpr(TExprKind::Index { base: Box::new(tb), index: Box::new(ti), optional }, ty, span);
            }
            Type::Json => Type::Json,
            Type::Error | Type::Never => Type::Error,
            t if t.is_optional() => {
                self.error(
                    Code::UnhandledOptional,
                    base.span,
                    format!("this value may be absent ({t}), so it cannot be indexed directly"),
                    "may be absent",
                );
                Type::Error
            }
            t => {
                let d = Diagnostic::new(
                    Code::NotIndexable,
                    &self.file,
                    base.span,
                    format!("a value of type {t} cannot be indexed"),
                    "not a list or lookup",
                )
                .with_help("`[ ]` takes an element of a list or looks a key up in a lookup table");
                self.report(d);
                Type::Error
            }
        };
        let ti = self.expr(index, None);
        texpr(TExprKind::Index { base: Box::new(tb), index: Box::new(ti), optional }, elem, span)
    }

    /// A lookup named by `name` or `module.name`, marked used.
    fn lookup_ref(&mut self, base: &Expr) -> Option<(usize, Type, Type)> {
        match &base.node {
            ExprKind::Name(n) if self.scope.names().iter().all(|l| l != n) => {
                let d = self.env_mut().lookups.get_mut(n)?;
                d.used = true;
                Some((d.value.index, d.value.key.clone(), d.value.value.clone()))
            }
            ExprKind::Field { base: inner, name, .. } => {
                let ExprKind::Name(alias) = &inner.node else { return None };
                if !self.is_module_alias(alias) {
                    return None;
                }
                let module = self.use_import(alias, inner.span)?;
                let env = self.envs.get(&module)?;
                match env.lookups.get(&name.node) {
                    Some(d) => Some((d.value.index, d.value.key.clone(), d.value.value.clone())),
                    None => {
                        let help = did_you_mean(&name.node, env.lookups.keys().map(String::as_str));
                        let d = Diagnostic::new(
                            Code::UnknownName,
                            &self.file,
                            name.span,
                            format!("module `{alias}` has no lookup `{}`", name.node),
                            "not declared there",
                        )
                        .with_help_opt(help);
                        self.report(d);
                        Some((usize::MAX, Type::Error, Type::Error))
                    }
                }
            }
            _ => None,
        }
    }

    fn if_expr(&mut self, cond: &Expr, then: &Expr, otherwise: &Expr, span: Span, expected: Option<&Type>) -> TExpr {
        let tc = self.expr_against(cond, &Type::Bool, "an `if` condition");
        let tt = self.with_facts(cond, true, |c| c.expr(then, expected));
        let to = self.with_facts(cond, false, |c| c.expr(otherwise, expected));
        let ty = self.join_branches(&tt, &to, expected);
        texpr(TExprKind::If { cond: Box::new(tc), then: Box::new(tt), otherwise: Box::new(to) }, ty, span)
    }

    fn join_branches(&mut self, a: &TExpr, b: &TExpr, expected: Option<&Type>) -> Type {
        if let Some(j) = join(&a.ty, &b.ty) {
            return j;
        }
        if matches!(
            (a.ty.unwrap_optional(), b.ty.unwrap_optional()),
            (Type::Decimal(_), Type::Float) | (Type::Float, Type::Decimal(_))
        ) {
            let d = Diagnostic::new(
                Code::DecimalFloatMix,
                &self.file,
                b.span,
                format!("one branch is {}, the other {}: Decimal and Float do not mix", a.ty, b.ty),
                format!("this is {}", b.ty),
            )
            .with_secondary(&self.file, a.span, format!("this is {}", a.ty))
            .with_help("convert one branch explicitly with `to_decimal(x)` or `to_float(x)`");
            self.report(d);
            return Type::Error;
        }
        if let Some(exp) = expected {
            if assignable(&a.ty, exp).is_ok() && assignable(&b.ty, exp).is_ok() {
                return exp.clone();
            }
        }
        let d = Diagnostic::new(
            Code::TypeMismatch,
            &self.file,
            b.span,
            format!("the branches have different types: {} and {}", a.ty, b.ty),
            format!("this is {}", b.ty),
        )
        .with_secondary(&self.file, a.span, format!("this is {}", a.ty));
        self.report(d);
        Type::Error
    }

    pub(super) fn with_facts<R>(&mut self, cond: &Expr, positive: bool, f: impl FnOnce(&mut Self) -> R) -> R {
        self.scope.push();
        for p in facts(cond, positive) {
            self.scope.assume_present(p);
        }
        let r = f(self);
        self.scope.pop();
        r
    }

    fn match_expr(&mut self, scrutinee: &Expr, arms: &[MatchArm], span: Span, expected: Option<&Type>) -> TExpr {
        let ts = self.expr(scrutinee, None);
        let sty = ts.ty.clone();
        let mut out = Vec::new();
        let mut result: Option<TExpr> = None;
        let mut ty = Type::Never;
        let mut covered: Vec<String> = Vec::new();
        let (mut null_covered, mut total) = (false, false);
        for arm in arms {
            self.scope.push();
            let mut patterns = Vec::new();
            for p in &arm.patterns {
                let bound_ty = if null_covered { sty.unwrap_optional() } else { sty.clone() };
                patterns.push(self.pattern(&p.node, p.span, &sty, bound_ty));
                match &p.node {
                    PatternKind::Wildcard | PatternKind::Bind(_) => total = true,
                    PatternKind::Null => null_covered = true,
                    PatternKind::Str(s) => covered.push(s.clone()),
                    PatternKind::Bool(b) => covered.push(b.to_string()),
                    _ => {}
                }
            }
            let body = self.expr(&arm.body, expected);
            self.scope.pop();
            ty = match &result {
                None => body.ty.clone(),
                Some(prev) => self.join_branches(&texpr(TExprKind::Error, ty.clone(), prev.span), &body, expected),
            };
            result = Some(body.clone());
            out.push(TArm { patterns, body });
        }
        if !total {
            self.check_exhaustive(&sty, &covered, null_covered, span);
        }
        texpr(TExprKind::Match { scrutinee: Box::new(ts), arms: out }, ty, span)
    }

    fn check_exhaustive(&mut self, sty: &Type, covered: &[String], null_covered: bool, span: Span) {
        let mut missing: Vec<String> = match sty.unwrap_optional() {
            Type::Union(members) => members.iter().filter(|m| !covered.contains(m)).map(|m| format!("{m:?}")).collect(),
            Type::Bool => {
                ["true", "false"].iter().filter(|b| !covered.iter().any(|c| c == *b)).map(|b| b.to_string()).collect()
            }
            Type::Error | Type::Never => return,
            _ => vec!["_".into()],
        };
        if sty.is_optional() && !null_covered {
            missing.push("null".into());
        }
        if missing.is_empty() {
            return;
        }
        let d = Diagnostic::new(
            Code::NonExhaustiveMatch,
            &self.file,
            span,
            format!("this match does not cover {}", missing.join(", ")),
            "not every case is covered",
        )
        .with_help("add arms for the missing cases, or `_ => ...` for the rest (a record that matches no arm would otherwise be held)");
        self.report(d);
    }

    fn pattern(&mut self, p: &PatternKind, span: Span, sty: &Type, bound_ty: Type) -> TPattern {
        let inner = sty.unwrap_optional();
        let fits = match p {
            PatternKind::Wildcard | PatternKind::Bind(_) => true,
            PatternKind::Null => sty.is_optional() || matches!(sty, Type::Json | Type::Error),
            PatternKind::Bool(_) => matches!(inner, Type::Bool | Type::Json | Type::Error),
            PatternKind::Str(s) => match &inner {
                Type::Union(m) => m.contains(s),
                t => matches!(t, Type::String | Type::Json | Type::Error),
            },
            PatternKind::Int(_) => matches!(inner, Type::Int | Type::Decimal(_) | Type::Json | Type::Error),
            PatternKind::Decimal(_) => matches!(inner, Type::Decimal(_) | Type::Json | Type::Error),
        };
        if !fits {
            let d = Diagnostic::new(
                Code::UnknownPattern,
                &self.file,
                span,
                format!("this pattern can never match a value of type {sty}"),
                "never matches",
            )
            .with_help_opt(match (&inner, p) {
                (Type::Union(m), PatternKind::Str(s)) => did_you_mean(s, m.iter().map(String::as_str)),
                _ => None,
            });
            self.report(d);
        }
        match p {
            PatternKind::Wildcard => TPattern::Wildcard,
            PatternKind::Null => TPattern::Null,
            PatternKind::Bool(b) => TPattern::Bool(*b),
            PatternKind::Str(s) => TPattern::Str(s.clone()),
            PatternKind::Int(n) => TPattern::Int(*n),
            PatternKind::Decimal(d) => TPattern::Decimal(*d),
            PatternKind::Bind(name) => TPattern::Bind(self.scope.bind(name, bound_ty, span, false)),
        }
    }

    fn list(&mut self, items: &[Expr], span: Span, expected: Option<&Type>) -> TExpr {
        let elem_expected = match expected.map(Type::unwrap_optional) {
            Some(Type::List(t)) => Some(*t),
            _ => None,
        };
        if let Some(et) = elem_expected.filter(|t| !t.contains_var()) {
            let out = items.iter().map(|item| self.expr_against(item, &et, "a list element")).collect();
            return texpr(TExprKind::List(out), et.list(), span);
        }
        let mut out = Vec::new();
        let mut elem = Type::Never;
        for item in items {
            let t = self.expr(item, None);
            elem = match join(&elem, &t.ty) {
                Some(j) => j,
                None => {
                    self.error(
                        Code::TypeMismatch,
                        item.span,
                        format!("list elements must have one type: this is {}, earlier ones are {elem}", t.ty),
                        format!("this is {}", t.ty),
                    );
                    Type::Error
                }
            };
            out.push(t);
        }
        texpr(TExprKind::List(out), elem.list(), span)
    }

    /// A record literal; against a record type, every required field must be given
    /// and every given field must exist there.
    pub(super) fn record(&mut self, entries: &[RecordEntry], span: Span, expected: Option<&Type>) -> TExpr {
        let target = match expected.map(Type::unwrap_optional) {
            Some(Type::Record(r)) => Some(r),
            _ => None,
        };
        let mut fields = Fields::default();
        let mut out = Vec::new();
        // A misspelt field is reported once, as unknown; its intended name is not also "missing".
        let mut meant: Vec<String> = Vec::new();
        for entry in entries {
            match entry {
                RecordEntry::Spread(e) => {
                    let t = self.expr(e, None);
                    match &t.ty {
                        Type::Record(r) => fields.extend(r.fields.iter().map(|(k, v)| (k.clone(), v.clone()))),
                        Type::Error | Type::Never => {}
                        other => self.error(
                            Code::TypeMismatch,
                            e.span,
                            format!("only a record can be spread into a record, found {other}"),
                            "not a record",
                        ),
                    }
                    out.push(TRecordEntry::Spread(t));
                }
                RecordEntry::Field(name, e) => {
                    let t = match target.as_ref().map(|r| r.fields.get(&name.node)) {
                        Some(Some(fty)) => self.expr_against(e, fty, &format!("field `{}`", name.node)),
                        Some(None) => {
                            let r = target.as_ref().map(|r| (*r).clone()).unwrap_or_else(|| unreachable!());
                            if let Some(close) = closest(&name.node, r.fields.keys()) {
                                meant.push(close);
                            }
                            self.extra_field(&r, name);
                            self.expr(e, None)
                        }
                        None => self.expr(e, None),
                    };
                    if fields.insert(name.node.clone(), t.ty.clone()).is_some()
                        && out.iter().any(|o| matches!(o, TRecordEntry::Field(n, _) if *n == name.node))
                    {
                        self.error(
                            Code::DuplicateDefinition,
                            name.span,
                            format!("field `{}` is given twice", name.node),
                            "given again here",
                        );
                    }
                    out.push(TRecordEntry::Field(name.node.clone(), t));
                }
            }
        }
        if let Some(r) = &target {
            let missing: Vec<String> = r
                .fields
                .iter()
                .filter(|(k, t)| !t.is_optional() && !fields.contains_key(*k) && !meant.contains(k))
                .map(|(k, _)| k.clone())
                .collect();
            if !missing.is_empty() {
                let ty = Type::Record(r.clone());
                let d = Diagnostic::new(
                    Code::MissingField,
                    &self.file,
                    span,
                    format!("{ty} needs {} here", quote_list(&missing)),
                    format!("missing {}", quote_list(&missing)),
                )
                .with_help(format!(
                    "give every required field of {ty}: {}",
                    missing.iter().map(|m| format!("{m}: {}", r.fields[m])).collect::<Vec<_>>().join(", ")
                ));
                self.report(d);
            }
            return texpr(TExprKind::Record(out), Type::Record(r.clone()), span);
        }
        let ty = Type::Record(Arc::new(RecordType { name: None, fields }));
        texpr(TExprKind::Record(out), ty, span)
    }

    fn extra_field(&mut self, r: &RecordType, name: &crate::syntax::ast::Ident) {
        let ty = Type::Record(Arc::new(r.clone()));
        let help = did_you_mean(&name.node, r.fields.keys().map(String::as_str))
            .unwrap_or_else(|| format!("{ty} has: {}", r.fields.keys().cloned().collect::<Vec<_>>().join(", ")));
        let d = Diagnostic::new(
            Code::ExtraField,
            &self.file,
            name.span,
            format!("{ty} has no field `{}`", name.node),
            "not in the target type",
        )
        .with_help(help);
        self.report(d);
    }
}

/// The candidate "did you mean" would suggest, by name.
fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a String>) -> Option<String> {
    let list: Vec<&String> = candidates.collect();
    let help = did_you_mean(name, list.iter().map(|s| s.as_str()))?;
    list.into_iter().find(|c| help.contains(&format!("`{c}`"))).cloned()
}

/// Whether a checked expression should take on the expected type (a record literal
/// checked against `erp.Address` is an `erp.Address`).
fn needs_widening(found: &Type, expected: &Type) -> bool {
    matches!(
        (found, expected.unwrap_optional()),
        (Type::Record(_), Type::Record(_)) | (Type::List(_), Type::List(_)) | (Type::Int, Type::Decimal(_))
    )
}

pub(super) fn literal_type(lit: &Literal) -> Type {
    match lit {
        Literal::Null => Type::Null,
        Literal::Bool(_) => Type::Bool,
        Literal::Int(_) => Type::Int,
        Literal::Decimal(d) => Type::Decimal(Some(d.scale())),
        Literal::Float(_) => Type::Float,
        Literal::Duration(_) => Type::Duration,
        Literal::Rate(..) => Type::Rate,
        Literal::StatusClass(_) => Type::StatusClass,
    }
}
