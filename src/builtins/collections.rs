//! List builtins. Lambdas receive each element: `xs.map(x => x.sku)`.

use std::cmp::Ordering;
use std::collections::HashSet;

use ecow::EcoVec;
use indexmap::IndexMap;

use super::numbers::widen;
use super::{arg, decl, lambda_arg, list_arg, Arg, Decl, EvalContext, EvalError, Lambda};
use crate::value::Value;

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl("map(xs: [T], f: (T) -> U) -> [U]", "Transforms every element.", &[("[1, 2].map(x => x * 2)", "[2, 4]")])
            .with(map),
        decl(
            "filter(xs: [T], keep: (T) -> Bool) -> [T]",
            "The elements for which `keep` is true.",
            &[("[1, 2, 3].filter(x => x > 1)", "[2, 3]")],
        )
        .with(filter),
        decl(
            "map(xs: [T], f: (T, Int) -> U) -> [U]",
            "Transforms every element, given with its position from 0.",
            &[(r#"["a", "b"].map((x, i) => "${i + 1}. ${x}")"#, r#"["1. a", "2. b"]"#)],
        )
        .with(map_indexed),
        decl(
            "filter(xs: [T], keep: (T, Int) -> Bool) -> [T]",
            "The elements for which `keep` is true, given each with its position from 0.",
            &[("[5, 6, 7].filter((x, i) => i > 0)", "[6, 7]")],
        )
        .with(filter_indexed),
        decl(
            "flat_map(xs: [T], f: (T) -> [U]) -> [U]",
            "Transforms every element into a list and concatenates them.",
            &[("[1, 2].flat_map(x => [x, x])", "[1, 1, 2, 2]")],
        )
        .with(flat_map),
        decl(
            "concat(lists: [[T]]) -> [T]",
            "The lists one after another, as `+` joins two.",
            &[("[[1, 2], [], [3]].concat()", "[1, 2, 3]")],
        )
        .with(concat),
        decl("sum(xs: [N]) -> N", "The exact sum (0 for an empty list).", &[("[1.10, 2.20].sum()", "3.30")]).with(sum),
        decl(
            "sum(xs: [T], f: (T) -> N) -> N",
            "The exact sum of `f` over the elements.",
            &[("[1, 2].sum(x => x * 1.5)", "4.5")],
        )
        .with(sum_by),
        decl("count(xs: [T]) -> Int", "The number of elements.", &[("[1, 2].count()", "2")]).with(count),
        decl(
            "count(xs: [T], f: (T) -> Bool) -> Int",
            "The number of elements for which `f` is true.",
            &[("[1, 2, 3].count(x => x > 1)", "2")],
        )
        .with(count_if),
        decl("len(xs: [T]) -> Int", "The number of elements.", &[("[1, 2].len()", "2")]).with(len),
        decl(
            "all(xs: [T], f: (T) -> Bool) -> Bool",
            "Whether `f` is true for every element (true for an empty list).",
            &[("[1, 2].all(x => x > 0)", "true")],
        )
        .with(all),
        decl(
            "any(xs: [T], f: (T) -> Bool) -> Bool",
            "Whether `f` is true for some element.",
            &[("[1, 2].any(x => x > 1)", "true")],
        )
        .with(any),
        decl("first(xs: [T]) -> T?", "The first element; absent for an empty list.", &[("[1, 2].first()", "1")])
            .with(first),
        decl("last(xs: [T]) -> T?", "The last element; absent for an empty list.", &[("[1, 2].last()", "2")])
            .with(last),
        decl("is_empty(xs: [T]) -> Bool", "Whether the list has no element.", &[("[].is_empty()", "true")])
            .with(is_empty),
        decl(
            "contains(xs: [T], x: T) -> Bool",
            "Whether `x` is an element.",
            &[(r#"["a", "b"].contains("b")"#, "true")],
        )
        .with(contains),
        decl(
            "unique(xs: [T]) -> [T]",
            "The elements without repeats, first occurrence kept.",
            &[("[1, 2, 1].unique()", "[1, 2]")],
        )
        .with(unique),
        decl(
            "is_unique(xs: [T]) -> Bool",
            "Whether no element repeats (for `validate`).",
            &[(r#"["a", "b", "a"].is_unique()"#, "false")],
        )
        .with(is_unique),
        decl(
            "unique_by(xs: [T], key: (T) -> K) -> [T]",
            "The elements without repeated keys, first occurrence kept.",
            &[("[1, 2, 3].unique_by(x => x % 2)", "[1, 2]")],
        )
        .with(unique_by),
        decl(
            "group_by(xs: [T], key: (T) -> K) -> [{ key: K, items: [T] }]",
            "Groups elements by key, in order of first appearance.",
            &[("[1, 2, 3].group_by(x => x % 2)", "[{ key: 1, items: [1, 3] }, { key: 0, items: [2] }]")],
        )
        .with(group_by),
        decl(
            "sort_by(xs: [T], key: (T) -> C) -> [T]",
            "A stable sort by key, ascending.",
            &[("[3, 1, 2].sort_by(x => x)", "[1, 2, 3]")],
        )
        .with(sort_by),
        decl(
            "compact(xs: [T?]) -> [T]",
            "The elements that are present.",
            &[(r#"["a", null, "b"].compact()"#, r#"["a", "b"]"#)],
        )
        .with(compact),
        decl(
            "zip(xs: [T], ys: [U]) -> [{ left: T, right: U }]",
            "Pairs elements by position, as long as the shorter list.",
            &[("[1, 2].zip([\"a\", \"b\"])", r#"[{ left: 1, right: "a" }, { left: 2, right: "b" }]"#)],
        )
        .with(zip),
        decl("reverse(xs: [T]) -> [T]", "The elements in reverse order.", &[("[1, 2].reverse()", "[2, 1]")])
            .with(reverse),
    ]
}

/// What a `(T) -> Bool` lambda gave: `null` counts as false.
fn condition(v: Value) -> Result<bool, EvalError> {
    match v {
        Value::Bool(b) => Ok(b),
        Value::Null => Ok(false),
        other => Err(super::expected("a boolean", &other)),
    }
}

/// The list argument and the lambda after it.
fn list_and_lambda<'v>(args: &'v [Arg<'_>]) -> Result<(&'v [Value], Lambda<'v>), EvalError> {
    Ok((list_arg(args, 0)?, lambda_arg(args, 1)?))
}

fn count_of(n: usize) -> Result<Value, EvalError> {
    Ok(Value::Int(i64::try_from(n).map_err(|_| EvalError::failed("list too long"))?))
}

fn map(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    Ok(Value::list(xs.iter().map(|x| f(std::slice::from_ref(x))).collect::<Result<_, _>>()?))
}

fn filter(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, keep) = list_and_lambda(args)?;
    let mut out = EcoVec::new();
    for x in xs {
        if condition(keep(std::slice::from_ref(x))?)? {
            out.push(x.clone());
        }
    }
    Ok(Value::list(out))
}

/// An element and its position, as a two-parameter lambda takes them.
fn with_index(x: &Value, i: usize) -> Result<[Value; 2], EvalError> {
    Ok([x.clone(), Value::Int(i64::try_from(i).map_err(|_| EvalError::failed("list too long"))?)])
}

fn map_indexed(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    Ok(Value::list(xs.iter().enumerate().map(|(i, x)| f(&with_index(x, i)?)).collect::<Result<_, _>>()?))
}

fn filter_indexed(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, keep) = list_and_lambda(args)?;
    let mut out = EcoVec::new();
    for (i, x) in xs.iter().enumerate() {
        if condition(keep(&with_index(x, i)?)?)? {
            out.push(x.clone());
        }
    }
    Ok(Value::list(out))
}

fn flat_map(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    let mut out = EcoVec::new();
    for x in xs {
        match f(std::slice::from_ref(x))? {
            Value::List(items) => out.extend(items.iter().cloned()),
            Value::Null => {}
            other => return Err(super::expected("a list", &other)),
        }
    }
    Ok(Value::list(out))
}

fn concat(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let mut out = EcoVec::new();
    for xs in list_arg(args, 0)? {
        match xs {
            Value::List(items) => out.extend(items.iter().cloned()),
            Value::Null => {}
            other => return Err(super::expected("a list", other)),
        }
    }
    Ok(Value::list(out))
}

/// `a + b` for the sums: Ints stay Ints (checked), Decimals stay exact, an Int meets
/// a Decimal or a Float in the wider type.
fn add(a: &Value, b: &Value) -> Result<Value, EvalError> {
    let overflow = || EvalError::failed(format!("the sum overflows: {a} + {b}"));
    Ok(match widen(a, b)? {
        (Value::Int(x), Value::Int(y)) => Value::Int(x.checked_add(y).ok_or_else(overflow)?),
        (Value::Decimal(x), Value::Decimal(y)) => Value::Decimal(x.checked_add(y).ok_or_else(overflow)?),
        (Value::Float(x), Value::Float(y)) => Value::Float(x + y),
        (x, _) => return Err(super::expected("a number", &x)),
    })
}

fn total(values: impl Iterator<Item = Result<Value, EvalError>>) -> Result<Value, EvalError> {
    let mut acc = Value::Int(0);
    for v in values {
        acc = add(&acc, &v?)?;
    }
    Ok(acc)
}

fn sum(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    total(list_arg(args, 0)?.iter().cloned().map(Ok))
}

fn sum_by(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    total(xs.iter().map(|x| f(std::slice::from_ref(x))))
}

fn count(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    count_of(list_arg(args, 0)?.len())
}

fn len(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    count_of(list_arg(args, 0)?.len())
}

fn count_if(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    let mut n = 0;
    for x in xs {
        if condition(f(std::slice::from_ref(x))?)? {
            n += 1;
        }
    }
    count_of(n)
}

fn all(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    for x in xs {
        if !condition(f(std::slice::from_ref(x))?)? {
            return Ok(Value::Bool(false));
        }
    }
    Ok(Value::Bool(true))
}

fn any(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, f) = list_and_lambda(args)?;
    for x in xs {
        if condition(f(std::slice::from_ref(x))?)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

fn first(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(list_arg(args, 0)?.first().cloned().unwrap_or(Value::Null))
}

fn last(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(list_arg(args, 0)?.last().cloned().unwrap_or(Value::Null))
}

fn is_empty(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Bool(list_arg(args, 0)?.is_empty()))
}

fn contains(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, x) = (list_arg(args, 0)?, arg(args, 1)?);
    Ok(Value::Bool(xs.iter().any(|y| y.equals(x))))
}

/// The identity `unique`, `unique_by` and `group_by` use: `Value::key`, with strings
/// kept apart from the numbers, booleans and `null` whose key reads the same.
fn identity(v: &Value) -> (bool, String) {
    (matches!(v, Value::Str(_)), v.key().into_owned())
}

fn unique(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let mut seen = HashSet::new();
    Ok(Value::list(list_arg(args, 0)?.iter().filter(|x| seen.insert(identity(x))).cloned().collect()))
}

fn is_unique(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let mut seen = HashSet::new();
    Ok(Value::Bool(list_arg(args, 0)?.iter().all(|x| seen.insert(identity(x)))))
}

fn unique_by(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, key) = list_and_lambda(args)?;
    let mut seen = HashSet::new();
    let mut out = EcoVec::new();
    for x in xs {
        if seen.insert(identity(&key(std::slice::from_ref(x))?)) {
            out.push(x.clone());
        }
    }
    Ok(Value::list(out))
}

fn group_by(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, key) = list_and_lambda(args)?;
    let mut groups: IndexMap<(bool, String), (Value, EcoVec<Value>)> = IndexMap::new();
    for x in xs {
        let k = key(std::slice::from_ref(x))?;
        groups.entry(identity(&k)).or_insert_with(|| (k, EcoVec::new())).1.push(x.clone());
    }
    Ok(Value::list(
        groups
            .into_values()
            .map(|(k, items)| Value::record(vec![("key".to_string(), k), ("items".to_string(), Value::list(items))]))
            .collect(),
    ))
}

fn sort_by(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, key) = list_and_lambda(args)?;
    let mut keyed: Vec<(Value, &Value)> =
        xs.iter().map(|x| Ok((key(std::slice::from_ref(x))?, x))).collect::<Result<_, EvalError>>()?;
    let mut clash: Option<(Value, Value)> = None;
    keyed.sort_by(|(a, _), (b, _)| {
        a.compare(b).unwrap_or_else(|| {
            clash.get_or_insert_with(|| (a.clone(), b.clone()));
            Ordering::Equal
        })
    });
    if let Some((a, b)) = clash {
        return Err(EvalError::failed(format!("cannot sort: {} and {} do not compare", a.kind(), b.kind())));
    }
    Ok(Value::list(keyed.into_iter().map(|(_, x)| x.clone()).collect()))
}

fn compact(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::list(list_arg(args, 0)?.iter().filter(|x| !x.is_null()).cloned().collect()))
}

fn zip(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, ys) = (list_arg(args, 0)?, list_arg(args, 1)?);
    Ok(Value::list(
        xs.iter()
            .zip(ys)
            .map(|(x, y)| Value::record(vec![("left".to_string(), x.clone()), ("right".to_string(), y.clone())]))
            .collect(),
    ))
}

