//! Expression compilation: IR expressions become closures once, before any record is
//! read, so evaluating a record walks no syntax. Locals live in slots of a `Frame`.

use std::cell::RefCell;
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::builtins::{Arg, EvalContext, EvalError};
use crate::ir::{self, ExprKind, Pattern, StrPart};
use crate::syntax::ast::{BinOp, Literal, UnOp};
use crate::types::{RecordType, Type};
use crate::value::{Record, Value};

/// A compiled expression.
pub type Compiled = Arc<dyn Fn(&Frame<'_>) -> Result<Value, EvalError> + Send + Sync>;

/// What every evaluation of a flow shares: functions, lookup tables, clock and env.
pub struct Shared {
    pub functions: Vec<CompiledFn>,
    pub lookups: Vec<super::lookups::Table>,
    pub ctx: Box<dyn EvalContext + Send + Sync>,
}

pub struct CompiledFn {
    pub params: Vec<u32>,
    pub slots: u32,
    pub body: Compiled,
}

/// One evaluation: the record in hand and the local slots.
pub struct Frame<'a> {
    pub record: Value,
    pub slots: RefCell<Vec<Value>>,
    pub shared: &'a Shared,
}

impl<'a> Frame<'a> {
    pub fn new(record: Value, slots: Vec<Value>, shared: &'a Shared) -> Self {
        Frame { record, slots: RefCell::new(slots), shared }
    }

    fn slot(&self, s: u32) -> Value {
        self.slots.borrow().get(s as usize).cloned().unwrap_or(Value::Null)
    }

    pub(crate) fn set(&self, s: u32, v: Value) {
        let mut slots = self.slots.borrow_mut();
        let i = s as usize;
        if slots.len() <= i {
            slots.resize_with(i + 1, || Value::Null);
        }
        slots[i] = v;
    }
}

thread_local! {
    /// Slot vectors of finished function calls, for the next calls: a function called
    /// for every line of every order then allocates nothing for its locals. Records
    /// being built gather their values in them too.
    static SLOT_VECS: RefCell<Vec<Vec<Value>>> = const { RefCell::new(Vec::new()) };
}

/// A vector from `SLOT_VECS`, given back (emptied) when dropped, on every path out.
struct Pooled(Vec<Value>);

impl Pooled {
    fn take() -> Pooled {
        Pooled(SLOT_VECS.with(|p| p.borrow_mut().pop()).unwrap_or_default())
    }
}

impl std::ops::Deref for Pooled {
    type Target = Vec<Value>;
    fn deref(&self) -> &Vec<Value> {
        &self.0
    }
}

impl std::ops::DerefMut for Pooled {
    fn deref_mut(&mut self) -> &mut Vec<Value> {
        &mut self.0
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        let mut slots = std::mem::take(&mut self.0);
        slots.clear();
        SLOT_VECS.with(|p| {
            let mut p = p.borrow_mut();
            if p.len() < 64 {
                p.push(slots);
            }
        });
    }
}

/// Compiles a function body; call sites find it by index at run time (so functions may
/// call functions declared later).
pub fn compile_fn(f: &ir::Function) -> CompiledFn {
    CompiledFn { params: f.params.clone(), slots: f.slots, body: compile(&f.body) }
}

pub fn compile(e: &ir::Expr) -> Compiled {
    let compiled = compile_kind(e);
    // Where the checker joined an Int with a Float (the branches of an `if` or a `match`,
    // the sides of `??`, a list's elements), the value takes the joined type's form: an
    // Int that stayed an Int would later meet a Float as an Int, or divide as one.
    let joins = matches!(
        e.kind,
        ExprKind::If { .. } | ExprKind::Match { .. } | ExprKind::List(_) | ExprKind::Binary(BinOp::Coalesce, ..)
    );
    let floats = match e.ty.strip_optional() {
        Type::Float => true,
        Type::List(elem) => *elem.strip_optional() == Type::Float,
        _ => false,
    };
    if joins && floats {
        let ty = e.ty.clone();
        return Arc::new(move |f| compiled(f).map(|v| coerce(v, &ty)));
    }
    compiled
}

