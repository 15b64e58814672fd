//! One expression through the checker, the IR lowering and the evaluator.
//!
//! The expression becomes the value of a `let` in a small flow whose source reads
//! `Order`s; it is checked with `flowgate::check_text`, lowered to IR and compiled with
//! `runtime::compile`, then evaluated against one fixed order, with the clock at
//! 2026-11-24T12:00:00Z and `ERP_URL` and `ERP_TOKEN` in the environment. In the
//! expression, `record` is that order and `d` its date (2026-11-24); the lookups
//! `carriers` and `vat_rates` hold two rows each.
//!
//! Values are shown as the docs show them (`show`): flow literals where there is one
//! (`"text"`, `19.90`, `1e-1`, `[1, 2]`, `{ key: 1 }`, `90s`), dates and times in ISO 8601,
//! secrets as `<redacted>`, retry policies as their delays (`1s, 2s, 4s, … ≤ 2m`).

#![allow(dead_code)]

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};
use flowgate::builtins::EvalContext;
use flowgate::diagnostic::Diagnostics;
use flowgate::ir::{self, ExprKind, LookupData, StageKind, StrPart};
use flowgate::runtime::{compile, Frame, Shared, Stop};
use flowgate::types::Type;
use flowgate::value::{decode_json, Value};

const PRELUDE: &str = r#"
type Line = { sku: String, price: Decimal, quantity: Int }
type Order = {
  id: Int
  name: String
  email: String?
  note: String?
  created_at: DateTime
  tags: [String]
  line_items: [Line]
  raw: Json
}
lookup carriers: String -> String = { "DHL Express" => "DHL01", "Royal Mail" => "RM24" }
lookup vat_rates: String -> Decimal = { "GB" => 0.20, "DE" => 0.19 }
flow eval {
  source orders: stdin {} : Order
  let d = date(record.created_at)
  let it =
"#;

const POSTLUDE: &str = "\n  sink out: stdout {}\n}\n";

/// The order every expression sees as `record`.
pub const ORDER: &str = r##"{
  "id": 1001, "name": "#1001", "email": "ann@example.com", "note": null,
  "created_at": "2026-11-24T10:00:00Z", "tags": ["gift", "vip"],
  "line_items": [
    { "sku": "A1", "price": "19.90", "quantity": 2 },
    { "sku": "B2", "price": "5.00", "quantity": 1 }
  ],
  "raw": { "a": [1, 2], "b": null }
}"##;

pub const NOW: &str = "2026-11-24T12:00:00Z";

/// The flow text an expression is checked in.
pub fn flow_text(expr: &str) -> String {
    format!("{PRELUDE}{expr}{POSTLUDE}")
}

/// What the checker made of an expression: its IR and type, or the diagnostics.
pub struct Checked {
    pub program: ir::Program,
    pub expr: ir::Expr,
}

pub fn check(expr: &str) -> Result<Checked, Diagnostics> {
    let outcome = flowgate::check_text("eval.flow", &flow_text(expr));
    let Some(program) = outcome.ir() else { return Err(outcome.diagnostics) };
    let flow = program.flows.first().expect("one flow");
    let expr = flow
        .stages
        .iter()
        .find_map(|s| match &s.kind {
            StageKind::Let { name, value, .. } if name == "it" => Some(value.clone()),
            _ => None,
        })
        .expect("the `let it` stage");
    Ok(Checked { program, expr })
}

/// The codes of the errors the checker reports for an expression.
pub fn error_codes(expr: &str) -> Vec<&'static str> {
    match check(expr) {
        Ok(_) => Vec::new(),
        Err(d) => d.iter().filter(|d| d.is_error()).map(|d| d.code.as_str()).collect(),
    }
}

struct Ctx {
    now: DateTime<FixedOffset>,
    env: HashMap<String, String>,
}

impl EvalContext for Ctx {
    fn now(&self) -> DateTime<FixedOffset> {
        self.now
    }

    fn env(&self, name: &str) -> Option<String> {
        self.env.get(name).cloned()
    }
}

/// An evaluated expression: the checker's type and the value or why there is none.
pub struct Evaluated {
    pub ty: Type,
    pub result: Result<Value, Stop>,
}

