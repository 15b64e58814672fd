//! One-line evaluation tests: every operator and every builtin, through the real checker,
//! IR lowering and evaluator (see `eval/harness.rs` for the flow each expression runs in).
//!
//! - `yields!(expr, shown)`: `expr` checks, evaluates, gives a value of the type the
//!   checker gave it, and that value is shown as `shown` (the notation of docs/builtins.md:
//!   `"text"`, `19.90`, `1e-1`, `[1, 2]`, `{ a: 1 }`, `2026-11-24`, `90s`).
//!   `yields!(expr, shown, type)` also checks the type the checker gave.
//! - `fails!(expr, fragment)`: `expr` checks but holds the record; `fragment` is part of
//!   `code: message` (`expression_failed: division by zero`, `no_email: ...`).
//! - `rejects!(expr, code)`: the checker refuses `expr` with the error `code`.

#[path = "eval/harness.rs"]
mod harness;

use harness::{eval, misfit, show};

#[track_caller]
fn yields_impl(expr: &str, expected: &str, ty: Option<&str>) {
    let e = eval(expr);
    let v = match e.result {
        Ok(v) => v,
        Err(stop) => panic!("`{expr}` held the record: {}: {}", stop.code, stop.message),
    };
    if let Some(m) = misfit(&v, &e.ty) {
        panic!("`{expr}` is typed {} but gave {:?}: {m}", e.ty, v);
    }
    assert_eq!(show(&v, &e.ty), expected, "`{expr}` ({:?})", v);
    if let Some(ty) = ty {
        assert_eq!(e.ty.to_string(), ty, "the type of `{expr}`");
    }
}

#[track_caller]
fn fails_impl(expr: &str, fragment: &str) {
    let e = eval(expr);
    match e.result {
        Ok(v) => panic!("`{expr}` gave {} instead of failing with `{fragment}`", show(&v, &e.ty)),
        Err(stop) => {
            let text = format!("{}: {}", stop.code, stop.message);
            assert!(text.contains(fragment), "`{expr}` failed with `{text}`, not `{fragment}`");
        }
    }
}

#[track_caller]
fn rejects_impl(expr: &str, code: &str) {
    let codes = harness::error_codes(expr);
    assert!(codes.contains(&code), "`{expr}` should be refused with {code}, got {codes:?}");
}

macro_rules! yields {
    ($expr:expr, $shown:expr) => {
        yields_impl($expr, $shown, None)
    };
    ($expr:expr, $shown:expr, $ty:expr) => {
        yields_impl($expr, $shown, Some($ty))
    };
}

macro_rules! fails {
    ($expr:expr, $fragment:expr) => {
        fails_impl($expr, $fragment)
    };
}

macro_rules! rejects {
    ($expr:expr, $code:expr) => {
        rejects_impl($expr, $code)
    };
}

// ---------------------------------------------------------------- arithmetic

#[test]
fn int_arithmetic() {
    yields!("1 + 2", "3", "Int");
    yields!("2 - 5", "-3", "Int");
    yields!("6 * 7", "42", "Int");
    yields!("-7 % 3", "-1", "Int");
    yields!("7 % -3", "1", "Int");
    yields!("-record.id", "-1001", "Int");
    yields!("--1", "1", "Int");
    yields!("1 + 2 * 3", "7");
    yields!("(1 + 2) * 3", "9");
    yields!("10 - 4 - 3", "3");
    yields!("-2 * -3", "6");
}

#[test]
fn int_division_is_an_exact_decimal() {
    yields!("6 / 3", "2", "Decimal");
    yields!("1 / 4", "0.25", "Decimal");
    yields!("1 / 8", "0.125", "Decimal");
    yields!("1 / 3", "0.3333333333333333333333333333", "Decimal");
    yields!("1 / 3 * 3", "0.9999999999999999999999999999", "Decimal");
    yields!("7 / 2 == 3.5", "true");
}