fn compile_kind(e: &ir::Expr) -> Compiled {
    match &e.kind {
        ExprKind::Literal(l) => {
            let v = literal(l);
            Arc::new(move |_| Ok(v.clone()))
        }
        ExprKind::Concat(parts) => concat(parts),
        ExprKind::Record => Arc::new(|f| Ok(f.record.clone())),
        ExprKind::Local(s) => {
            let s = *s;
            Arc::new(move |f| Ok(f.slot(s)))
        }
        ExprKind::Constant(name) => {
            let v = Value::str(name);
            Arc::new(move |_| Ok(v.clone()))
        }
        ExprKind::Field { base: b, slot, name, .. } => match field_path(e) {
            Some((root, steps)) => path(root, steps),
            None => field(compile(b), Step::new(b, *slot, name)),
        },
        ExprKind::Index { base, index, .. } => {
            let (base, index) = (compile(base), compile(index));
            Arc::new(move |f| {
                let b = base(f)?;
                let i = index(f)?;
                Ok(match (&b, &i) {
                    (Value::List(items), Value::Int(n)) => {
                        usize::try_from(*n).ok().and_then(|n| items.get(n)).cloned().unwrap_or(Value::Null)
                    }
                    (Value::Record(r), Value::Str(k)) => r.get(k).cloned().unwrap_or(Value::Null),
                    _ => Value::Null,
                })
            })
        }
        ExprKind::Lookup { table, key } => {
            let (table, key) = (*table, compile(key));
            Arc::new(move |f| {
                let k = key(f)?;
                Ok(f.shared.lookups.get(table).and_then(|t| t.get(&k.key())).unwrap_or(Value::Null))
            })
        }
        ExprKind::Builtin { builtin, args, optional } => builtin_call(builtin, args, *optional),
        ExprKind::CallFn { function, args } => {
            let (function, args): (usize, Vec<Compiled>) = (*function, args.iter().map(compile).collect());
            Arc::new(move |f| {
                let func = f.shared.functions.get(function).ok_or_else(|| EvalError::failed("unknown function"))?;
                let mut slots = Pooled::take();
                slots.resize_with(func.slots as usize, || Value::Null);
                for (p, a) in func.params.iter().zip(&args) {
                    let v = a(f)?;
                    if let Some(s) = slots.get_mut(*p as usize) {
                        *s = v;
                    }
                }
                let inner = Frame::new(Value::Null, std::mem::take(&mut *slots), f.shared);
                let result = (func.body)(&inner);
                *slots = inner.slots.into_inner();
                result
            })
        }
        ExprKind::Unary(op, x) => {
            let (op, x) = (*op, compile(x));
            Arc::new(move |f| unary(op, x(f)?))
        }
        ExprKind::Binary(op, a, b) => binary(*op, compile(a), compile(b)),
        ExprKind::Lambda { .. } => Arc::new(|_| Err(EvalError::failed("a lambda is not a value"))),
        ExprKind::If { cond, then, otherwise } => {
            let (c, t, o) = (compile(cond), compile(then), compile(otherwise));
            Arc::new(move |f| if truthy(&c(f)?) { t(f) } else { o(f) })
        }
        ExprKind::Match { scrutinee, arms } => matcher(compile(scrutinee), arms),
        ExprKind::List(items) => {
            let items: Vec<Compiled> = items.iter().map(compile).collect();
            Arc::new(move |f| Ok(Value::list(items.iter().map(|i| i(f)).collect::<Result<_, _>>()?)))
        }
        ExprKind::MakeRecord { spreads, fields } => make_record(&e.ty, spreads, fields),
        ExprKind::Hold(h) => {
            let code = h.code.clone();
            let message = h.message.as_ref().map(|m| compile(m));
            Arc::new(move |f| {
                let message = match &message {
                    Some(m) => Some(m(f)?.to_string()),
                    None => None,
                };
                Err(EvalError::hold(code.as_str(), message))
            })
        }
    }
}

pub fn literal(l: &Literal) -> Value {
    match l {
        Literal::Null => Value::Null,
        Literal::Bool(b) => Value::Bool(*b),
        Literal::Int(n) => Value::Int(*n),
        Literal::Decimal(d) => Value::Decimal(*d),
        Literal::Float(x) => Value::Float(*x),
        Literal::Duration(ms) => Value::Duration(*ms),
        Literal::Rate(n, u) => Value::record(vec![
            ("count".into(), Value::Int(i64::try_from(*n).unwrap_or(i64::MAX))),
            (
                "per_ms".into(),
                Value::Int(match u {
                    crate::syntax::ast::RateUnit::Second => 1_000,
                    crate::syntax::ast::RateUnit::Minute => 60_000,
                    crate::syntax::ast::RateUnit::Hour => 3_600_000,
                }),
            ),
        ]),
        Literal::StatusClass(c) => Value::str(&format!("{c}xx")),
    }
}

