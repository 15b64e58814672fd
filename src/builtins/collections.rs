//! List builtins. Lambdas receive each element: `xs.map(x => x.sku)`.

use super::{decl, Decl};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl("map(xs: [T], f: (T) -> U) -> [U]", "Transforms every element.", &[("[1, 2].map(x => x * 2)", "[2, 4]")]),
        decl(
            "filter(xs: [T], keep: (T) -> Bool) -> [T]",
            "The elements for which `keep` is true.",
            &[("[1, 2, 3].filter(x => x > 1)", "[2, 3]")],
        ),
        decl(
            "flat_map(xs: [T], f: (T) -> [U]) -> [U]",
            "Transforms every element into a list and concatenates them.",
            &[("[1, 2].flat_map(x => [x, x])", "[1, 1, 2, 2]")],
        ),
        decl("sum(xs: [N]) -> N", "The exact sum (0 for an empty list).", &[("[1.10, 2.20].sum()", "3.30")]),
        decl(
            "sum(xs: [T], f: (T) -> N) -> N",
            "The exact sum of `f` over the elements.",
            &[("[1, 2].sum(x => x * 1.5)", "4.5")],
        ),
        decl("count(xs: [T]) -> Int", "The number of elements.", &[("[1, 2].count()", "2")]),
        decl(
            "count(xs: [T], f: (T) -> Bool) -> Int",
            "The number of elements for which `f` is true.",
            &[("[1, 2, 3].count(x => x > 1)", "2")],
        ),
        decl("len(xs: [T]) -> Int", "The number of elements.", &[("[1, 2].len()", "2")]),
        decl(
            "all(xs: [T], f: (T) -> Bool) -> Bool",
            "Whether `f` is true for every element (true for an empty list).",
            &[("[1, 2].all(x => x > 0)", "true")],
        ),
        decl(
            "any(xs: [T], f: (T) -> Bool) -> Bool",
            "Whether `f` is true for some element.",
            &[("[1, 2].any(x => x > 1)", "true")],
        ),
        decl("first(xs: [T]) -> T?", "The first element; absent for an empty list.", &[("[1, 2].first()", "1")]),
        decl("last(xs: [T]) -> T?", "The last element; absent for an empty list.", &[("[1, 2].last()", "2")]),
        decl("is_empty(xs: [T]) -> Bool", "Whether the list has no element.", &[("[].is_empty()", "true")]),
        decl(
            "contains(xs: [T], x: T) -> Bool",
            "Whether `x` is an element.",
            &[(r#"["a", "b"].contains("b")"#, "true")],
        ),
        decl(
            "unique(xs: [T]) -> [T]",
            "The elements without repeats, first occurrence kept.",
            &[("[1, 2, 1].unique()", "[1, 2]")],
        ),
        decl(
            "is_unique(xs: [T]) -> Bool",
            "Whether no element repeats (for `validate`).",
            &[(r#"["a", "b", "a"].is_unique()"#, "false")],
        ),
        decl(
            "unique_by(xs: [T], key: (T) -> K) -> [T]",
            "The elements without repeated keys, first occurrence kept.",
            &[("[1, 2, 3].unique_by(x => x % 2)", "[1, 2]")],
        ),
        decl(
            "group_by(xs: [T], key: (T) -> K) -> [{ key: K, items: [T] }]",
            "Groups elements by key, in order of first appearance.",
            &[("[1, 2, 3].group_by(x => x % 2)", "[{ key: 1, items: [1, 3] }, { key: 0, items: [2] }]")],
        ),
        decl(
            "sort_by(xs: [T], key: (T) -> C) -> [T]",
            "A stable sort by key, ascending.",
            &[("[3, 1, 2].sort_by(x => x)", "[1, 2, 3]")],
        ),
        decl(
            "compact(xs: [T?]) -> [T]",
            "The elements that are present.",
            &[(r#"["a", null, "b"].compact()"#, r#"["a", "b"]"#)],
        ),
        decl(
            "zip(xs: [T], ys: [U]) -> [{ left: T, right: U }]",
            "Pairs elements by position, as long as the shorter list.",
            &[("[1, 2].zip([\"a\", \"b\"])", r#"[{ left: 1, right: "a" }, { left: 2, right: "b" }]"#)],
        ),
        decl("reverse(xs: [T]) -> [T]", "The elements in reverse order.", &[("[1, 2].reverse()", "[2, 1]")]),
    ]
}
