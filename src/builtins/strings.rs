//! String builtins.

use super::{decl, Decl};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "trim(s: String) -> String",
            "Removes leading and trailing white space.",
            &[(r#""  A1 ".trim()"#, r#""A1""#)],
        ),
        decl("upper(s: String) -> String", "Upper-cases every letter.", &[(r#""gb".upper()"#, r#""GB""#)]),
        decl("lower(s: String) -> String", "Lower-cases every letter.", &[(r#""SKU-1".lower()"#, r#""sku-1""#)]),
        decl(
            "replace(s: String, from: String, to: String) -> String",
            "Replaces every occurrence of `from` with `to`.",
            &[(r#""a-b-c".replace("-", "/")"#, r#""a/b/c""#)],
        ),
        decl(
            "split(s: String, sep: String) -> [String]",
            "Cuts a string at each separator.",
            &[(r#""a,b".split(",")"#, r#"["a", "b"]"#)],
        ),
        decl(
            "join(xs: [String], sep: String) -> String",
            "Joins strings with a separator.",
            &[(r#"["a", "b"].join(", ")"#, r#""a, b""#)],
        ),
        decl(
            "pad_left(s: String, width: Int, fill?: String) -> String",
            "Pads on the left to `width` characters (default fill: a space).",
            &[(r#""42".pad_left(5, "0")"#, r#""00042""#)],
        ),
        decl(
            "pad_right(s: String, width: Int, fill?: String) -> String",
            "Pads on the right to `width` characters (default fill: a space).",
            &[(r#""ab".pad_right(4, ".")"#, r#""ab..""#)],
        ),
        decl(
            "substring(s: String, start: Int, length?: Int) -> String",
            "Characters from `start` (0-based), at most `length` of them.",
            &[(r#""ORD-1001".substring(4)"#, r#""1001""#)],
        ),
        decl(
            "starts_with(s: String, prefix: String) -> Bool",
            "Whether `s` begins with `prefix`.",
            &[(r##""#1001".starts_with("#")"##, "true")],
        ),
        decl(
            "ends_with(s: String, suffix: String) -> Bool",
            "Whether `s` ends with `suffix`.",
            &[(r#""a.csv".ends_with(".csv")"#, "true")],
        ),
        decl(
            "contains(s: String, part: String) -> Bool",
            "Whether `part` occurs in `s`.",
            &[(r#""gift wrap".contains("gift")"#, "true")],
        ),
        decl(
            "matches(s: String, pattern: String) -> Bool",
            "Whether the regular expression matches somewhere in `s`.",
            &[(r#""SKU-123".matches("^SKU-[0-9]+$")"#, "true")],
        ),
        decl(
            "regex_replace(s: String, pattern: String, with: String) -> String",
            "Replaces every match of the regular expression (`$1` refers to groups).",
            &[(r#""a  b".regex_replace(" +", " ")"#, r#""a b""#)],
        ),
        decl("len(s: String) -> Int", "The number of characters.", &[(r#""GBP".len()"#, "3")]),
        decl(
            "to_string(x: T) -> String",
            "The value as text; Decimals keep their scale (`19.90` stays `\"19.90\"`).",
            &[("19.90.to_string()", r#""19.90""#)],
        ),
    ]
}
