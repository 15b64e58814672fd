//! Calls: user functions, builtins (with overloads and type variables) and lambdas.

use std::collections::HashMap;

use crate::builtins::{self, Builtin, Constraint, Refine};
use crate::diagnostic::{did_you_mean, Code, Diagnostic};
use crate::source::Span;
use crate::syntax::ast::{Arg, Expr, ExprKind, Ident, Literal};

use super::decls::error_expr;
use super::error::mismatch;
use super::typed::{Callee, TExpr, TExprKind};
use super::Checker;
use crate::types::{assignable, join, Mismatch, Type};

/// An argument after the receiver has been checked: either typed already or still syntax.
enum ArgIn<'a> {
    Typed(TExpr),
    /// An argument as written, with its name when given as `name: value`.
    Syntax(&'a Expr, Option<&'a Ident>),
}

impl ArgIn<'_> {
    fn span(&self) -> Span {
        match self {
            ArgIn::Typed(t) => t.span,
            ArgIn::Syntax(e, _) => e.span,
        }
    }

    fn name(&self) -> Option<&Ident> {
        match self {
            ArgIn::Syntax(_, n) => *n,
            ArgIn::Typed(_) => None,
        }
    }

    fn lambda(&self) -> Option<(&[Ident], &Expr)> {
        match self {
            ArgIn::Syntax(Expr { node: ExprKind::Lambda { params, body }, .. }, _) => Some((params, body)),
            _ => None,
        }
    }
}

/// Bindings of type variables while one call is checked.
#[derive(Clone, Default)]
struct Subst(HashMap<u8, Type>);

impl Subst {
    /// Matches a signature type against an actual one, binding variables.
    fn unify(&mut self, pattern: &Type, actual: &Type) -> bool {
        match (pattern, actual) {
            (_, Type::Error | Type::Never) => true,
            (Type::Var(v), _) => self.bind(*v, actual),
            (Type::List(p), Type::List(a)) => self.unify(p, a),
            (Type::Optional(p), Type::Optional(a)) => self.unify(p, a),
            (Type::Optional(_), Type::Null) => true,
            (Type::Optional(p), a) => self.unify(p, a),
            (Type::Fn(..), _) => false,
            (p, a) if !p.contains_var() => assignable(a, p).is_ok(),
            _ => false,
        }
    }

    fn bind(&mut self, v: u8, actual: &Type) -> bool {
        if actual.contains_secret() || !Constraint::of_var(v).admits(actual) {
            return false;
        }
        match self.0.get(&v) {
            None => {
                self.0.insert(v, actual.clone());
                true
            }
            Some(bound) if assignable(actual, bound).is_ok() => true,
            Some(bound) => match join(bound, actual) {
                Some(j) if Constraint::of_var(v).admits(&j) => {
                    self.0.insert(v, j);
                    true
                }
                _ => false,
            },
        }
    }

    /// Binds variables still free from what the context expects (for lambdas' results).
    fn prefer(&mut self, pattern: &Type, expected: &Type) {
        match (pattern, expected) {
            (Type::Var(v), e) if !self.0.contains_key(v) && !e.is_error() && Constraint::of_var(*v).admits(e) => {
                self.0.insert(*v, e.clone());
            }
            (Type::List(p), Type::List(e)) | (Type::Optional(p), Type::Optional(e)) => self.prefer(p, e),
            _ => {}
        }
    }

    /// The type with variables replaced; a variable never bound becomes `Error`.
    fn apply(&self, t: &Type) -> Type {
        match t {
            Type::Var(v) => self.0.get(v).cloned().unwrap_or(Type::Error),
            Type::List(i) => self.apply(i).list(),
            Type::Optional(i) => self.apply(i).optional(),
            Type::Fn(ps, r) => Type::Fn(ps.iter().map(|p| self.apply(p)).collect(), Box::new(self.apply(r))),
            Type::Record(r) if t.contains_var() => {
                let fields = r.fields.iter().map(|(k, v)| (k.clone(), self.apply(v))).collect();
                Type::Record(std::sync::Arc::new(crate::types::RecordType { name: None, fields }))
            }
            t => t.clone(),
        }
    }
}