pub fn truthy(v: &Value) -> bool {
    matches!(v, Value::Bool(true))
}

fn concat(parts: &[StrPart]) -> Compiled {
    enum P {
        Text(ecow::EcoString),
        Value(Compiled),
    }
    let parts: Vec<P> = parts
        .iter()
        .map(|p| match p {
            StrPart::Text(t) => P::Text(t.as_str().into()),
            StrPart::Value(e) => P::Value(compile(e)),
        })
        .collect();
    if let [P::Text(t)] = parts.as_slice() {
        let v = Value::Str(t.clone());
        return Arc::new(move |_| Ok(v.clone()));
    }
    Arc::new(move |f| {
        let mut out = ecow::EcoString::new();
        let mut secret = false;
        for p in &parts {
            match p {
                P::Text(t) => out.push_str(t),
                P::Value(e) => match e(f)? {
                    Value::Secret(s) => {
                        secret = true;
                        out.push_str(&s);
                    }
                    Value::Str(s) => out.push_str(&s),
                    // Formatted straight into the text, not into a string of its own first.
                    v => {
                        let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{v}"));
                    }
                },
            }
        }
        Ok(if secret { Value::Secret(out) } else { Value::Str(out) })
    })
}

/// A field by slot when the record has the layout the checker saw (the same `Arc`, or the
/// same name at that slot), else by name.
/// One field read: by slot when the record has the layout the checker saw (the same
/// `Arc`, or the same name at that slot), else by name.
struct Step {
    slot: Option<u32>,
    name: String,
    layout: Option<Arc<RecordType>>,
}

impl Step {
    fn new(base: &ir::Expr, slot: Option<u32>, name: &str) -> Step {
        let layout = match base.ty.strip_optional() {
            Type::Record(r) => Some(r.clone()),
            _ => None,
        };
        Step { slot, name: name.to_string(), layout }
    }

    /// The field of `v`, or `None` when `v` is not a record (a null on the way).
    fn read<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        let Value::Record(r) = v else { return None };
        let by_slot = self.slot.and_then(|s| {
            let i = s as usize;
            let same = self.layout.as_ref().is_some_and(|l| Arc::ptr_eq(l, r.layout()))
                || r.layout().fields.get_index(i).map(|(k, _)| k.as_str()) == Some(self.name.as_str());
            same.then(|| r.values().get(i)).flatten()
        });
        by_slot.or_else(|| r.get(&self.name))
    }
}

fn field(base: Compiled, step: Step) -> Compiled {
    Arc::new(move |f| Ok(step.read(&base(f)?).cloned().unwrap_or(Value::Null)))
}

/// Where a chain of field reads starts.
enum Root {
    Record,
    Local(u32),
}

/// `record.a.b.c` or `x.a.b` as a root and its steps, when the whole chain is field reads.
fn field_path(e: &ir::Expr) -> Option<(Root, Vec<Step>)> {
    let mut steps = Vec::new();
    let mut cur = e;
    loop {
        match &cur.kind {
            ExprKind::Field { base, slot, name, .. } => {
                steps.push(Step::new(base, *slot, name));
                cur = base;
            }
            ExprKind::Record => break Some(Root::Record),
            ExprKind::Local(s) => break Some(Root::Local(*s)),
            _ => break None,
        }
    }
    .map(|root| {
        steps.reverse();
        (root, steps)
    })
}

/// A chain of field reads walked by reference: only the value at its end is cloned, not
/// every record on the way.
fn path(root: Root, steps: Vec<Step>) -> Compiled {
    fn walk(mut v: &Value, steps: &[Step]) -> Value {
        for s in steps {
            match s.read(v) {
                Some(next) => v = next,
                None => return Value::Null,
            }
        }
        v.clone()
    }
    match root {
        Root::Record => Arc::new(move |f| Ok(walk(&f.record, &steps))),
        Root::Local(slot) => Arc::new(move |f| {
            let slots = f.slots.borrow();
            Ok(slots.get(slot as usize).map_or(Value::Null, |v| walk(v, &steps)))
        }),
    }
}

