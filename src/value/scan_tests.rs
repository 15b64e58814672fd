//! The fast decoder against the serde path: every kind of value, real payloads, and
//! byte-mutated payloads, which it must either leave unanswered or decode identically.

use std::path::{Path, PathBuf};

use super::*;
use crate::types::Fields;
use crate::value::decode::decode_json_serde;

/// The contract: the fast path is silent, or says exactly what the serde path says.
/// Returns whether it answered.
fn agrees(doc: &[u8], ty: &Type, plan: &Plan) -> bool {
    crate::value::decoders_agree(doc, ty, plan).unwrap_or_else(|e| panic!("{e}"))
}

fn record(name: &str, fields: &[(&str, Type)]) -> Type {
    let fields: Fields = fields.iter().map(|(n, t)| (n.to_string(), t.clone())).collect();
    Type::Record(Arc::new(RecordType { name: Some(name.into()), fields }))
}

/// The plans a value of `ty` can be decoded under: whole, checked only, and for a
/// record, every other field built.
fn plans(ty: &Type) -> Vec<Plan> {
    let mut plans = vec![Plan::Build, Plan::Check];
    if let Type::Record(r) = ty.strip_optional() {
        let alternate = (0..r.fields.len()).map(|i| if i % 2 == 0 { Plan::Build } else { Plan::Check }).collect();
        plans.push(Plan::Record(alternate));
    }
    plans
}

/// Documents both decoders accept: the fast path must answer them, identically.
fn answered(ty: &Type, docs: &[&str]) {
    for doc in docs {
        for plan in plans(ty) {
            assert!(agrees(doc.as_bytes(), ty, &plan), "the fast path declined {ty} {plan:?}: {doc}");
        }
    }
}

/// Documents the serde path refuses (so the fast path must too).
fn refused(ty: &Type, docs: &[&str]) {
    for doc in docs {
        for plan in plans(ty) {
            assert!(decode_json_serde(doc.as_bytes(), ty, &plan).is_err(), "serde accepts {ty} {plan:?}: {doc}");
            assert!(!agrees(doc.as_bytes(), ty, &plan));
        }
    }
}

