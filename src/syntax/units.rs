//! Duration units as people write them (`5sec`, `10mins`, `1.5h`), read only to suggest
//! the literal the language takes. A number run into letters is read as a duration with
//! a unit that is not one, so the mistake gets a message naming the unit and a fix, not
//! "expected an expression".

/// The units a duration literal takes, largest first, with their length in milliseconds.
const UNITS: &[(&str, u64)] =
    &[("w", 604_800_000), ("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1_000), ("ms", 1)];

/// The units in the order the docs list them.
pub(crate) const UNIT_LIST: &str = "ms, s, m (minutes), h, d, w";

/// What a misspelt duration should have been.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Advice {
    /// A unit that names no span of time (`12abc`, `5M`): there is nothing to suggest.
    Unknown { unit: String },
    /// A spelling of a known unit (`5sec`), or a fraction (`1.5h`): write this instead.
    Write { unit: Option<String>, literal: String },
    /// Known units, but a fraction that is no whole number of milliseconds.
    Fraction,
}

/// The unit a spelling stands for. A capital `M` could mean months, so it is not guessed.
fn canonical(unit: &str) -> Option<&'static str> {
    if unit == "M" {
        return None;
    }
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" | "msec" | "msecs" | "millis" | "millisecond" | "milliseconds" => "ms",
        "s" | "sec" | "secs" | "second" | "seconds" => "s",
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        "w" | "wk" | "wks" | "week" | "weeks" => "w",
        _ => return None,
    })
}

fn ms_of(unit: &str) -> u64 {
    UNITS.iter().find(|(u, _)| *u == unit).map_or(1, |(_, ms)| *ms)
}

/// Milliseconds as a literal, largest unit first: `5400000` is `1h30m`.
fn compose(mut ms: u64) -> String {
    let mut out = String::new();
    for (unit, len) in UNITS {
        if ms >= *len {
            out.push_str(&format!("{}{unit}", ms / len));
            ms %= len;
        }
    }
    if out.is_empty() {
        out.push_str("0s");
    }
    out
}

/// `digits[.digits]` of a unit, in milliseconds, if that is a whole number of them.
/// Exact: the fraction is read as digits, never as a float.
fn amount_ms(number: &str, unit_ms: u64) -> Option<u64> {
    let (whole, frac) = number.split_once('.').unwrap_or((number, ""));
    let whole: u64 = whole.parse().ok()?;
    let mut total = whole.checked_mul(unit_ms)?;
    if !frac.is_empty() {
        let scale = 10u64.checked_pow(u32::try_from(frac.len()).ok()?)?;
        let part = frac.parse::<u64>().ok()?.checked_mul(unit_ms)?;
        if part % scale != 0 {
            return None;
        }
        total = total.checked_add(part / scale)?;
    }
    Some(total)
}

/// Advice for `text`, a number run into letters that is not a duration literal.
pub(crate) fn advise(text: &str) -> Advice {
    let mut pieces: Vec<(&str, &str)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        let n = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        let (number, after) = rest.split_at(n);
        let u = after.find(|c: char| !c.is_ascii_alphabetic()).unwrap_or(after.len());
        let (unit, after) = after.split_at(u);
        if number.is_empty() || unit.is_empty() {
            return Advice::Unknown { unit: rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.').into() };
        }
        pieces.push((number, unit));
        rest = after;
    }
    let mut misspelt = None;
    let mut literal = String::new();
    let mut fraction = false;
    for (number, unit) in &pieces {
        let Some(canon) = canonical(unit) else {
            return Advice::Unknown { unit: (*unit).to_string() };
        };
        if *unit != canon && misspelt.is_none() {
            misspelt = Some((*unit).to_string());
        }
        if number.contains('.') {
            fraction = true;
        } else {
            literal.push_str(&format!("{number}{canon}"));
        }
    }
    if fraction {
        let mut total: u64 = 0;
        for (number, unit) in &pieces {
            let Some(ms) = canonical(unit).and_then(|c| amount_ms(number, ms_of(c))) else { return Advice::Fraction };
            let Some(t) = total.checked_add(ms) else { return Advice::Fraction };
            total = t;
        }
        literal = compose(total);
    }
    Advice::Write { unit: misspelt, literal }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &str) -> String {
        match advise(text) {
            Advice::Write { literal, .. } => literal,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn spellings_of_units_become_the_unit() {
        assert_eq!(write("5sec"), "5s");
        assert_eq!(write("10mins"), "10m");
        assert_eq!(write("2hours"), "2h");
        assert_eq!(write("3days"), "3d");
        assert_eq!(write("100msec"), "100ms");
        assert_eq!(write("1h30mins"), "1h30m");
        assert_eq!(write("2Weeks"), "2w");
    }

    #[test]
    fn fractions_become_whole_units() {
        assert_eq!(write("1.5h"), "1h30m");
        assert_eq!(write("1.5s"), "1s500ms");
        assert_eq!(write("0.25sec"), "250ms");
        assert_eq!(advise("1.0001s"), Advice::Fraction);
    }

    #[test]
    fn letters_that_name_no_unit_are_named() {
        assert_eq!(advise("12abc"), Advice::Unknown { unit: "abc".into() });
        assert_eq!(advise("5M"), Advice::Unknown { unit: "M".into() });
        assert_eq!(advise("5s_x"), Advice::Unknown { unit: "_x".into() });
        assert_eq!(advise("1h30parsecs"), Advice::Unknown { unit: "parsecs".into() });
    }
}