fn builtin_call(b: &'static crate::builtins::Builtin, args: &[ir::Expr], optional: bool) -> Compiled {
    enum A {
        Value(Compiled),
        Lambda,
    }
    // Every builtin takes at most one lambda; it runs in the caller's frame, its
    // parameters bound to slots.
    let mut lambda: Option<(Vec<u32>, Compiled)> = None;
    let args: Vec<A> = args
        .iter()
        .map(|a| match &a.kind {
            ExprKind::Lambda { params, body } if lambda.is_none() => {
                lambda = Some((params.clone(), compile(body)));
                A::Lambda
            }
            _ => A::Value(compile(a)),
        })
        .collect();
    Arc::new(move |f| {
        let run = |xs: &[Value]| match &lambda {
            Some((params, body)) => {
                for (p, x) in params.iter().zip(xs) {
                    f.set(*p, x.clone());
                }
                body(f)
            }
            None => Ok(Value::Null),
        };
        let arg = |a: &A| -> Result<Arg<'_>, EvalError> {
            Ok(match a {
                A::Value(e) => Arg::Value(e(f)?),
                A::Lambda => Arg::Lambda(&run),
            })
        };
        let first = match args.first() {
            Some(a) => arg(a)?,
            None => return (b.imp)(&[], f.shared.ctx.as_ref()),
        };
        if optional && matches!(first, Arg::Value(Value::Null)) {
            return Ok(Value::Null);
        }
        // Arguments on the stack: builtins take one to three.
        let ctx = f.shared.ctx.as_ref();
        match &args[1..] {
            [] => (b.imp)(&[first], ctx),
            [x] => (b.imp)(&[first, arg(x)?], ctx),
            [x, y] => (b.imp)(&[first, arg(x)?, arg(y)?], ctx),
            rest => {
                let mut all = Vec::with_capacity(args.len());
                all.push(first);
                for a in rest {
                    all.push(arg(a)?);
                }
                (b.imp)(&all, ctx)
            }
        }
    })
}

fn unary(op: UnOp, v: Value) -> Result<Value, EvalError> {
    Ok(match (op, v) {
        (UnOp::Not, v) => Value::Bool(!truthy(&v)),
        (UnOp::Neg, Value::Int(n)) => Value::Int(n.checked_neg().ok_or_else(|| EvalError::failed("integer overflow"))?),
        (UnOp::Neg, Value::Decimal(d)) => Value::Decimal(-d),
        (UnOp::Neg, Value::Float(x)) => Value::Float(-x),
        (UnOp::Neg, Value::Null) => Value::Null,
        (UnOp::Neg, other) => return Err(EvalError::failed(format!("cannot negate {}", other.kind()))),
    })
}

fn binary(op: BinOp, a: Compiled, b: Compiled) -> Compiled {
    match op {
        BinOp::And => Arc::new(move |f| Ok(Value::Bool(truthy(&a(f)?) && truthy(&b(f)?)))),
        BinOp::Or => Arc::new(move |f| Ok(Value::Bool(truthy(&a(f)?) || truthy(&b(f)?)))),
        BinOp::Coalesce => Arc::new(move |f| match a(f)? {
            Value::Null => b(f),
            v => Ok(v),
        }),
        BinOp::Eq => Arc::new(move |f| Ok(Value::Bool(a(f)?.equals(&b(f)?)))),
        BinOp::Ne => Arc::new(move |f| Ok(Value::Bool(!a(f)?.equals(&b(f)?)))),
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => Arc::new(move |f| {
            let (x, y) = (a(f)?, b(f)?);
            let ord = x
                .compare(&y)
                .ok_or_else(|| EvalError::failed(format!("cannot compare {} with {}", x.kind(), y.kind())))?;
            Ok(Value::Bool(match op {
                BinOp::Lt => ord.is_lt(),
                BinOp::Le => ord.is_le(),
                BinOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            }))
        }),
        _ => Arc::new(move |f| arith(op, a(f)?, b(f)?)),
    }
}

fn overflow() -> EvalError {
    EvalError::failed("arithmetic overflow: the result does not fit")
}