#[test]
fn strings_and_escapes() {
    let docs = [
        r#""abc""#,
        r#""""#,
        r#""a\"b\\c\/d\b\f\n\r\t""#,
        r#""\u00e9\u00E9 \ud83d\ude00 \u0000""#,
        "\"héllo ☃ 😀\"",
        r#""x\u0041y""#,
    ];
    answered(&Type::String, &docs);
    answered(&Type::Json, &docs);
    answered(&Type::String.optional(), &["null", r#""a""#]);
    refused(&Type::String, &["1", "null", "true", "\"tab\tin\"", r#""\x""#, r#""\u12""#, r#""abc"#, "\"\\", "[]"]);
    // Lone surrogates: the serde path refuses them; the fast path leaves them to it.
    refused(&Type::String, &[r#""\ud800""#, r#""\udc00x""#, r#""\ud800\u0041""#]);
}

#[test]
fn integers() {
    let docs =
        ["0", "-0", "42", "-42", "9223372036854775807", "-9223372036854775808", r#""12""#, r#"" 12 ""#, r#""+3""#];
    answered(&Type::Int, &docs);
    answered(&Type::Int.optional(), &["null", "7"]);
    answered(&Type::Duration, &["0", "1500", "18446744073709551615"]);
    refused(&Type::Int, &["9223372036854775808", "18446744073709551616", "-9223372036854775809", "1.0", "1e5"]);
    refused(&Type::Int, &["01", "-01", "1.", ".5", "-", "+1", "1e", "1e+", "--1", "true", "null", r#""x""#, r#""""#]);
    refused(&Type::Duration, &["-1", "1.5", "18446744073709551616"]);
}

#[test]
fn decimals_and_floats() {
    let docs = [
        "0.1",
        "12345678901234567.89",
        "1e5",
        "1E5",
        "1e+5",
        "1e-5",
        "2.5E-3",
        "-0",
        "-0.0",
        "1.50",
        "7",
        "18446744073709551615",
        "-9223372036854775809",
        r#""19.99""#,
        r#""+1.5""#,
        r#"".5""#,
        r#"" 3.25 ""#,
    ];
    answered(&Type::Decimal(None), &docs);
    answered(&Type::Float, &docs);
    answered(&Type::Json, &docs[..12]);
    answered(&Type::Decimal(Some(2)), &["1.50", "1.5000", "3", r#""2.10""#, "1e2"]);
    answered(&Type::Float, &["1e308", "1e309", "-1e309", "123456789012345678901234567890"]);
    answered(&Type::Json, &["123456789012345678901234567890", "1e400", "-1e400", "1e-400"]);
    refused(&Type::Decimal(Some(2)), &["1.555", "1e-3", r#""1.555""#]);
    refused(&Type::Decimal(None), &["123456789012345678901234567890", "1e400", r#""abc""#, r#""""#, "true"]);
    refused(&Type::Float, &[r#""x1""#, "null", "[1]"]);
}

#[test]
fn other_scalars() {
    answered(&Type::Bool, &["true", "false", r#""true""#, r#""False""#, r#""1""#, r#""0""#]);
    refused(&Type::Bool, &[r#""yes""#, "1", "null", "tru", "falsey"]);
    answered(&Type::Date, &[r#""2024-01-31""#, r#"" 2024-02-29 ""#]);
    refused(&Type::Date, &[r#""2024-02-30""#, r#""x""#, "20240131"]);
    answered(&Type::DateTime, &[r#""2024-01-31T10:00:00+02:00""#, r#""2024-01-31T10:00:00Z""#]);
    refused(&Type::DateTime, &[r#""2024-01-31""#, "1"]);
    let status = Type::Union(Arc::from(vec!["paid".to_string(), "pending".to_string()]));
    answered(&status, &[r#""paid""#, r#""pending""#]);
    answered(&status.clone().optional(), &["null", r#""paid""#]);
    refused(&status, &[r#""other""#, r#""Paid""#, "1", "null"]);
    answered(&Type::Null, &["null"]);
    refused(&Type::Null, &["1", r#""""#]);
    refused(&Type::Secret, &[r#""s""#, "1"]);
}

#[test]
fn untyped_json() {
    let docs = [
        r#"{"a": 1, "b": [1, 2.5, "x", null, true, {}], "c": {"d": -0}}"#,
        r#"{"a": 1, "a": 2}"#,
        r#"{"k\u00e9y": "v", "": 0}"#,
        "{}",
        "[]",
        "[[[]]]",
        "null",
        " \t\n\r[1 , 2 ]\r\n",
    ];
    answered(&Type::Json, &docs);
    answered(&Type::Json.optional(), &docs);
    refused(&Type::Json, &["", " ", "[1,]", "[1 2]", r#"{"a" 1}"#, r#"{"a":1,}"#, "{1:2}", "[", "{", "nul"]);
    refused(&Type::Json, &["\u{c}1", "1 x", "{}{", "[] []", "\"\u{1}\""]);
    // The key serde_json smuggles exact numbers with is left to the serde path.
    for doc in [r#"{"$serde_json::private::Number": "1.5"}"#, r#"{"a": {"$serde_json::private::Number": 1}}"#] {
        assert!(decode(doc.as_bytes(), &Type::Json, &Plan::Build).is_none());
    }
}

#[test]
fn lists() {
    let ints = Type::Int.list();
    answered(&ints, &["[]", "[1, 2 ,3]", r#"["4", 5]"#, " [ ] "]);
    answered(&Type::Int.optional().list(), &["[1, null]"]);
    answered(&ints.clone().optional(), &["null", "[1]"]);
    refused(&ints, &["[1,]", "[1 2]", "[[1]]", "[null]", "{}", "1", "[1.5]", "[1"]);
    answered(&Type::Json.list(), &[r#"[{"a": 1}, [2], "3"]"#]);
}

#[test]
fn keys_matched_in_place_are_whole_keys() {
    // Names with characters JSON escapes are never matched in place; names that are
    // prefixes of others are matched only up to their closing quote.
    let ty = record(
        "Odd",
        &[
            ("a\\b", Type::Int.optional()),
            ("q\"", Type::Int.optional()),
            ("ab", Type::Int.optional()),
            ("abc", Type::Int.optional()),
            ("é", Type::Int.optional()),
        ],
    );
    let docs = [
        r#"{"a\\b": 1, "q\"": 2, "ab": 3, "abc": 4, "é": 5}"#,
        // Its bytes spell the first name, but the key is "a", backspace.
        r#"{"a\b": 1}"#,
        r#"{"abc": 4, "ab": 3, "\u00e9": 5, "a\u005cb": 1}"#,
        r#"{"ab" : 3 , "abc":4, "abcd": 9, "a": 0}"#,
        r#"{"ab": 3, "é": 5}"#,
    ];
    // Twice each: the second time the decoder guesses from the order it learned.
    for doc in docs.iter().chain(&docs) {
        assert!(agrees(doc.as_bytes(), &ty, &Plan::Build), "{doc}");
    }
    let v = decode(docs[2].as_bytes(), &ty, &Plan::Build).expect("answered");
    let shown: Vec<String> =
        ["a\\b", "ab", "abc", "é"].iter().map(|k| v.field(k).map(|x| x.to_string()).unwrap_or_default()).collect();
    assert_eq!(shown, ["1", "3", "4", "5"]);
    refused(&ty, &[r#"{"ab": 1, "ab"}"#, r#"{"ab" 1}"#]);
}

fn order() -> Type {
    let line = record("Line", &[("sku", Type::String.optional()), ("price", Type::Decimal(None)), ("qty", Type::Int)]);
    record(
        "Order",
        &[
            ("id", Type::Int),
            ("total", Type::Decimal(Some(2))),
            ("lines", line.list()),
            ("paid", Type::Bool),
            ("note", Type::Json),
            ("placed", Type::Date.optional()),
            ("extra", Type::Json.optional()),
        ],
    )
}

#[test]
fn records() {
    let ty = order();
    answered(
        &ty,
        &[
            r#"{"id": 1, "total": "1.50", "lines": [{"price": 2, "qty": 1}], "paid": true}"#,
            r#"{"paid": false, "lines": [], "total": 3, "id": 2, "note": {"x": [1, {"y": null}]}}"#,
            r#"{"id": 1, "id": 5, "total": 1, "total": "2.00", "lines": [], "paid": "1", "placed": "2024-01-02"}"#,
            r#"{"i\u0064": 1, "total": 1, "lines": [{"sku": "A\nB", "price": "0.1", "qty": 3, "more": [1e5]}], "paid": true}"#,
            r#"{"skip": {"a": [1, -0.5e-3, "\ud83d\ude00", true, null, {}]}, "id": 1, "total": 1, "lines": [], "paid": true}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true, "extra": {"n": 12345678901234567890}, "note": null}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true, "extra": 1.25}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true, "extra": [2, 2.5, "x"]}"#,
        ],
    );
    refused(
        &ty,
        &[
            r#"{"total": 1, "lines": [], "paid": true}"#,
            r#"{"id": 1, "total": 1.555, "lines": [], "paid": true}"#,
            r#"{"id": 1, "total": 1, "lines": [{"price": 1}], "paid": true}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true, "skip": [1,}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true, "skip": 01}"#,
            r#"{"id": 1, "id": "x", "total": 1, "lines": [], "paid": true}"#,
            r#"{"id": 1, "total": 1, "lines": [], "paid": true} x"#,
            "[]",
            "1.5",
            "null",
        ],
    );
    // Records nest, and their plans with them.
    let outer = record("Outer", &[("order", ty.clone()), ("orders", ty.list()), ("n", Type::Int)]);
    let one = r#"{"id": 1, "total": 1, "lines": [{"price": 2, "qty": 1, "sku": null}], "paid": true}"#;
    let doc = format!(r#"{{"orders": [{one}, {one}], "order": {one}, "n": 3}}"#);
    let inner = Plan::Record(vec![Plan::Check, Plan::Build, Plan::Check, Plan::Build]);
    let plan = Plan::Record(vec![inner.clone(), Plan::List(Box::new(inner)), Plan::Check]);
    assert!(agrees(doc.as_bytes(), &outer, &plan));
    answered(&outer, &[&doc]);
}

#[test]
fn multi_byte_characters_at_every_offset() {
    // Every slice this decoder takes is at an ASCII byte; a character of two, three or
    // four bytes in place of any byte, or before it, must never split one.
    let ty = record(
        "Timed",
        &[
            ("id", Type::Int),
            ("at", Type::DateTime),
            ("on", Type::Date.optional()),
            ("total", Type::Decimal(Some(2))),
            ("name", Type::String),
            ("extra", Type::Json.optional()),
        ],
    );
    let doc = r#"{"id": 1, "at": "2026-11-24T10:00:00.5+02:00", "on": "2026-11-30", "total": "19.99", "name": "Zoë", "extra": {"kéy": [1.5e3, "x"]}}"#;
    let plan = Plan::Record(vec![Plan::Build, Plan::Check, Plan::Check, Plan::Check, Plan::Build, Plan::Check]);
    let mut answered = 0;
    for c in ['é', '☃', '😀'] {
        let c = c.to_string();
        for at in (0..=doc.len()).filter(|&i| doc.is_char_boundary(i)) {
            let next = doc[at..].chars().next().map_or(0, char::len_utf8);
            for mutant in [
                format!("{}{c}{}", &doc[..at], &doc[at..]),
                format!("{}{c}{}", &doc[..at], &doc[(at + next).min(doc.len())..]),
            ] {
                for plan in [&Plan::Build, &Plan::Check, &plan] {
                    answered += usize::from(agrees(mutant.as_bytes(), &ty, plan));
                }
                agrees(mutant.as_bytes(), &Type::Json, &Plan::Build);
            }
        }
    }
    assert!(answered > 100, "characters inside strings are still read here ({answered})");
}

#[test]
fn nesting_and_input_edges() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(agrees(deep(MAX_DEPTH).as_bytes(), &Type::Json, &Plan::Build));
    assert!(!agrees(deep(MAX_DEPTH + 1).as_bytes(), &Type::Json, &Plan::Build));
    assert!(!agrees(deep(200).as_bytes(), &Type::Json, &Plan::Check));
    for doc in [&b"\"\xff\""[..], b"\"\xc3\"", b"\xef\xbb\xbf{}"] {
        assert!(decode(doc, &Type::Json, &Plan::Build).is_none());
    }
}

#[test]
fn string_runs_end_at_the_first_special_byte() {
    // Every special byte at every offset of a run longer than one word, among bytes
    // on either side of the special ranges.
    let plain = [b'a', b' ', b'!', b'#', b'[', b']', 0x7f, 0x80, 0xc3, 0xff];
    for special in [b'"', b'\\', 0x00, 0x1f, b'\n'] {
        for len in 0..20 {
            for at in 0..=len {
                let mut bytes: Vec<u8> = (0..len).map(|i| plain[i % plain.len()]).collect();
                if at < len {
                    bytes[at] = special;
                }
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let scanner =
                    Scanner { text: &text, bytes: text.as_bytes(), pos: 0, depth: 0, order: KeyOrder::default() };
                let naive = text.bytes().position(|b| b == b'"' || b == b'\\' || b < 0x20).unwrap_or(text.len());
                assert_eq!(scanner.plain_run(), naive, "{text:?}");
            }
        }
    }
}

/// A source type and decode plan, as the runtime derives them from a flow.
fn flow_source(flow: &str) -> (Type, Plan) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows").join(flow);
    let outcome = crate::check_files(&[path]).expect("the flow reads");
    let program = outcome.ir().expect("the flow checks");
    let flow = &program.flows[0];
    let ty = flow.source.ty.clone();
    let plan = Plan::for_type(&ty, &crate::ir::Demand::of_flow(&program, flow));
    (ty, plan)
}

fn payloads(dir: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("flows/payloads/shopify").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    files.into_iter().map(|p| (p.clone(), std::fs::read(&p).unwrap())).collect()
}

#[test]
fn real_payloads_take_the_fast_path() {
    for (flow, dir) in [("shopify_orders_to_erp.flow", "orders"), ("shopify_inventory_to_erp.flow", "inventory_levels")]
    {
        let (ty, plan) = flow_source(flow);
        if dir == "orders" {
            assert_ne!(plan, Plan::Build, "{flow}: the flow reads only part of its records");
        }
        for (path, doc) in payloads(dir) {
            for plan in [&Plan::Build, &plan, &Plan::Check] {
                assert!(agrees(&doc, &ty, plan), "the fast path declined {}", path.display());
            }
            assert!(agrees(&doc, &Type::Json, &Plan::Build), "{}", path.display());
        }
    }
}

/// A tiny deterministic generator (xorshift64), for reproducible mutants.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// `doc` with one byte replaced, inserted or removed: mostly bytes that mean
/// something to JSON, sometimes any byte.
fn mutant(doc: &[u8], rng: &mut Rng) -> Vec<u8> {
    const MEANINGFUL: &[u8] = b"{}[]\",:\\ 0123456789-+.eEntfu\"\x1f\x7f";
    let mut m = doc.to_vec();
    let at = rng.below(m.len());
    let byte = if rng.below(4) == 0 { rng.below(256) as u8 } else { MEANINGFUL[rng.below(MEANINGFUL.len())] };
    match rng.below(3) {
        0 => m[at] = byte,
        1 => m.insert(at, byte),
        _ => drop(m.remove(at)),
    }
    m
}

#[test]
fn mutated_payloads_keep_the_contract() {
    let (ty, plan) = flow_source("shopify_orders_to_erp.flow");
    let docs: Vec<Vec<u8>> = payloads("orders").into_iter().map(|(_, d)| d).filter(|d| d.len() < 12_000).collect();
    assert!(!docs.is_empty());
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let (mut tried, mut answered) = (0, 0);
    for round in 0..3000 {
        let doc = mutant(&docs[round % docs.len()], &mut rng);
        for plan in [&Plan::Build, &plan] {
            tried += 1;
            answered += usize::from(agrees(&doc, &ty, plan));
        }
        if round % 8 == 0 {
            agrees(&doc, &Type::Json, &Plan::Build);
        }
    }
    // Many mutants stay valid (a changed digit, a changed letter): the fast path
    // must still be taking those.
    assert!(answered > tried / 10, "only {answered} of {tried} mutants answered");
    eprintln!("{answered} of {tried} mutants answered");
}