#[test]
fn int_overflow_and_zero_divisors_hold_the_record() {
    fails!("9223372036854775807 + 1", "expression_failed: arithmetic overflow");
    fails!("-9223372036854775807 - 2", "expression_failed: arithmetic overflow");
    fails!("9223372036854775807 * 2", "expression_failed: arithmetic overflow");
    fails!("-(-9223372036854775807 - 1)", "expression_failed: integer overflow");
    fails!("1 / 0", "expression_failed: division by zero");
    fails!("7 % 0", "expression_failed: remainder by zero");
    fails!("record.id / (record.id - 1001)", "division by zero");
    yields!("9223372036854775807 + 0", "9223372036854775807");
    yields!("-9223372036854775807 - 1", "-9223372036854775808");
}

#[test]
fn decimals_are_exact() {
    yields!("0.1 + 0.2", "0.3", "Decimal(1)");
    yields!("0.1 + 0.2 == 0.3", "true");
    yields!("1.10 + 2.20", "3.30", "Decimal(2)");
    yields!("1.00 + 2", "3.00", "Decimal(2)");
    yields!("2.50 * 2", "5.00", "Decimal(2)");
    yields!("1.5 * 1.5", "2.25", "Decimal(2)");
    yields!("19.99 * 3", "59.97", "Decimal(2)");
    yields!("0.10 * 0.10", "0.0100", "Decimal(4)");
    yields!("10.00 - 0.01", "9.99", "Decimal(2)");
    yields!("1 - 0.9", "0.1", "Decimal(1)");
    yields!("7.0 / 2", "3.5", "Decimal");
    yields!("1.00 / 3", "0.3333333333333333333333333333", "Decimal");
    yields!("-7.5 % 2", "-1.5", "Decimal(1)");
    yields!("-(1.5)", "-1.5", "Decimal(1)");
    yields!("12345678901234567.89 + 0.01", "12345678901234567.90");
    yields!("record.line_items.map(l => l.price * l.quantity)", "[39.80, 5.00]", "[Decimal]");
    fails!("1.0 / 0.0", "expression_failed: division by zero");
    fails!("7.5 % 0", "expression_failed: remainder by zero");
    yields!("7922816251426433759354395033.5 * 10", "79228162514264337593543950335");
    fails!("7922816251426433759354395033.5 * 100", "expression_failed: arithmetic overflow");
    fails!("7922816251426433759354395033.5 + 7922816251426433759354395033.5 * 10", "arithmetic overflow");
    rejects!("79228162514264337593543950335.0 * 10", "E0002");
}

#[test]
fn floats_are_binary() {
    yields!("0.1e0 + 0.2e0", "3.0000000000000004e-1", "Float");
    yields!("0.1e0 + 0.2e0 == 0.3e0", "false");
    yields!("1e0 + 2", "3e0", "Float");
    yields!("2 * 1.5e0", "3e0", "Float");
    yields!("1.5E3 - 1", "1.499e3", "Float");
    yields!("7e0 % 2e0", "1e0", "Float");
    yields!("1e0 / 4", "2.5e-1", "Float");
    yields!("-2E-4", "-2e-4", "Float");
    yields!("1e0 / 0e0", "inf", "Float");
    yields!("-1e0 / 0e0", "-inf", "Float");
    yields!("0e0 / 0e0", "NaN", "Float");
    yields!("1e308 * 10e0", "inf", "Float");
}

#[test]
fn decimal_and_float_do_not_mix() {
    rejects!("1.5 * 1e0", "E0106");
    rejects!("1.5 + 1e0", "E0106");
    rejects!("2.0 == 2e0", "E0106");
    rejects!("record.line_items[0]?.price ?? 0 < 1e0", "E0106");
    yields!("to_decimal(1.5e0) * 1.5", "2.25");
    yields!("to_float(1.5) * 1e0", "1.5e0");
}

