//! File and stdin sources: JSON (one document or an array), NDJSON and CSV.
//!
//! Reading is streaming where the format allows (NDJSON and CSV line by line; a JSON
//! array element by element), so memory does not grow with the input. Each record is
//! decoded on its own: one bad record is held, the rest go on.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{Deserializer, SeqAccess, Visitor};
use serde_json::value::RawValue;

use crate::check::types::Type;
use crate::value::{decode_json_planned, decode_text_row, DecodeError, Plan, Value};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Ndjson,
    Csv,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "json" => Some(Format::Json),
            "ndjson" | "jsonl" => Some(Format::Ndjson),
            "csv" => Some(Format::Csv),
            _ => None,
        }
    }

    /// The format a file name implies, JSON when unsure.
    pub fn of_path(p: &Path) -> Format {
        match p.extension().and_then(|e| e.to_str()) {
            Some("ndjson" | "jsonl") => Format::Ndjson,
            Some("csv") => Format::Csv,
            _ => Format::Json,
        }
    }
}

/// One item read from the input: a record, or input that could not become one.
#[derive(Debug)]
pub enum Incoming {
    /// `raw` is the record's JSON text as read, when it came as JSON.
    Record {
        source_ref: String,
        value: Value,
        raw: Option<Arc<[u8]>>,
    },
    Bad {
        source_ref: String,
        raw: serde_json::Value,
        error: DecodeError,
    },
}

/// Expands globs (`payloads/*.json`) relative to `base`, sorted; a pattern that matches
/// nothing is an error, since a flow that silently reads nothing loses records.
pub fn expand(patterns: &[String], base: &Path) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in patterns {
        let full = if Path::new(p).is_absolute() || p == "-" { PathBuf::from(p) } else { base.join(p) };
        let text = full.to_string_lossy().to_string();
        if !text.contains(['*', '?', '[']) {
            if !full.exists() && p != "-" {
                return Err(format!("input `{p}` does not exist (looked for {})", full.display()));
            }
            out.push(full);
            continue;
        }
        let mut matched: Vec<PathBuf> =
            glob::glob(&text).map_err(|e| format!("bad pattern `{p}`: {e}"))?.filter_map(Result::ok).collect();
        if matched.is_empty() {
            return Err(format!("input pattern `{p}` matches no file"));
        }
        matched.sort();
        out.extend(matched);
    }
    Ok(out)
}

/// Reads every input in order, calling `emit` for each item; `emit` returns false to
/// stop early (the pipeline shut down). `-` is stdin.
pub fn read_inputs(
    paths: &[PathBuf],
    format: Option<Format>,
    ty: &Type,
    plan: &Plan,
    display: &dyn Fn(&Path) -> String,
    emit: &mut dyn FnMut(Incoming) -> bool,
) -> Result<(), String> {
    let decode = Decode { ty, plan };
    for path in paths {
        let name = if path.as_os_str() == "-" { "stdin".to_string() } else { display(path) };
        let fmt =
            format.unwrap_or_else(|| if path.as_os_str() == "-" { Format::Ndjson } else { Format::of_path(path) });
        let reader: Box<dyn Read> = if path.as_os_str() == "-" {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?)
        };
        let go_on = match fmt {
            Format::Ndjson => read_ndjson(reader, &name, &decode, emit),
            Format::Json => read_json(reader, &name, &decode, emit),
            Format::Csv => read_csv(reader, &name, ty, emit),
        };
        if !go_on {
            break;
        }
    }
    Ok(())
}

/// The input as a hold can keep it: the JSON if it parses, else the text.
fn raw_of(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| serde_json::Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

/// What a JSON record is decoded as, and how much of it is built.
struct Decode<'a> {
    ty: &'a Type,
    plan: &'a Plan,
}

fn decoded(bytes: &[u8], source_ref: String, d: &Decode<'_>) -> Incoming {
    match decode_json_planned(bytes, d.ty, d.plan) {
        Ok(value) => {
            // Kept as sent, for holds.
            let raw = Some(Arc::from(bytes.trim_ascii()));
            Incoming::Record { source_ref, value, raw }
        }
        Err(error) => Incoming::Bad { source_ref, raw: raw_of(bytes), error },
    }
}