/// Checks and evaluates; panics with the diagnostics when the checker refuses.
pub fn eval(expr: &str) -> Evaluated {
    let checked = check(expr).unwrap_or_else(|d| {
        panic!("`{expr}` does not check:\n{}", flowgate::diagnostic::render_plain(&d));
    });
    let program = &checked.program;
    let flow = &program.flows[0];
    let env = [("ERP_URL", "https://erp.example"), ("ERP_TOKEN", "s3cr3t-t0ken")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let now = DateTime::parse_from_rfc3339(NOW).expect("a valid time");
    let mut shared = Shared { functions: Vec::new(), lookups: Vec::new(), ctx: Box::new(Ctx { now, env }) };
    assert!(program.functions.is_empty(), "the expression flow declares no functions");
    shared.lookups = program.lookups.iter().map(|l| inline_table(l, &shared).into()).collect();
    let record = decode_json(ORDER.as_bytes(), &flow.source.ty).expect("the order fits its type");
    let frame = Frame::new(record, vec![Value::Null; flow.slots as usize], &shared);
    for stage in &flow.stages {
        let StageKind::Let { slot, name, value } = &stage.kind else { continue };
        let result = compile(value)(&frame).map_err(Stop::from_eval);
        if name == "it" {
            return Evaluated { ty: value.ty.clone(), result };
        }
        frame.slots.borrow_mut()[*slot as usize] = result.expect("the prelude's bindings evaluate");
    }
    unreachable!("the flow has a `let it` stage")
}

/// An inline lookup table, keyed as the runtime keys it: by each key's `Value::key`.
fn inline_table(l: &ir::Lookup, shared: &Shared) -> HashMap<String, Value> {
    let LookupData::Table(rows) = &l.data else { panic!("the expression flow's lookups are inline") };
    let frame = Frame::new(Value::Null, Vec::new(), shared);
    rows.iter()
        .map(|(k, v)| {
            let key = compile(k)(&frame).expect("a lookup key evaluates");
            (key.key().into_owned(), compile(v)(&frame).expect("a lookup value evaluates"))
        })
        .collect()
}

/// The signatures of the builtin overloads an expression calls.
pub fn builtins_called(e: &ir::Expr, out: &mut Vec<&'static str>) {
    let mut walk = |x: &ir::Expr| builtins_called(x, out);
    match &e.kind {
        ExprKind::Literal(_) | ExprKind::Record | ExprKind::Local(_) | ExprKind::Constant(_) => {}
        ExprKind::Concat(parts) => parts.iter().for_each(|p| {
            if let StrPart::Value(x) = p {
                walk(x)
            }
        }),
        ExprKind::Field { base, .. } => walk(base),
        ExprKind::Index { base, index, .. } => {
            walk(base);
            walk(index);
        }
        ExprKind::Lookup { key, .. } => walk(key),
        ExprKind::Builtin { builtin, args, .. } => {
            out.push(builtin.signature);
            args.iter().for_each(|a| builtins_called(a, out));
        }
        ExprKind::CallFn { args, .. } => args.iter().for_each(walk),
        ExprKind::Unary(_, x) | ExprKind::Lambda { body: x, .. } => walk(x),
        ExprKind::Binary(_, a, b) => {
            walk(a);
            walk(b);
        }
        ExprKind::If { cond, then, otherwise } => {
            walk(cond);
            walk(then);
            walk(otherwise);
        }
        ExprKind::Match { scrutinee, arms } => {
            walk(scrutinee);
            arms.iter().for_each(|(_, x)| walk(x));
        }
        ExprKind::List(items) => items.iter().for_each(walk),
        ExprKind::MakeRecord { spreads, fields } => {
            spreads.iter().for_each(&mut walk);
            fields.iter().for_each(|(_, x)| walk(x));
        }
        ExprKind::Hold(h) => h.message.iter().for_each(|m| walk(m)),
    }
}

/// A value as the docs show it; `ty` (the checker's type) tells a retry policy from a
/// record.
pub fn show(v: &Value, ty: &Type) -> String {
    let ty = ty.strip_optional();
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(n) => n.to_string(),
        Value::Decimal(d) => d.to_string(),
        Value::JsonNumber(_) => v.to_string(),
        Value::Float(x) => format!("{x:e}"),
        Value::Str(s) => serde_json::to_string(&**s).expect("a string is JSON"),
        Value::Date(_) | Value::DateTime(_) => v.to_string(),
        Value::Duration(ms) => duration(*ms),
        Value::Secret(_) => "<redacted>".into(),
        Value::List(items) => {
            let elem = match ty {
                Type::List(t) => (**t).clone(),
                _ => Type::Json,
            };
            let items: Vec<String> = items.iter().map(|i| show(i, &elem)).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Record(_) if *ty == Type::Backoff => backoff(v),
        Value::Record(r) => {
            if r.values().is_empty() {
                return "{}".into();
            }
            let fields: Vec<String> = r
                .fields()
                .map(|(k, x)| {
                    let fty = ty.record_fields().and_then(|f| f.get(k).cloned()).unwrap_or(Type::Json);
                    format!("{}: {}", field_name(k), show(x, &fty))
                })
                .collect();
            format!("{{ {} }}", fields.join(", "))
        }
    }
}

fn field_name(k: &str) -> String {
    let plain = k.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        k.to_string()
    } else {
        serde_json::to_string(k).expect("a name is JSON")
    }
}