#[test]
fn durations_and_times() {
    yields!("1h30m", "1h30m", "Duration");
    yields!("500ms + 500ms", "1s", "Duration");
    yields!("2m - 30s", "1m30s", "Duration");
    yields!("1s * 3", "3s", "Duration");
    yields!("3 * 1s", "3s", "Duration");
    yields!("1s * 0", "0s", "Duration");
    yields!("7d", "1w", "Duration");
    yields!("1s < 2s", "true");
    yields!("60s == 1m", "true");
    yields!("record.created_at + 1h", "2026-11-24T11:00:00Z", "DateTime");
    yields!("1h + record.created_at", "2026-11-24T11:00:00Z", "DateTime");
    yields!("record.created_at - 1d", "2026-11-23T10:00:00Z", "DateTime");
    yields!("record.created_at - 1w - 1ms", "2026-11-17T09:59:59.999Z", "DateTime");
    yields!("now() - record.created_at", "2h", "Duration");
    yields!("record.created_at - (record.created_at - 1h30m)", "1h30m", "Duration");
    yields!("now() - record.created_at > 1h", "true");
    fails!("1s * -1", "expression_failed: arithmetic overflow");
    rejects!("d + 1d", "E0123");
    rejects!("d - d", "E0123");
    rejects!("2m / 2", "E0123");
    rejects!("1s + 1", "E0123");
}

// ---------------------------------------------------------------- comparison and logic

#[test]
fn comparisons() {
    yields!("1 < 2", "true", "Bool");
    yields!("2 < 1", "false");
    yields!("1 < 2.5", "true");
    yields!("2.5 <= 2.50", "true");
    yields!("3 > 2", "true");
    yields!("3 >= 3", "true");
    yields!("3 >= 4", "false");
    yields!("2 == 2.00", "true");
    yields!("2 == 2e0", "true");
    yields!("1 != 1.0", "false");
    yields!("1 != 2", "true");
    yields!("-0.0 == 0.0", "true");
    yields!("\"a\" < \"b\"", "true");
    yields!("\"B\" < \"a\"", "true");
    yields!("\"b\" > \"a\"", "true");
    yields!("\"a\" == \"a\"", "true");
    yields!("d == d", "true");
    yields!("d < d", "false");
    yields!("record.created_at < now()", "true");
    yields!("null == null", "true");
    yields!("\"a\" == null", "false");
    yields!("record.note == null", "true");
    yields!("record.email != null", "true");
    yields!("[1, 2] == [1, 2]", "true");
    yields!("[1, 2] == [1.0, 2.00]", "true");
    yields!("[1, 2] == [2, 1]", "false");
    yields!("{ a: 1 } == { a: 1 }", "true");
    yields!("{ a: 1 } == { a: 2 }", "false");
    yields!("record.raw.a == [1, 2]", "true");
    rejects!("1 == \"a\"", "E0123");
    rejects!("d == record.created_at", "E0123");
    rejects!("true < false", "E0123");
    rejects!("[1] < [2]", "E0123");
    rejects!("record.note < \"a\"", "E0108");
}

#[test]
fn logic() {
    yields!("true and false", "false", "Bool");
    yields!("true and true", "true");
    yields!("true or false", "true");
    yields!("false or false", "false");
    yields!("not true", "false");
    yields!("not false and true", "true");
    yields!("not record.note == null", "false");
    yields!("false or true and false", "false");
    // The right side runs only when it decides the result.
    yields!("false and hold \"unreached\"", "false");
    yields!("true or hold \"unreached\"", "true");
    fails!("true and hold \"reached\"", "reached");
    fails!("false or hold \"reached\"", "reached");
    yields!("record.note != null and record.note.len() > 0", "false");
    rejects!("not 1", "E0104");
    rejects!("1 and true", "E0104");
}

#[test]
fn coalesce() {
    yields!("record.note ?? \"none\"", "\"none\"", "String");
    yields!("record.email ?? \"none\"", "\"ann@example.com\"", "String");
    yields!("null ?? 1", "1", "Int");
    yields!("record.note ?? record.email ?? \"x\"", "\"ann@example.com\"");
    yields!("record.tags[5] ?? \"none\"", "\"none\"");
    yields!("record.line_items[0]?.quantity ?? 0 + 1", "2");
    yields!("(record.line_items[9]?.quantity ?? 0) + 1", "1");
    yields!("record.email ?? hold \"no_email\"", "\"ann@example.com\"");
    fails!("record.note ?? hold \"no_note\"", "no_note: no_note");
    fails!("record.note ?? hold \"no_note\" \"order ${record.name} has no note\"", "no_note: order #1001 has no note");
}

