//! Syntax errors as data, and their wording.
//!
//! pest reports the rules it tried; users must never see a rule name, so every rule
//! that can appear in an "expected" list is described here in words.

use std::sync::Arc;

use pest::error::{ErrorVariant, InputLocation};

use super::parser::Rule;
use super::units::Advice;
use crate::diagnostic::{Code, Diagnostic};
use crate::source::{SourceFile, Span};

#[derive(Clone, Debug, PartialEq)]
pub enum SyntaxError {
    /// The grammar could not go on at `span`.
    Unexpected { span: Span, expected: Vec<&'static str>, found: String },
    /// A literal that parsed but has no value (`99999999999999999999`, `"\q"`).
    Literal { span: Span, kind: LiteralError },
    /// Brackets or an expression nested deeper than `MAX_DEPTH`.
    TooDeep { span: Span },
}

#[derive(Clone, Debug, PartialEq)]
pub enum LiteralError {
    Int,
    Decimal,
    Float,
    Duration,
    /// A number run into letters that are no duration unit: the text as written.
    DurationUnit(String),
    Scale,
    Escape(String),
}

impl SyntaxError {
    /// `err` came from parsing the piece of `file_text` that starts at `offset`.
    pub(crate) fn from_pest(err: &pest::error::Error<Rule>, file_text: &str, offset: usize) -> SyntaxError {
        let pos = offset
            + match err.location {
                InputLocation::Pos(p) => p,
                InputLocation::Span((s, _)) => s,
            };
        let found = found_at(file_text, pos);
        let span = Span::new(pos, pos + found.len());
        let mut expected: Vec<&'static str> = Vec::new();
        if let ErrorVariant::ParsingError { positives, .. } = &err.variant {
            for rule in positives {
                if let Some(words) = describe(*rule) {
                    if !expected.contains(&words) {
                        expected.push(words);
                    }
                }
            }
        }
        SyntaxError::Unexpected {
            span,
            expected,
            found: if found.is_empty() { String::new() } else { found.to_string() },
        }
    }

    pub fn span(&self) -> Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::Literal { span, .. }
            | SyntaxError::TooDeep { span } => *span,
        }
    }

    pub fn into_diagnostic(self, file: &Arc<SourceFile>) -> Diagnostic {
        match self {
            SyntaxError::Unexpected { span, expected, found } => {
                let found_words = if found.starts_with(['\n', '\r']) {
                    "the end of the line".to_string()
                } else if found.is_empty() {
                    "the end of the file".to_string()
                } else {
                    format!("`{found}`")
                };
                let expected_words = join_or(&expected);
                let message = if expected.is_empty() {
                    format!("unexpected {found_words}")
                } else {
                    format!("expected {expected_words}, found {found_words}")
                };
                let label = if expected.is_empty() {
                    "not expected here".to_string()
                } else {
                    format!("expected {expected_words}")
                };
                Diagnostic::new(Code::Syntax, file, span, message, label).with_help_opt(syntax_help(&found, &expected))
            }
            SyntaxError::Literal { span, kind } => literal_diagnostic(file, span, kind),
            SyntaxError::TooDeep { span } => Diagnostic::new(
                Code::TooDeep,
                file,
                span,
                format!("nested more than {} levels deep", super::MAX_DEPTH),
                "too deep from here",
            )
            .with_help("split the expression with `let` bindings or functions"),
        }
    }
}

fn literal_diagnostic(file: &Arc<SourceFile>, span: Span, kind: LiteralError) -> Diagnostic {
    if let LiteralError::DurationUnit(text) = kind {
        return duration_unit_diagnostic(file, span, &text);
    }
    let (code, message, help) = match kind {
        LiteralError::Int => (
            Code::InvalidNumber,
            "integer literal does not fit in 64 bits".to_string(),
            "integers range from -9223372036854775808 to 9223372036854775807; write a Decimal for larger amounts",
        ),
        LiteralError::Decimal => (
            Code::InvalidNumber,
            "decimal literal has more than 28 significant digits".to_string(),
            "Decimal values hold up to 28 significant digits",
        ),
        LiteralError::Float => {
            (Code::InvalidNumber, "float literal is out of range".to_string(), "a Float must be finite")
        }
        LiteralError::Duration => (
            Code::InvalidNumber,
            "duration is too long".to_string(),
            "durations are counted in milliseconds and must fit in 64 bits",
        ),
        LiteralError::Scale => (
            Code::InvalidNumber,
            "a Decimal scale must be between 0 and 28".to_string(),
            "write e.g. `Decimal(2)` for cents",
        ),
        LiteralError::DurationUnit(_) => unreachable!("reported above"),
        LiteralError::Escape(e) => (
            Code::InvalidEscape,
            format!("unknown escape `{e}` in a string"),
            "known escapes: \\n \\t \\r \\\" \\\\ \\$ \\0 and \\u{hex}",
        ),
    };
    Diagnostic::new(code, file, span, message, "here").with_help(help)
}

