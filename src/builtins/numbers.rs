//! Number builtins: exact Decimal arithmetic with explicit rounding.

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};

use super::{arg, decl, expected, int_arg, str_arg, Arg, Decl, EvalContext, EvalError, Refine};
use crate::value::Value;

pub(super) fn decls() -> Vec<Decl> {
    vec![
        Decl {
            refine: Refine::ScaleFromArg(1),
            ..decl(
                "round(x: Decimal, scale: Int, mode: RoundingMode) -> Decimal",
                "Rounds to `scale` fractional digits with the named mode (half_even, half_up, half_down, down, up, floor, ceiling). With a literal scale the result is `Decimal(scale)`.",
                &[("round(2.345, 2, half_even)", "2.34"), ("round(2.345, 2, half_up)", "2.35")],
            ).with(round)
        },
        decl(
            "to_minor_units(x: Decimal, fraction_digits: Int) -> Int",
            "Cents from an amount: fails (holds the record) if the amount has more digits than `fraction_digits`.",
            &[("to_minor_units(19.99, 2)", "1999")],
        ).with(to_minor_units),
        Decl {
            refine: Refine::ScaleFromArg(1),
            ..decl(
                "from_minor_units(n: Int, fraction_digits: Int) -> Decimal",
                "An amount from minor units, exactly.",
                &[("from_minor_units(1999, 2)", "19.99")],
            ).with(from_minor_units)
        },
        Decl {
            refine: Refine::ListScaleFromArg(2),
            ..decl(
                "allocate(amount: Decimal, weights: [Decimal], places: Int) -> [Decimal]",
                "Splits `amount` over `weights` (Decimals or Ints) by the largest remainder method: one part per weight, each with `places` fractional digits, summing exactly to `amount`. Each part is its exact share rounded toward zero; the units left over go one each to the parts with the largest remainders, the earlier part first when remainders are equal. A negative amount is split as its opposite, negated. Fails (holds the record) when the weights are empty, all zero or any is negative, and when `amount` has more than `places` fractional digits. With a literal `places` the result is `[Decimal(places)]`.",
                &[
                    ("allocate(10.00, [1, 1, 1], 2)", "[3.34, 3.33, 3.33]"),
                    ("allocate(100.00, [19.99, 5.01], 2)", "[79.96, 20.04]"),
                    ("allocate(-0.05, [1, 1], 2)", "[-0.03, -0.02]"),
                ],
            ).with(allocate)
        },
        decl(
            "currency_digits(code: String) -> Int?",
            "The ISO 4217 minor units of a currency: how many fractional digits its amounts have (2 for most, 0 for JPY or KRW, 3 for KWD, BHD, JOD, OMR or TND, 4 for CLF). Letter case is ignored. Absent for a code that is not a currency, and for the ISO codes without minor units (gold, special drawing rights, XXX). To round to a currency: `round(x, currency_digits(code) ?? hold \"unknown_currency\", half_even)`.",
            &[(r#"currency_digits("EUR")"#, "2"), (r#"currency_digits("JPY")"#, "0"), (r#"currency_digits("KWD")"#, "3"), (r#"currency_digits("XYZ")"#, "null")],
        ).with(currency_digits),
        decl(
            "format_decimal(x: Decimal, places: Int) -> String",
            "The number as text with exactly `places` fractional digits, zeros added: for receivers that must get money as a string. Never rounds: fails (holds the record) when `x` has more nonzero fractional digits than `places`; round first with `round(x, places, mode)` to decide how.",
            &[("format_decimal(19.9, 2)", r#""19.90""#), ("format_decimal(5, 2)", r#""5.00""#), ("format_decimal(1.500, 1)", r#""1.5""#)],
        ).with(format_decimal),
        decl("abs(x: N) -> N", "The absolute value.", &[("abs(-2.50)", "2.50")]).with(abs),
        decl("min(a: N, b: N) -> N", "The smaller of two numbers.", &[("min(3, 2.5)", "2.5")]).with(min),
        decl("max(a: N, b: N) -> N", "The larger of two numbers.", &[("max(3, 2.5)", "3")]).with(max),
        decl(
            "to_decimal(s: String) -> Decimal?",
            "Parses text as an exact Decimal; absent when it is not a number (`?? hold \"bad_amount\"`).",
            &[(r#"to_decimal("19.99")"#, "19.99"), (r#"to_decimal("n/a")"#, "null")],
        ).with(to_decimal_string),
        // The Int forms come before the Float and Decimal ones: overloads are tried in
        // order, and an Int would fit those too.
        decl("to_decimal(x: Int) -> Decimal", "An Int as a Decimal.", &[("to_decimal(3)", "3")]).with(to_decimal_int),
        decl("to_decimal(x: Float) -> Decimal", "A Float as the nearest Decimal: the explicit way across.", &[("to_decimal(0.5e0)", "0.5")]).with(to_decimal_float),
        decl("to_float(x: Int) -> Float", "An Int as a Float.", &[("to_float(3)", "3e0")]).with(to_float_int),
        decl("to_float(x: Decimal) -> Float", "A Decimal as a Float: the explicit way across, possibly inexact.", &[("to_float(0.1)", "1e-1")]).with(to_float_decimal),
        decl("to_int(s: String) -> Int?", "Parses an integer; absent when the text is not one.", &[(r#"to_int("42")"#, "42")]).with(to_int_string),
        decl("to_int(x: Decimal) -> Int?", "The integer value of a whole Decimal; absent when it has a fraction.", &[("to_int(42.0)", "42")]).with(to_int_decimal),
    ]
}

/// A Decimal argument; an Int is accepted as the same whole number.
pub(super) fn decimal_of(v: &Value) -> Result<Decimal, EvalError> {
    match v {
        Value::Decimal(d) => Ok(*d),
        Value::Int(n) => Ok(Decimal::from(*n)),
        other => Err(expected("a decimal", other)),
    }
}

/// A count of fractional digits: 0 to 28, the most a Decimal holds.
fn fraction_digits(args: &[Arg<'_>], i: usize) -> Result<u32, EvalError> {
    let n = int_arg(args, i)?;
    u32::try_from(n).ok().filter(|n| *n <= Decimal::MAX_SCALE).ok_or_else(|| {
        EvalError::failed(format!("{n} fractional digits is out of range (0 to {})", Decimal::MAX_SCALE))
    })
}

fn rounding_mode(v: &Value) -> Result<RoundingStrategy, EvalError> {
    let Value::Str(name) = v else {
        return Err(expected("a rounding mode", v));
    };
    Ok(match &**name {
        "half_even" => RoundingStrategy::MidpointNearestEven,
        "half_up" => RoundingStrategy::MidpointAwayFromZero,
        "half_down" => RoundingStrategy::MidpointTowardZero,
        "down" => RoundingStrategy::ToZero,
        "up" => RoundingStrategy::AwayFromZero,
        "floor" => RoundingStrategy::ToNegativeInfinity,
        "ceiling" => RoundingStrategy::ToPositiveInfinity,
        other => return Err(EvalError::failed(format!("`{other}` is not a rounding mode"))),
    })
}

fn round(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let x = decimal_of(arg(args, 0)?)?;
    let scale = fraction_digits(args, 1)?;
    let mode = rounding_mode(arg(args, 2)?)?;
    let mut r = x.round_dp_with_strategy(scale, mode);
    r.rescale(scale);
    if r.scale() != scale {
        return Err(EvalError::failed(format!("{x} has too many digits to keep {scale} fractional digits")));
    }
    Ok(Value::Decimal(r))
}

fn to_minor_units(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let x = decimal_of(arg(args, 0)?)?;
    let digits = fraction_digits(args, 1)?;
    let n = x.normalize();
    if n.scale() > digits {
        return Err(EvalError::failed(format!("{x} has more than {digits} fractional digits")));
    }
    let overflow = || EvalError::failed(format!("{x} in minor units does not fit in a 64-bit integer"));
    let factor = 10i128.checked_pow(digits - n.scale()).ok_or_else(overflow)?;
    let minor = n.mantissa().checked_mul(factor).ok_or_else(overflow)?;
    Ok(Value::Int(i64::try_from(minor).map_err(|_| overflow())?))
}

fn from_minor_units(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let n = int_arg(args, 0)?;
    let digits = fraction_digits(args, 1)?;
    Decimal::try_from_i128_with_scale(i128::from(n), digits)
        .map(Value::Decimal)
        .map_err(|e| EvalError::failed(format!("{n} with {digits} fractional digits: {e}")))
}

/// Minor units from an amount known to fit `places` fractional digits.
fn units_of(x: Decimal, places: u32) -> Result<i128, EvalError> {
    let n = x.normalize();
    if n.scale() > places {
        return Err(EvalError::failed(format!("{x} has more than {places} fractional digits")));
    }
    10i128
        .checked_pow(places - n.scale())
        .and_then(|f| n.mantissa().checked_mul(f))
        .ok_or_else(|| EvalError::failed(format!("{x} with {places} fractional digits is too large")))
}

fn allocate(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let amount = decimal_of(arg(args, 0)?)?;
    let weights = super::list_arg(args, 1)?.iter().map(decimal_of).collect::<Result<Vec<_>, _>>()?;
    let places = fraction_digits(args, 2)?;
    if weights.is_empty() {
        return Err(EvalError::failed("allocate needs at least one weight"));
    }
    if let Some(w) = weights.iter().find(|w| w.is_sign_negative() && !w.is_zero()) {
        return Err(EvalError::failed(format!("allocate takes no negative weight, found {w}")));
    }
    if weights.iter().all(Decimal::is_zero) {
        return Err(EvalError::failed("allocate needs a weight that is not zero"));
    }
    let too_large = || EvalError::failed(format!("allocating {amount} over these weights is too large to do exactly"));
    let units = units_of(amount, places)?;
    let total_units = units.unsigned_abs();
    // The weights as integers of one scale, so every share is an exact fraction.
    let scale = weights.iter().map(Decimal::scale).max().unwrap_or(0);
    let ints = weights
        .iter()
        .map(|w| 10u128.checked_pow(scale - w.scale()).and_then(|f| w.mantissa().unsigned_abs().checked_mul(f)))
        .collect::<Option<Vec<u128>>>()
        .ok_or_else(too_large)?;
    let sum = ints.iter().try_fold(0u128, |a, w| a.checked_add(*w)).ok_or_else(too_large)?;
    // Each part's floor and remainder, both over `sum`.
    let mut parts = Vec::with_capacity(ints.len());
    for w in &ints {
        let product = total_units.checked_mul(*w).ok_or_else(too_large)?;
        parts.push((product / sum, product % sum));
    }
    let given: u128 = parts.iter().map(|p| p.0).sum();
    let mut order: Vec<usize> = (0..parts.len()).collect();
    // Stable: on equal remainders the earlier part comes first.
    order.sort_by(|a, b| parts[*b].1.cmp(&parts[*a].1));
    for i in order.into_iter().take(usize::try_from(total_units - given).map_err(|_| too_large())?) {
        parts[i].0 += 1;
    }
    let negative = units < 0;
    let out = parts
        .into_iter()
        .map(|(n, _)| {
            let n = i128::try_from(n).map_err(|_| too_large())?;
            let mut d =
                Decimal::try_from_i128_with_scale(if negative { -n } else { n }, places).map_err(|_| too_large())?;
            if d.is_zero() {
                d.set_sign_positive(true);
            }
            Ok(Value::Decimal(d))
        })
        .collect::<Result<_, EvalError>>()?;
    Ok(Value::list(out))
}

/// ISO 4217 currencies whose minor unit is not two digits.
const CURRENCY_DIGITS: &[(&str, i64)] = &[
    ("BIF", 0),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("ISK", 0),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("PYG", 0),
    ("RWF", 0),
    ("UGX", 0),
    ("UYI", 0),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
    ("BHD", 3),
    ("IQD", 3),
    ("JOD", 3),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("TND", 3),
    ("CLF", 4),
    ("UYW", 4),
];

/// ISO 4217 currencies with two-digit minor units (current, and a few recently
/// withdrawn that still appear in stored orders).
const TWO_DIGIT_CURRENCIES: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD", "BND",
    "BOB", "BOV", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHE", "CHF", "CHW", "CNY", "COP", "COU",
    "CRC", "CUC", "CUP", "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL",
    "GHS", "GIP", "GMD", "GTQ", "GYD", "HKD", "HNL", "HRK", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES",
    "KGS", "KHR", "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT",
    "MOP", "MRU", "MUR", "MVR", "MWK", "MXN", "MXV", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB",
    "PEN", "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SLL", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "USD", "USN", "UYU", "UZS", "VED", "VES", "WST", "XCD", "XCG", "YER", "ZAR", "ZMW", "ZWG", "ZWL",
];

fn currency_digits(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let code = str_arg(args, 0)?.to_ascii_uppercase();
    if let Some((_, n)) = CURRENCY_DIGITS.iter().find(|(c, _)| *c == code) {
        return Ok(Value::Int(*n));
    }
    Ok(if TWO_DIGIT_CURRENCIES.contains(&code.as_str()) { Value::Int(2) } else { Value::Null })
}

fn format_decimal(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let x = decimal_of(arg(args, 0)?)?;
    let places = fraction_digits(args, 1)?;
    let mut d = x.normalize();
    if d.scale() > places {
        return Err(EvalError::failed(format!(
            "{x} has more than {places} fractional digits: round it first with round(x, {places}, mode)"
        )));
    }
    d.rescale(places);
    if d.scale() != places {
        return Err(EvalError::failed(format!("{x} has too many digits to show {places} fractional digits")));
    }
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Ok(Value::str(&d.to_string()))
}

fn abs(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(match arg(args, 0)? {
        Value::Int(n) => Value::Int(
            n.checked_abs().ok_or_else(|| EvalError::failed(format!("abs({n}) overflows a 64-bit integer")))?,
        ),
        Value::Decimal(d) => Value::Decimal(d.abs()),
        Value::Float(x) => Value::Float(x.abs()),
        other => return Err(expected("a number", other)),
    })
}

/// Two numbers in the wider of their types: Int < Decimal, Int < Float. A Decimal
/// never meets a Float.
pub(super) fn widen(a: &Value, b: &Value) -> Result<(Value, Value), EvalError> {
    Ok(match (a, b) {
        (Value::Int(_), Value::Int(_))
        | (Value::Decimal(_), Value::Decimal(_))
        | (Value::Float(_), Value::Float(_)) => (a.clone(), b.clone()),
        (Value::Int(x), Value::Decimal(_)) => (Value::Decimal(Decimal::from(*x)), b.clone()),
        (Value::Decimal(_), Value::Int(y)) => (a.clone(), Value::Decimal(Decimal::from(*y))),
        (Value::Int(x), Value::Float(_)) => (Value::Float(*x as f64), b.clone()),
        (Value::Float(_), Value::Int(y)) => (a.clone(), Value::Float(*y as f64)),
        (Value::Decimal(_), Value::Float(_)) | (Value::Float(_), Value::Decimal(_)) => {
            return Err(EvalError::failed("a Decimal and a Float do not mix: convert one with to_decimal or to_float"))
        }
        (Value::Int(_) | Value::Decimal(_) | Value::Float(_), other) | (other, _) => {
            return Err(expected("a number", other))
        }
    })
}

/// The smaller (`want` Less) or larger (`want` Greater) of two numbers; the first on a tie.
fn pick(args: &[Arg<'_>], want: std::cmp::Ordering) -> Result<Value, EvalError> {
    let (a, b) = widen(arg(args, 0)?, arg(args, 1)?)?;
    match b.compare(&a) {
        Some(o) if o == want => Ok(b),
        Some(_) => Ok(a),
        None => Err(EvalError::failed(format!("{a} and {b} do not compare"))),
    }
}

fn min(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    pick(args, std::cmp::Ordering::Less)
}

fn max(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    pick(args, std::cmp::Ordering::Greater)
}

/// Exact decimal text: `19.99`, `-3`, `1e3`; no digit separators, at most 28
/// significant digits.
fn parse_exact(text: &str) -> Option<Decimal> {
    let text = text.trim();
    if text.is_empty() || text.contains('_') {
        return None;
    }
    Decimal::from_str_exact(text).or_else(|_| Decimal::from_scientific(text)).ok()
}

fn to_decimal_string(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(parse_exact(str_arg(args, 0)?).map_or(Value::Null, Value::Decimal))
}

fn to_decimal_float(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let x = match arg(args, 0)? {
        Value::Float(x) => *x,
        Value::Int(n) => return Ok(Value::Decimal(Decimal::from(*n))),
        other => return Err(expected("a float", other)),
    };
    if !x.is_finite() {
        return Err(EvalError::failed(format!("{x} is not a number a Decimal can hold")));
    }
    // The shortest text that reads back as the same Float, so 0.1 becomes 0.1, not
    // 0.1000000000000000055511151231257827. Past 28 fractional digits the text is
    // rounded, which may leave trailing zeros: normalized away.
    let mut d = format!("{x}")
        .parse::<Decimal>()
        .map_err(|_| EvalError::failed(format!("{x} is too large for a Decimal")))?
        .normalize();
    if d.is_zero() {
        d.set_sign_positive(true);
    }
    Ok(Value::Decimal(d))
}

fn to_decimal_int(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Decimal(Decimal::from(int_arg(args, 0)?)))
}

fn to_float_decimal(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let d = decimal_of(arg(args, 0)?)?;
    // Through the text, which Rust reads with correct rounding.
    d.to_string().parse::<f64>().map(Value::Float).map_err(|e| EvalError::failed(format!("{d} as a Float: {e}")))
}

fn to_float_int(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Float(int_arg(args, 0)? as f64))
}

fn to_int_string(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(str_arg(args, 0)?.trim().parse::<i64>().map_or(Value::Null, Value::Int))
}

fn to_int_decimal(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let d = decimal_of(arg(args, 0)?)?;
    if !d.fract().is_zero() {
        return Ok(Value::Null);
    }
    d.to_i64().map(Value::Int).ok_or_else(|| EvalError::failed(format!("{d} does not fit in a 64-bit integer")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, d, failure, s, show};

    fn round_to(x: &str, scale: i64, mode: &str) -> String {
        show(&call(round, &[d(x), Value::Int(scale), s(mode)]).unwrap())
    }

    #[test]
    fn round_with_each_mode() {
        assert_eq!(round_to("2.345", 2, "half_even"), "2.34");
        assert_eq!(round_to("2.345", 2, "half_up"), "2.35");
        assert_eq!(round_to("2.345", 2, "half_down"), "2.34");
        assert_eq!(round_to("2.5", 0, "half_even"), "2");
        assert_eq!(round_to("3.5", 0, "half_even"), "4");
        assert_eq!(round_to("-2.5", 0, "half_up"), "-3");
        assert_eq!(round_to("-2.5", 0, "half_down"), "-2");
        assert_eq!(round_to("2.349", 2, "down"), "2.34");
        assert_eq!(round_to("-2.349", 2, "down"), "-2.34");
        assert_eq!(round_to("2.341", 2, "up"), "2.35");
        assert_eq!(round_to("-2.341", 2, "up"), "-2.35");
        assert_eq!(round_to("-2.341", 2, "floor"), "-2.35");
        assert_eq!(round_to("2.349", 2, "floor"), "2.34");
        assert_eq!(round_to("-2.349", 2, "ceiling"), "-2.34");
        assert_eq!(round_to("2.341", 2, "ceiling"), "2.35");
    }

    #[test]
    fn round_gives_exactly_the_scale() {
        assert_eq!(round_to("2.5", 2, "half_even"), "2.50");
        assert_eq!(round_to("19.9", 2, "half_even"), "19.90");
        assert_eq!(round_to("0", 3, "half_even"), "0.000");
        assert_eq!(show(&call(round, &[Value::Int(7), Value::Int(2), s("half_even")]).unwrap()), "7.00");
        let Value::Decimal(r) = call(round, &[d("1.005"), Value::Int(2), s("half_up")]).unwrap() else { panic!() };
        assert_eq!((r.to_string().as_str(), r.scale()), ("1.01", 2));
    }

    #[test]
    fn round_refuses_what_it_cannot_do() {
        assert!(failure(call(round, &[d("1.5"), Value::Int(-1), s("half_even")])).contains("out of range"));
        assert!(failure(call(round, &[d("1.5"), Value::Int(29), s("half_even")])).contains("out of range"));
        assert!(failure(call(round, &[d("1.5"), Value::Int(0), s("sideways")])).contains("not a rounding mode"));
        let big = d("79228162514264337593543950335");
        assert!(failure(call(round, &[big, Value::Int(2), s("half_even")])).contains("too many digits"));
    }

    #[test]
    fn minor_units() {
        assert_eq!(call(to_minor_units, &[d("19.99"), Value::Int(2)]).unwrap().key(), "1999");
        assert_eq!(call(to_minor_units, &[d("19.9"), Value::Int(2)]).unwrap().key(), "1990");
        assert_eq!(call(to_minor_units, &[d("19.990"), Value::Int(2)]).unwrap().key(), "1999");
        assert_eq!(call(to_minor_units, &[d("-0.05"), Value::Int(2)]).unwrap().key(), "-5");
        assert_eq!(call(to_minor_units, &[Value::Int(5), Value::Int(3)]).unwrap().key(), "5000");
        assert_eq!(call(to_minor_units, &[d("1500"), Value::Int(0)]).unwrap().key(), "1500");
        assert_eq!(
            failure(call(to_minor_units, &[d("19.999"), Value::Int(2)])),
            "19.999 has more than 2 fractional digits"
        );
        assert!(failure(call(to_minor_units, &[d("92233720368547758.08"), Value::Int(2)])).contains("does not fit"));
        assert!(failure(call(to_minor_units, &[d("1"), Value::Int(28)])).contains("does not fit"));
        assert!(matches!(call(to_minor_units, &[d("1"), Value::Int(18)]), Ok(Value::Int(1_000_000_000_000_000_000))));

        assert_eq!(show(&call(from_minor_units, &[Value::Int(1999), Value::Int(2)]).unwrap()), "19.99");
        assert_eq!(show(&call(from_minor_units, &[Value::Int(5), Value::Int(2)]).unwrap()), "0.05");
        assert_eq!(show(&call(from_minor_units, &[Value::Int(-1990), Value::Int(2)]).unwrap()), "-19.90");
        assert_eq!(show(&call(from_minor_units, &[Value::Int(7), Value::Int(0)]).unwrap()), "7");
        assert_eq!(
            show(&call(from_minor_units, &[Value::Int(i64::MIN), Value::Int(28)]).unwrap()),
            "-0.0000000009223372036854775808"
        );
        assert!(failure(call(from_minor_units, &[Value::Int(1), Value::Int(29)])).contains("out of range"));
        assert!(failure(call(from_minor_units, &[Value::Int(1), Value::Int(-2)])).contains("out of range"));
    }

    #[test]
    fn abs_of_each_number() {
        assert_eq!(show(&call(abs, &[d("-2.50")]).unwrap()), "2.50");
        assert_eq!(show(&call(abs, &[d("2.50")]).unwrap()), "2.50");
        assert!(matches!(call(abs, &[Value::Int(-3)]), Ok(Value::Int(3))));
        assert!(matches!(call(abs, &[Value::Float(-1.5)]), Ok(Value::Float(x)) if x == 1.5));
        assert!(failure(call(abs, &[Value::Int(i64::MIN)])).contains("overflow"));
        assert!(failure(call(abs, &[s("1")])).contains("expected a number"));
    }

    #[test]
    fn min_and_max_in_the_wider_type() {
        let min_of = |a: Value, b: Value| call(min, &[a, b]).unwrap();
        let max_of = |a: Value, b: Value| call(max, &[a, b]).unwrap();
        assert!(matches!(min_of(Value::Int(3), d("2.5")), Value::Decimal(x) if x.to_string() == "2.5"));
        assert!(matches!(max_of(Value::Int(3), d("2.5")), Value::Decimal(x) if x.to_string() == "3"));
        assert!(matches!(min_of(Value::Int(3), Value::Int(-4)), Value::Int(-4)));
        assert!(matches!(max_of(Value::Int(3), Value::Int(-4)), Value::Int(3)));
        assert!(matches!(max_of(Value::Float(0.5), Value::Int(1)), Value::Float(x) if x == 1.0));
        assert!(matches!(min_of(Value::Float(0.5), Value::Float(0.25)), Value::Float(x) if x == 0.25));
        assert_eq!(show(&min_of(d("2.00"), d("2.0"))), "2.00");
        assert_eq!(show(&max_of(d("2.00"), d("2.0"))), "2.00");
        assert!(failure(call(min, &[d("1"), Value::Float(1.0)])).contains("do not mix"));
        assert!(failure(call(max, &[Value::Float(f64::NAN), Value::Float(1.0)])).contains("do not compare"));
        assert!(failure(call(max, &[Value::Int(1), s("2")])).contains("expected a number"));
    }

    #[test]
    fn to_decimal_from_text() {
        assert_eq!(show(&call(to_decimal_string, &[s("19.99")]).unwrap()), "19.99");
        assert_eq!(show(&call(to_decimal_string, &[s(" 19.90 ")]).unwrap()), "19.90");
        assert_eq!(show(&call(to_decimal_string, &[s("-3")]).unwrap()), "-3");
        assert_eq!(show(&call(to_decimal_string, &[s("1e3")]).unwrap()), "1000");
        assert!(call(to_decimal_string, &[s("n/a")]).unwrap().is_null());
        assert!(call(to_decimal_string, &[s("")]).unwrap().is_null());
        assert!(call(to_decimal_string, &[s("1_000")]).unwrap().is_null());
        assert!(call(to_decimal_string, &[s("12.3.4")]).unwrap().is_null());
        assert!(call(to_decimal_string, &[s("NaN")]).unwrap().is_null());
        assert!(call(to_decimal_string, &[s("1234567890123456789012345678901234567890")]).unwrap().is_null());
    }

    #[test]
    fn to_decimal_from_float_and_int() {
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(0.5)]).unwrap()), "0.5");
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(0.1)]).unwrap()), "0.1");
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(0.1 + 0.2)]).unwrap()), "0.30000000000000004");
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(-0.0)]).unwrap()), "0");
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(1e20)]).unwrap()), "100000000000000000000");
        assert!(failure(call(to_decimal_float, &[Value::Float(f64::NAN)])).contains("not a number"));
        assert!(failure(call(to_decimal_float, &[Value::Float(f64::INFINITY)])).contains("not a number"));
        assert!(failure(call(to_decimal_float, &[Value::Float(1e300)])).contains("too large"));
        assert!(failure(call(to_decimal_float, &[Value::Float(f64::MAX)])).contains("too large"));
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(5e-324)]).unwrap()), "0");
        assert_eq!(show(&call(to_decimal_float, &[Value::Float(1e-30)]).unwrap()), "0");
        assert!(
            matches!(call(to_decimal_float, &[Value::Float(1.5e-10)]), Ok(Value::Decimal(x)) if x.to_string() == "0.00000000015")
        );
        assert_eq!(show(&call(to_decimal_int, &[Value::Int(3)]).unwrap()), "3");
        assert_eq!(show(&call(to_decimal_int, &[Value::Int(i64::MIN)]).unwrap()), "-9223372036854775808");
    }

    #[test]
    fn to_float_conversions() {
        assert!(matches!(call(to_float_decimal, &[d("0.1")]), Ok(Value::Float(x)) if x == 0.1));
        assert!(matches!(call(to_float_decimal, &[d("19.90")]), Ok(Value::Float(x)) if x == 19.9));
        assert!(matches!(call(to_float_decimal, &[Value::Int(2)]), Ok(Value::Float(x)) if x == 2.0));
        assert!(matches!(call(to_float_int, &[Value::Int(3)]), Ok(Value::Float(x)) if x == 3.0));
    }

    #[test]
    fn to_int_conversions() {
        assert!(matches!(call(to_int_string, &[s("42")]), Ok(Value::Int(42))));
        assert!(matches!(call(to_int_string, &[s(" -7 ")]), Ok(Value::Int(-7))));
        assert!(call(to_int_string, &[s("42.0")]).unwrap().is_null());
        assert!(call(to_int_string, &[s("forty")]).unwrap().is_null());
        assert!(call(to_int_string, &[s("")]).unwrap().is_null());
        assert!(call(to_int_string, &[s("99999999999999999999")]).unwrap().is_null());
        assert!(matches!(call(to_int_decimal, &[d("42.0")]), Ok(Value::Int(42))));
        assert!(matches!(call(to_int_decimal, &[d("-42")]), Ok(Value::Int(-42))));
        assert!(call(to_int_decimal, &[d("42.5")]).unwrap().is_null());
        assert!(call(to_int_decimal, &[d("0.001")]).unwrap().is_null());
        assert!(failure(call(to_int_decimal, &[d("99999999999999999999")])).contains("does not fit"));
    }
}