// ---------------------------------------------------------------- strings

#[test]
fn string_literals_and_interpolation() {
    yields!("\"a\" + \"b\"", "\"ab\"", "String");
    yields!(r#""two\nlines\t\"q\" \\""#, r#""two\nlines\t\"q\" \\""#);
    yields!(r#""\${x} \u{1F4E6}""#, "\"${x} 📦\"");
    yields!(r#""nul\0""#, r#""nul\u0000""#);
    yields!(r#""${1 + 1} and ${record.name}""#, r##""2 and #1001""##, "String");
    yields!(r#""${0.10}""#, r#""0.10""#);
    yields!(r#""${record.line_items[0]?.price ?? 0}""#, r#""19.90""#);
    yields!(r#""${1e0}""#, r#""1""#);
    yields!(r#""${true}""#, r#""true""#);
    yields!(r#""${d}""#, r#""2026-11-24""#);
    yields!(r#""${record.created_at}""#, r#""2026-11-24T10:00:00Z""#);
    yields!(r#""${"in" + "ner"}""#, r#""inner""#);
    yields!(r#""${record.id}:${record.tags.count()}""#, r#""1001:2""#);
    yields!(r#""Bearer ${secret("ERP_TOKEN")}""#, "<redacted>", "Secret");
    yields!(r#""Bearer " + secret("ERP_TOKEN")"#, "<redacted>", "Secret");
    rejects!(r#""${record.note}""#, "E0108");
    rejects!(r#""${[1, 2]}""#, "E0123");
    rejects!(r#""${{ a: 1 }}""#, "E0123");
    rejects!(r#""\q""#, "E0003");
    rejects!(r#""a" + 1"#, "E0123");
    rejects!(r#"secret("ERP_TOKEN").len()"#, "E0113");
}

// ---------------------------------------------------------------- access

#[test]
fn fields_indexing_and_optional_chaining() {
    yields!("record.name", r##""#1001""##, "String");
    yields!("record.tags[0]", "\"gift\"", "String?");
    yields!("record.tags[1]", "\"vip\"");
    yields!("record.tags[2]", "null");
    yields!("record.tags[-1]", "null");
    yields!("[1, 2, 3][0]", "1", "Int?");
    yields!("[1, 2, 3][5]", "null");
    yields!("record.tags?[0]", "\"gift\"");
    yields!("record.line_items[0]?.sku", "\"A1\"", "String?");
    yields!("record.line_items[2]?.sku", "null");
    yields!("record.line_items[1]?.price", "5.00");
    yields!("record.note?.len()", "null", "Int?");
    yields!("record.email?.len()", "15");
    yields!("record.email?.upper()?.len()", "15");
    yields!("record.raw.a", "[1, 2]", "Json");
    yields!("record.raw.a[1]", "2", "Json");
    yields!("record.raw[\"a\"]", "[1, 2]");
    yields!("record.raw.b", "null");
    yields!("record.raw.zzz", "null");
    yields!("record.raw.a.zzz", "null");
    yields!("record.raw?.a", "[1, 2]");
    yields!("{ \"X-Trace\": 7 }.\"X-Trace\"", "7");
    rejects!("record.tags[0].upper()", "E0108");
    rejects!("record.line_items[1].sku", "E0108");
    rejects!("record.nope", "E0102");
    rejects!("zzz", "E0100");
}

#[test]
fn lookups() {
    yields!(r#"carriers["DHL Express"]"#, "\"DHL01\"", "String?");
    yields!(r#"carriers["UPS"]"#, "null");
    yields!(r#"carriers["UPS"] ?? "STD""#, "\"STD\"", "String");
    yields!(r#"carriers[record.name] ?? "none""#, "\"none\"");
    yields!(r#"vat_rates["GB"]"#, "0.20", "Decimal?");
    yields!(r#"vat_rates["DE"] ?? 0"#, "0.19");
    fails!(r#"carriers["UPS"] ?? hold "unknown_carrier" "no code for UPS""#, "unknown_carrier: no code for UPS");
    rejects!(r#"carriers["UPS"].len()"#, "E0108");
}

// ---------------------------------------------------------------- control

#[test]
fn if_then_else() {
    yields!("if true then 1 else 2", "1", "Int");
    yields!("if false then 1 else 2", "2");
    yields!("if false then 1 else 2.5", "2.5", "Decimal(1)");
    yields!("if record.note == null then \"none\" else record.note", "\"none\"", "String");
    yields!("if record.email != null then record.email.len() else 0", "15", "Int");
    yields!("if 1 > 2 then hold \"x\" else 3", "3", "Int");
    yields!("if 1 > 2 then 1 else if 2 > 1 then 2 else 3", "2");
    fails!("if 1 < 2 then hold \"big\" \"too big\" else 3", "big: too big");
    rejects!("if 1 then 2 else 3", "E0104");
    rejects!("if true then 1 else \"a\"", "E0104");
}

#[test]
fn match_arms() {
    yields!(r#"match 2 { 1 => "one", 2 => "two", _ => "many" }"#, "\"two\"", "String");
    yields!(r#"match 9 { 1 => "one", 2 => "two", _ => "many" }"#, "\"many\"");
    yields!(r#"match "b" { "a" | "b" => 1, _ => 2 }"#, "1", "Int");
    yields!(r#"match "c" { "a" | "b" => 1, _ => 2 }"#, "2");
    yields!(r#"match record.note { null => "none", n => n }"#, "\"none\"", "String");
    yields!(r#"match record.email { null => "none", e => e.upper() }"#, "\"ANN@EXAMPLE.COM\"");
    yields!(r#"match 0.50 { 0.5 => "half", _ => "other" }"#, "\"half\"");
    yields!(r#"match 2.00 { 2 => "two", _ => "other" }"#, "\"two\"");
    yields!(r#"match -1 { 0 => "zero", -1 => "minus", _ => "other" }"#, "\"minus\"");
    yields!("match true { true => 1, false => 0 }", "1");
    yields!(r#"match record.id { 1001 => "first", n => "order ${n}" }"#, "\"first\"");
    yields!(r#"match record.id + 1 { 1001 => "first", n => "order ${n}" }"#, "\"order 1002\"");
    fails!(r#"match "z" { "a" => 1, other => hold "bad" "got ${other}" }"#, "bad: got z");
    rejects!(r#"match record.name { "a" => 1 }"#, "E0112");
    rejects!(r#"match 1 { "a" => 1, _ => 2 }"#, "E0132");
    rejects!(r#"match record.name { null => 0, _ => 1 }"#, "E0132");
}

#[test]
fn hold_in_expressions() {
    fails!(r#"hold "x""#, "x: x");
    fails!(r#"hold "bad_total" "total ${record.id} is wrong""#, "bad_total: total 1001 is wrong");
    fails!(r#"[1, 2].map(x => if x > 1 then hold "big" else x)"#, "big");
    fails!(r#"{ a: 1, b: hold "in_record" }"#, "in_record");
    fails!(r#"[1, hold "in_list"]"#, "in_list");
    yields!(r#"record.email ?? "" + hold "unreached""#, "\"ann@example.com\"", "String");
    fails!(r#"1 + hold "in_sum""#, "in_sum");
    fails!(r#"-(hold "negated")"#, "negated");
    // An operand that holds makes the operation `Never`, not a type that fits anything.
    rejects!(r#"(record.email ?? 1 + hold "x") * 2"#, "E0123");
    fails!(r#"record.note ?? "" + hold "reached""#, "reached");
    yields!(r#"if true then 1 else hold "never""#, "1");
}

// ---------------------------------------------------------------- lists, records, lambdas

#[test]
fn list_literals() {
    yields!("[]", "[]");
    yields!("[1, 2, 3]", "[1, 2, 3]", "[Int]");
    yields!("[1, 2.5]", "[1, 2.5]", "[Decimal(1)]");
    yields!("[1, null]", "[1, null]", "[Int?]");
    yields!("[record.email, record.note]", "[\"ann@example.com\", null]", "[String?]");
    yields!("[[1], []]", "[[1], []]", "[[Int]]");
    yields!("[1, 2,]", "[1, 2]");
    rejects!(r#"[1, "a"]"#, "E0104");
}

#[test]
fn record_literals_and_spreads() {
    yields!(r#"{ a: 1, b: "x" }"#, r#"{ a: 1, b: "x" }"#, "{ a: Int, b: String }");
    yields!("{ a: 1\n b: 2 }", "{ a: 1, b: 2 }");
    yields!(r#"{ "X-Trace": 1 }"#, r#"{ "X-Trace": 1 }"#);
    yields!("{ type: 1, match: true }.type", "1");
    yields!("{ ..{ a: 1, b: 2 }, b: 3 }", "{ a: 1, b: 3 }", "{ a: Int, b: Int }");
    yields!("{ ..{ a: 1 }, ..{ a: 2 } }", "{ a: 2 }");
    yields!("{ ..{ a: 1, b: 2 }, c: 3 }", "{ a: 1, b: 2, c: 3 }");
    yields!(
        "record.line_items.map(l => { ..l, quantity: l.quantity * 10 })",
        r#"[{ sku: "A1", price: 19.90, quantity: 20 }, { sku: "B2", price: 5.00, quantity: 10 }]"#
    );
    yields!(r#"{ sku: record.line_items[0]?.sku ?? "CUSTOM", n: record.tags.count() }"#, r#"{ sku: "A1", n: 2 }"#);
    yields!("{}", "{}");
    rejects!("{ ..record.line_items[0], qty: 3 }", "E0104");
}

#[test]
fn lambdas() {
    yields!("[1, 2].map(x => x * 2)", "[2, 4]", "[Int]");
    yields!("[1, 3].map(x => x / 4)", "[0.25, 0.75]", "[Decimal]");
    yields!("[[1, 2], [3]].map(xs => xs.sum())", "[3, 3]");
    yields!("[1, 2].map(x => [1, 2, 3].filter(y => y > x))", "[[2, 3], [3]]");
    yields!("[1, 2].map(x => [10, 20].map(y => x + y))", "[[11, 21], [12, 22]]");
    yields!("[1, 2].map(x => record.id + x)", "[1002, 1003]");
    yields!("[1, 2].map(x => d)", "[2026-11-24, 2026-11-24]");
    yields!("record.line_items.sum(l => l.price * l.quantity)", "44.80", "Decimal");
    yields!("record.line_items.map(l => l.sku).join(\",\")", "\"A1,B2\"");
    // A lambda's result type binds the element type a builtin returns.
    yields!("[1, 2].flat_map(x => [x, x])", "[1, 1, 2, 2]", "[Int]");
    rejects!("[1, 2].flat_map(x => [x, x]).map(x => x.upper())", "E0104");
    fails!("[1, 0].map(x => 1 / x)", "division by zero");
    rejects!("x => x", "E0124");
    rejects!("[1, 2].map((a, b) => a)", "E0124");
    rejects!("[1, 2].filter(x => x)", "E0104");
}

#[test]
fn calls() {
    yields!(r#"upper("a")"#, "\"A\"");
    yields!(r#""a".upper()"#, "\"A\"");
    yields!(r#"upper(s: "a")"#, "\"A\"");
    yields!(r#"pad_left("7", fill: "0", width: 3)"#, "\"007\"");
    yields!("round(2.345, 2, mode: half_up)", "2.35");
    rejects!("nope(1)", "E0103");
    rejects!(r#"upper("a", "b")"#, "E0105");
    rejects!(r#"upper(x: "a")"#, "E0125");
    rejects!("round(1.5, 2)", "E0133");
    rejects!("to_decimal(1.5)", "E0104");
}