fn reverse(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::list(list_arg(args, 0)?.iter().rev().cloned().collect()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, call_with, d, failure, ints, s, show, strs};

    fn int(v: &Value) -> i64 {
        match v {
            Value::Int(n) => *n,
            other => panic!("expected an Int, got {other:?}"),
        }
    }

    fn times(k: i64) -> impl Fn(&[Value]) -> Result<Value, EvalError> {
        move |x: &[Value]| Ok(Value::Int(int(&x[0]) * k))
    }

    fn above(k: i64) -> impl Fn(&[Value]) -> Result<Value, EvalError> {
        move |x: &[Value]| Ok(Value::Bool(int(&x[0]) > k))
    }

    fn modulo(k: i64) -> impl Fn(&[Value]) -> Result<Value, EvalError> {
        move |x: &[Value]| Ok(Value::Int(int(&x[0]) % k))
    }

    fn boom(_: &[Value]) -> Result<Value, EvalError> {
        Err(EvalError::hold("boom", None))
    }

    #[test]
    fn map_filter_flat_map() {
        assert_eq!(show(&call_with(map, ints(&[1, 2]), &times(2)).unwrap()), "[2,4]");
        assert_eq!(show(&call_with(map, ints(&[]), &times(2)).unwrap()), "[]");
        assert_eq!(show(&call_with(filter, ints(&[1, 2, 3]), &above(1)).unwrap()), "[2,3]");
        assert_eq!(show(&call_with(filter, ints(&[1]), &|_: &[Value]| Ok(Value::Null)).unwrap()), "[]");
        assert!(failure(call_with(filter, ints(&[1]), &|_: &[Value]| Ok(Value::Int(1)))).contains("boolean"));
        let twice = |x: &[Value]| Ok(Value::list(ecow::eco_vec![x[0].clone(), x[0].clone()]));
        assert_eq!(show(&call_with(flat_map, ints(&[1, 2]), &twice).unwrap()), "[1,1,2,2]");
        assert_eq!(show(&call_with(flat_map, ints(&[1, 2]), &|_: &[Value]| Ok(Value::Null)).unwrap()), "[]");
        assert!(failure(call_with(flat_map, ints(&[1]), &times(1))).contains("expected a list"));
    }

    #[test]
    fn a_lambda_error_stops_the_call() {
        for imp in [map, filter, flat_map, sum_by, count_if, all, any, unique_by, group_by, sort_by] {
            let result = call_with(imp, ints(&[1]), &boom).map_err(EvalError::into_failure);
            assert!(matches!(result, Err(crate::builtins::Failure::Hold { .. })));
        }
    }

    #[test]
    fn sums_are_exact() {
        assert_eq!(show(&call(sum, &[Value::list(ecow::eco_vec![d("1.10"), d("2.20")])]).unwrap()), "3.30");
        assert_eq!(show(&call(sum, &[Value::list(ecow::eco_vec![d("0.1"), d("0.2")])]).unwrap()), "0.3");
        assert!(matches!(call(sum, &[ints(&[1, 2, 3])]), Ok(Value::Int(6))));
        assert!(matches!(call(sum, &[ints(&[])]), Ok(Value::Int(0))));
        assert_eq!(show(&call(sum, &[Value::list(ecow::eco_vec![Value::Int(1), d("0.50")])]).unwrap()), "1.50");
        assert!(
            matches!(call(sum, &[Value::list(ecow::eco_vec![Value::Float(0.5), Value::Int(1)])]), Ok(Value::Float(x)) if x == 1.5)
        );
        assert!(failure(call(sum, &[ints(&[i64::MAX, 1])])).contains("overflow"));
        assert!(failure(call(sum, &[Value::list(ecow::eco_vec![d("79228162514264337593543950335"), d("1")])]))
            .contains("overflow"));
        assert!(failure(call(sum, &[Value::list(ecow::eco_vec![d("1"), Value::Float(1.0)])])).contains("do not mix"));
        assert!(failure(call(sum, &[Value::list(ecow::eco_vec![Value::Int(1), Value::Null])]))
            .contains("expected a number"));

        let half = |x: &[Value]| {
            Ok(Value::Decimal(
                rust_decimal::Decimal::from(int(&x[0])) * "1.5".parse::<rust_decimal::Decimal>().unwrap(),
            ))
        };
        assert_eq!(show(&call_with(sum_by, ints(&[1, 2]), &half).unwrap()), "4.5");
        assert!(matches!(call_with(sum_by, ints(&[]), &half), Ok(Value::Int(0))));
        assert!(matches!(call_with(sum_by, ints(&[1, 2]), &times(10)), Ok(Value::Int(30))));
    }

    #[test]
    fn counting() {
        assert!(matches!(call(count, &[ints(&[1, 2])]), Ok(Value::Int(2))));
        assert!(matches!(call(count, &[ints(&[])]), Ok(Value::Int(0))));
        assert!(matches!(call(len, &[ints(&[1, 2])]), Ok(Value::Int(2))));
        assert!(matches!(call_with(count_if, ints(&[1, 2, 3]), &above(1)), Ok(Value::Int(2))));
        assert!(matches!(call_with(count_if, ints(&[]), &above(1)), Ok(Value::Int(0))));
    }

    #[test]
    fn all_and_any() {
        assert!(matches!(call_with(all, ints(&[1, 2]), &above(0)), Ok(Value::Bool(true))));
        assert!(matches!(call_with(all, ints(&[1, 2]), &above(1)), Ok(Value::Bool(false))));
        assert!(matches!(call_with(all, ints(&[]), &above(1)), Ok(Value::Bool(true))));
        assert!(matches!(call_with(any, ints(&[1, 2]), &above(1)), Ok(Value::Bool(true))));
        assert!(matches!(call_with(any, ints(&[1, 2]), &above(5)), Ok(Value::Bool(false))));
        assert!(matches!(call_with(any, ints(&[]), &above(0)), Ok(Value::Bool(false))));
        // Short-circuits: the failing element after the deciding one is never reached.
        let first_decides = |x: &[Value]| if int(&x[0]) == 1 { Ok(Value::Bool(true)) } else { boom(x) };
        assert!(matches!(call_with(any, ints(&[1, 2]), &first_decides), Ok(Value::Bool(true))));
    }

    #[test]
    fn first_last_empty_contains() {
        assert_eq!(show(&call(first, &[ints(&[1, 2])]).unwrap()), "1");
        assert_eq!(show(&call(last, &[ints(&[1, 2])]).unwrap()), "2");
        assert!(call(first, &[ints(&[])]).unwrap().is_null());
        assert!(call(last, &[ints(&[])]).unwrap().is_null());
        assert!(matches!(call(is_empty, &[ints(&[])]), Ok(Value::Bool(true))));
        assert!(matches!(call(is_empty, &[ints(&[0])]), Ok(Value::Bool(false))));
        assert!(matches!(call(contains, &[strs(&["a", "b"]), s("b")]), Ok(Value::Bool(true))));
        assert!(matches!(call(contains, &[strs(&["a", "b"]), s("c")]), Ok(Value::Bool(false))));
        assert!(matches!(call(contains, &[strs(&[]), s("c")]), Ok(Value::Bool(false))));
        assert!(matches!(
            call(contains, &[Value::list(ecow::eco_vec![d("2.00")]), Value::Int(2)]),
            Ok(Value::Bool(true))
        ));
        assert!(matches!(call(contains, &[ints(&[1]), s("1")]), Ok(Value::Bool(false))));
    }

    #[test]
    fn uniqueness() {
        assert_eq!(show(&call(unique, &[ints(&[1, 2, 1])]).unwrap()), "[1,2]");
        assert_eq!(show(&call(unique, &[ints(&[])]).unwrap()), "[]");
        assert_eq!(
            show(&call(unique, &[Value::list(ecow::eco_vec![d("2.0"), d("2.00"), Value::Int(2)])]).unwrap()),
            "[2.0]"
        );
        assert_eq!(
            show(&call(unique, &[Value::list(ecow::eco_vec![s("1"), Value::Int(1), s("null"), Value::Null])]).unwrap()),
            r#"["1",1,"null",null]"#
        );
        assert!(matches!(call(is_unique, &[strs(&["a", "b", "a"])]), Ok(Value::Bool(false))));
        assert!(matches!(call(is_unique, &[strs(&["a", "b"])]), Ok(Value::Bool(true))));
        assert!(matches!(call(is_unique, &[strs(&[])]), Ok(Value::Bool(true))));
        assert!(matches!(call(is_unique, &[strs(&["é", "e\u{301}"])]), Ok(Value::Bool(true))));
        assert_eq!(show(&call_with(unique_by, ints(&[1, 2, 3]), &modulo(2)).unwrap()), "[1,2]");
        assert_eq!(show(&call_with(unique_by, ints(&[]), &modulo(2)).unwrap()), "[]");
    }

    #[test]
    fn grouping_in_order_of_first_appearance() {
        let groups = call_with(group_by, ints(&[1, 2, 3]), &modulo(2)).unwrap();
        assert_eq!(show(&groups), r#"[{"key":1,"items":[1,3]},{"key":0,"items":[2]}]"#);
        let Value::List(gs) = &groups else { panic!() };
        assert_eq!(gs[0].field("key").map(Value::key).as_deref(), Some("1"));
        assert_eq!(show(&call_with(group_by, ints(&[]), &modulo(2)).unwrap()), "[]");
        let by_text = |x: &[Value]| Ok(x[0].field("sku").cloned().unwrap_or(Value::Null));
        let line = |sku: &str, q: i64| Value::record(vec![("sku".into(), s(sku)), ("q".into(), Value::Int(q))]);
        let lines = Value::list(ecow::eco_vec![line("A", 1), line("B", 2), line("A", 3)]);
        assert_eq!(
            show(&call_with(group_by, lines, &by_text).unwrap()),
            r#"[{"key":"A","items":[{"sku":"A","q":1},{"sku":"A","q":3}]},{"key":"B","items":[{"sku":"B","q":2}]}]"#
        );
    }

    #[test]
    fn sorting_is_stable_and_checked() {
        let id = |x: &[Value]| Ok(x[0].clone());
        assert_eq!(show(&call_with(sort_by, ints(&[3, 1, 2]), &id).unwrap()), "[1,2,3]");
        assert_eq!(show(&call_with(sort_by, ints(&[]), &id).unwrap()), "[]");
        assert_eq!(show(&call_with(sort_by, ints(&[5, 2, 4, 1, 3]), &modulo(2)).unwrap()), "[2,4,5,1,3]");
        assert_eq!(show(&call_with(sort_by, strs(&["b", "a", "B"]), &id).unwrap()), r#"["B","a","b"]"#);
        assert_eq!(
            show(&call_with(sort_by, Value::list(ecow::eco_vec![d("2.5"), Value::Int(2), d("-1")]), &id).unwrap()),
            "[-1,2,2.5]"
        );
        let mixed = Value::list(ecow::eco_vec![Value::Int(1), s("a")]);
        assert!(failure(call_with(sort_by, mixed, &id)).contains("do not compare"));
        let nulls = Value::list(ecow::eco_vec![Value::Null, Value::Null]);
        assert!(failure(call_with(sort_by, nulls, &id)).contains("do not compare"));
    }

    #[test]
    fn compact_zip_reverse() {
        assert_eq!(
            show(&call(compact, &[Value::list(ecow::eco_vec![s("a"), Value::Null, s("b")])]).unwrap()),
            r#"["a","b"]"#
        );
        assert_eq!(show(&call(compact, &[Value::list(ecow::eco_vec![Value::Null])]).unwrap()), "[]");
        assert_eq!(
            show(&call(zip, &[ints(&[1, 2]), strs(&["a", "b"])]).unwrap()),
            r#"[{"left":1,"right":"a"},{"left":2,"right":"b"}]"#
        );
        assert_eq!(show(&call(zip, &[ints(&[1, 2, 3]), strs(&["a"])]).unwrap()), r#"[{"left":1,"right":"a"}]"#);
        assert_eq!(show(&call(zip, &[ints(&[]), strs(&["a"])]).unwrap()), "[]");
        assert_eq!(show(&call(reverse, &[ints(&[1, 2])]).unwrap()), "[2,1]");
        assert_eq!(show(&call(reverse, &[ints(&[])]).unwrap()), "[]");
    }

    #[test]
    fn wrong_arguments_fail() {
        assert!(failure(call(first, &[s("x")])).contains("expected a list"));
        assert!(failure(call(map, &[ints(&[1]), ints(&[1])])).contains("lambda"));
        assert!(failure(call(count, &[])).contains("missing"));
    }
}
