//! Loading lookup tables once, before the first record: inline tables and CSV, YAML or
//! JSON files, keyed by the canonical key text of the declared key type.

use std::collections::HashMap;

use super::eval::{compile, Frame, Shared};
use crate::ir::{Lookup, LookupData};
use crate::lookup_file::{cell, file_rows, row_keys, KeyError};
use crate::value::{decode_json_value, Value};

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
            let text = crate::confine::read_text(path, crate::confine::MAX_LOOKUP_BYTES)
                .map_err(|e| format!("{}: {e}", path.display()))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtins::EvalContext;
    use crate::ir::{Lookup, LookupData};
    use crate::types::Type;

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
