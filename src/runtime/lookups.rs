//! Loading lookup tables once, before the first record: inline tables and CSV, YAML or
//! JSON files, keyed by the canonical key text of the declared key type.

use std::collections::HashMap;
use std::fmt;
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
            let rows = file_rows(format, &text)?;
            let keys = row_keys(&rows, key, &l.key).map_err(|e| match e {
                KeyError::Cell(at, e) => format!("{at}: {e}"),
                KeyError::Duplicate(d) => format!("{}: {d}", path.display()),
            })?;
            for (row, k) in rows.iter().zip(keys) {
                let v = match value {
                    Some(col) => cell(&row.row, col, &l.value),
                    None => decode_json_value(&row.row, &l.value).map_err(|e| e.to_string()),
                }
                .map_err(|e| format!("{}: {e}", row.at))?;
                table.insert(k, v);
            }
        }
    }
    Ok(table)
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::EvalContext;
    use crate::ir::{Lookup, LookupData};

    struct NoContext;

    impl EvalContext for NoContext {
        fn now(&self) -> chrono::DateTime<chrono::FixedOffset> {
            chrono::DateTime::UNIX_EPOCH.fixed_offset()
        }

        fn env(&self, _: &str) -> Option<String> {
            None
        }
    }

    /// Loads a lookup `t` from a file of `format` holding `text`, keyed by column `k`.
    fn load_file(format: &str, text: &str, key: Type) -> Result<HashMap<String, Value>, String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("t.{format}"));
        std::fs::write(&path, text).unwrap();
        let data = LookupData::File { format: format.into(), path, key: "k".into(), value: Some("v".into()) };
        let lookup = Lookup { name: "t".into(), module: "m".into(), key, value: Type::String, data };
        let shared = Shared { functions: Vec::new(), lookups: Vec::new(), ctx: Box::new(NoContext) };
        load(&[lookup], &shared).map(|mut tables| tables.remove(0))
    }

    #[test]
    fn a_csv_key_given_twice_names_both_lines() {
        let err = load_file("csv", "k,v\nDHL,D1\nUPS,U1\nDHL,D2\n", Type::String).unwrap_err();
        assert!(err.starts_with("lookup `t`: "), "{err}");
        assert!(err.ends_with("the key `DHL` is given twice, by line 2 and by line 4"), "{err}");
    }

    #[test]
    fn keys_are_compared_as_the_key_type_reads_them() {
        let err = load_file("csv", "k,v\n1,a\n01,b\n", Type::Int).unwrap_err();
        assert!(err.contains("the key `1` is given twice, by line 2 and by line 3"), "{err}");
        assert_eq!(load_file("csv", "k,v\n1,a\n01,b\n", Type::String).unwrap().len(), 2);
    }

    #[test]
    fn a_json_or_yaml_key_given_twice_names_both_entries() {
        let list = r#"[{"k": "GB", "v": "a"}, {"k": "DE", "v": "b"}, {"k": "GB", "v": "c"}]"#;
        let err = load_file("json", list, Type::String).unwrap_err();
        assert!(err.contains("the key `GB` is given twice, by item [0] and by item [2]"), "{err}");
        let mapping = r#"{"first": {"k": "GB", "v": "a"}, "second": {"k": "GB", "v": "b"}}"#;
        let err = load_file("json", mapping, Type::String).unwrap_err();
        assert!(err.contains("by entry `first` and by entry `second`"), "{err}");
        let yaml = "- k: A\n  v: a\n- k: A\n  v: b\n";
        let err = load_file("yaml", yaml, Type::String).unwrap_err();
        assert!(err.contains("the key `A` is given twice, by item [0] and by item [1]"), "{err}");
    }

    #[test]
    fn distinct_keys_load() {
        let table = load_file("csv", "k,v\nDHL,D1\nUPS,U1\n", Type::String).unwrap();
        assert!(matches!(table.get("UPS"), Some(Value::Str(s)) if s == "U1"));
    }
}
