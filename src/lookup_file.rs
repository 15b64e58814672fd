//! Reading lookup files (CSV, YAML, JSON) into rows and keys: the one reader the checker
//! (to refuse a repeated key before deploy) and the runtime (to load the table) share, so
//! the two cannot disagree about what a file holds.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::types::Type;
use crate::value::{decode_json_value, decode_text_row, Value};

/// Where a row of a lookup file is, in the words its author would look for it: the line
/// of a CSV file, the index in a JSON or YAML list, the key in a JSON or YAML mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RowAt {
    Line(u64),
    Index(usize),
    Key(String),
}

impl fmt::Display for RowAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RowAt::Line(n) => write!(f, "line {n}"),
            RowAt::Index(i) => write!(f, "item [{i}]"),
            RowAt::Key(k) => write!(f, "entry `{k}`"),
        }
    }
}

/// A row of a lookup file and where it is.
pub struct FileRow {
    pub at: RowAt,
    pub row: serde_json::Value,
}

/// Two rows giving one key. Whichever was kept, the other would be lost without a word,
/// as an inline table repeating a key would (E0111).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duplicate {
    /// The key as the table holds it.
    pub key: String,
    pub first: RowAt,
    pub second: RowAt,
}

impl fmt::Display for Duplicate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the key `{}` is given twice, by {} and by {}", self.key, self.first, self.second)
    }
}

pub enum KeyError {
    /// The key cell of a row cannot be read as the key type.
    Cell(RowAt, String),
    Duplicate(Duplicate),
}

/// A lookup file's rows as JSON objects (CSV cells stay text; `cell` converts them).
pub fn file_rows(format: &str, text: &str) -> Result<Vec<FileRow>, String> {
    match format {
        "csv" => csv_rows(text),
        "json" => Ok(as_rows(serde_json::from_str(text).map_err(|e| e.to_string())?)),
        _ => Ok(as_rows(crate::yaml::from_str(text)?)),
    }
}

/// The key of each row, as the table holds it, refusing a key given twice. The checker
/// runs this on the file too, so `check` and the run agree on what a repeat is (`1` and
/// `01` are one key in an Int column).
pub fn row_keys(rows: &[FileRow], col: &str, ty: &Type) -> Result<Vec<String>, KeyError> {
    let mut first: HashMap<String, usize> = HashMap::new();
    let mut keys = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        let key = cell(&row.row, col, ty).map_err(|e| KeyError::Cell(row.at.clone(), e))?.key().into_owned();
        if let Some(&j) = first.get(&key) {
            return Err(KeyError::Duplicate(Duplicate { key, first: rows[j].at.clone(), second: row.at.clone() }));
        }
        first.insert(key.clone(), i);
        keys.push(key);
    }
    Ok(keys)
}

fn csv_rows(text: &str) -> Result<Vec<FileRow>, String> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> =
        reader.headers().map_err(|e| e.to_string())?.iter().map(|h| h.trim().to_string()).collect();
    let mut rows = Vec::new();
    for r in reader.records() {
        let r = r.map_err(|e| e.to_string())?;
        let line = r.position().map_or(0, csv::Position::line);
        let obj = headers.iter().cloned().zip(r.iter().map(|c| serde_json::Value::String(c.to_string()))).collect();
        rows.push(FileRow { at: RowAt::Line(line), row: serde_json::Value::Object(obj) });
    }
    Ok(rows)
}

fn as_rows(v: serde_json::Value) -> Vec<FileRow> {
    match v {
        serde_json::Value::Array(items) => {
            items.into_iter().enumerate().map(|(i, row)| FileRow { at: RowAt::Index(i), row }).collect()
        }
        serde_json::Value::Object(map) => map.into_iter().map(|(k, row)| FileRow { at: RowAt::Key(k), row }).collect(),
        other => vec![FileRow { at: RowAt::Index(0), row: other }],
    }
}

/// One column of a row as the declared type; text cells are converted.
pub fn cell(row: &serde_json::Value, col: &str, ty: &Type) -> Result<Value, String> {
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
