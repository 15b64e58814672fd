//! Whether a text surely fits a Decimal, DateTime or Date type, answered without building
//! the value.
//!
//! Most of an order's money amounts and timestamps are declared but never read: they are
//! only checked. Parsing each into a `Decimal` or a chrono value only to drop it was a
//! fifth of the decoding time of the order benchmark. These checks accept the plain forms
//! platforms send ("199.00", "2024-05-01T10:00:00+02:00") and nothing else: `true` means
//! the parser would accept the text, `false` only that the parser must decide.

use crate::types::Type;

/// Whether `text` surely fits `ty` (optional or not): an amount, timestamp or date in its
/// plain form. Every other type is left to the parser.
pub(super) fn plain(ty: &Type, text: &str) -> bool {
    match ty.strip_optional() {
        Type::Decimal(scale) => decimal(text, *scale),
        Type::DateTime => date_time(text),
        Type::Date => date(text),
        _ => false,
    }
}

/// `-?digits(.digits)?` with at most 28 significant digits (always exact in a Decimal),
/// and, for a declared scale, no more fractional digits than it allows once trailing zeros
/// are dropped.
pub(super) fn decimal(text: &str, scale: Option<u32>) -> bool {
    let b = text.as_bytes();
    let unsigned = b.strip_prefix(b"-").unwrap_or(b);
    let (whole, fraction) = match unsigned.iter().position(|&c| c == b'.') {
        Some(p) => (&unsigned[..p], &unsigned[p + 1..]),
        None => (unsigned, &[][..]),
    };
    let plain = |d: &[u8]| !d.is_empty() && d.iter().all(u8::is_ascii_digit);
    if !plain(whole) || (whole.len() > 1 && whole[0] == b'0') {
        return false;
    }
    if whole.len() < unsigned.len() && !plain(fraction) {
        return false;
    }
    let significant = whole.iter().skip_while(|&&c| c == b'0').count() + fraction.len();
    let places = fraction.len() - fraction.iter().rev().take_while(|&&c| c == b'0').count();
    significant <= 28 && scale.is_none_or(|s| places <= s as usize)
}

/// `YYYY-MM-DDTHH:MM:SS`, then up to nine fractional digits, then `Z` or `+HH:MM` /
/// `-HH:MM` (not `-00:00`), every field in range.
pub(super) fn date_time(text: &str) -> bool {
    let b = text.as_bytes();
    // Bytes, not text: a multi-byte character may straddle any of these offsets.
    if b.len() < 20 || !date_bytes(&b[..10]) || b[10] != b'T' {
        return false;
    }
    let time = &b[11..19];
    if !(time[2] == b':' && time[5] == b':') {
        return false;
    }
    let in_range = |d: &[u8], max: u32| two_digits(d).is_some_and(|n| n <= max);
    if !(in_range(&time[0..2], 23) && in_range(&time[3..5], 59) && in_range(&time[6..8], 59)) {
        return false;
    }
    let mut rest = &b[19..];
    if let Some(fraction) = rest.strip_prefix(b".") {
        let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 || n > 9 {
            return false;
        }
        rest = &fraction[n..];
    }
    match rest {
        b"Z" => true,
        [b'-', b'0', b'0', b':', b'0', b'0'] => false,
        [b'+' | b'-', h @ .., b':', m1, m2] if h.len() == 2 => in_range(h, 23) && in_range(&[*m1, *m2], 59),
        _ => false,
    }
}

/// `YYYY-MM-DD`, a real day of the Gregorian calendar.
pub(super) fn date(text: &str) -> bool {
    date_bytes(text.as_bytes())
}