/// `5sec` and the like: the unit that is not one, and the literal to write instead.
fn duration_unit_diagnostic(file: &Arc<SourceFile>, span: Span, text: &str) -> Diagnostic {
    let units = super::units::UNIT_LIST;
    let (message, label, help) = match super::units::advise(text) {
        Advice::Unknown { unit } => (
            format!("unknown duration unit `{unit}` in `{text}`"),
            "not a unit".to_string(),
            format!("a number followed by letters is a duration; the units are {units}, as in `30s` or `1h30m`"),
        ),
        Advice::Write { unit: Some(unit), literal } => (
            format!("unknown duration unit `{unit}` in `{text}`"),
            format!("write `{literal}`"),
            format!("write `{literal}`; the units are {units}"),
        ),
        Advice::Write { unit: None, literal } => (
            format!("a duration is a whole number of each unit, so `{text}` is not one"),
            format!("write `{literal}`"),
            format!("write `{literal}`; the units are {units}"),
        ),
        Advice::Fraction => (
            format!("a duration is a whole number of each unit, so `{text}` is not one"),
            "not a whole number".to_string(),
            format!("write it in a smaller unit; the units are {units}"),
        ),
    };
    Diagnostic::new(Code::InvalidDuration, file, span, message, label).with_help(help)
}

fn syntax_help(found: &str, expected: &[&str]) -> Option<String> {
    let reserved = ["if", "then", "else", "match", "and", "or", "not", "true", "false", "null", "hold"];
    if reserved.contains(&found) && expected.contains(&"a name") {
        return Some(format!("`{found}` is a reserved word; choose another name"));
    }
    if found == "=" && expected.iter().any(|e| e.contains("operator")) {
        return Some("to compare, write `==`".to_string());
    }
    if found == "&&" || found == "&" {
        return Some("write `and`".to_string());
    }
    if found == "||" || found == "|" {
        return Some("write `or`".to_string());
    }
    if found == "!" {
        return Some("write `not` to negate, or `!=` to compare".to_string());
    }
    if found == "'" {
        return Some("strings use double quotes: \"text\"".to_string());
    }
    None
}

fn join_or(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

/// The token at `pos`, for "found `...`": a word, a number, an operator or one character.
fn found_at(text: &str, pos: usize) -> &str {
    let rest = text.get(pos..).unwrap_or("");
    let Some(c) = rest.chars().next() else {
        return "";
    };
    let len = if c.is_alphanumeric() || c == '_' {
        rest.find(|ch: char| !(ch.is_alphanumeric() || ch == '_')).unwrap_or(rest.len())
    } else if let Some(op) = ["=>", "->", "==", "!=", "<=", ">=", "??", "?.", "&&", "||", "${", ".."]
        .iter()
        .find(|op| rest.starts_with(**op))
    {
        op.len()
    } else {
        c.len_utf8()
    };
    &rest[..len]
}

/// Words for a rule in an "expected ..." list; `None` for rules that add nothing.
fn describe(rule: Rule) -> Option<&'static str> {
    use Rule::*;
    Some(match rule {
        EOI => "the end of the file",
        ident | lambda_params => "a name",
        raw_ident | field_name => "a field name",
        import_decl | type_decl | lookup_decl | fn_decl | flow_decl | kw_import | kw_type | kw_lookup | kw_fn
        | kw_flow => "a declaration (import, type, lookup, fn, flow)",
        source_decl | kw_source => "`source`",
        sink_decl | kw_sink => "`sink`",
        filter_stage | dedupe_stage | validate_stage | let_stage | split_stage | map_stage | hold_stage
        | batch_stage | group_stage | enrich_stage | state_stage | kw_filter | kw_dedupe | kw_validate | kw_let
        | kw_split | kw_map | kw_batch | kw_group | kw_enrich | kw_state => {
            "a stage (filter, dedupe, validate, let, split, map, hold when, batch, group by, enrich, state)"
        }
        remember_else => "`else remember`",
        kw_remember => "`remember`",
        group_within => "`within`",
        kw_hold | hold_expr => "`hold`",
        kw_when => "`when`",
        kw_by => "`by`",
        kw_within => "`within`",
        kw_as => "`as`",
        kw_then => "`then`",
        kw_else => "`else`",
        validate_rule => "a rule (`condition else hold \"code\"`)",
        type_expr | type_term | list_type | record_type | literal_type | decimal_type | paren_type | type_name => {
            "a type"
        }
        optional_mark => "`?`",
        field_decl => "a field (`name: Type`)",
        type_spread => "a spread (`..Type`)",
        option => "an option (`name: value`)",
        options => "`{`",
        record_field | record_entry | spread => "a field (`name: value`)",
        lookup_entry => "an entry (`key => value`)",
        lookup_table | lookup_file => "a table `{ key => value }` or a file (`csv(...)`, `yaml(...)`, `json(...)`)",
        param => "a parameter (`name: Type`)",
        connector_kind => "a connector kind (e.g. `file`, `http.post`)",
        expr | binary | lambda | postfix_expr | paren | list_lit | record_lit | if_expr | match_expr | literal
        | prefix | op_not | op_neg => "an expression",
        null_lit | bool_lit | status_class_lit | rate_lit | duration_lit | float_lit | decimal_lit | int_lit
        | bad_duration_lit | number_pattern => "a value",
        string_lit | plain_string => "a string",
        str_text | escape | interp => "the rest of the string",
        infix | op_coalesce | op_or | op_and | op_eq | op_ne | op_le | op_ge | op_lt | op_gt | op_add | op_sub
        | op_mul | op_div | op_rem => "an operator",
        postfix | field_access | opt_field_access | index | opt_index => "`.`",
        call_args | arg | named_arg => "arguments",
        match_arm | pattern | wildcard => "a match arm (`pattern => value`)",
        hold_reason => "a reason code string",
        _ => return None,
    })
}
