//! Loading lookup tables once, before the first record: inline tables and CSV, YAML or
//! JSON files, keyed by the canonical key text of the declared key type.

use std::collections::HashMap;
use std::sync::Arc;

use super::eval::{compile, Frame, Shared};
use crate::ir::{Lookup, LookupData};
use crate::types::Type;
use crate::value::{decode_json_value, decode_text_row, Value};

pub fn load(lookups: &[Lookup], shared: &Shared) -> Result<Vec<HashMap<String, Value>>, String> {
    lookups.iter().map(|l| load_one(l, shared).map_err(|e| format!("lookup `{}`: {e}", l.name))).collect()
}

fn load_one(l: &Lookup, shared: &Shared) -> Result<HashMap<String, Value>, String> {
    let mut table = HashMap::new();
    match &l.data {
        LookupData::Table(rows) => {
            let frame = Frame::new(Value::Null, Vec::new(), shared);
            for (k, v) in rows {
                let key = compile(k)(&frame).map_err(|e| format!("{e:?}"))?;
                let value = compile(v)(&frame).map_err(|e| format!("{e:?}"))?;
                table.insert(key.key().into_owned(), value);
            }
        }
        LookupData::File { format, path, key, value } => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let rows: Vec<serde_json::Value> = match format.as_str() {
                "csv" => csv_rows(&text)?,
                "json" => as_rows(serde_json::from_str(&text).map_err(|e| e.to_string())?),
                _ => as_rows(crate::yaml::from_str(&text)?),
            };
            for (i, row) in rows.iter().enumerate() {
                let k = cell(row, key, &l.key).map_err(|e| format!("row {}: {e}", i + 1))?;
                let v = match value {
                    Some(col) => cell(row, col, &l.value),
                    None => decode_json_value(row, &l.value).map_err(|e| e.to_string()),
                }
                .map_err(|e| format!("row {}: {e}", i + 1))?;
                table.insert(k.key().into_owned(), v);
            }
        }
    }
    Ok(table)
}

/// A lookup file's rows as JSON objects (CSV cells stay text; `cell` converts them).
fn csv_rows(text: &str) -> Result<Vec<serde_json::Value>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| e.to_string())?;
        let obj = headers.iter().cloned().zip(r.iter().map(|c| serde_json::Value::String(c.to_string()))).collect();
        rows.push(serde_json::Value::Object(obj));
    }
    Ok(rows)
}

fn as_rows(v: serde_json::Value) -> Vec<serde_json::Value> {
    match v {
        serde_json::Value::Array(items) => items,
        serde_json::Value::Object(map) => map.into_values().collect(),
        other => vec![other],
    }
}

/// One column of a row as the declared type; text cells are converted.
fn cell(row: &serde_json::Value, col: &str, ty: &Type) -> Result<Value, String> {
    let v = row.get(col).ok_or_else(|| format!("no column `{col}`"))?;
    match v {
        serde_json::Value::String(s) if !matches!(ty.unwrap_optional(), Type::String | Type::Json) => {
            let layout = Arc::new(crate::types::RecordType {
                name: None,
                fields: [(col.to_string(), ty.clone())].into_iter().collect(),
            });
            let rec = decode_text_row(&[col.to_string()], std::slice::from_ref(s), &Type::Record(layout))
                .map_err(|e| e.to_string())?;
            Ok(rec.field(col).cloned().unwrap_or(Value::Null))
        }
        other => decode_json_value(other, ty).map_err(|e| e.to_string()),
    }
}