fn date_bytes(b: &[u8]) -> bool {
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let year = b[..4].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let (Some(month), Some(day)) = (two_digits(&b[5..7]), two_digits(&b[8..10])) else { return false };
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

fn two_digits(d: &[u8]) -> Option<u32> {
    match d {
        [a, b] if a.is_ascii_digit() && b.is_ascii_digit() => Some(u32::from(a - b'0') * 10 + u32::from(b - b'0')),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, NaiveDate};
    use rust_decimal::Decimal;

    use super::*;
    use crate::value::scalars::parse_decimal;

    /// Texts near the accepted forms: every one either is accepted by both the quick check
    /// and the parser, or left to the parser.
    fn near_decimals() -> Vec<String> {
        let mut out: Vec<String> = [
            "0",
            "-0",
            "0.0",
            "199.00",
            "-12.5",
            "1.",
            ".5",
            "-.5",
            "+1",
            "007",
            "00.5",
            "1e5",
            "1.2.3",
            "",
            "-",
            "1_0",
            " 1",
            "1 ",
            "0.1000",
            "12345678901234567.89",
            "9999999999999999999999999999",
            "99999999999999999999999999999",
            "0.0000000000000000000000000001",
            "0.00000000000000000000000000001",
            "79228162514264337593543950335",
            "1.23456789012345678901234567890",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every length of 9s and of fractions, around the 28-digit limit.
        for n in 1..34 {
            out.push("9".repeat(n));
            out.push(format!("0.{}", "1".repeat(n)));
            out.push(format!("1.{}0", "0".repeat(n)));
            out.push(format!("{}.{}", "5".repeat(n), "5".repeat(34 - n)));
        }
        out
    }

    #[test]
    fn a_decimal_it_accepts_parses() {
        for text in near_decimals() {
            for scale in [None, Some(0), Some(2), Some(4), Some(28)] {
                if decimal(&text, scale) {
                    assert!(parse_decimal(&text, scale).is_ok(), "{text:?} scale {scale:?}");
                    assert!(Decimal::from_str_exact(&text).is_ok(), "{text:?}");
                }
            }
        }
        for plain in ["0", "199.00", "-12.5", "0.1000", "12345678901234567.89"] {
            assert!(decimal(plain, Some(2)), "{plain}");
        }
        assert!(!decimal("1.005", Some(2)), "the parser words the error");
        assert!(decimal("1.500", Some(2)), "trailing zeros are not places");
    }

    fn near_timestamps() -> Vec<String> {
        let mut out = Vec::new();
        for date in [
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-00-10",
            "2024-04-31",
            "2024-12-31",
            "0000-01-01",
            "1900-02-29",
            "2000-02-29",
            "24-01-01",
            "2024-1-01",
        ] {
            for time in [
                "T10:00:00",
                "T23:59:59",
                "T24:00:00",
                "T10:60:00",
                "T10:00:60",
                "t10:00:00",
                " 10:00:00",
                "T1:00:00",
                "T10:00",
            ] {
                for fraction in ["", ".5", ".123456789", ".1234567890", "."] {
                    for offset in [
                        "Z", "z", "+00:00", "-00:00", "+02:00", "-05:30", "+23:59", "+24:00", "+02:60", "+0200", "",
                        "+02",
                    ] {
                        out.push(format!("{date}{time}{fraction}{offset}"));
                    }
                }
            }
        }
        out
    }

    #[test]
    fn a_timestamp_it_accepts_parses() {
        let mut accepted = 0;
        for text in near_timestamps() {
            if date_time(&text) {
                accepted += 1;
                assert!(DateTime::parse_from_rfc3339(&text).is_ok(), "{text:?}");
            }
        }
        assert!(accepted > 100, "the plain forms are accepted ({accepted})");
        assert!(date_time("2024-05-01T10:00:00+02:00") && date_time("2024-05-01T10:00:00.25Z"));
    }

    #[test]
    fn a_date_it_accepts_parses() {
        for text in [
            "2024-02-29",
            "2023-02-29",
            "2024-13-01",
            "2024-04-31",
            "2024-04-30",
            "0001-01-01",
            "2024-1-1",
            "x024-01-01",
        ] {
            if date(text) {
                assert!(NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok(), "{text:?}");
            }
        }
        assert!(date("2024-02-29") && !date("2023-02-29") && !date("2024-04-31"));
    }

    /// `text` with `c` put at every byte offset, both in place of the byte there and
    /// before it.
    fn with_char_everywhere(text: &str, c: char) -> Vec<String> {
        let mut out = Vec::new();
        for at in 0..=text.len() {
            let (head, tail) = text.as_bytes().split_at(at);
            let mut inserted = head.to_vec();
            inserted.extend(c.to_string().as_bytes());
            inserted.extend(tail);
            out.push(String::from_utf8(inserted).unwrap());
            if at < text.len() {
                let mut replaced = head.to_vec();
                replaced.extend(c.to_string().as_bytes());
                replaced.extend(&tail[1..]);
                out.push(String::from_utf8(replaced).unwrap());
            }
        }
        out
    }

    #[test]
    fn multi_byte_characters_anywhere_are_left_to_the_parser() {
        // Offsets are counted in bytes: a character of two, three or four bytes may
        // straddle any offset these checks look at.
        let samples = [
            "2026-11-24T10:00:00Z",
            "2026-11-24T10:00:00.123+02:00",
            "2026-11-24",
            "199.00",
            "-12.5",
            "12345678901234567.89",
        ];
        let types = [Type::DateTime, Type::Date, Type::Decimal(None), Type::Decimal(Some(2))];
        let mut tried = 0;
        for sample in samples {
            for c in ['é', '☃', '😀'] {
                for text in with_char_everywhere(sample, c) {
                    for ty in &types {
                        tried += 1;
                        assert!(!plain(ty, &text), "{ty} {text:?}");
                    }
                }
            }
        }
        assert!(tried > 1000);
        assert!(!date_time("2026-11-2éT10:00:00Z"));
    }

    #[test]
    fn only_amounts_timestamps_and_dates_are_checked_here() {
        assert!(plain(&Type::Decimal(Some(2)).optional(), "19.99"));
        assert!(!plain(&Type::Decimal(Some(2)), "19.999"));
        assert!(plain(&Type::DateTime, "2024-05-01T10:00:00Z") && plain(&Type::Date, "2024-05-01"));
        assert!(!plain(&Type::String, "19.99") && !plain(&Type::Int, "19") && !plain(&Type::Json, "1"));
    }
}