/// Arithmetic with exact Decimals; Int / Int is an exact Decimal.
pub fn arith(op: BinOp, x: Value, y: Value) -> Result<Value, EvalError> {
    use Value::*;
    Ok(match (op, &x, &y) {
        (BinOp::Add, Str(a), Str(b)) => Str(ecow::eco_format!("{a}{b}")),
        (BinOp::Add, Secret(a) | Str(a), Secret(b) | Str(b)) => Secret(ecow::eco_format!("{a}{b}")),
        (BinOp::Add, DateTime(t), Duration(ms)) | (BinOp::Add, Duration(ms), DateTime(t)) => {
            DateTime(*t + chrono::Duration::milliseconds(i64::try_from(*ms).map_err(|_| overflow())?))
        }
        (BinOp::Sub, DateTime(t), Duration(ms)) => {
            DateTime(*t - chrono::Duration::milliseconds(i64::try_from(*ms).map_err(|_| overflow())?))
        }
        (BinOp::Sub, DateTime(a), DateTime(b)) => Duration(u64::try_from((*a - *b).num_milliseconds()).unwrap_or(0)),
        (BinOp::Add, Duration(a), Duration(b)) => Duration(a.checked_add(*b).ok_or_else(overflow)?),
        (BinOp::Sub, Duration(a), Duration(b)) => Duration(a.saturating_sub(*b)),
        (BinOp::Mul, Duration(a), Int(n)) | (BinOp::Mul, Int(n), Duration(a)) => {
            Duration(a.checked_mul(u64::try_from(*n).map_err(|_| overflow())?).ok_or_else(overflow)?)
        }
        (BinOp::Add, List(a), List(b)) => {
            let mut out = a.clone();
            out.extend(b.iter().cloned());
            List(out)
        }
        (_, Int(a), Int(b)) => int_op(op, *a, *b)?,
        (_, Float(a), Float(b)) => Float(float_op(op, *a, *b)),
        (_, Float(a), Int(b)) => Float(float_op(op, *a, *b as f64)),
        (_, Int(a), Float(b)) => Float(float_op(op, *a as f64, *b)),
        (_, Decimal(a), Decimal(b)) => Decimal(dec_op(op, *a, *b)?),
        (_, Decimal(a), Int(b)) => Decimal(dec_op(op, *a, (*b).into())?),
        (_, Int(a), Decimal(b)) => Decimal(dec_op(op, (*a).into(), *b)?),
        (_, Null, _) | (_, _, Null) => Null,
        _ => {
            return Err(EvalError::failed(format!("`{}` does not apply to {} and {}", op.symbol(), x.kind(), y.kind())))
        }
    })
}

fn int_op(op: BinOp, a: i64, b: i64) -> Result<Value, EvalError> {
    Ok(match op {
        BinOp::Add => Value::Int(a.checked_add(b).ok_or_else(overflow)?),
        BinOp::Sub => Value::Int(a.checked_sub(b).ok_or_else(overflow)?),
        BinOp::Mul => Value::Int(a.checked_mul(b).ok_or_else(overflow)?),
        BinOp::Rem => Value::Int(a.checked_rem(b).ok_or_else(|| EvalError::failed("remainder by zero"))?),
        _ => Value::Decimal(dec_op(op, a.into(), b.into())?),
    })
}

fn dec_op(op: BinOp, a: Decimal, b: Decimal) -> Result<Decimal, EvalError> {
    let r = match op {
        BinOp::Add => a.checked_add(b),
        BinOp::Sub => a.checked_sub(b),
        BinOp::Mul => a.checked_mul(b),
        BinOp::Div if b.is_zero() => return Err(EvalError::failed("division by zero")),
        BinOp::Div => a.checked_div(b),
        BinOp::Rem if b.is_zero() => return Err(EvalError::failed("remainder by zero")),
        BinOp::Rem => a.checked_rem(b),
        _ => None,
    };
    r.ok_or_else(overflow)
}

fn float_op(op: BinOp, a: f64, b: f64) -> f64 {
    match op {
        BinOp::Add => a + b,
        BinOp::Sub => a - b,
        BinOp::Mul => a * b,
        BinOp::Div => a / b,
        _ => a % b,
    }
}

