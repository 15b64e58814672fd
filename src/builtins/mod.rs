//! Builtin functions: one registry, one file per family.
//!
//! Each builtin is declared once with its checker signature, written as text
//! (`"sum(xs: [T], f: (T) -> N) -> N"`) so the registry reads like the docs. Type
//! variables: `T`, `U` any type; `N` a number (Int, Decimal, Float); `C` comparable;
//! `K` a key (a scalar). Several entries with one name are overloads, tried in order.

mod collections;
mod dates;
mod misc;
mod numbers;
mod signature;
mod strings;
mod zones;

use std::collections::HashMap;
use std::sync::LazyLock;

use crate::types::Type;
use crate::value::Value;

pub use signature::parse_signature;

/// What a type variable may stand for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Constraint {
    Any,
    Numeric,
    Comparable,
    Key,
}

impl Constraint {
    pub fn of_var(letter: u8) -> Constraint {
        match letter as char {
            'N' => Constraint::Numeric,
            'C' => Constraint::Comparable,
            'K' => Constraint::Key,
            _ => Constraint::Any,
        }
    }

    pub fn admits(self, t: &Type) -> bool {
        match self {
            Constraint::Any => true,
            Constraint::Numeric => t.is_numeric() || t.is_error() || *t == Type::Never,
            Constraint::Comparable => {
                t.is_numeric()
                    || matches!(
                        t,
                        Type::String
                            | Type::Date
                            | Type::DateTime
                            | Type::Duration
                            | Type::Union(_)
                            | Type::Error
                            | Type::Never
                    )
            }
            Constraint::Key => t.is_scalar() || t.is_error() || *t == Type::Never,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Constraint::Any => "any value",
            Constraint::Numeric => "a number (Int, Decimal or Float)",
            Constraint::Comparable => "a number, string, date, time or duration",
            Constraint::Key => "a string, number, boolean, date or time",
        }
    }
}

#[derive(Clone, Debug)]
pub struct ParamSig {
    pub name: String,
    pub ty: Type,
    /// May be left out (trailing parameters only).
    pub optional: bool,
}

/// How the result type depends on literal arguments, beyond the signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refine {
    None,
    /// The result is `Decimal(n)` where `n` is the literal Int argument at this index.
    ScaleFromArg(usize),
    /// The result is `[Decimal(n)]`, `n` as for `ScaleFromArg`.
    ListScaleFromArg(usize),
}

/// Why evaluating an expression did not give a value. Boxed: every expression returns a
/// `Result<Value, EvalError>`, and with a one-pointer error that result is no bigger than
/// a `Value`, so passing one along is a plain copy (a wide error made every result 48
/// bytes, moved piecewise, on the path of every expression).
#[derive(Clone, Debug, PartialEq)]
pub struct EvalError(Box<Failure>);

/// Both end in a hold: `Hold` with the flow's own reason code, `Failed` with
/// `expression_failed` and the message.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    Hold { code: String, message: Option<String> },
    Failed(String),
}

impl EvalError {
    pub fn failed(message: impl Into<String>) -> EvalError {
        EvalError(Box::new(Failure::Failed(message.into())))
    }

    pub fn hold(code: impl Into<String>, message: Option<String>) -> EvalError {
        EvalError(Box::new(Failure::Hold { code: code.into(), message }))
    }

    pub fn failure(&self) -> &Failure {
        &self.0
    }

    pub fn into_failure(self) -> Failure {
        *self.0
    }
}

/// A check of the arguments of a call that are known before the flow runs (a literal
/// pattern, path or format; constant durations), made by the same code the call runs,
/// so that `check` reports what would otherwise fail for every record. Each slot is the
/// argument's value, or `None` when it is known only at run time; arguments left out are
/// not in the slice. The error names the argument at fault by its index.
pub type ConstCheck = fn(&[Option<Value>]) -> Result<(), (usize, EvalError)>;

/// A constant string argument, if argument `i` is one.
pub(crate) fn const_str(args: &[Option<Value>], i: usize) -> Option<&str> {
    match args.get(i) {
        Some(Some(Value::Str(s))) => Some(s),
        _ => None,
    }
}