/// A duration as a flow literal: `1h30m`, `500ms`, `0s`.
pub fn duration(mut ms: u64) -> String {
    if ms == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    for (unit, size) in [("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000), ("ms", 1)]
    {
        if ms >= size {
            out.push_str(&format!("{}{unit}", ms / size));
            ms %= size;
        }
    }
    out
}

/// A retry policy as the delays it waits: `1s, 2s, 4s, … ≤ 2m` or `5s, 5s, …`.
fn backoff(v: &Value) -> String {
    let ms = |name: &str| match v.field(name) {
        Some(Value::Int(n)) => u64::try_from(*n).expect("a delay is not negative"),
        other => panic!("a backoff's `{name}` is {other:?}"),
    };
    let (base, max) = (ms("base_ms"), ms("max_ms"));
    match v.field("kind") {
        Some(Value::Str(k)) if k == "fixed" => format!("{0}, {0}, …", duration(base)),
        Some(Value::Str(k)) if k == "exponential" => {
            let step = |n: u64| duration(base.saturating_mul(n).min(max));
            format!("{}, {}, {}, … ≤ {}", step(1), step(2), step(4), duration(max))
        }
        other => panic!("a backoff of kind {other:?}"),
    }
}

/// Why a value is not of the type the checker gave its expression, if it is not.
pub fn misfit(v: &Value, ty: &Type) -> Option<String> {
    let fits = match (v, ty) {
        (_, Type::Json) => true,
        (Value::Null, t) => t.is_optional() || *t == Type::Null,
        (_, Type::Optional(t)) => return misfit(v, t),
        (Value::Int(_), Type::Int) => true,
        // An Int joined with Decimals (`[1, 2.5]`, `if c then 1 else 2.5`) stays an Int:
        // the same number, and every operation on Decimals takes it as one.
        (Value::Int(_), Type::Decimal(_)) => true,
        (Value::Decimal(d), Type::Decimal(scale)) => scale.is_none_or(|s| d.scale() <= s),
        (Value::Float(_), Type::Float) => true,
        (Value::Bool(_), Type::Bool) => true,
        (Value::Str(_), Type::String | Type::RoundingMode | Type::FailureClass) => true,
        (Value::Str(s), Type::Union(members)) => members.iter().any(|m| **m == **s),
        (Value::Date(_), Type::Date) => true,
        (Value::DateTime(_), Type::DateTime) => true,
        (Value::Duration(_), Type::Duration) => true,
        (Value::Secret(_), Type::Secret) => true,
        (Value::Record(_), Type::Backoff) => true,
        (Value::List(items), Type::List(t)) => return items.iter().find_map(|i| misfit(i, t)),
        (Value::Record(r), Type::Record(t)) => {
            return t.fields.iter().find_map(|(k, ft)| match r.get(k) {
                Some(x) => misfit(x, ft).map(|m| format!("field `{k}`: {m}")),
                None if ft.is_optional() => None,
                None => Some(format!("field `{k}` is missing")),
            })
        }
        _ => false,
    };
    (!fits).then(|| format!("{} is not a {ty}", show(v, ty)))
}
