//! Number builtins: exact Decimal arithmetic with explicit rounding.

use super::{decl, Decl, Refine};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        Decl {
            refine: Refine::ScaleFromArg(1),
            ..decl(
                "round(x: Decimal, scale: Int, mode: RoundingMode) -> Decimal",
                "Rounds to `scale` fractional digits with the named mode (half_even, half_up, half_down, down, up, floor, ceiling). With a literal scale the result is `Decimal(scale)`.",
                &[("round(2.345, 2, half_even)", "2.34"), ("round(2.345, 2, half_up)", "2.35")],
            )
        },
        decl(
            "to_minor_units(x: Decimal, fraction_digits: Int) -> Int",
            "Cents from an amount: fails (holds the record) if the amount has more digits than `fraction_digits`.",
            &[("to_minor_units(19.99, 2)", "1999")],
        ),
        Decl {
            refine: Refine::ScaleFromArg(1),
            ..decl(
                "from_minor_units(n: Int, fraction_digits: Int) -> Decimal",
                "An amount from minor units, exactly.",
                &[("from_minor_units(1999, 2)", "19.99")],
            )
        },
        decl("abs(x: N) -> N", "The absolute value.", &[("abs(-2.50)", "2.50")]),
        decl("min(a: N, b: N) -> N", "The smaller of two numbers.", &[("min(3, 2.5)", "2.5")]),
        decl("max(a: N, b: N) -> N", "The larger of two numbers.", &[("max(3, 2.5)", "3")]),
        decl(
            "to_decimal(s: String) -> Decimal?",
            "Parses text as an exact Decimal; absent when it is not a number (`?? hold \"bad_amount\"`).",
            &[(r#"to_decimal("19.99")"#, "19.99"), (r#"to_decimal("n/a")"#, "null")],
        ),
        decl("to_decimal(x: Float) -> Decimal", "A Float as the nearest Decimal: the explicit way across.", &[("to_decimal(0.5e0)", "0.5")]),
        decl("to_decimal(x: Int) -> Decimal", "An Int as a Decimal.", &[("to_decimal(3)", "3")]),
        decl("to_float(x: Decimal) -> Float", "A Decimal as a Float: the explicit way across, possibly inexact.", &[("to_float(0.1)", "1e-1")]),
        decl("to_float(x: Int) -> Float", "An Int as a Float.", &[("to_float(3)", "3e0")]),
        decl("to_int(s: String) -> Int?", "Parses an integer; absent when the text is not one.", &[(r#"to_int("42")"#, "42")]),
        decl("to_int(x: Decimal) -> Int?", "The integer value of a whole Decimal; absent when it has a fraction.", &[("to_int(42.0)", "42")]),
    ]
}