/// A lambda argument as the runtime hands it to a builtin.
pub type Lambda<'a> = &'a dyn Fn(&[Value]) -> Result<Value, EvalError>;

/// One argument at run time: a value, or a lambda for the `(T) -> U` parameters.
pub enum Arg<'a> {
    Value(Value),
    Lambda(Lambda<'a>),
}

impl Arg<'_> {
    pub fn value(&self) -> Result<&Value, EvalError> {
        match self {
            Arg::Value(v) => Ok(v),
            Arg::Lambda(_) => Err(EvalError::failed("a lambda was passed where a value is expected")),
        }
    }

    pub fn lambda(&self) -> Result<Lambda<'_>, EvalError> {
        match self {
            Arg::Lambda(f) => Ok(*f),
            Arg::Value(_) => Err(EvalError::failed("a value was passed where a lambda is expected")),
        }
    }
}

/// What a builtin may read from the run: the pinned clock and the environment.
pub trait EvalContext {
    fn now(&self) -> chrono::DateTime<chrono::FixedOffset>;
    fn env(&self, name: &str) -> Option<String>;
}

/// A builtin's implementation. Missing optional arguments are not passed, so
/// `args.len()` may be less than the signature's parameter count.
pub type Impl = fn(&[Arg<'_>], &dyn EvalContext) -> Result<Value, EvalError>;

/// One builtin overload: its checker signature and its documentation.
#[derive(Clone, Debug)]
pub struct Builtin {
    pub name: &'static str,
    pub signature: &'static str,
    pub params: Vec<ParamSig>,
    pub ret: Type,
    pub refine: Refine,
    pub doc: &'static str,
    /// `(call, result)` pairs shown in docs/builtins.md.
    pub examples: &'static [(&'static str, &'static str)],
    pub imp: Impl,
    pub check: Option<ConstCheck>,
    /// Finds, in the arguments known before the flow runs, a time read without a zone
    /// (W0008): the same form as `check`, its error the warning's words.
    pub lint: Option<ConstCheck>,
}

/// The declaration form the family files use.
pub(crate) struct Decl {
    pub signature: &'static str,
    pub refine: Refine,
    pub doc: &'static str,
    pub examples: &'static [(&'static str, &'static str)],
    pub imp: Impl,
    pub check: Option<ConstCheck>,
    pub lint: Option<ConstCheck>,
}

pub(crate) const fn decl(
    signature: &'static str,
    doc: &'static str,
    examples: &'static [(&'static str, &'static str)],
) -> Decl {
    Decl { signature, refine: Refine::None, doc, examples, imp: not_yet, check: None, lint: None }
}

impl Decl {
    /// Attaches the implementation.
    pub(crate) const fn with(mut self, imp: Impl) -> Decl {
        self.imp = imp;
        self
    }

    /// Attaches the check of constant arguments.
    pub(crate) const fn checked(mut self, check: ConstCheck) -> Decl {
        self.check = Some(check);
        self
    }

    /// Attaches the warning about a time read without a zone (W0008).
    pub(crate) const fn warned(mut self, lint: ConstCheck) -> Decl {
        self.lint = Some(lint);
        self
    }
}

/// Stands in until a declaration's implementation is attached with `with`; a test
/// checks that no registered builtin still has it.
fn not_yet(_: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Err(EvalError::failed("this builtin has no implementation"))
}

/// Argument `i`, or `None` when it was left out (a trailing optional parameter) or
/// passed as `null`.
pub(crate) fn opt_arg<'v>(args: &'v [Arg<'_>], i: usize) -> Result<Option<&'v Value>, EvalError> {
    match args.get(i) {
        None => Ok(None),
        Some(a) => a.value().map(|v| (!v.is_null()).then_some(v)),
    }
}

/// Argument `i`, which must have been passed.
pub(crate) fn arg<'v>(args: &'v [Arg<'_>], i: usize) -> Result<&'v Value, EvalError> {
    args.get(i).ok_or_else(|| EvalError::failed(format!("argument {} is missing", i + 1)))?.value()
}

/// The error for an argument of the wrong kind.
pub(crate) fn expected(what: &str, found: &Value) -> EvalError {
    EvalError::failed(format!("expected {what}, found {}", found.kind()))
}

pub(crate) fn str_arg<'v>(args: &'v [Arg<'_>], i: usize) -> Result<&'v str, EvalError> {
    match arg(args, i)? {
        Value::Str(s) => Ok(s),
        other => Err(expected("a string", other)),
    }
}

pub(crate) fn int_arg(args: &[Arg<'_>], i: usize) -> Result<i64, EvalError> {
    match arg(args, i)? {
        Value::Int(n) => Ok(*n),
        other => Err(expected("an integer", other)),
    }
}

pub(crate) fn list_arg<'v>(args: &'v [Arg<'_>], i: usize) -> Result<&'v [Value], EvalError> {
    match arg(args, i)? {
        Value::List(items) => Ok(items),
        other => Err(expected("a list", other)),
    }
}

pub(crate) fn lambda_arg<'v>(args: &'v [Arg<'_>], i: usize) -> Result<Lambda<'v>, EvalError> {
    args.get(i).ok_or_else(|| EvalError::failed(format!("argument {} is missing", i + 1)))?.lambda()
}

/// A family's declarations.
type Family = fn() -> Vec<Decl>;

/// The family a builtin belongs to, for grouping in docs.
pub(crate) const FAMILIES: &[(&str, Family)] = &[
    ("strings", strings::decls),
    ("numbers", numbers::decls),
    ("collections", collections::decls),
    ("dates", dates::decls),
    ("time zones", zones::decls),
    ("data, hashing and environment", misc::decls),
];

static REGISTRY: LazyLock<HashMap<&'static str, Vec<Builtin>>> = LazyLock::new(|| {
    let mut map: HashMap<&'static str, Vec<Builtin>> = HashMap::new();
    for (_, decls) in FAMILIES {
        for d in decls() {
            let b = build(d);
            map.entry(b.name).or_default().push(b);
        }
    }
    map
});

fn build(d: Decl) -> Builtin {
    let (name, params, ret) =
        parse_signature(d.signature).unwrap_or_else(|e| panic!("builtin signature `{}`: {e}", d.signature));
    Builtin {
        name,
        signature: d.signature,
        params,
        ret,
        refine: d.refine,
        doc: d.doc,
        examples: d.examples,
        imp: d.imp,
        check: d.check,
        lint: d.lint,
    }
}

/// The overloads of a builtin, if it exists.
pub fn lookup(name: &str) -> Option<&'static [Builtin]> {
    REGISTRY.get(name).map(Vec::as_slice)
}

/// Every builtin name, for "did you mean" suggestions.
pub fn names() -> impl Iterator<Item = &'static str> {
    REGISTRY.keys().copied()
}

/// Every builtin in family order, for docs.
pub fn all() -> Vec<(&'static str, Vec<Builtin>)> {
    FAMILIES.iter().map(|(fam, decls)| (*fam, decls().into_iter().map(build).collect())).collect()
}

/// Named constants every expression can use.
pub fn constant(name: &str) -> Option<Type> {
    match name {
        "half_even" | "half_up" | "half_down" | "down" | "up" | "floor" | "ceiling" => Some(Type::RoundingMode),
        "timeout" | "connection_error" => Some(Type::FailureClass),
        _ => None,
    }
}

pub const CONSTANT_NAMES: &[&str] =
    &["half_even", "half_up", "half_down", "down", "up", "floor", "ceiling", "timeout", "connection_error"];

/// A fixed clock and environment for the builtins' unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use std::collections::HashMap;

    use chrono::{DateTime, FixedOffset};

    use super::{Arg, EvalContext, EvalError, Impl};
    use crate::value::Value;

    pub(crate) struct TestCtx {
        pub now: DateTime<FixedOffset>,
        pub env: HashMap<String, String>,
    }

    impl EvalContext for TestCtx {
        fn now(&self) -> DateTime<FixedOffset> {
            self.now
        }

        fn env(&self, name: &str) -> Option<String> {
            self.env.get(name).cloned()
        }
    }

    pub(crate) fn ctx() -> TestCtx {
        let now = DateTime::parse_from_rfc3339("2026-11-24T12:00:00Z").expect("a valid time");
        let env = [("ERP_URL", "https://erp.example"), ("ERP_TOKEN", "s3cr3t-t0ken")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        TestCtx { now, env }
    }

    /// Calls `imp` with plain values.
    pub(crate) fn call(imp: Impl, args: &[Value]) -> Result<Value, EvalError> {
        let args: Vec<Arg<'_>> = args.iter().cloned().map(Arg::Value).collect();
        imp(&args, &ctx())
    }

    /// Calls `imp` with a list and a lambda.
    pub(crate) fn call_with(
        imp: Impl,
        xs: Value,
        f: &dyn Fn(&[Value]) -> Result<Value, EvalError>,
    ) -> Result<Value, EvalError> {
        imp(&[Arg::Value(xs), Arg::Lambda(f)], &ctx())
    }

    pub(crate) fn s(text: &str) -> Value {
        Value::str(text)
    }

    pub(crate) fn d(text: &str) -> Value {
        Value::Decimal(text.parse().expect("a valid decimal"))
    }

    pub(crate) fn ints(ns: &[i64]) -> Value {
        Value::list(ns.iter().map(|n| Value::Int(*n)).collect())
    }

    pub(crate) fn strs(xs: &[&str]) -> Value {
        Value::list(xs.iter().map(|x| Value::str(x)).collect())
    }

    /// The value as the docs show it: JSON text, with strings bare at the top level.
    pub(crate) fn show(v: &Value) -> String {
        v.to_string()
    }

    /// The message of a failure.
    pub(crate) fn failure(r: Result<Value, EvalError>) -> String {
        match r.map_err(EvalError::into_failure) {
            Err(super::Failure::Failed(m)) => m,
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_parses() {
        for (_, list) in super::all() {
            assert!(!list.is_empty());
        }
        assert!(super::lookup("round").is_some());
    }

    #[test]
    fn every_builtin_is_implemented() {
        let ctx = testing::ctx();
        for (_, list) in all() {
            for b in list {
                assert!(!std::ptr::fn_addr_eq(b.imp, not_yet as Impl), "`{}` has no implementation", b.signature);
                let placeholder = not_yet(&[], &ctx).err();
                assert!((b.imp)(&[], &ctx).err() != placeholder, "`{}` has no implementation", b.signature);
            }
        }
    }
}

/// docs/builtins.md, generated from the registry so the docs cannot drift from the code.
pub fn render_docs() -> String {
    let mut out = String::from(
        "# Builtin functions\n\n\
         Generated from the registry in `src/builtins/` (a test keeps this file in sync:\n\
         `UPDATE_DOCS=1 cargo test --test docs` rewrites it).\n\n\
         Every builtin can be called as a function, `round(x, 2, half_even)`, or as a method on\n\
         its first argument, `x.round(2, half_even)`; `x?.f()` calls `f` only when `x` is present.\n\
         Named arguments go by parameter name: `exponential(1s, max: 2m)`.\n\n\
         Type variables: `T`, `U` any type; `N` a number (Int, Decimal or Float); `C` anything\n\
         ordered (numbers, strings, dates, times, durations); `K` a key (a scalar). A parameter\n\
         marked `?` may be left out. Several lines with one name are overloads.\n\n\
         Constants: the rounding modes `half_even` (banker's rounding), `half_up`, `half_down`,\n\
         `down` (toward zero), `up` (away from zero), `floor`, `ceiling`; the retry failure\n\
         classes `timeout` and `connection_error`.\n",
    );
    for (family, builtins) in all() {
        out.push_str(&format!("\n## {}\n\n", capitalize(family)));
        for b in builtins {
            out.push_str(&format!("### `{}`\n\n{}\n", b.signature, b.doc));
            if !b.examples.is_empty() {
                out.push_str("\n| call | result |\n| --- | --- |\n");
                for (call, result) in b.examples {
                    out.push_str(&format!("| `{}` | `{}` |\n", call.replace('|', "\\|"), result.replace('|', "\\|")));
                }
            }
            out.push('\n');
        }
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}