fn read_ndjson(reader: Box<dyn Read>, name: &str, d: &Decode<'_>, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut line = Vec::new();
    let mut n = 0;
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) => {
                let bad = Incoming::Bad {
                    source_ref: format!("{name}:{}", n + 1),
                    raw: serde_json::Value::Null,
                    error: DecodeError::Malformed(format!("read error: {e}")),
                };
                // A read error ends this file; the caller goes on with the next one.
                emit(bad);
                return true;
            }
        }
        n += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if !emit(decoded(&line, format!("{name}:{n}"), d)) {
            return false;
        }
    }
}

/// A JSON file: an array of records (element by element) or one record.
fn read_json(reader: Box<dyn Read>, name: &str, d: &Decode<'_>, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let first = loop {
        match reader.fill_buf() {
            Ok([]) => {
                let bad = Incoming::Bad {
                    source_ref: name.to_string(),
                    raw: serde_json::Value::String(String::new()),
                    error: DecodeError::Malformed("the file is empty".into()),
                };
                return emit(bad);
            }
            Ok(buf) => match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                Some(i) => break buf[i],
                None => {
                    let len = buf.len();
                    reader.consume(len);
                }
            },
            Err(e) => {
                return emit(Incoming::Bad {
                    source_ref: name.to_string(),
                    raw: serde_json::Value::Null,
                    error: DecodeError::Malformed(format!("read error: {e}")),
                })
            }
        }
    };
    let array_of_records = first == b'[' && !matches!(d.ty.strip_optional(), Type::List(_));
    if !array_of_records {
        let mut bytes = Vec::new();
        if let Err(e) = reader.read_to_end(&mut bytes) {
            return emit(Incoming::Bad {
                source_ref: name.to_string(),
                raw: serde_json::Value::Null,
                error: DecodeError::Malformed(format!("read error: {e}")),
            });
        }
        return emit(decoded(&bytes, name.to_string(), d));
    }
    let mut de = serde_json::Deserializer::from_reader(reader);
    let mut visitor = Elements { name, decode: d, emit, index: 0, stopped: false };
    let result = (&mut de).deserialize_seq(&mut visitor);
    let (index, stopped) = (visitor.index, visitor.stopped);
    match result {
        Ok(()) => !stopped,
        Err(e) if !stopped => (visitor.emit)(Incoming::Bad {
            source_ref: format!("{name}[{index}..]"),
            raw: serde_json::Value::String(format!("the rest of {name} from element {index}")),
            error: DecodeError::Malformed(format!("{e}: the elements from {index} on could not be read")),
        }),
        Err(_) => false,
    }
}

/// Streams the elements of a top-level array, each decoded on its own.
struct Elements<'a> {
    name: &'a str,
    decode: &'a Decode<'a>,
    emit: &'a mut dyn FnMut(Incoming) -> bool,
    index: usize,
    stopped: bool,
}

impl<'de> Visitor<'de> for &mut Elements<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("an array of records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<Box<RawValue>>()? {
            let item = decoded(raw.get().as_bytes(), format!("{}[{}]", self.name, self.index), self.decode);
            self.index += 1;
            if !(self.emit)(item) {
                self.stopped = true;
                return Ok(());
            }
        }
        Ok(())
    }
}

fn read_csv(reader: Box<dyn Read>, name: &str, ty: &Type, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
    let mut csv = csv::ReaderBuilder::new().flexible(true).from_reader(reader);
    let headers: Vec<String> = match csv.headers() {
        Ok(h) => h.iter().map(|s| s.trim().to_string()).collect(),
        Err(e) => {
            return emit(Incoming::Bad {
                source_ref: name.to_string(),
                raw: serde_json::Value::Null,
                error: DecodeError::Malformed(format!("CSV header: {e}")),
            })
        }
    };
    for (i, row) in csv.records().enumerate() {
        let source_ref = format!("{name}:{}", i + 2);
        let item = match row {
            Ok(r) => {
                let cells: Vec<String> = r.iter().map(str::to_string).collect();
                let raw = serde_json::Value::Object(
                    headers.iter().cloned().zip(cells.iter().cloned().map(serde_json::Value::String)).collect(),
                );
                match decode_text_row(&headers, &cells, ty) {
                    Ok(value) => Incoming::Record { source_ref, value, raw: None },
                    Err(error) => Incoming::Bad { source_ref, raw, error },
                }
            }
            Err(e) => Incoming::Bad {
                source_ref,
                raw: serde_json::Value::Null,
                error: DecodeError::Malformed(format!("CSV: {e}")),
            },
        };
        if !emit(item) {
            return false;
        }
    }
    true
}