impl Checker<'_> {
    pub(super) fn call(&mut self, func: &Expr, args: &[Arg], span: Span, expected: Option<&Type>) -> TExpr {
        let ExprKind::Name(name) = &func.node else {
            self.error(Code::NotCallable, func.span, "only functions can be called", "not a function");
            return error_expr(span);
        };
        let ins = self.arg_inputs(args);
        self.call_named(name, func.span, ins, span, expected, false)
    }

    pub(super) fn method(
        &mut self,
        receiver: &Expr,
        name: &Ident,
        args: &[Arg],
        optional: bool,
        span: Span,
        expected: Option<&Type>,
    ) -> TExpr {
        if let ExprKind::Name(alias) = &receiver.node {
            if self.is_module_alias(alias) {
                return self.module_call(alias, receiver.span, name, args, span);
            }
        }
        let mut recv = self.expr(receiver, None);
        let mut optional_call = false;
        if recv.ty.is_optional() {
            if optional {
                recv.ty = recv.ty.unwrap_optional();
                optional_call = true;
            } else {
                let what = self.file.slice(receiver.span).to_string();
                let d = Diagnostic::new(
                    Code::UnhandledOptional,
                    &self.file,
                    receiver.span,
                    format!("`{what}` may be absent, so `.{}()` cannot be called on it directly", name.node),
                    format!("this is {}", recv.ty),
                )
                .with_help(format!(
                    "use `{what}?.{}(...)` (absent if `{what}` is), or handle the absence first with `??`",
                    name.node
                ));
                self.report(d);
                recv.ty = recv.ty.unwrap_optional();
            }
        }
        let mut ins = vec![ArgIn::Typed(recv)];
        ins.extend(self.arg_inputs(args));
        let mut t = self.call_named(&name.node, name.span, ins, span, expected, optional_call);
        if optional_call {
            t.ty = t.ty.optional();
        }
        t
    }

    fn arg_inputs<'a>(&mut self, args: &'a [Arg]) -> Vec<ArgIn<'a>> {
        let mut out = Vec::new();
        let mut named_seen = false;
        for a in args {
            match a {
                Arg::Positional(e) => {
                    if named_seen {
                        self.error(
                            Code::UnknownArgument,
                            e.span,
                            "a positional argument cannot follow a named one",
                            "positional after named",
                        );
                    }
                    out.push(ArgIn::Syntax(e, None));
                }
                Arg::Named(n, e) => {
                    named_seen = true;
                    out.push(ArgIn::Syntax(e, Some(n)));
                }
            }
        }
        out
    }

    fn module_call(&mut self, alias: &str, alias_span: Span, name: &Ident, args: &[Arg], span: Span) -> TExpr {
        let Some(module) = self.use_import(alias, alias_span) else {
            return error_expr(span);
        };
        let sig = self.envs.get(&module).and_then(|env| env.fns.get(&name.node)).map(|d| d.value.clone());
        let Some(sig) = sig else {
            let help =
                self.envs.get(&module).and_then(|env| did_you_mean(&name.node, env.fns.keys().map(String::as_str)));
            let d = Diagnostic::new(
                Code::UnknownFunction,
                &self.file,
                name.span,
                format!("module `{alias}` has no function `{}`", name.node),
                "not declared there",
            )
            .with_help_opt(help);
            self.report(d);
            return error_expr(span);
        };
        let ins = self.arg_inputs(args);
        self.check_user_call(&name.node, sig.index, &sig.params, &sig.ret, ins, name.span, span)
    }

    fn call_named(
        &mut self,
        name: &str,
        name_span: Span,
        ins: Vec<ArgIn<'_>>,
        span: Span,
        expected: Option<&Type>,
        optional: bool,
    ) -> TExpr {
        if let Some(d) = self.env_mut().fns.get_mut(name) {
            d.used = true;
            let sig = d.value.clone();
            return self.check_user_call(name, sig.index, &sig.params, &sig.ret, ins, name_span, span);
        }
        let Some(overloads) = builtins::lookup(name) else {
            let mut candidates: Vec<String> = builtins::names().map(str::to_string).collect();
            candidates.extend(self.env().fns.keys().cloned());
            let help = did_you_mean(name, candidates.iter().map(String::as_str));
            let d = Diagnostic::new(
                Code::UnknownFunction,
                &self.file,
                name_span,
                format!("unknown function `{name}`"),
                "not a known function",
            )
            .with_help_opt(help.or_else(|| Some("see docs/builtins.md for the builtin functions".into())));
            self.report(d);
            for i in ins {
                if let ArgIn::Syntax(e, _) = i {
                    if !matches!(e.node, ExprKind::Lambda { .. }) {
                        self.expr(e, None);
                    }
                }
            }
            return error_expr(span);
        };
        self.check_builtin(overloads, ins, name_span, span, expected, optional)
    }

    #[allow(clippy::too_many_arguments)]
    fn check_user_call(
        &mut self,
        name: &str,
        index: usize,
        params: &[(String, Type)],
        ret: &Type,
        ins: Vec<ArgIn<'_>>,
        name_span: Span,
        span: Span,
    ) -> TExpr {
        let names: Vec<&str> = params.iter().map(|p| p.0.as_str()).collect();
        let Some(ins) = self.order_by_name(name, &names, ins) else {
            return error_expr(span);
        };
        if ins.len() != params.len() {
            self.arity_error(
                name,
                name_span,
                params.len(),
                params.len(),
                ins.len(),
                &params.iter().map(|p| p.0.clone()).collect::<Vec<_>>(),
            );
        }
        let mut targs = Vec::new();
        for (i, a) in ins.into_iter().enumerate() {
            let Some((pname, pty)) = params.get(i) else { break };
            let what = format!("argument `{pname}` of `{name}`");
            let t = match a {
                ArgIn::Syntax(e, _) => self.expr_against(e, pty, &what),
                ArgIn::Typed(t) => {
                    if let Err(why) = assignable(&t.ty, pty) {
                        let d = mismatch(&self.file, t.span, &t.ty, pty, &why, &what);
                        self.report(d);
                    }
                    t
                }
            };
            targs.push(t);
        }
        TExpr {
            kind: TExprKind::Call { callee: Callee::Fn(index), args: targs, optional: false },
            ty: ret.clone(),
            span,
        }
    }

    /// Puts named arguments in their parameter's place. Reports an unknown or repeated
    /// name, and a parameter left out before one that is given.
    fn order_by_name<'a>(&mut self, fname: &str, params: &[&str], ins: Vec<ArgIn<'a>>) -> Option<Vec<ArgIn<'a>>> {
        if ins.iter().all(|a| a.name().is_none()) {
            return Some(ins);
        }
        let mut slots: Vec<Option<ArgIn<'a>>> = (0..params.len().max(ins.len())).map(|_| None).collect();
        let mut next = 0;
        let mut ok = true;
        for a in ins {
            let index = match a.name() {
                None => {
                    next += 1;
                    next - 1
                }
                Some(n) => match params.iter().position(|p| *p == n.node) {
                    Some(i) => i,
                    None => {
                        let help = did_you_mean(&n.node, params.iter().copied())
                            .unwrap_or_else(|| format!("`{fname}` takes: {}", params.join(", ")));
                        let d = Diagnostic::new(
                            Code::UnknownArgument,
                            &self.file,
                            n.span,
                            format!("`{fname}` has no argument `{}`", n.node),
                            "unknown argument",
                        )
                        .with_help(help);
                        self.report(d);
                        ok = false;
                        continue;
                    }
                },
            };
            match slots.get_mut(index) {
                Some(slot @ None) => *slot = Some(a),
                _ => {
                    let what = params.get(index).copied().unwrap_or("?");
                    self.error(
                        Code::UnknownArgument,
                        a.span(),
                        format!("argument `{what}` of `{fname}` is given twice"),
                        "given again",
                    );
                    ok = false;
                }
            }
        }
        let given = slots.iter().rposition(Option::is_some).map_or(0, |i| i + 1);
        if let Some(gap) = slots[..given].iter().position(Option::is_none) {
            let what = params.get(gap).copied().unwrap_or("?");
            let span = slots.iter().flatten().next().map_or(Span::default(), ArgIn::span);
            self.error(
                Code::ArgumentCount,
                span,
                format!("`{fname}` needs its argument `{what}` here"),
                format!("`{what}` is missing"),
            );
            return None;
        }
        ok.then(|| slots.into_iter().flatten().collect())
    }

    fn arity_error(&mut self, name: &str, span: Span, min: usize, max: usize, given: usize, params: &[String]) {
        let wanted = if min == max { format!("{min}") } else { format!("{min} to {max}") };
        let d = Diagnostic::new(
            Code::ArgumentCount,
            &self.file,
            span,
            format!(
                "`{name}` takes {wanted} argument{}, but {given} {} given",
                if max == 1 { "" } else { "s" },
                if given == 1 { "was" } else { "were" }
            ),
            "wrong number of arguments",
        )
        .with_help(format!("`{name}({})`", params.join(", ")));
        self.report(d);
    }

    /// Picks the first overload whose arity fits and whose plain arguments unify, then
    /// checks it for real (lambdas included), reporting what does not fit.
    fn check_builtin(
        &mut self,
        overloads: &'static [Builtin],
        ins: Vec<ArgIn<'_>>,
        name_span: Span,
        span: Span,
        expected: Option<&Type>,
        optional: bool,
    ) -> TExpr {
        let first = &overloads[0];
        let with_names = overloads
            .iter()
            .find(|b| ins.iter().filter_map(ArgIn::name).all(|n| b.params.iter().any(|p| p.name == n.node)));
        let names: Vec<&str> = with_names.unwrap_or(first).params.iter().map(|p| p.name.as_str()).collect();
        let Some(ins) = self.order_by_name(first.name, &names, ins) else {
            return error_expr(span);
        };
        let n = ins.len();
        let fits = |b: &Builtin| n >= b.params.iter().filter(|p| !p.optional).count() && n <= b.params.len();
        if !overloads.iter().any(fits) {
            if let Some(missing) = first.params.get(n).filter(|p| p.ty == Type::RoundingMode && n < first.params.len())
            {
                let d = Diagnostic::new(
                    Code::RoundingModeMissing,
                    &self.file,
                    span,
                    format!("`{}` needs a rounding mode as its argument `{}`", first.name, missing.name),
                    "no rounding mode",
                )
                .with_help("name the mode: half_even (banker's), half_up, half_down, down, up, floor or ceiling");
                self.report(d);
            } else {
                let min = first.params.iter().filter(|p| !p.optional).count();
                let names: Vec<String> = first.params.iter().map(|p| p.name.clone()).collect();
                self.arity_error(first.name, name_span, min, first.params.len(), n, &names);
            }
            return error_expr(span);
        }
        // Type the plain arguments once; lambdas wait for their parameter types.
        let typed: Vec<Option<TExpr>> = ins
            .iter()
            .map(|a| match a {
                ArgIn::Typed(t) => Some(t.clone()),
                ArgIn::Syntax(e, _) if a.lambda().is_none() => Some(self.expr(e, None)),
                ArgIn::Syntax(..) => None,
            })
            .collect();
        if let Some(t) = typed.iter().flatten().find(|t| t.ty.contains_secret()) {
            let what = format!("an argument of `{}`", first.name);
            let d = mismatch(&self.file, t.span, &t.ty, &Type::String, &Mismatch::Secret, &what);
            self.report(d);
            return error_expr(span);
        }
        // A lambda picks the form that passes it as many values as it takes:
        // `map(x => ...)` or `map((x, i) => ...)`.
        let lambda_params: Vec<Option<usize>> = ins.iter().map(|a| a.lambda().map(|(ps, _)| ps.len())).collect();
        let chosen = overloads
            .iter()
            .filter(|b| fits(b))
            .find(|b| {
                let mut s = Subst::default();
                b.params.iter().zip(typed.iter().zip(&lambda_params)).all(|(p, (t, n))| match t {
                    Some(t) => s.unify(&p.ty, &t.ty),
                    None => matches!(&p.ty, Type::Fn(ps, _) if n.is_none_or(|n| n == ps.len())),
                })
            })
            .or_else(|| overloads.iter().find(|b| fits(b)))
            .unwrap_or(first);
        if overloads.len() > 1 && !self.overload_fits(chosen, &typed) {
            let sigs: Vec<&str> = overloads.iter().map(|b| b.signature).collect();
            let found: Vec<String> =
                typed.iter().map(|t| t.as_ref().map_or("a lambda".to_string(), |t| t.ty.to_string())).collect();
            let d = Diagnostic::new(
                Code::TypeMismatch,
                &self.file,
                name_span,
                format!("no form of `{}` takes ({})", first.name, found.join(", ")),
                "no matching form",
            )
            .with_help(format!("the forms are: {}", sigs.join("; ")));
            self.report(d);
            return error_expr(span);
        }
        self.apply_builtin(chosen, ins, typed, span, expected, optional)
    }

    fn overload_fits(&self, b: &Builtin, typed: &[Option<TExpr>]) -> bool {
        let mut s = Subst::default();
        b.params.iter().zip(typed).all(|(p, t)| match t {
            Some(t) => s.unify(&p.ty, &t.ty),
            None => matches!(p.ty, Type::Fn(..)),
        })
    }

    fn apply_builtin(
        &mut self,
        b: &'static Builtin,
        ins: Vec<ArgIn<'_>>,
        typed: Vec<Option<TExpr>>,
        span: Span,
        expected: Option<&Type>,
        optional: bool,
    ) -> TExpr {
        let mut subst = Subst::default();
        let mut args: Vec<Option<TExpr>> = vec![None; ins.len()];
        for (i, (p, t)) in b.params.iter().zip(typed).enumerate() {
            let Some(t) = t else { continue };
            if !subst.unify(&p.ty, &t.ty) {
                self.report_arg_mismatch(b, &p.name, &subst.apply(&p.ty), &t);
            }
            args[i] = Some(t);
        }
        if let Some(exp) = expected {
            subst.prefer(&b.ret, exp);
        }
        for (i, (p, a)) in b.params.iter().zip(&ins).enumerate() {
            if args[i].is_some() {
                continue;
            }
            let t = match (&p.ty, a.lambda()) {
                (Type::Fn(ps, ret), Some((params, body))) => self.lambda(
                    b,
                    &subst.apply(&Type::Fn(ps.clone(), ret.clone())),
                    params,
                    body,
                    a.span(),
                    &mut subst,
                    ret,
                ),
                _ => {
                    let d = Diagnostic::new(
                        Code::NotCallable,
                        &self.file,
                        a.span(),
                        format!("argument `{}` of `{}` is {}, not a lambda", p.name, b.name, subst.apply(&p.ty)),
                        "unexpected lambda",
                    );
                    self.report(d);
                    error_expr(a.span())
                }
            };
            args[i] = Some(t);
        }
        let mut ty = subst.apply(&b.ret);
        if let Refine::ScaleFromArg(i) | Refine::ListScaleFromArg(i) = b.refine {
            if let Some(Some(TExpr { kind: TExprKind::Lit(Literal::Int(n)), .. })) = args.get(i) {
                if (0..=28).contains(n) {
                    let scaled = Type::Decimal(Some(*n as u32));
                    ty = if matches!(b.refine, Refine::ListScaleFromArg(_)) { scaled.list() } else { scaled };
                }
            }
        }
        let args: Vec<TExpr> = args.into_iter().map(|a| a.unwrap_or_else(|| error_expr(span))).collect();
        self.check_constant_args(b, &args);
        TExpr { kind: TExprKind::Call { callee: Callee::Builtin(b), args, optional }, ty, span }
    }

    fn report_arg_mismatch(&mut self, b: &Builtin, pname: &str, pty: &Type, t: &TExpr) {
        let what = format!("argument `{pname}` of `{}`", b.name);
        if t.ty.is_optional() && !pty.is_optional() {
            let d = mismatch(&self.file, t.span, &t.ty, &t.ty.unwrap_optional(), &Mismatch::Optional, &what);
            self.report(d);
            return;
        }
        if !pty.contains_var() && !unknown_in(pty) {
            if let Err(why) = assignable(&t.ty, pty) {
                let d = mismatch(&self.file, t.span, &t.ty, pty, &why, &what);
                self.report(d);
                return;
            }
        }
        let need = match pty {
            Type::Var(v) => Constraint::of_var(*v).describe().to_string(),
            Type::List(inner) if matches!(**inner, Type::Var(_) | Type::Error) => "a list".to_string(),
            Type::List(inner) if matches!(&**inner, Type::List(i) if matches!(**i, Type::Var(_) | Type::Error)) => {
                "a list of lists".to_string()
            }
            Type::Error => "a value of another type".to_string(),
            other => other.to_string(),
        };
        let mut d = Diagnostic::new(
            Code::TypeMismatch,
            &self.file,
            t.span,
            format!("{what} needs {need}, found {}", t.ty),
            format!("this is {}", t.ty),
        );
        if matches!(t.ty, Type::Decimal(_) | Type::Float) && need.contains("number") {
            d = Diagnostic::new(
                Code::DecimalFloatMix,
                &self.file,
                t.span,
                format!("{what}: Decimal and Float do not mix"),
                format!("this is {}", t.ty),
            )
            .with_help("convert one side explicitly with `to_decimal(x)` or `to_float(x)`");
        }
        self.report(d);
    }

    #[allow(clippy::too_many_arguments)]
    fn lambda(
        &mut self,
        b: &Builtin,
        fn_ty: &Type,
        params: &[Ident],
        body: &Expr,
        span: Span,
        subst: &mut Subst,
        ret_pattern: &Type,
    ) -> TExpr {
        let Type::Fn(ptys, ret) = fn_ty else { unreachable!("lambda checked against a function type") };
        if params.len() != ptys.len() {
            // Every form's lambda, for `map`, which passes one value or two.
            let forms: Vec<&Builtin> = builtins::lookup(b.name)
                .unwrap_or_default()
                .iter()
                .filter(|o| o.params.iter().any(|p| matches!(p.ty, Type::Fn(..))))
                .collect();
            let mut counts: Vec<usize> = forms
                .iter()
                .flat_map(|o| o.params.iter())
                .filter_map(|p| match &p.ty {
                    Type::Fn(ps, _) => Some(ps.len()),
                    _ => None,
                })
                .collect();
            counts.sort_unstable();
            counts.dedup();
            let counts: Vec<String> = counts.iter().map(usize::to_string).collect();
            let passes = counts.join(" or ");
            let d = Diagnostic::new(
                Code::NotCallable,
                &self.file,
                span,
                format!(
                    "`{}` passes {passes} value{} to this lambda, but it takes {}",
                    b.name,
                    if passes == "1" { "" } else { "s" },
                    params.len()
                ),
                "wrong number of parameters",
            )
            .with_help(format!(
                "write {}",
                forms.iter().map(|o| format!("`{}`", o.signature)).collect::<Vec<_>>().join(" or ")
            ));
            self.report(d);
        }
        self.scope.push();
        let mut ids = Vec::new();
        for (i, p) in params.iter().enumerate() {
            let ty = ptys.get(i).cloned().unwrap_or(Type::Error);
            ids.push(self.scope.bind(&p.node, ty, p.span, false));
        }
        let tb = if ret.contains_var() || unknown_in(ret) {
            self.expr(body, None)
        } else {
            self.expr_against(body, ret, &format!("the result of the lambda passed to `{}`", b.name))
        };
        self.scope.pop();
        if !subst.unify(ret_pattern, &tb.ty) {
            let want = subst.apply(ret_pattern);
            let need = match ret_pattern {
                Type::Var(v) if want.is_error() => Constraint::of_var(*v).describe().to_string(),
                _ => want.to_string(),
            };
            let d = Diagnostic::new(
                Code::TypeMismatch,
                &self.file,
                body.span,
                format!("the lambda passed to `{}` must return {need}, found {}", b.name, tb.ty),
                format!("this is {}", tb.ty),
            );
            self.report(d);
        }
        let ty = Type::Fn(ptys.clone(), Box::new(tb.ty.clone()));
        TExpr { kind: TExprKind::Lambda { params: ids, body: Box::new(tb) }, ty, span }
    }
}

/// Whether a lambda's result type still has a part no argument has told (a variable
/// not yet bound, applied as `Error`): `U` or `[U]` in `flat_map`. Such a body is
/// checked on its own, and its type binds the variable.
fn unknown_in(t: &Type) -> bool {
    match t {
        Type::Error => true,
        Type::List(t) | Type::Optional(t) => unknown_in(t),
        _ => false,
    }
}
