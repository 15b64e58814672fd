//! String builtins.

use std::cell::RefCell;
use std::collections::HashMap;

use regex::Regex;

use super::{arg, const_str, decl, expected, int_arg, list_arg, opt_arg, str_arg, Arg, Decl, EvalContext, EvalError};
use crate::value::Value;

pub(super) fn decls() -> Vec<Decl> {
    vec![
        decl(
            "trim(s: String) -> String",
            "Removes leading and trailing white space.",
            &[(r#""  A1 ".trim()"#, r#""A1""#)],
        )
        .with(trim),
        decl("upper(s: String) -> String", "Upper-cases every letter.", &[(r#""gb".upper()"#, r#""GB""#)]).with(upper),
        decl("lower(s: String) -> String", "Lower-cases every letter.", &[(r#""SKU-1".lower()"#, r#""sku-1""#)])
            .with(lower),
        decl(
            "replace(s: String, from: String, to: String) -> String",
            "Replaces every occurrence of `from` with `to`.",
            &[(r#""a-b-c".replace("-", "/")"#, r#""a/b/c""#)],
        )
        .with(replace),
        decl(
            "split(s: String, sep: String) -> [String]",
            "Cuts a string at each separator.",
            &[(r#""a,b".split(",")"#, r#"["a", "b"]"#)],
        )
        .with(split),
        decl(
            "join(xs: [String], sep: String) -> String",
            "Joins strings with a separator.",
            &[(r#"["a", "b"].join(", ")"#, r#""a, b""#)],
        )
        .with(join),
        decl(
            "pad_left(s: String, width: Int, fill?: String) -> String",
            "Pads on the left to `width` characters (default fill: a space).",
            &[(r#""42".pad_left(5, "0")"#, r#""00042""#)],
        )
        .with(pad_left),
        decl(
            "pad_right(s: String, width: Int, fill?: String) -> String",
            "Pads on the right to `width` characters (default fill: a space).",
            &[(r#""ab".pad_right(4, ".")"#, r#""ab..""#)],
        )
        .with(pad_right),
        decl(
            "substring(s: String, start: Int, length?: Int) -> String",
            "Characters from `start` (0-based), at most `length` of them.",
            &[(r#""ORD-1001".substring(4)"#, r#""1001""#)],
        )
        .with(substring),
        decl(
            "starts_with(s: String, prefix: String) -> Bool",
            "Whether `s` begins with `prefix`.",
            &[(r##""#1001".starts_with("#")"##, "true")],
        )
        .with(starts_with),
        decl(
            "ends_with(s: String, suffix: String) -> Bool",
            "Whether `s` ends with `suffix`.",
            &[(r#""a.csv".ends_with(".csv")"#, "true")],
        )
        .with(ends_with),
        decl(
            "contains(s: String, part: String) -> Bool",
            "Whether `part` occurs in `s`.",
            &[(r#""gift wrap".contains("gift")"#, "true")],
        )
        .with(contains),
        decl(
            "matches(s: String, pattern: String) -> Bool",
            "Whether the regular expression matches somewhere in `s`.",
            &[(r#""SKU-123".matches("^SKU-[0-9]+$")"#, "true")],
        )
        .with(matches)
        .checked(check_pattern),
        decl(
            "regex_replace(s: String, pattern: String, with: String) -> String",
            "Replaces every match of the regular expression (`$1` refers to groups).",
            &[(r#""a  b".regex_replace(" +", " ")"#, r#""a b""#)],
        )
        .with(regex_replace)
        .checked(check_pattern),
        decl(
            "html_decode(s: String) -> String",
            "Replaces HTML character references with the characters they stand for: numeric ones (`&#8211;`, `&#x2013;`) and the named ones shops put in product titles (`&amp;` `&lt;` `&gt;` `&quot;` `&apos;` `&nbsp;` `&ndash;` `&mdash;` `&hellip;` `&lsquo;` `&rsquo;` `&sbquo;` `&ldquo;` `&rdquo;` `&bdquo;` `&laquo;` `&raquo;` `&euro;` `&pound;` `&yen;` `&cent;` `&copy;` `&reg;` `&trade;` `&deg;` `&times;` `&divide;` `&plusmn;` `&frac12;` `&bull;` `&middot;` `&sect;` `&para;` `&dagger;` `&shy;`, the accented Latin letters such as `&eacute;` `&uuml;` `&szlig;` `&ntilde;` `&ccedil;`, and a few more). Only references ending in `;` are read; an unknown name, or a number that is no character, is left as written. One pass: `&amp;lt;` becomes `&lt;`.",
            &[
                (r#"html_decode("Fish &amp; Chips &#8211; &pound;5")"#, r#""Fish & Chips – £5""#),
                (r#"html_decode("&lsquo;Tee&rsquo; &#x2014; 1&frac12; &bogus;")"#, r#""‘Tee’ — 1½ &bogus;""#),
            ],
        )
        .with(html_decode),
        decl("len(s: String) -> Int", "The number of characters.", &[(r#""GBP".len()"#, "3")]).with(len),
        decl(
            "to_string(x: T) -> String",
            "The value as text; Decimals keep their scale (`19.90` stays `\"19.90\"`).",
            &[("19.90.to_string()", r#""19.90""#)],
        )
        .with(to_string),
    ]
}

/// Named character references: the ones shops emit, and the Latin-1 letters.
const HTML_ENTITIES: &[(&str, char)] = &[
    ("amp", '&'),
    ("lt", '<'),
    ("gt", '>'),
    ("quot", '"'),
    ("apos", '\''),
    ("nbsp", '\u{a0}'),
    ("ndash", '\u{2013}'),
    ("mdash", '\u{2014}'),
    ("hellip", '\u{2026}'),
    ("lsquo", '\u{2018}'),
    ("rsquo", '\u{2019}'),
    ("sbquo", '\u{201a}'),
    ("ldquo", '\u{201c}'),
    ("rdquo", '\u{201d}'),
    ("bdquo", '\u{201e}'),
    ("laquo", '\u{ab}'),
    ("raquo", '\u{bb}'),
    ("lsaquo", '\u{2039}'),
    ("rsaquo", '\u{203a}'),
    ("euro", '\u{20ac}'),
    ("pound", '\u{a3}'),
    ("yen", '\u{a5}'),
    ("cent", '\u{a2}'),
    ("curren", '\u{a4}'),
    ("copy", '\u{a9}'),
    ("reg", '\u{ae}'),
    ("trade", '\u{2122}'),
    ("deg", '\u{b0}'),
    ("times", '\u{d7}'),
    ("divide", '\u{f7}'),
    ("plusmn", '\u{b1}'),
    ("minus", '\u{2212}'),
    ("frac14", '\u{bc}'),
    ("frac12", '\u{bd}'),
    ("frac34", '\u{be}'),
    ("sup1", '\u{b9}'),
    ("sup2", '\u{b2}'),
    ("sup3", '\u{b3}'),
    ("micro", '\u{b5}'),
    ("bull", '\u{2022}'),
    ("middot", '\u{b7}'),
    ("sect", '\u{a7}'),
    ("para", '\u{b6}'),
    ("dagger", '\u{2020}'),
    ("Dagger", '\u{2021}'),
    ("permil", '\u{2030}'),
    ("prime", '\u{2032}'),
    ("Prime", '\u{2033}'),
    ("shy", '\u{ad}'),
    ("iexcl", '\u{a1}'),
    ("iquest", '\u{bf}'),
    ("ordf", '\u{aa}'),
    ("ordm", '\u{ba}'),
    ("not", '\u{ac}'),
    ("macr", '\u{af}'),
    ("acute", '\u{b4}'),
    ("cedil", '\u{b8}'),
    ("uml", '\u{a8}'),
    ("brvbar", '\u{a6}'),
    ("ensp", '\u{2002}'),
    ("emsp", '\u{2003}'),
    ("thinsp", '\u{2009}'),
    ("zwnj", '\u{200c}'),
    ("zwj", '\u{200d}'),
    ("larr", '\u{2190}'),
    ("rarr", '\u{2192}'),
    ("uarr", '\u{2191}'),
    ("darr", '\u{2193}'),
    ("hearts", '\u{2665}'),
    ("star", '\u{2606}'),
    ("check", '\u{2713}'),
    ("infin", '\u{221e}'),
    ("le", '\u{2264}'),
    ("ge", '\u{2265}'),
    ("ne", '\u{2260}'),
    ("asymp", '\u{2248}'),
    ("Agrave", 'À'),
    ("Aacute", 'Á'),
    ("Acirc", 'Â'),
    ("Atilde", 'Ã'),
    ("Auml", 'Ä'),
    ("Aring", 'Å'),
    ("AElig", 'Æ'),
    ("Ccedil", 'Ç'),
    ("Egrave", 'È'),
    ("Eacute", 'É'),
    ("Ecirc", 'Ê'),
    ("Euml", 'Ë'),
    ("Igrave", 'Ì'),
    ("Iacute", 'Í'),
    ("Icirc", 'Î'),
    ("Iuml", 'Ï'),
    ("ETH", 'Ð'),
    ("Ntilde", 'Ñ'),
    ("Ograve", 'Ò'),
    ("Oacute", 'Ó'),
    ("Ocirc", 'Ô'),
    ("Otilde", 'Õ'),
    ("Ouml", 'Ö'),
    ("Oslash", 'Ø'),
    ("Ugrave", 'Ù'),
    ("Uacute", 'Ú'),
    ("Ucirc", 'Û'),
    ("Uuml", 'Ü'),
    ("Yacute", 'Ý'),
    ("THORN", 'Þ'),
    ("szlig", 'ß'),
    ("agrave", 'à'),
    ("aacute", 'á'),
    ("acirc", 'â'),
    ("atilde", 'ã'),
    ("auml", 'ä'),
    ("aring", 'å'),
    ("aelig", 'æ'),
    ("ccedil", 'ç'),
    ("egrave", 'è'),
    ("eacute", 'é'),
    ("ecirc", 'ê'),
    ("euml", 'ë'),
    ("igrave", 'ì'),
    ("iacute", 'í'),
    ("icirc", 'î'),
    ("iuml", 'ï'),
    ("eth", 'ð'),
    ("ntilde", 'ñ'),
    ("ograve", 'ò'),
    ("oacute", 'ó'),
    ("ocirc", 'ô'),
    ("otilde", 'õ'),
    ("ouml", 'ö'),
    ("oslash", 'ø'),
    ("ugrave", 'ù'),
    ("uacute", 'ú'),
    ("ucirc", 'û'),
    ("uuml", 'ü'),
    ("yacute", 'ý'),
    ("thorn", 'þ'),
    ("yuml", 'ÿ'),
    ("OElig", 'Œ'),
    ("oelig", 'œ'),
    ("Scaron", 'Š'),
    ("scaron", 'š'),
    ("Yuml", 'Ÿ'),
    ("Zcaron", 'Ž'),
    ("zcaron", 'ž'),
    ("fnof", 'ƒ'),
    ("circ", 'ˆ'),
    ("tilde", '˜'),
];

/// The character a reference names, `name` being what stands between `&` and `;`.
fn html_reference(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) if !hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()) => {
                u32::from_str_radix(hex, 16).ok()?
            }
            None if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()) => num.parse().ok()?,
            _ => return None,
        };
        return char::from_u32(code).filter(|c| *c != '\0');
    }
    HTML_ENTITIES.iter().find(|(n, _)| *n == name).map(|(_, c)| *c)
}

fn html_decode(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let s = str_arg(args, 0)?;
    if !s.contains('&') {
        return string(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        // The longest name is short: a `;` further away ends no reference.
        let end = rest[1..].char_indices().take(32).find(|(_, c)| *c == ';' || *c == '&').map(|(i, c)| (i + 1, c));
        match end.and_then(|(i, c)| (c == ';').then_some(i)).and_then(|i| Some((i, html_reference(&rest[1..i])?))) {
            Some((i, c)) => {
                out.push(c);
                rest = &rest[i + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    string(out)
}

fn string(s: impl Into<ecow::EcoString>) -> Result<Value, EvalError> {
    Ok(Value::Str(s.into()))
}

fn trim(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    // Most text has nothing to trim: then the same string, not a copy.
    if let Some(Arg::Value(Value::Str(s))) = args.first() {
        if nothing_to_trim(s) {
            return Ok(Value::Str(s.clone()));
        }
    }
    string(str_arg(args, 0)?.trim())
}

/// Whether `s.trim()` is `s`, told by its first and last bytes when they are ASCII and
/// not blank (every other whitespace character is more than one byte long).
fn nothing_to_trim(s: &str) -> bool {
    let solid = |b: Option<&u8>| b.is_some_and(|b| b.is_ascii() && !b.is_ascii_whitespace());
    let bytes = s.as_bytes();
    if solid(bytes.first()) && solid(bytes.last()) {
        return true;
    }
    s.trim().len() == s.len()
}

fn upper(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    string(str_arg(args, 0)?.to_uppercase())
}

fn lower(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    string(str_arg(args, 0)?.to_lowercase())
}

fn replace(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, from, to) = (str_arg(args, 0)?, str_arg(args, 1)?, str_arg(args, 2)?);
    if from.is_empty() {
        return string(s);
    }
    string(s.replace(from, to))
}

fn split(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, sep) = (str_arg(args, 0)?, str_arg(args, 1)?);
    let parts: ecow::EcoVec<Value> = if sep.is_empty() {
        s.chars().map(|c| Value::str(c.encode_utf8(&mut [0; 4]))).collect()
    } else {
        s.split(sep).map(Value::str).collect()
    };
    Ok(Value::list(parts))
}

fn join(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (xs, sep) = (list_arg(args, 0)?, str_arg(args, 1)?);
    let mut out = String::new();
    for (i, x) in xs.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        match x {
            Value::Str(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
    }
    string(out)
}

/// The widest `pad_left`/`pad_right` accepts, so a runaway width fails instead of
/// exhausting memory.
const MAX_PAD_WIDTH: i64 = 1_000_000;

/// The fill characters needed to bring `s` to `width` characters.
fn padding<'v>(args: &'v [Arg<'_>]) -> Result<(&'v str, String), EvalError> {
    let (s, width) = (str_arg(args, 0)?, int_arg(args, 1)?);
    let fill = match opt_arg(args, 2)? {
        None => " ",
        Some(Value::Str(f)) => f,
        Some(other) => return Err(expected("a string", other)),
    };
    if fill.is_empty() {
        return Err(EvalError::failed("the fill string is empty"));
    }
    if width > MAX_PAD_WIDTH {
        return Err(EvalError::failed(format!("pad width {width} is too large (at most {MAX_PAD_WIDTH})")));
    }
    let missing = usize::try_from(width).unwrap_or(0).saturating_sub(s.chars().count());
    Ok((s, fill.chars().cycle().take(missing).collect()))
}

fn pad_left(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, pad) = padding(args)?;
    string(pad + s)
}

fn pad_right(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, pad) = padding(args)?;
    string(s.to_string() + &pad)
}

fn substring(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, start) = (str_arg(args, 0)?, int_arg(args, 1)?);
    let start =
        usize::try_from(start).map_err(|_| EvalError::failed(format!("substring start {start} is negative")))?;
    let length = match opt_arg(args, 2)? {
        None => usize::MAX,
        Some(Value::Int(n)) => {
            usize::try_from(*n).map_err(|_| EvalError::failed(format!("substring length {n} is negative")))?
        }
        Some(other) => return Err(expected("an integer", other)),
    };
    string(s.chars().skip(start).take(length).collect::<String>())
}

fn starts_with(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Bool(str_arg(args, 0)?.starts_with(str_arg(args, 1)?)))
}

fn ends_with(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Bool(str_arg(args, 0)?.ends_with(str_arg(args, 1)?)))
}

fn contains(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    Ok(Value::Bool(str_arg(args, 0)?.contains(str_arg(args, 1)?)))
}

/// Compiled patterns kept per thread: a flow uses the same literal pattern for every
/// record. Bounded, in case patterns are built from data.
const REGEX_CACHE_SIZE: usize = 256;

thread_local! {
    static REGEXES: RefCell<HashMap<String, Regex>> = RefCell::new(HashMap::new());
}

fn regex(pattern: &str) -> Result<Regex, EvalError> {
    if let Some(re) = REGEXES.with(|c| c.borrow().get(pattern).cloned()) {
        return Ok(re);
    }
    let re = Regex::new(pattern).map_err(|e| EvalError::failed(format!("invalid regular expression: {e}")))?;
    REGEXES.with(|c| {
        let mut cache = c.borrow_mut();
        if cache.len() >= REGEX_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(pattern.to_string(), re.clone());
    });
    Ok(re)
}

/// A literal pattern, compiled as the call compiles it.
fn check_pattern(args: &[Option<Value>]) -> Result<(), (usize, EvalError)> {
    const_str(args, 1).map_or(Ok(()), |p| regex(p).map(drop).map_err(|e| (1, e)))
}

fn matches(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, pattern) = (str_arg(args, 0)?, str_arg(args, 1)?);
    Ok(Value::Bool(regex(pattern)?.is_match(s)))
}

fn regex_replace(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let (s, pattern, with) = (str_arg(args, 0)?, str_arg(args, 1)?, str_arg(args, 2)?);
    string(regex(pattern)?.replace_all(s, with))
}

fn len(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    let n = str_arg(args, 0)?.chars().count();
    Ok(Value::Int(i64::try_from(n).map_err(|_| EvalError::failed("string too long"))?))
}

/// The text a value interpolates as: strings unchanged, Decimals with their scale,
/// dates ISO 8601, lists and objects as JSON, secrets redacted.
fn to_string(args: &[Arg<'_>], _: &dyn EvalContext) -> Result<Value, EvalError> {
    match arg(args, 0)? {
        Value::Str(s) => Ok(Value::Str(s.clone())),
        other => string(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::testing::{call, d, failure, s, show, strs};

    fn text(r: Result<Value, EvalError>) -> String {
        match r {
            Ok(Value::Str(s)) => s.to_string(),
            other => panic!("expected a string, got {other:?}"),
        }
    }

    fn truth(r: Result<Value, EvalError>) -> bool {
        match r {
            Ok(Value::Bool(b)) => b,
            other => panic!("expected a boolean, got {other:?}"),
        }
    }

    #[test]
    fn nothing_to_trim_agrees_with_trim() {
        for t in ["", " ", "a", "ab", " a", "a ", "\u{3000}a", "a\u{3000}", "é", "aé", "\u{85}x", "x\u{a0}", "\t"] {
            assert_eq!(nothing_to_trim(t), t.trim() == t, "{t:?}");
        }
    }

    #[test]
    fn trim_upper_lower() {
        assert_eq!(text(call(trim, &[s("  A1 ")])), "A1");
        assert_eq!(text(call(trim, &[s("\t\u{3000}x\n")])), "x");
        assert_eq!(text(call(trim, &[s("")])), "");
        assert_eq!(text(call(upper, &[s("gb")])), "GB");
        assert_eq!(text(call(upper, &[s("straße")])), "STRASSE");
        assert_eq!(text(call(lower, &[s("SKU-1")])), "sku-1");
        assert_eq!(text(call(lower, &[s("ÉCOLE")])), "école");
    }

    #[test]
    fn replace_every_occurrence() {
        assert_eq!(text(call(replace, &[s("a-b-c"), s("-"), s("/")])), "a/b/c");
        assert_eq!(text(call(replace, &[s("aaa"), s("aa"), s("b")])), "ba");
        assert_eq!(text(call(replace, &[s("abc"), s(""), s("x")])), "abc");
        assert_eq!(text(call(replace, &[s("café"), s("é"), s("e")])), "cafe");
    }

    #[test]
    fn split_and_join() {
        assert_eq!(show(&call(split, &[s("a,b"), s(",")]).unwrap()), r#"["a","b"]"#);
        assert_eq!(show(&call(split, &[s(""), s(",")]).unwrap()), r#"[""]"#);
        assert_eq!(show(&call(split, &[s("a,,b,"), s(",")]).unwrap()), r#"["a","","b",""]"#);
        assert_eq!(show(&call(split, &[s("añb"), s("")]).unwrap()), r#"["a","ñ","b"]"#);
        assert_eq!(text(call(join, &[strs(&["a", "b"]), s(", ")])), "a, b");
        assert_eq!(text(call(join, &[strs(&[]), s(", ")])), "");
        assert_eq!(text(call(join, &[strs(&["only"]), s("-")])), "only");
    }

    #[test]
    fn padding_counts_characters() {
        assert_eq!(text(call(pad_left, &[s("42"), Value::Int(5), s("0")])), "00042");
        assert_eq!(text(call(pad_right, &[s("ab"), Value::Int(4), s(".")])), "ab..");
        assert_eq!(text(call(pad_left, &[s("7"), Value::Int(3)])), "  7");
        assert_eq!(text(call(pad_right, &[s("7"), Value::Int(3)])), "7  ");
        assert_eq!(text(call(pad_left, &[s("7"), Value::Int(3), Value::Null])), "  7");
        assert_eq!(text(call(pad_left, &[s("ü"), Value::Int(3), s("·")])), "··ü");
        assert_eq!(text(call(pad_left, &[s("x"), Value::Int(6), s("ab")])), "ababax");
        assert_eq!(text(call(pad_left, &[s("long"), Value::Int(2), s("0")])), "long");
        assert_eq!(text(call(pad_left, &[s("x"), Value::Int(-3), s("0")])), "x");
        assert!(failure(call(pad_left, &[s("x"), Value::Int(3), s("")])).contains("empty"));
        assert!(failure(call(pad_right, &[s("x"), Value::Int(i64::MAX)])).contains("too large"));
    }

    #[test]
    fn substring_by_characters() {
        assert_eq!(text(call(substring, &[s("ORD-1001"), Value::Int(4)])), "1001");
        assert_eq!(text(call(substring, &[s("ORD-1001"), Value::Int(0), Value::Int(3)])), "ORD");
        assert_eq!(text(call(substring, &[s("ORD"), Value::Int(1), Value::Int(100)])), "RD");
        assert_eq!(text(call(substring, &[s("ORD"), Value::Int(10)])), "");
        assert_eq!(text(call(substring, &[s("ORD"), Value::Int(1), Value::Int(0)])), "");
        assert_eq!(text(call(substring, &[s("日本語テキスト"), Value::Int(2), Value::Int(2)])), "語テ");
        assert!(failure(call(substring, &[s("ORD"), Value::Int(-1)])).contains("negative"));
        assert!(failure(call(substring, &[s("ORD"), Value::Int(0), Value::Int(-1)])).contains("negative"));
    }

    #[test]
    fn prefixes_suffixes_parts() {
        assert!(truth(call(starts_with, &[s("#1001"), s("#")])));
        assert!(!truth(call(starts_with, &[s("1001"), s("#")])));
        assert!(truth(call(starts_with, &[s("x"), s("")])));
        assert!(truth(call(ends_with, &[s("a.csv"), s(".csv")])));
        assert!(!truth(call(ends_with, &[s("a.csv"), s(".json")])));
        assert!(truth(call(contains, &[s("gift wrap"), s("gift")])));
        assert!(!truth(call(contains, &[s("gift wrap"), s("Gift")])));
        assert!(truth(call(contains, &[s("naïve"), s("ï")])));
    }

    #[test]
    fn regular_expressions() {
        assert!(truth(call(matches, &[s("SKU-123"), s("^SKU-[0-9]+$")])));
        assert!(!truth(call(matches, &[s("SKU-12a"), s("^SKU-[0-9]+$")])));
        assert!(truth(call(matches, &[s("a SKU-1 b"), s("SKU-[0-9]")])));
        assert!(truth(call(matches, &[s("ÄÖ"), s(r"^\p{Lu}+$")])));
        assert_eq!(text(call(regex_replace, &[s("a  b"), s(" +"), s(" ")])), "a b");
        assert_eq!(text(call(regex_replace, &[s("2026-11-24"), s(r"(\d+)-(\d+)-(\d+)"), s("$3/$2/$1")])), "24/11/2026");
        assert_eq!(text(call(regex_replace, &[s("abc"), s("x"), s("y")])), "abc");
        let err = failure(call(matches, &[s("x"), s("(")]));
        assert!(err.starts_with("invalid regular expression"), "{err}");
        assert!(failure(call(regex_replace, &[s("x"), s("[a-"), s("")])).contains("invalid regular expression"));
        // A second use of the same pattern comes from the cache and behaves the same.
        assert!(truth(call(matches, &[s("SKU-9"), s("^SKU-[0-9]+$")])));
    }

    #[test]
    fn len_counts_characters() {
        assert_eq!(call(len, &[s("GBP")]).unwrap().key(), "3");
        assert_eq!(call(len, &[s("")]).unwrap().key(), "0");
        assert_eq!(call(len, &[s("日本")]).unwrap().key(), "2");
        assert_eq!(call(len, &[s("é")]).unwrap().key(), "1");
    }

    #[test]
    fn to_string_of_each_kind() {
        assert_eq!(text(call(to_string, &[d("19.90")])), "19.90");
        assert_eq!(text(call(to_string, &[d("-0.50")])), "-0.50");
        assert_eq!(text(call(to_string, &[Value::Int(42)])), "42");
        assert_eq!(text(call(to_string, &[s("as is")])), "as is");
        assert_eq!(text(call(to_string, &[Value::Bool(true)])), "true");
        let date = chrono::NaiveDate::from_ymd_opt(2026, 11, 24).unwrap();
        assert_eq!(text(call(to_string, &[Value::Date(date)])), "2026-11-24");
        let t = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00+01:00").unwrap();
        assert_eq!(text(call(to_string, &[Value::DateTime(t)])), "2026-11-24T10:00:00+01:00");
        let utc = chrono::DateTime::parse_from_rfc3339("2026-11-24T10:00:00Z").unwrap();
        assert_eq!(text(call(to_string, &[Value::DateTime(utc)])), "2026-11-24T10:00:00Z");
        let rec = Value::record(vec![
            ("sku".to_string(), s("A1")),
            ("price".to_string(), d("19.90")),
            ("token".to_string(), Value::Secret("hunter2".into())),
        ]);
        assert_eq!(text(call(to_string, &[rec])), r#"{"sku":"A1","price":19.90,"token":"<redacted>"}"#);
        assert_eq!(text(call(to_string, &[Value::list(ecow::eco_vec![Value::Int(1), s("a")])])), r#"[1,"a"]"#);
        assert_eq!(text(call(to_string, &[Value::Secret("hunter2".into())])), "<redacted>");
    }

    #[test]
    fn wrong_kinds_fail_without_panicking() {
        assert!(failure(call(trim, &[Value::Int(1)])).contains("expected a string"));
        assert!(failure(call(trim, &[])).contains("missing"));
        assert!(failure(call(trim, &[Value::Secret("hunter2".into())])).contains("a secret"));
        assert!(failure(call(pad_left, &[s("x"), d("1.5")])).contains("expected an integer"));
        assert!(failure(call(join, &[s("a"), s(",")])).contains("expected a list"));
    }
}
