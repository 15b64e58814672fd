//! Date and time builtins. `now()` is pinned by `flowgate run --now` for repeatable runs.

use std::fmt::Write;

use chrono::format::{parse, Item, Parsed, StrftimeItems};

use super::{arg, const_str, decl, expected, str_arg, Arg, Decl, EvalContext, EvalError};
use crate::value::Value;

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "parse_date(s: String, format: String) -> Date?",
            "Parses a date with a strftime format; absent when it does not fit.",
            &[(r#"parse_date("24/11/2026", "%d/%m/%Y")"#, "2026-11-24")],
        )
        .with(parse_date)
        .checked(check_format),
        decl(
            "parse_datetime(s: String, format: String) -> DateTime?",
            "Parses a date and time with a strftime format; absent when it does not fit.",
            &[(r#"parse_datetime("2026-11-24 10:00 +0000", "%Y-%m-%d %H:%M %z")"#, "2026-11-24T10:00:00Z")],
        )
        .with(parse_datetime)
        .checked(check_format)
        .warned(warn_without_offset),
        decl(
            "format_date(d: Date, format: String) -> String",
            "Formats a date.",
            &[(r#"format_date(d, "%d.%m.%Y")"#, r#""24.11.2026""#)],
        )
        .with(format_date)
        .checked(check_date_format),
        decl(
            "format_date(d: DateTime, format: String) -> String",
            "Formats a date and time.",
            &[(r#"format_date(record.created_at, "%Y-%m-%d")"#, r#""2026-11-24""#)],
        )
        .with(format_datetime)
        .checked(check_datetime_format),
        decl(
            "date(d: DateTime) -> Date",
            "The calendar date of a time (in its own offset).",
            &[("date(record.created_at)", "2026-11-24")],
        )
        .with(date),
        decl("now() -> DateTime", "The current time (pinned by `--now`).", &[("now()", "2026-11-24T12:00:00Z")])
            .with(now),
        decl(
            "milliseconds(d: Duration) -> Int",
            "A duration in whole milliseconds, for a receiver that wants a number, not ISO 8601 text.",
            &[("milliseconds(1m30s)", "90000")],
        )
        .with(|args, _| in_units(args, 1)),
        decl(
            "seconds(d: Duration) -> Int",
            "A duration in whole seconds, rounded down.",
            &[("seconds(1m30s)", "90"), ("seconds(1500ms)", "1")],
        )
        .with(|args, _| in_units(args, 1000)),
        decl(
            "minutes(d: Duration) -> Int",
            "A duration in whole minutes, rounded down.",
            &[("minutes(now() - record.created_at)", "120"), ("minutes(90s)", "1")],
        )
        .with(|args, _| in_units(args, 60_000)),
        decl("hours(d: Duration) -> Int", "A duration in whole hours, rounded down.", &[("hours(1d + 90m)", "25")])
            .with(|args, _| in_units(args, 3_600_000)),
        decl("days(d: Duration) -> Int", "A duration in whole days of 24 hours, rounded down.", &[("days(2w)", "14")])
            .with(|args, _| in_units(args, 86_400_000)),
    ]
}

/// How many whole `unit`s (in milliseconds) a duration holds. A duration written to JSON
/// is ISO 8601 text; these give the number a receiver asks for instead.
fn in_units(args: &[Arg<'_>], unit: u64) -> Result<Value, EvalError> {
    match arg(args, 0)? {
        Value::Duration(ms) => i64::try_from(ms / unit)
            .map(Value::Int)
            .map_err(|_| EvalError::failed("the duration is too long to count as an Int")),
        other => Err(expected("a duration", other)),
    }
}

/// Whether a format reads an offset (`%z` in any of its forms, `%+`) or a Unix timestamp
/// (`%s`, UTC by definition).
pub(super) fn reads_offset(format: &str) -> bool {
    let unescaped = format.replace("%%", "");
    ["%z", "%:z", "%::z", "%:::z", "%#z", "%+", "%s"].iter().any(|spec| unescaped.contains(spec))
}

/// A literal format without an offset reads the time as UTC, which is right only when the
/// text is in UTC: platforms that leave the offset out mostly write the shop's local time.
fn warn_without_offset(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    let Some(format) = const_str(args, 1) else { return Ok(()) };
    if format_items(format).is_err() || reads_offset(format) {
        return Ok(());
    }
    Err((1, EvalError::failed(format!("`{format}` has no offset, so the time is read as UTC"))))
}

/// A strftime format, parsed; an unknown specifier is the flow's mistake, not the data's.
pub(super) fn format_items(format: &str) -> Result<Vec<Item<'_>>, EvalError> {
    let items: Vec<Item<'_>> = StrftimeItems::new(format).collect();
    if items.iter().any(|i| matches!(i, Item::Error)) {
        return Err(EvalError::failed(format!("`{format}` is not a valid date format")));
    }
    Ok(items)
}

/// A literal format for parsing, read as the call reads it.
fn check_format(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    const_str(args, 1).map_or(Ok(()), |f| format_items(f).map(drop).map_err(|e| (1, e)))
}

/// A literal format, tried on a sample of what it will format: this also finds one that
/// asks for what the value lacks (`%H` of a Date).
fn check_formatting(args: &[Option<Value>], sample: Value) -> Result<(), (usize, EvalError)> {
    let Some(format) = args.get(1).and_then(Option::as_ref).filter(|f| matches!(f, Value::Str(_))) else {
        return Ok(());
    };
    format_value(&[Arg::Value(sample), Arg::Value(format.clone())]).map(drop).map_err(|e| (1, e))
}

fn check_date_format(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    check_formatting(args, Value::Date(chrono::DateTime::UNIX_EPOCH.date_naive()))
}

fn check_datetime_format(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    check_formatting(args, Value::DateTime(chrono::DateTime::UNIX_EPOCH.fixed_offset()))
}

/// The fields of `s` read with `format`, or `None` when the text does not fit.
pub(super) fn parse_fields(args: &[Arg<'_>]) -> Result<Option<Parsed>, EvalError> {
    let (s, format) = (str_arg(args, 0)?, str_arg(args, 1)?);
    let items = format_items(format)?;
    let mut parsed = Parsed::new();
    Ok(parse(&mut parsed, s, items.iter()).ok().map(|_| parsed))
}

fn parse_date(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(parse_fields(args)?.and_then(|p| p.to_naive_date().ok()).map_or(Value::Null, Value::Date))
}

/// Without an offset in the format, the time is read as UTC.
fn parse_datetime(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let Some(p) = parse_fields(args)? else {
        return Ok(Value::Null);
    };
    let dt = match p.offset() {
        Some(_) => p.to_datetime().ok(),
        None => p.to_naive_datetime_with_offset(0).ok().map(|n| n.and_utc().fixed_offset()),
    };
    Ok(dt.map_or(Value::Null, Value::DateTime))
}

/// A Date or a DateTime as text. A format asking for what the value lacks (`%H` of a
/// Date) fails rather than guessing.
fn format_value(args: &[Arg<'_>]) -> Result<Value, EvalError> {
    let format = str_arg(args, 1)?;
    let items = format_items(format)?;
    let mut out = String::new();
    let (shown, what) = match arg(args, 0)? {
        Value::Date(d) => (write!(out, "{}", d.format_with_items(items.iter())), "a date"),
        Value::DateTime(t) => (write!(out, "{}", t.format_with_items(items.iter())), "a date and time"),
        other => return Err(expected("a date", other)),
    };
    match shown {
        Ok(()) => Ok(Value::str(&out)),
        Err(_) => Err(EvalError::failed(format!("`{format}` asks for something {what} does not have"))),
    }
}

fn format_date(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    format_value(args)
}

fn format_datetime(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    format_value(args)
}

fn date(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    match arg(args, 0)? {
        Value::DateTime(t) => Ok(Value::Date(t.date_naive())),
        Value::Date(d) => Ok(Value::Date(*d)),
        other => Err(expected("a date and time", other)),
    }
}

fn now(_: &[Arg<'_>], ctx: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::DateTime(ctx.now()))
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};

    use super::*;
    use crate::builtins::testing::{call, ctx, failure, s, show};

    fn day(y: i32, m: u32, d: u32) -> Value {
        Value::Date(NaiveDate::from_ymd_opt(y, m, d).expect("a valid date"))
    }

    fn at(text: &str) -> Value {
        Value::DateTime(DateTime::parse_from_rfc3339(text).expect("a valid time"))
    }

    #[test]
    fn parse_date_with_a_format() {
        assert_eq!(show(&call(parse_date, &[s("24/11/2026"), s("%d/%m/%Y")]).unwrap()), "2026-11-24");
        assert_eq!(show(&call(parse_date, &[s("2026-11-24"), s("%Y-%m-%d")]).unwrap()), "2026-11-24");
        assert_eq!(show(&call(parse_date, &[s("24 Nov 2026"), s("%d %b %Y")]).unwrap()), "2026-11-24");
        assert!(call(parse_date, &[s("31/02/2026"), s("%d/%m/%Y")]).unwrap().is_null());
        assert!(call(parse_date, &[s("24/11"), s("%d/%m/%Y")]).unwrap().is_null());
        assert!(call(parse_date, &[s("24/11/2026 extra"), s("%d/%m/%Y")]).unwrap().is_null());
        assert!(call(parse_date, &[s(""), s("%d/%m/%Y")]).unwrap().is_null());
        assert!(failure(call(parse_date, &[s("24/11/2026"), s("%d/%m/%Q")])).contains("not a valid date format"));
    }

    #[test]
    fn parse_datetime_with_and_without_offset() {
        let parsed = call(parse_datetime, &[s("2026-11-24 10:00 +0000"), s("%Y-%m-%d %H:%M %z")]).unwrap();
        assert_eq!(show(&parsed), "2026-11-24T10:00:00Z");
        let east = call(parse_datetime, &[s("2026-11-24 10:00 +0530"), s("%Y-%m-%d %H:%M %z")]).unwrap();
        assert_eq!(show(&east), "2026-11-24T10:00:00+05:30");
        let naive = call(parse_datetime, &[s("24/11/2026 10:30:15"), s("%d/%m/%Y %H:%M:%S")]).unwrap();
        assert_eq!(show(&naive), "2026-11-24T10:30:15Z");
        assert!(call(parse_datetime, &[s("2026-11-24"), s("%Y-%m-%d")]).unwrap().is_null());
        assert!(call(parse_datetime, &[s("2026-11-24 25:00"), s("%Y-%m-%d %H:%M")]).unwrap().is_null());
        assert!(call(parse_datetime, &[s("soon"), s("%Y-%m-%d %H:%M")]).unwrap().is_null());
        assert!(failure(call(parse_datetime, &[s("x"), s("%Q")])).contains("not a valid date format"));
    }

    #[test]
    fn format_dates_and_times() {
        assert_eq!(show(&call(format_date, &[day(2026, 11, 24), s("%d.%m.%Y")]).unwrap()), "24.11.2026");
        assert_eq!(show(&call(format_date, &[day(2026, 11, 24), s("%A %-d %B")]).unwrap()), "Tuesday 24 November");
        let t = at("2026-11-24T10:05:00+01:00");
        assert_eq!(show(&call(format_datetime, &[t.clone(), s("%Y-%m-%d")]).unwrap()), "2026-11-24");
        assert_eq!(show(&call(format_datetime, &[t, s("%H:%M %:z")]).unwrap()), "10:05 +01:00");
        assert!(failure(call(format_date, &[day(2026, 11, 24), s("%H:%M")])).contains("does not have"));
        assert!(failure(call(format_date, &[day(2026, 11, 24), s("%Q")])).contains("not a valid date format"));
        assert!(failure(call(format_datetime, &[s("2026"), s("%Y")])).contains("expected a date"));
    }

    #[test]
    fn date_of_a_time_in_its_own_offset() {
        assert_eq!(show(&call(date, &[at("2026-11-24T10:00:00Z")]).unwrap()), "2026-11-24");
        assert_eq!(show(&call(date, &[at("2026-11-24T23:30:00-05:00")]).unwrap()), "2026-11-24");
        assert_eq!(show(&call(date, &[at("2026-11-25T00:30:00+02:00")]).unwrap()), "2026-11-25");
    }

    #[test]
    fn now_is_the_pinned_clock() {
        assert_eq!(show(&call(now, &[]).unwrap()), "2026-11-24T12:00:00Z");
        assert!(matches!(now(&[], &ctx()), Ok(Value::DateTime(t)) if t == ctx().now));
    }
}
