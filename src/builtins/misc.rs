//! JSON paths, hashing for idempotency keys, the environment and secrets, retry policies.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use jsonpath_rust::parser::model::JpQuery;
use jsonpath_rust::parser::parse_json_path;
use jsonpath_rust::query::js_path_process;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{arg, const_str, decl, expected, opt_arg, str_arg, Arg, Decl, EvalContext, EvalError};
use crate::types::Type;
use crate::value::{decode_json_value, to_json, Redaction, Value};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "jsonpath(value: T, path: String) -> [Json]",
            "Every value the JSONPath selects (jsonpath-rust syntax).",
            &[(r#"jsonpath(record, "$..sku")"#, r#"["A1", "B2"]"#)],
        ).with(jsonpath).checked(check_path),
        decl("sha256(s: String) -> String", "The SHA-256 digest, lower-case hex.", &[(r#"sha256("abc")"#, r#""ba7816bf…""#)]).with(sha256),
        decl(
            "uuid_v5(namespace: String, name: String) -> String",
            "A name-based UUID: the same inputs always give the same id (for idempotency keys).",
            &[(r#"uuid_v5("6ba7b811-9dad-11d1-80b4-00c04fd430c8", "order-1001")"#, r#""8b0e1cfe-71e5-535e-a325-184ef1c0f756""#)],
        ).with(uuid_v5),
        decl(
            "env(name: String) -> String",
            "An environment variable, read once when the flow starts; a missing one stops the run before any record is read.",
            &[(r#"env("ERP_URL")"#, r#""https://erp.example""#)],
        ).with(env),
        decl(
            "secret(name: String) -> Secret",
            "A secret from the environment. It may go into headers (`\"Bearer \" + secret(\"T\")`), never into a body, a log or a hold.",
            &[(r#"secret("ERP_TOKEN")"#, "<redacted>")],
        ).with(secret),
        decl(
            "exponential(base: Duration, max?: Duration) -> Backoff",
            "Retry delays doubling from `base` up to `max` (default: 5 minutes, or `base` if longer), with full jitter.",
            &[("exponential(1s, max: 2m)", "1s, 2s, 4s, … ≤ 2m")],
        ).with(exponential).checked(check_exponential),
        decl("fixed(delay: Duration) -> Backoff", "The same delay before every retry, with jitter.", &[("fixed(5s)", "5s, 5s, …")]).with(fixed),
    ]
}

/// Parsed paths kept per thread: a flow uses the same literal path for every record.
/// Bounded, in case paths are built from data.
const PATH_CACHE_SIZE: usize = 256;

thread_local! {
    static PATHS: RefCell<HashMap<String, Rc<JpQuery>>> = RefCell::new(HashMap::new());
}

fn json_path(path: &str) -> Result<Rc<JpQuery>, EvalError> {
    if let Some(q) = PATHS.with(|c| c.borrow().get(path).cloned()) {
        return Ok(q);
    }
    let q = Rc::new(parse_json_path(path).map_err(|e| EvalError::failed(format!("invalid JSONPath `{path}`: {e}")))?);
    PATHS.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= PATH_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(path.to_string(), q.clone());
    });
    Ok(q)
}

/// A literal path, parsed as the call parses it.
fn check_path(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    const_str(args, 1).map_or(Ok(()), |p| json_path(p).map(drop).map_err(|e| (1, e)))
}

/// Secrets are redacted before the path runs, so a path cannot read one out.
fn jsonpath(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (value, path) = (arg(args, 0)?, str_arg(args, 1)?);
    let query = json_path(path)?;
    let json = to_json(value, Redaction::Redact);
    let found = js_path_process(&query, &json).map_err(|e| EvalError::failed(format!("JSONPath `{path}`: {e}")))?;
    let values = found
        .into_iter()
        .map(|r| {
            decode_json_value(r.val(), &Type::Json).map_err(|e| EvalError::failed(format!("JSONPath `{path}`: {e}")))
        })
        .collect::<Result<_, _>>()?;
    Ok(Value::list(values))
}

fn sha256(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let digest = Sha256::digest(str_arg(args, 0)?.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(Value::str(&hex))
}

fn uuid_v5(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (namespace, name) = (str_arg(args, 0)?, str_arg(args, 1)?);
    let ns = Uuid::parse_str(namespace)
        .map_err(|e| EvalError::failed(format!("the namespace `{namespace}` is not a UUID: {e}")))?;
    Ok(Value::str(&Uuid::new_v5(&ns, name.as_bytes()).hyphenated().to_string()))
}

fn env(args: &[Arg<'_>], ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    let name = str_arg(args, 0)?;
    ctx.env(name)
        .map(|v| Value::str(&v))
        .ok_or_else(|| EvalError::failed(format!("environment variable {name} is not set")))
}

fn secret(args: &[Arg<'_>], ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    let name = str_arg(args, 0)?;
    ctx.env(name)
        .map(|v| Value::Secret(v.into()))
        .ok_or_else(|| EvalError::failed(format!("secret {name} is not set in the environment")))
}

fn duration_ms(v: &Value) -> Result<i64, EvalError> {
    match v {
        Value::Duration(ms) => {
            i64::try_from(*ms).map_err(|_| EvalError::failed(format!("the duration {ms}ms is too long")))
        }
        other => Err(expected("a duration", other)),
    }
}

/// The default cap on an exponential backoff's delay.
const DEFAULT_MAX_BACKOFF_MS: i64 = 5 * 60 * 1000;

fn backoff(kind: &str, base_ms: i64, max_ms: i64) -> Value {
    Value::record(vec![
        ("kind".to_string(), Value::str(kind)),
        ("base_ms".to_string(), Value::Int(base_ms)),
        ("max_ms".to_string(), Value::Int(max_ms)),
    ])
}

/// `{ kind: "exponential", base_ms, max_ms }`. Without `max`, delays stop growing at
/// five minutes (or at `base`, if that is longer).
fn exponential(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (base, max) = exponential_range(arg(args, 0)?, opt_arg(args, 1)?)?;
    Ok(backoff("exponential", base, max))
}

/// The first and the longest delay, in milliseconds.
fn exponential_range(base: &Value, max: Option<&Value>) -> Result<(i64, i64), EvalError> {
    let base = duration_ms(base)?;
    let max = match max {
        Some(v) => duration_ms(v)?,
        None => DEFAULT_MAX_BACKOFF_MS.max(base),
    };
    if max < base {
        return Err(EvalError::failed(format!("the backoff's max ({max}ms) is shorter than its base ({base}ms)")));
    }
    Ok((base, max))
}

/// Constant durations, checked as the call checks them; a max shorter than the base is
/// the max's fault.
fn check_exponential(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    match args {
        [Some(base)] => exponential_range(base, None).map(drop).map_err(|e| (0, e)),
        [Some(base), Some(max)] => {
            exponential_range(base, Some(max).filter(|m| !m.is_null())).map(drop).map_err(|e| (1, e))
        }
        _ => Ok(()),
    }
}

/// `{ kind: "fixed", base_ms, max_ms }` with both the delay.
fn fixed(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let delay = duration_ms(arg(args, 0)?)?;
    Ok(backoff("fixed", delay, delay))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, d, failure, s, show};

    fn order() -> Value {
        let line = |sku: &str, price: &str| Value::record(vec![("sku".into(), s(sku)), ("price".into(), d(price))]);
        Value::record(vec![
            ("id".into(), Value::Int(1001)),
            ("line_items".into(), Value::list(ecow::eco_vec![line("A1", "19.90"), line("B2", "5.00")])),
            ("token".into(), Value::Secret("hunter2".into())),
        ])
    }

    #[test]
    fn jsonpath_selects_values() {
        assert_eq!(show(&call(jsonpath, &[order(), s("$..sku")]).unwrap()), r#"["A1","B2"]"#);
        assert_eq!(show(&call(jsonpath, &[order(), s("$.line_items[*].price")]).unwrap()), "[19.90,5.00]");
        let prices = call(jsonpath, &[order(), s("$.line_items[0].price")]).unwrap();
        let Value::List(items) = prices else { panic!() };
        assert!(matches!(&items[0], Value::Decimal(x) if x.to_string() == "19.90"));
        assert_eq!(show(&call(jsonpath, &[order(), s("$.id")]).unwrap()), "[1001]");
        assert_eq!(show(&call(jsonpath, &[order(), s("$.missing")]).unwrap()), "[]");
        assert_eq!(show(&call(jsonpath, &[order(), s("$.line_items[?@.sku == 'B2'].sku")]).unwrap()), r#"["B2"]"#);
        assert_eq!(show(&call(jsonpath, &[order(), s("$.line_items[0]")]).unwrap()), r#"[{"sku":"A1","price":19.90}]"#);
        assert_eq!(show(&call(jsonpath, &[order(), s("$.line_items[?@.price > 10].sku")]).unwrap()), r#"["A1"]"#);
        assert_eq!(show(&call(jsonpath, &[order(), s("$.line_items[-1:].sku")]).unwrap()), r#"["B2"]"#);
        assert_eq!(show(&call(jsonpath, &[Value::Null, s("$.a")]).unwrap()), "[]");
        assert_eq!(show(&call(jsonpath, &[s("text"), s("$")]).unwrap()), r#"["text"]"#);
    }

    #[test]
    fn jsonpath_never_reveals_a_secret() {
        assert_eq!(show(&call(jsonpath, &[order(), s("$.token")]).unwrap()), r#"["<redacted>"]"#);
    }

    #[test]
    fn jsonpath_rejects_an_invalid_path() {
        let err = failure(call(jsonpath, &[order(), s("$[")]));
        assert!(err.starts_with("invalid JSONPath `$[`"), "{err}");
        assert!(failure(call(jsonpath, &[order(), s("sku")])).contains("invalid JSONPath"));
    }

    #[test]
    fn sha256_hex() {
        assert_eq!(
            show(&call(sha256, &[s("abc")]).unwrap()),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            show(&call(sha256, &[s("")]).unwrap()),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(show(&call(sha256, &[s("é")]).unwrap()).len(), 64);
    }

    #[test]
    fn uuid_v5_is_deterministic() {
        let ns = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
        let a = show(&call(uuid_v5, &[s(ns), s("order-1001")]).unwrap());
        let b = show(&call(uuid_v5, &[s(ns), s("order-1001")]).unwrap());
        let c = show(&call(uuid_v5, &[s(ns), s("order-1002")]).unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.len(), 36);
        assert_eq!(a.as_bytes()[14], b'5');
        assert_eq!(a, a.to_lowercase());
        // The DNS namespace and "python.org": the value Python's uuid.uuid5 gives.
        let dns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
        assert_eq!(show(&call(uuid_v5, &[s(dns), s("python.org")]).unwrap()), "886313e1-3b8a-5372-9b90-0c9aee199e5d");
        assert_eq!(
            show(&call(uuid_v5, &[s("6BA7B810-9DAD-11D1-80B4-00C04FD430C8"), s("python.org")]).unwrap()),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d"
        );
        assert!(failure(call(uuid_v5, &[s("not-a-uuid"), s("x")])).contains("is not a UUID"));
    }

    #[test]
    fn env_reads_the_context() {
        assert_eq!(show(&call(env, &[s("ERP_URL")]).unwrap()), "https://erp.example");
        assert_eq!(failure(call(env, &[s("NOPE")])), "environment variable NOPE is not set");
    }

    #[test]
    fn secret_is_redacted_and_never_in_a_message() {
        let v = call(secret, &[s("ERP_TOKEN")]).unwrap();
        assert!(matches!(&v, Value::Secret(t) if &**t == "s3cr3t-t0ken"));
        assert_eq!(show(&v), "<redacted>");
        assert!(!format!("{:?}", to_json(&v, Redaction::Redact)).contains("s3cr3t"));
        let err = failure(call(secret, &[s("MISSING_TOKEN")]));
        assert!(err.contains("MISSING_TOKEN") && !err.contains("s3cr3t"), "{err}");
    }

    #[test]
    fn backoff_policies() {
        let exp = call(exponential, &[Value::Duration(1000), Value::Duration(120_000)]).unwrap();
        assert_eq!(show(&exp), r#"{"kind":"exponential","base_ms":1000,"max_ms":120000}"#);
        let default_cap = call(exponential, &[Value::Duration(1000)]).unwrap();
        assert_eq!(show(&default_cap), r#"{"kind":"exponential","base_ms":1000,"max_ms":300000}"#);
        let passed_null = call(exponential, &[Value::Duration(1000), Value::Null]).unwrap();
        assert_eq!(show(&passed_null), show(&default_cap));
        let long_base = call(exponential, &[Value::Duration(600_000)]).unwrap();
        assert_eq!(show(&long_base), r#"{"kind":"exponential","base_ms":600000,"max_ms":600000}"#);
        assert!(failure(call(exponential, &[Value::Duration(10_000), Value::Duration(1000)])).contains("shorter"));
        assert!(failure(call(exponential, &[Value::Int(1)])).contains("expected a duration"));
        assert!(failure(call(exponential, &[Value::Duration(u64::MAX)])).contains("too long"));
        let fixed_5s = call(fixed, &[Value::Duration(5000)]).unwrap();
        assert_eq!(show(&fixed_5s), r#"{"kind":"fixed","base_ms":5000,"max_ms":5000}"#);
        assert_eq!(fixed_5s.field("kind").map(Value::key).as_deref(), Some("fixed"));
    }
}
