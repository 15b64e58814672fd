//! The words of type errors: one place that turns a mismatch into a diagnostic.

use std::sync::Arc;

use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

use crate::types::{Mismatch, Type};

/// A value of type `found` went where `expected` was required; `what` names the place
/// ("field `total`", "argument `scale` of `round`").
pub fn mismatch(
    file: &Arc<SourceFile>,
    span: Span,
    found: &Type,
    expected: &Type,
    why: &Mismatch,
    what: &str,
) -> Diagnostic {
    match why {
        Mismatch::Optional => Diagnostic::new(
            Code::UnhandledOptional,
            file,
            span,
            format!("{what} needs {expected}, but this value may be absent ({found})"),
            format!("this is {found}"),
        )
        .with_help(
            "handle the absence: a default with `?? value`, a hold with `?? hold \"code\"`, or test `!= null` first",
        ),
        Mismatch::DecimalFloat => Diagnostic::new(
            Code::DecimalFloatMix,
            file,
            span,
            format!("{what} needs {expected}, found {found}: Decimal and Float do not mix"),
            format!("this is {found}"),
        )
        .with_help(if matches!(expected, Type::Float) {
            "convert explicitly with `to_float(x)` (it may lose exactness)"
        } else {
            "convert explicitly with `to_decimal(x)`; money should stay Decimal end to end"
        }),
        Mismatch::Unrounded { found: scale, target } => {
            let what_found = match scale {
                Some(s) => format!("has up to {s} fractional digits"),
                None => "is not rounded".to_string(),
            };
            Diagnostic::new(
                Code::UnroundedDecimal,
                file,
                span,
                format!("{what} is Decimal({target}), but this value {what_found}"),
                format!("this is {found}"),
            )
            .with_help(format!("round it explicitly, naming the mode: `round(value, {target}, half_even)`"))
        }
        Mismatch::Secret => Diagnostic::new(
            Code::SecretLeak,
            file,
            span,
            format!("a secret cannot be used as {what}"),
            "this value comes from `secret()`",
        )
        .with_help("secrets may only go into request headers; they never reach bodies, logs or holds"),
        Mismatch::MissingFields(fields) => Diagnostic::new(
            Code::MissingField,
            file,
            span,
            format!("{what} needs {expected}, but this value lacks {}", quote_list(fields)),
            format!("missing {}", quote_list(fields)),
        ),
        Mismatch::Types => Diagnostic::new(
            Code::TypeMismatch,
            file,
            span,
            format!("{what} needs {expected}, found {found}"),
            format!("this is {found}"),
        )
        .with_help_opt(conversion_help(found, expected)),
    }
}

fn conversion_help(found: &Type, expected: &Type) -> Option<String> {
    Some(match (found, expected) {
        (Type::String, Type::Decimal(_)) => {
            "parse it with `to_decimal(x)`, which is absent when the text is not a number".into()
        }
        (Type::String, Type::Int) => "parse it with `to_int(x)`, which is absent when the text is not a number".into(),
        (t, Type::String) if t.is_scalar() => "convert it with `to_string(x)` or interpolate: \"${x}\"".into(),
        (Type::Int, Type::Duration) => "write a duration with its unit, e.g. `30s`".into(),
        (Type::String, Type::Union(m)) => format!(
            "a computed string may be any text; map it onto {} with `match`",
            m.iter().map(|s| format!("{s:?}")).collect::<Vec<_>>().join(" | ")
        ),
        (Type::Json, _) => "Json is untyped: declare the field's type in the source schema".into(),
        (Type::List(_), Type::Bool) => "did you mean `.is_unique()`, `.all(...)`, `.any(...)` or `.is_empty()`?".into(),
        _ => return None,
    })
}

pub fn quote_list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
