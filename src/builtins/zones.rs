//! Time zones: the same instant seen in a named IANA zone, local parts of it, and local
//! wall times turned back into instants.
//!
//! A `DateTime` carries a fixed offset, which is all an instant needs; a zone is a rule
//! that picks the offset for each instant. Cut-offs, business days and platform
//! timestamps without an offset are stated in a zone, so these builtins take its name.
//! A wall time a zone skips (the hour the clocks go forward) or repeats (the hour they go
//! back) is resolved the same way everywhere, see `resolve`.

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Timelike,
};
use chrono_tz::Tz;

use super::{arg, const_str, decl, expected, str_arg, Arg, Decl, EvalContext, EvalError};
use crate::value::Value;

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "to_zone(t: DateTime, zone: String) -> DateTime",
            "The same instant with the offset `zone` (an IANA name) has at that instant.",
            &[
                (r#"to_zone(record.created_at, "Asia/Kolkata")"#, "2026-11-24T15:30:00+05:30"),
                (r#"to_zone(record.created_at - 150d, "Europe/London")"#, "2026-06-27T11:00:00+01:00"),
            ],
        )
        .with(to_zone)
        .checked(check_second_zone),
        decl(
            "local_date(t: DateTime, zone: String) -> Date",
            "The calendar date in `zone` at the instant `t`.",
            &[(r#"local_date(now(), "Pacific/Auckland")"#, "2026-11-25")],
        )
        .with(local_date)
        .checked(check_second_zone),
        decl(
            "local_time(t: DateTime, zone: String) -> String",
            "The wall-clock time in `zone` at the instant `t`, as `HH:MM:SS`.",
            &[(r#"local_time(record.created_at, "America/New_York")"#, r#""05:00:00""#)],
        )
        .with(local_time)
        .checked(check_second_zone),
        decl(
            "local_hour(t: DateTime, zone: String) -> Int",
            "The hour (0 to 23) on the wall clocks of `zone` at the instant `t`.",
            &[(r#"local_hour(now(), "Asia/Tokyo")"#, "21")],
        )
        .with(local_hour)
        .checked(check_second_zone),
        decl(
            "local_weekday(t: DateTime, zone: String) -> Int",
            "The day of the week in `zone` at the instant `t`: 1 is Monday, 7 is Sunday (ISO 8601).",
            &[(r#"local_weekday(record.created_at, "Europe/Berlin")"#, "2")],
        )
        .with(local_weekday)
        .checked(check_second_zone),
        decl(
            "format_local(t: DateTime, zone: String, format: String) -> String",
            "Formats the instant `t` as the wall clocks of `zone` show it; `%Z` is the zone's \
             abbreviation (`GMT`, `BST`).",
            &[(r#"format_local(record.created_at - 150d, "Europe/London", "%H:%M %Z")"#, r#""11:00 BST""#)],
        )
        .with(format_local)
        .checked(check_format_local),
        decl(
            "at_local(day: Date, time: String, zone: String) -> DateTime",
            "The instant the wall clocks of `zone` show `time` (`HH:MM` or `HH:MM:SS`) on `day`. \
             A time the clocks skip is read with the offset before the change (01:30 on the day \
             London goes forward is 02:30 BST); a time they show twice is the first of the two.",
            &[
                (r#"at_local(d, "14:00", "Europe/London")"#, "2026-11-24T14:00:00Z"),
                (r#"at_local(date(record.created_at - 240d), "01:30", "Europe/London")"#, "2026-03-29T02:30:00+01:00"),
            ],
        )
        .with(at_local)
        .checked(check_at_local),
        decl(
            "parse_local(s: String, format: String, zone: String) -> DateTime?",
            "Parses a date and time written without an offset, as the wall clocks of `zone` \
             showed it (WooCommerce `date_created`, Magento store times); absent when it does \
             not fit. Skipped and repeated times are resolved as by `at_local`.",
            &[(
                r#"parse_local("2026-07-01 09:15:00", "%Y-%m-%d %H:%M:%S", "Europe/Paris")"#,
                "2026-07-01T09:15:00+02:00",
            )],
        )
        .with(parse_local)
        .checked(check_parse_local),
    ]
}

/// Longer than any IANA name (the longest has 32 characters). A name from the data
/// longer than this is neither compared with every zone's name for a suggestion (which
/// takes seconds for a field of a few kilobytes) nor quoted whole in a hold.
const LONGEST_ZONE: usize = 64;

/// The zone named `name`: an IANA name, spelt as the database spells it.
pub(super) fn zone(name: &str) -> Result<Tz, EvalError> {
    if name.len() > LONGEST_ZONE {
        let cut: String = name.chars().take(LONGEST_ZONE).collect();
        return Err(EvalError::failed(format!("`{cut}...` is not a known time zone")));
    }
    name.parse::<Tz>().map_err(|_| {
        let hint = match suggestion(name) {
            Some(s) => format!(": {s}"),
            None if !name.contains('/') => " (IANA names are like \"Europe/London\")".to_string(),
            None => String::new(),
        };
        EvalError::failed(format!("`{name}` is not a known time zone{hint}"))
    })
}

/// The zone a mistaken name most likely meant: a city named alone or in another case
/// (`london`), else the closest spelling (`Europe/Londres`).
fn suggestion(name: &str) -> Option<String> {
    let names = || chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name());
    let city = name.rsplit('/').next().unwrap_or(name).replace(' ', "_");
    names()
        .find(|n| n.eq_ignore_ascii_case(name) || n.rsplit('/').next().is_some_and(|c| c.eq_ignore_ascii_case(&city)))
        .map(|n| format!("did you mean `{n}`?"))
        .or_else(|| crate::diagnostic::did_you_mean(name, names()).filter(|_| name.contains('/')))
}

fn zone_arg(args: &[Arg<'_>], i: usize) -> Result<Tz, EvalError> {
    zone(str_arg(args, i)?)
}

fn time_arg(args: &[Arg<'_>], i: usize) -> Result<DateTime<FixedOffset>, EvalError> {
    match arg(args, i)? {
        Value::DateTime(t) => Ok(*t),
        other => Err(expected("a date and time", other)),
    }
}

/// `t` as the wall clocks of argument `zone_at` show it.
fn in_zone(args: &[Arg<'_>], zone_at: usize) -> Result<DateTime<Tz>, EvalError> {
    let t = time_arg(args, 0)?;
    Ok(t.with_timezone(&zone_arg(args, zone_at)?))
}

/// Reads a wall time in `tz`. A time the clocks skip is read with the offset in force
/// before the change, so it lands as long after the change as it was after the start of
/// the skipped hour; a time shown twice is the earlier instant. Both are what a person
/// setting a cut-off means: "14:00" on a normal day, the hour after the change on the
/// rare day it falls into one.
fn resolve(tz: Tz, local: NaiveDateTime) -> Result<DateTime<FixedOffset>, EvalError> {
    if let Some(t) = match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Some(t),
        LocalResult::Ambiguous(first, _) => Some(first),
        LocalResult::None => None,
    } {
        return Ok(t.fixed_offset());
    }
    let day = chrono::Duration::days(1);
    let around = [local - day, local + day].map(|n| tz.offset_from_utc_datetime(&n).fix().local_minus_utc());
    let before = around.into_iter().min().unwrap_or(0);
    let instant = local - chrono::Duration::seconds(i64::from(before));
    Ok(tz.from_utc_datetime(&instant).fixed_offset())
}

/// `HH:MM` or `HH:MM:SS`, on a 24-hour clock.
fn time_of_day(text: &str) -> Result<NaiveTime, EvalError> {
    NaiveTime::parse_from_str(text, "%H:%M:%S")
        .or_else(|_| NaiveTime::parse_from_str(text, "%H:%M"))
        .ok()
        .filter(|_| matches!(text.len(), 5 | 8))
        .ok_or_else(|| {
            EvalError::failed(format!("`{text}` is not a time of day (write e.g. \"14:00\" or \"14:00:30\")"))
        })
}

fn to_zone(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::DateTime(in_zone(args, 1)?.fixed_offset()))
}

fn local_date(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Date(in_zone(args, 1)?.date_naive()))
}

fn local_time(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::str(&in_zone(args, 1)?.format("%H:%M:%S").to_string()))
}

fn local_hour(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Int(i64::from(in_zone(args, 1)?.hour())))
}

fn local_weekday(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Int(i64::from(in_zone(args, 1)?.weekday().number_from_monday())))
}

fn format_local(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let t = in_zone(args, 1)?;
    let format = str_arg(args, 2)?;
    let items = super::dates::format_items(format)?;
    let mut out = String::new();
    std::fmt::Write::write_fmt(&mut out, format_args!("{}", t.format_with_items(items.iter())))
        .map_err(|_| EvalError::failed(format!("`{format}` asks for something a date and time does not have")))?;
    Ok(Value::str(&out))
}

fn at_local(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let day: NaiveDate = match arg(args, 0)? {
        Value::Date(d) => *d,
        other => return Err(expected("a date", other)),
    };
    let time = time_of_day(str_arg(args, 1)?)?;
    Ok(Value::DateTime(resolve(zone_arg(args, 2)?, day.and_time(time))?))
}

fn parse_local(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let tz = zone_arg(args, 2)?;
    let Some(parsed) = super::dates::parse_fields(args)? else {
        return Ok(Value::Null);
    };
    if parsed.offset().is_some() {
        return Err(offset_in_format(str_arg(args, 1)?));
    }
    match parsed.to_naive_datetime_with_offset(0) {
        Ok(local) => resolve(tz, local).map(Value::DateTime),
        Err(_) => Ok(Value::Null),
    }
}

fn offset_in_format(format: &str) -> EvalError {
    EvalError::failed(format!("`{format}` reads an offset: use `parse_datetime` for times that carry one"))
}

/// A literal zone as the second argument names a zone.
fn check_second_zone(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    check_zone(args, 1)
}

fn check_zone(args: &[Option<Value>], i: usize) -> Result<(), (usize, EvalError)> {
    const_str(args, i).map_or(Ok(()), |name| zone(name).map(drop).map_err(|e| (i, e)))
}

fn check_format_local(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    check_zone(args, 1)?;
    let Some(format) = const_str(args, 2) else { return Ok(()) };
    let sample = [Some(Value::DateTime(DateTime::UNIX_EPOCH.fixed_offset())), Some(Value::str("UTC"))];
    let values: Vec<Arg<'_>> = sample.into_iter().flatten().chain([Value::str(format)]).map(Arg::Value).collect();
    format_local(&values, &NoContext).map(drop).map_err(|e| (2, e))
}

fn check_at_local(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    if let Some(time) = const_str(args, 1) {
        time_of_day(time).map_err(|e| (1, e))?;
    }
    check_zone(args, 2)
}

fn check_parse_local(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    if let Some(format) = const_str(args, 1) {
        super::dates::format_items(format).map_err(|e| (1, e))?;
        if super::dates::reads_offset(format) {
            return Err((1, offset_in_format(format)));
        }
    }
    check_zone(args, 2)
}

/// The checks run without a run: nothing they call reads the clock or the environment.
struct NoContext;

impl EvalContext for NoContext {
    fn now(&self) -> DateTime<FixedOffset> {
        DateTime::UNIX_EPOCH.fixed_offset()
    }

    fn env(&self, _: &str) -> Option<String> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, failure, s, show};

    fn day(text: &str) -> Value {
        Value::Date(text.parse().expect("a valid date"))
    }

    fn wall(zone: &str, text: &str) -> String {
        let local = NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M").expect("a valid time");
        show(&Value::DateTime(resolve(super::zone(zone).expect("a zone"), local).expect("resolved")))
    }

    #[test]
    fn skipped_wall_times_move_on_by_the_gap() {
        assert_eq!(wall("Europe/London", "2026-03-29 00:59"), "2026-03-29T00:59:00Z");
        assert_eq!(wall("Europe/London", "2026-03-29 01:00"), "2026-03-29T02:00:00+01:00");
        assert_eq!(wall("Europe/London", "2026-03-29 01:59"), "2026-03-29T02:59:00+01:00");
        assert_eq!(wall("Europe/London", "2026-03-29 02:00"), "2026-03-29T02:00:00+01:00");
        assert_eq!(wall("America/New_York", "2026-03-08 02:15"), "2026-03-08T03:15:00-04:00");
        // Lord Howe Island moves its clocks by half an hour.
        assert_eq!(wall("Australia/Lord_Howe", "2026-10-04 02:10"), "2026-10-04T02:40:00+11:00");
    }

    #[test]
    fn repeated_wall_times_are_the_first_of_the_two() {
        assert_eq!(wall("Europe/London", "2026-10-25 01:30"), "2026-10-25T01:30:00+01:00");
        assert_eq!(wall("America/New_York", "2026-11-01 01:30"), "2026-11-01T01:30:00-04:00");
        assert_eq!(wall("Europe/London", "2026-10-25 02:00"), "2026-10-25T02:00:00Z");
    }

    #[test]
    fn times_of_day() {
        assert_eq!(
            show(&call(at_local, &[day("2026-01-15"), s("14:00"), s("Europe/London")]).unwrap()),
            "2026-01-15T14:00:00Z"
        );
        assert_eq!(
            show(&call(at_local, &[day("2026-07-15"), s("23:59:59"), s("Asia/Tokyo")]).unwrap()),
            "2026-07-15T23:59:59+09:00"
        );
        for bad in ["2pm", "14", "14:0", "14:00:0", "25:00", "14:60", " 14:00", "14h00"] {
            let e = failure(call(at_local, &[day("2026-01-15"), s(bad), s("Europe/London")]));
            assert!(e.contains("is not a time of day"), "{bad}: {e}");
        }
    }

    #[test]
    fn zone_names_are_iana_names() {
        assert!(super::zone("Europe/London").is_ok());
        assert!(super::zone("UTC").is_ok());
        assert!(failure(call(to_zone, &[Value::DateTime(DateTime::UNIX_EPOCH.fixed_offset()), s("BST")]))
            .contains("IANA names are like"));
        let epoch = || Value::DateTime(DateTime::UNIX_EPOCH.fixed_offset());
        assert_eq!(
            failure(call(local_date, &[epoch(), s("Europe/Londres")])),
            "`Europe/Londres` is not a known time zone: did you mean `Europe/London`?"
        );
        assert!(failure(call(local_date, &[epoch(), s("london")])).ends_with("did you mean `Europe/London`?"));
        assert!(failure(call(local_date, &[epoch(), s("new york")])).ends_with("did you mean `America/New_York`?"));
        assert_eq!(
            failure(call(local_date, &[epoch(), s("Nowhere/Atall")])),
            "`Nowhere/Atall` is not a known time zone"
        );
        assert_eq!(check_second_zone(&[None, Some(s("Nowhere/Else"))]).map_err(|(i, _)| i), Err(1));
        assert!(check_second_zone(&[None, None]).is_ok());
        assert_eq!(check_at_local(&[None, Some(s("9am")), Some(s("Europe/London"))]).map_err(|(i, _)| i), Err(1));
        assert_eq!(check_at_local(&[None, Some(s("09:00")), Some(s("London"))]).map_err(|(i, _)| i), Err(2));
        assert_eq!(check_parse_local(&[None, Some(s("%Y %z")), None]).map_err(|(i, _)| i), Err(1));
    }

    #[test]
    fn a_long_zone_name_from_the_data_fails_at_once() {
        let name = format!("Europe/{}", "x".repeat(20_000));
        let started = std::time::Instant::now();
        let e = failure(call(local_date, &[Value::DateTime(DateTime::UNIX_EPOCH.fixed_offset()), s(&name)]));
        assert!(started.elapsed() < std::time::Duration::from_millis(500), "{:?}", started.elapsed());
        assert!(e.contains("is not a known time zone") && e.len() < 200, "{}", &e[..200.min(e.len())]);
    }

    #[test]
    fn parse_local_refuses_a_format_with_an_offset() {
        let e = failure(call(parse_local, &[s("2026 +0100"), s("%Y %z"), s("Europe/London")]));
        assert!(e.contains("use `parse_datetime`"), "{e}");
    }
}
