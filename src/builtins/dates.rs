//! Date and time builtins. `now()` is pinned by `flowgate run --now` for repeatable runs.

use super::{decl, Decl};

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "parse_date(s: String, format: String) -> Date?",
            "Parses a date with a strftime format; absent when it does not fit.",
            &[(r#"parse_date("24/11/2026", "%d/%m/%Y")"#, "2026-11-24")],
        ),
        decl(
            "parse_datetime(s: String, format: String) -> DateTime?",
            "Parses a date and time with a strftime format; absent when it does not fit.",
            &[(r#"parse_datetime("2026-11-24 10:00 +0000", "%Y-%m-%d %H:%M %z")"#, "2026-11-24T10:00:00Z")],
        ),
        decl(
            "format_date(d: Date, format: String) -> String",
            "Formats a date.",
            &[(r#"format_date(d, "%d.%m.%Y")"#, r#""24.11.2026""#)],
        ),
        decl(
            "format_date(d: DateTime, format: String) -> String",
            "Formats a date and time.",
            &[(r#"format_date(record.created_at, "%Y-%m-%d")"#, r#""2026-11-24""#)],
        ),
        decl(
            "date(d: DateTime) -> Date",
            "The calendar date of a time (in its own offset).",
            &[("date(record.created_at)", "2026-11-24")],
        ),
        decl("now() -> DateTime", "The current time (pinned by `--now`).", &[("now()", "2026-11-24T12:00:00Z")]),
    ]
}
