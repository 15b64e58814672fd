//! Time zones and durations through the checker and the evaluator. The order's
//! `created_at` is 2026-11-24T10:00:00Z (a Tuesday, GMT in London) and the clock is
//! pinned at 12:00Z; summer instants are made from it by going back in whole days.
//! London's clocks go forward on 2026-03-29 (240 days before) and back on 2026-10-25.

use super::*;

#[test]
fn a_time_keeps_its_offset() {
    yields!(
        r#"parse_datetime("2026-11-24 11:00 +0100", "%Y-%m-%d %H:%M %z")"#,
        "2026-11-24T11:00:00+01:00",
        "DateTime?"
    );
    yields!(r#"parse_datetime("2026-11-24 11:00 +0100", "%Y-%m-%d %H:%M %z") == record.created_at"#, "true");
    yields!(
        r#"(parse_datetime("2026-11-24 11:30 +0100", "%Y-%m-%d %H:%M %z") ?? now()) + 1h"#,
        "2026-11-24T12:30:00+01:00"
    );
    yields!(r#"(parse_datetime("2026-11-24 11:30 +0100", "%Y-%m-%d %H:%M %z") ?? now()) - record.created_at"#, "30m");
    yields!(r#"to_zone(record.created_at, "Asia/Kolkata") == record.created_at"#, "true");
    yields!(r#"to_zone(record.created_at, "Asia/Kolkata") < now()"#, "true");
    yields!(r#"to_zone(record.created_at, "America/New_York") > record.created_at - 1ms"#, "true");
    yields!(r#""${to_zone(record.created_at, "America/New_York")}""#, r#""2026-11-24T05:00:00-05:00""#);
}

#[test]
fn zones_follow_daylight_saving() {
    yields!(r#"to_zone(record.created_at, "Europe/London")"#, "2026-11-24T10:00:00Z", "DateTime");
    yields!(r#"to_zone(record.created_at - 150d, "Europe/London")"#, "2026-06-27T11:00:00+01:00");
    yields!(r#"local_time(record.created_at + 3h30m, "Europe/London")"#, r#""13:30:00""#, "String");
    yields!(r#"local_time(record.created_at + 3h30m - 238d, "Europe/London")"#, r#""14:30:00""#);
    // An hour apart, the night the clocks go forward: 00:30 GMT, then 02:30 BST.
    yields!(r#"local_hour(record.created_at - 240d - 9h30m, "Europe/London")"#, "0", "Int");
    yields!(r#"local_hour(record.created_at - 240d - 8h30m, "Europe/London")"#, "2");
    yields!(r#"local_date(record.created_at + 14h, "America/Los_Angeles")"#, "2026-11-24", "Date");
    yields!(r#"local_date(record.created_at + 14h, "Europe/Berlin")"#, "2026-11-25");
    yields!(r#"local_weekday(record.created_at + 14h, "Europe/Berlin")"#, "3", "Int");
    yields!(r#"local_weekday(record.created_at - 2d, "UTC")"#, "7");
    yields!(r#"format_local(record.created_at, "Europe/London", "%H:%M %Z")"#, r#""10:00 GMT""#, "String");
    yields!(r#"format_local(record.created_at - 150d, "Europe/London", "%H:%M %Z")"#, r#""11:00 BST""#);
}

#[test]
fn local_wall_times_become_instants() {
    yields!(r#"at_local(d, "14:00", "Europe/London")"#, "2026-11-24T14:00:00Z", "DateTime");
    yields!(r#"at_local(d, "14:00:30", "Europe/Paris")"#, "2026-11-24T14:00:30+01:00");
    yields!(r#"at_local(date(record.created_at - 150d), "14:00", "Europe/London")"#, "2026-06-27T14:00:00+01:00");
    yields!(r#"at_local(d, "14:00", "Europe/London") - at_local(d, "14:00", "Europe/Paris")"#, "1h");
    // Skipped by the clocks: read with the offset before the change, an hour later.
    yields!(r#"at_local(date(record.created_at - 240d), "01:30", "Europe/London")"#, "2026-03-29T02:30:00+01:00");
    // Shown twice: the first of the two.
    yields!(r#"at_local(date(record.created_at - 30d), "01:30", "Europe/London")"#, "2026-10-25T01:30:00+01:00");
    yields!(r#"at_local(date(record.created_at - 30d), "02:30", "Europe/London")"#, "2026-10-25T02:30:00Z");
    rejects!(r#"at_local(d, "2pm", "Europe/London")"#, "E0139");
    rejects!(r#"at_local(d, "24:00", "Europe/London")"#, "E0139");
    rejects!(r#"at_local(d, "14:00", "Europe/Londres")"#, "E0138");
    rejects!(r#"at_local(record.created_at, "14:00", "Europe/London")"#, "E0104");
    fails!(r#"at_local(d, "1" + "4h", "Europe/London")"#, "expression_failed: `14h` is not a time of day");
}

#[test]
fn text_without_an_offset_is_read_in_a_zone() {
    yields!(
        r#"parse_local("2026-07-01 09:15:00", "%Y-%m-%d %H:%M:%S", "Europe/Paris")"#,
        "2026-07-01T09:15:00+02:00",
        "DateTime?"
    );
    yields!(r#"parse_local("2026-01-15T13:30:00", "%Y-%m-%dT%H:%M:%S", "Europe/London")"#, "2026-01-15T13:30:00Z");
    yields!(r#"parse_local("2026-03-29 01:30:00", "%Y-%m-%d %H:%M:%S", "Europe/London")"#, "2026-03-29T02:30:00+01:00");
    yields!(r#"parse_local("soon", "%Y-%m-%d %H:%M:%S", "Europe/London")"#, "null");
    rejects!(r#"parse_local("2026-07-01 09:15 +0000", "%Y-%m-%d %H:%M %z", "Europe/Paris")"#, "E0136");
    rejects!(r#"parse_local("2026-07-01 09:15", "%Y-%m-%d %H:%M", "CEST")"#, "E0138");
}

#[test]
fn unknown_zones() {
    rejects!(r#"to_zone(record.created_at, "Europe/Londres")"#, "E0138");
    rejects!(r#"local_date(record.created_at, "BST")"#, "E0138");
    rejects!(r#"local_time(record.created_at, "")"#, "E0138");
    rejects!(r#"local_hour(record.created_at, "Mars/Olympus")"#, "E0138");
    rejects!(r#"local_weekday(record.created_at, "utc+1")"#, "E0138");
    rejects!(r#"format_local(record.created_at, "Europe/Paris", "%H:%Q")"#, "E0136");
    rejects!(r#"to_zone(d, "Europe/London")"#, "E0104");
    rejects!(r#"to_zone(record.created_at, 1)"#, "E0104");
    fails!(r#"to_zone(record.created_at, record.name)"#, "expression_failed: `#1001` is not a known time zone");
    fails!(r#"local_date(record.created_at, "Europe/" + "Londres")"#, "not a known time zone");
}

#[test]
fn durations_in_units() {
    yields!("milliseconds(1m30s)", "90000", "Int");
    yields!("seconds(1m30s)", "90", "Int");
    yields!("seconds(1500ms)", "1");
    yields!("minutes(now() - record.created_at)", "120", "Int");
    yields!("minutes(59s)", "0");
    yields!("hours(1d + 90m)", "25", "Int");
    yields!("days(2w)", "14", "Int");
    yields!("days(now() - (record.created_at + 1d))", "0");
    rejects!("seconds(record.created_at)", "E0104");
    rejects!("minutes(90)", "E0104");
}