fn matcher(scrutinee: Compiled, arms: &[(Vec<Pattern>, ir::Expr)]) -> Compiled {
    let arms: Vec<(Vec<Pattern>, Compiled)> = arms.iter().map(|(p, e)| (p.clone(), compile(e))).collect();
    Arc::new(move |f| {
        let v = scrutinee(f)?;
        for (patterns, body) in &arms {
            for p in patterns {
                let hit = match p {
                    Pattern::Any => true,
                    Pattern::Null => v.is_null(),
                    Pattern::Bool(b) => matches!(v, Value::Bool(x) if x == *b),
                    Pattern::Str(s) => matches!(&v, Value::Str(x) if **x == **s),
                    Pattern::Int(n) => v.equals(&Value::Int(*n)),
                    Pattern::Decimal(d) => v.equals(&Value::Decimal(*d)),
                    Pattern::Bind(slot) => {
                        f.set(*slot, v.clone());
                        true
                    }
                };
                if hit {
                    return body(f);
                }
            }
        }
        Err(EvalError::hold("no_match", Some(format!("no match arm covers {v}"))))
    })
}

/// A value in the form its declared field type promises: an Int in a Decimal field
/// becomes a Decimal, a `Decimal(n)` field always shows n places (0 becomes 0.00, and
/// 19.990, which fits `Decimal(2)` once its zeros go, 19.99), and a record of another
/// type (assignable by shape) becomes one of the declared type, with its fields and no
/// others: a `map` target is closed all the way down. Nothing is rounded here; the
/// checker already refused anything that would round or not fit.
fn coerce(v: Value, target: &Type) -> Value {
    match (v, target.strip_optional()) {
        (Value::Int(n), Type::Decimal(scale)) => coerce(Value::Decimal(Decimal::from(n)), &Type::Decimal(*scale)),
        (Value::Decimal(d), Type::Decimal(Some(s))) => Value::Decimal(crate::value::at_scale(d, *s)),
        (Value::Int(n), Type::Float) => Value::Float(n as f64),
        (Value::Record(r), Type::Record(t)) if !Arc::ptr_eq(r.layout(), t) && t.name.is_some() => {
            let values = t.fields.iter().map(|(k, ft)| coerce(r.get(k).cloned().unwrap_or(Value::Null), ft));
            Value::Record(Record::new(t.clone(), values))
        }
        (Value::List(items), Type::List(elem)) if needs_coercion(&items, elem) => {
            Value::list(items.iter().map(|i| coerce(i.clone(), elem)).collect())
        }
        (v, _) => v,
    }
}

/// Whether some element of a list is not yet in the form `elem` promises (records of
/// another layout; Ints or short Decimals for a Decimal).
fn needs_coercion(items: &[Value], elem: &Type) -> bool {
    match elem.strip_optional() {
        Type::Record(t) if t.name.is_some() => {
            items.iter().any(|i| matches!(i, Value::Record(r) if !Arc::ptr_eq(r.layout(), t)))
        }
        Type::Decimal(scale) => items.iter().any(|i| match i {
            Value::Int(_) => true,
            Value::Decimal(d) => scale.is_some_and(|s| d.scale() != s),
            _ => false,
        }),
        Type::Float => items.iter().any(|i| matches!(i, Value::Int(_))),
        _ => false,
    }
}

/// Builds a record in its layout's order: named fields, else spread fields, else null.
fn make_record(ty: &Type, spreads: &[ir::Expr], fields: &[(String, ir::Expr)]) -> Compiled {
    let layout: Arc<RecordType> = match ty.unwrap_optional() {
        Type::Record(r) => r,
        _ => Arc::new(RecordType { name: None, fields: fields.iter().map(|(k, _)| (k.clone(), Type::Json)).collect() }),
    };
    let spreads: Vec<Compiled> = spreads.iter().map(compile).collect();
    // For each layout slot: which given field fills it.
    let plan: Vec<Option<Compiled>> =
        layout.fields.keys().map(|k| fields.iter().find(|(n, _)| n == k).map(|(_, e)| compile(e))).collect();
    let targets: Vec<Type> = layout.fields.values().cloned().collect();
    Arc::new(move |f| {
        let spread_values: Vec<Value> = spreads.iter().map(|s| s(f)).collect::<Result<_, _>>()?;
        // Gathered in a reused vector, then moved into the record's one allocation.
        let mut values = Pooled::take();
        for (((name, _), p), target) in layout.fields.iter().zip(&plan).zip(&targets) {
            let v = match p {
                Some(e) => e(f)?,
                None => spread_values.iter().rev().find_map(|s| s.field(name).cloned()).unwrap_or(Value::Null),
            };
            values.push(coerce(v, target));
        }
        Ok(Value::Record(Record::new(layout.clone(), values.drain(..))))
    })
}
