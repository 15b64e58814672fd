//! The small text form of builtin signatures: `name(a: T, b?: Int) -> [T]`.

use std::sync::Arc;

use crate::types::Fields;

use super::ParamSig;
use crate::types::{RecordType, Type};

/// Parses a signature; the error says what was wrong (signatures are compiled in,
/// so an error is a bug caught by the registry's test).
pub fn parse_signature(text: &'static str) -> Result<(&'static str, Vec<ParamSig>, Type), String> {
    let open = text.find('(').ok_or("no `(`")?;
    let name = text[..open].trim();
    let close = matching(text, open).ok_or("no matching `)`")?;
    let mut params = Vec::new();
    for part in split_top(&text[open + 1..close]) {
        let (pname, pty) = part.split_once(':').ok_or_else(|| format!("parameter `{part}` has no type"))?;
        let pname = pname.trim();
        let (pname, optional) = match pname.strip_suffix('?') {
            Some(n) => (n, true),
            None => (pname, false),
        };
        params.push(ParamSig { name: pname.to_string(), ty: ty(pty.trim())?, optional });
    }
    let ret = text[close + 1..].trim().strip_prefix("->").ok_or("no `->`")?;
    Ok((name, params, ty(ret.trim())?))
}

fn matching(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0;
    for (i, c) in text.char_indices().skip(open) {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// Splits on commas that are not nested in brackets.
fn split_top(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        match c {
            '(' | '[' | '{' => depth += 1,
            ')' | ']' | '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(text[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    if !text[start..].trim().is_empty() {
        out.push(text[start..].trim());
    }
    out
}

fn ty(text: &str) -> Result<Type, String> {
    if let Some(inner) = text.strip_suffix('?') {
        return Ok(ty(inner)?.optional());
    }
    if text.starts_with('(') {
        let close = matching(text, 0).ok_or("unclosed `(`")?;
        let params = split_top(&text[1..close]).into_iter().map(ty).collect::<Result<Vec<_>, _>>()?;
        let ret = text[close + 1..].trim().strip_prefix("->").ok_or("function type without `->`")?;
        return Ok(Type::Fn(params, Box::new(ty(ret.trim())?)));
    }
    if let Some(inner) = text.strip_prefix('[').and_then(|t| t.strip_suffix(']')) {
        return Ok(ty(inner.trim())?.list());
    }
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let mut fields = Fields::default();
        for f in split_top(inner) {
            let (n, t) = f.split_once(':').ok_or("record field without type")?;
            fields.insert(n.trim().to_string(), ty(t.trim())?);
        }
        return Ok(Type::Record(Arc::new(RecordType { name: None, fields })));
    }
    Ok(match text {
        "String" => Type::String,
        "Int" => Type::Int,
        "Decimal" => Type::Decimal(None),
        "Float" => Type::Float,
        "Bool" => Type::Bool,
        "Date" => Type::Date,
        "DateTime" => Type::DateTime,
        "Duration" => Type::Duration,
        "Json" => Type::Json,
        "Secret" => Type::Secret,
        "Backoff" => Type::Backoff,
        "RoundingMode" => Type::RoundingMode,
        "T" | "U" | "V" | "N" | "C" | "K" => Type::Var(text.as_bytes()[0]),
        other => return Err(format!("unknown type `{other}`")),
    })
}
