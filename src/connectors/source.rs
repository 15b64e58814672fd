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

use crate::types::Type;
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

/// A record's text as it was read, without a copy of its own: a range of the block of
/// input it arrived in, which lives as long as any record read from it.
#[derive(Clone)]
pub struct RawText {
    block: Arc<Vec<u8>>,
    start: usize,
    end: usize,
}

impl RawText {
    /// The text of `block[range]` without the whitespace around it.
    fn within(block: &Arc<Vec<u8>>, range: std::ops::Range<usize>) -> RawText {
        let text = &block[range.clone()];
        let lead = text.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let trail = text[lead..].iter().rev().take_while(|b| b.is_ascii_whitespace()).count();
        RawText { block: block.clone(), start: range.start + lead, end: range.end - trail }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.block[self.start..self.end]
    }
}

impl std::fmt::Debug for RawText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}", String::from_utf8_lossy(self.bytes()))
    }
}

/// A copy of text that did not come in a block (a webhook body, a polled record).
impl From<&[u8]> for RawText {
    fn from(bytes: &[u8]) -> RawText {
        let block = Arc::new(bytes.to_vec());
        RawText::within(&block, 0..bytes.len())
    }
}

/// One item read from the input: a record, or input that could not become one.
#[derive(Debug)]
pub enum Incoming {
    /// `raw` is the record's JSON text as read, when it came as JSON.
    Record {
        source_ref: String,
        value: Value,
        raw: Option<RawText>,
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
        let stdin = path.as_os_str() == "-";
        let name = if stdin { "stdin".to_string() } else { display(path) };
        let fmt = format.unwrap_or_else(|| if stdin { Format::Ndjson } else { Format::of_path(path) });
        let reader: Box<dyn Read> = if stdin {
            Box::new(std::io::stdin())
        } else {
            Box::new(std::fs::File::open(path).map_err(|e| format!("cannot read {name}: {e}"))?)
        };
        let mut reader = Opening::new(reader);
        let mut go_on = read_format(&mut reader, fmt, &name, &decode, emit);
        // An empty file is most often an export that failed on its way: held, so that
        // someone looks. A stream on stdin that ended before it sent anything had
        // nothing to send.
        if go_on && !stdin && !reader.has_content() {
            go_on = emit(Incoming::Bad {
                source_ref: name.clone(),
                raw: serde_json::Value::String(String::new()),
                error: DecodeError::Malformed("the file is empty".into()),
            });
        }
        if !go_on {
            break;
        }
    }
    Ok(())
}

/// Reads one input in `fmt`; returns false when `emit` asked to stop.
fn read_format(
    reader: &mut dyn Read,
    fmt: Format,
    name: &str,
    decode: &Decode<'_>,
    emit: &mut dyn FnMut(Incoming) -> bool,
) -> bool {
    match fmt {
        Format::Ndjson => read_ndjson(reader, name, decode, emit),
        Format::Json => read_json(reader, name, decode, emit),
        Format::Csv => read_csv(reader, name, decode.ty, emit),
    }
}

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The start of an input, made the same for every format: a UTF-8 byte order mark
/// (which editors and spreadsheet exports put first) is dropped, and whether anything
/// but whitespace follows is noted, for an empty file to be told from a file of no
/// records (`[]`, or a CSV header alone).
struct Opening<R> {
    inner: R,
    /// The first bytes, held back until they are known not to be a byte order mark.
    head: [u8; 3],
    head_len: usize,
    head_at: usize,
    head_checked: bool,
    content: bool,
}

impl<R: Read> Opening<R> {
    fn new(inner: R) -> Self {
        Opening { inner, head: [0; 3], head_len: 0, head_at: 0, head_checked: false, content: false }
    }

    /// Whether anything but whitespace (after a byte order mark) has been read.
    fn has_content(&self) -> bool {
        self.content
    }

    /// Reads until the first bytes are known to be a byte order mark or not. Stops at
    /// the first byte that differs, so that a live stream is never kept waiting.
    fn check_head(&mut self) -> std::io::Result<()> {
        while self.head_len < BOM.len() && self.head[..self.head_len] == BOM[..self.head_len] {
            match self.inner.read(&mut self.head[self.head_len..])? {
                0 => break,
                n => self.head_len += n,
            }
        }
        if self.head[..self.head_len] == *BOM {
            self.head_len = 0;
        }
        self.head_checked = true;
        Ok(())
    }
}

impl<R: Read> Read for Opening<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.head_checked {
            self.check_head()?;
        }
        let n = if self.head_at < self.head_len {
            let n = (self.head_len - self.head_at).min(buf.len());
            buf[..n].copy_from_slice(&self.head[self.head_at..self.head_at + n]);
            self.head_at += n;
            n
        } else {
            self.inner.read(buf)?
        };
        // Looked at only until the first byte that is not whitespace.
        if !self.content {
            self.content = buf[..n].iter().any(|b| !b.is_ascii_whitespace());
        }
        Ok(n)
    }
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

/// A record from its text; the text is kept as sent, for holds.
fn decoded(raw: RawText, source_ref: String, d: &Decode<'_>) -> Incoming {
    match decode_json_planned(raw.bytes(), d.ty, d.plan) {
        Ok(value) => Incoming::Record { source_ref, value, raw: Some(raw) },
        Err(error) => Incoming::Bad { source_ref, raw: raw_of(raw.bytes()), error },
    }
}

/// NDJSON is read in blocks of about this size, and each record's text stays a range of
/// its block: no line is copied on its way from the file to a hold. 64 KiB did as well
/// as 256 KiB in the order benchmark, and keeps less in memory per block in flight.
const BLOCK: usize = 1 << 16;

fn read_ndjson(reader: &mut dyn Read, name: &str, d: &Decode<'_>, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
    let mut reader = reader;
    let mut blocks = Blocks::default();
    // The block being filled; its first `carried` bytes are the start of a line whose end
    // is not read yet.
    let (mut buf, mut carried) = (blocks.fresh(), 0);
    let mut n = 0;
    loop {
        let before = carried;
        let got = match read_some(&mut reader, &mut buf, before) {
            Ok(got) => got,
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
        };
        let filled = before + got;
        // Whole lines only; at the end of the input, the last line needs no newline.
        let whole = match memchr::memrchr(b'\n', &buf[before..filled]) {
            _ if got == 0 => filled,
            Some(p) => before + p + 1,
            None => {
                carried = filled;
                continue;
            }
        };
        // The unfinished line moves to the next block; this one goes out with its records.
        let mut next = blocks.fresh();
        carried = filled - whole;
        if next.len() < carried {
            next.resize(carried, 0);
        }
        next[..carried].copy_from_slice(&buf[whole..filled]);
        let block = Arc::new(std::mem::replace(&mut buf, next));
        blocks.keep(&block);
        let mut start = 0;
        while start < whole {
            let end = memchr::memchr(b'\n', &block[start..whole]).map_or(whole, |p| start + p + 1);
            n += 1;
            let line = RawText::within(&block, start..end);
            start = end;
            if line.bytes().is_empty() {
                continue;
            }
            if !emit(decoded(line, format!("{name}:{n}"), d)) {
                return false;
            }
        }
        if got == 0 {
            return true;
        }
    }
}

/// The blocks an NDJSON source has handed out, for reuse once no record holds them: a
/// new block each time cost an allocation of 64 KiB, zeroed, and its release made the
/// allocator tidy its whole heap.
#[derive(Default)]
struct Blocks {
    out: std::collections::VecDeque<Arc<Vec<u8>>>,
}

impl Blocks {
    /// More than the records in flight between the source and the sinks hold at once.
    const KEPT: usize = 16;

    /// A block to read into: a released one, else a new one. Its bytes are stale.
    fn fresh(&mut self) -> Vec<u8> {
        // Only this source makes new handles to its blocks, so one that is unique here
        // stays unique.
        let free = self.out.iter().position(|b| Arc::strong_count(b) == 1);
        free.and_then(|i| self.out.remove(i)).and_then(|b| Arc::try_unwrap(b).ok()).unwrap_or_default()
    }

    fn keep(&mut self, block: &Arc<Vec<u8>>) {
        // A block grown for one very long line is not kept.
        if block.len() > 4 * BLOCK {
            return;
        }
        if self.out.len() == Self::KEPT {
            self.out.pop_front();
        }
        self.out.push_back(block.clone());
    }
}

/// Reads once into `buf` after its first `filled` bytes, growing it by `BLOCK` when
/// little room is left: how many bytes came, 0 at the end of the input. One read, so that
/// a live stream's records go on as they come.
fn read_some(reader: &mut dyn Read, buf: &mut Vec<u8>, filled: usize) -> std::io::Result<usize> {
    if buf.len() < filled + BLOCK / 2 {
        buf.resize(filled + BLOCK, 0);
    }
    loop {
        match reader.read(&mut buf[filled..]) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// A JSON file: an array of records (element by element) or one record.
fn read_json(reader: &mut dyn Read, name: &str, d: &Decode<'_>, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let first = loop {
        match reader.fill_buf() {
            // Nothing in it: `read_inputs` holds an empty file, as for every format.
            Ok([]) => return true,
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
        let block = Arc::new(bytes);
        return emit(decoded(RawText::within(&block, 0..block.len()), name.to_string(), d));
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
            let item =
                decoded(RawText::from(raw.get().as_bytes()), format!("{}[{}]", self.name, self.index), self.decode);
            self.index += 1;
            if !(self.emit)(item) {
                self.stopped = true;
                return Ok(());
            }
        }
        Ok(())
    }
}

fn read_csv(reader: &mut dyn Read, name: &str, ty: &Type, emit: &mut dyn FnMut(Incoming) -> bool) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that gives at most `step` bytes a read, as a pipe or a socket may.
    struct Trickle {
        data: Vec<u8>,
        at: usize,
        step: usize,
    }

    impl Read for Trickle {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len() - self.at);
            buf[..n].copy_from_slice(&self.data[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    fn read_all(data: &[u8], step: usize) -> Vec<(String, String)> {
        let ty = Type::Json;
        let d = Decode { ty: &ty, plan: &Plan::Build };
        let mut out = Vec::new();
        let mut reader = Trickle { data: data.to_vec(), at: 0, step };
        read_ndjson(&mut reader, "in", &d, &mut |item| {
            match item {
                Incoming::Record { source_ref, raw, .. } => {
                    out.push((source_ref, String::from_utf8(raw.expect("kept").bytes().to_vec()).unwrap()))
                }
                Incoming::Bad { source_ref, .. } => out.push((source_ref, "bad".into())),
            }
            true
        });
        out
    }

    #[test]
    fn lines_are_whole_however_the_input_arrives() {
        let long = format!("{{\"pad\": \"{}\"}}", "x".repeat(BLOCK + 10));
        let data = format!("{{\"a\": 1}}\r\n\n  \n{long}\n{{\"b\": [1,\n{{\"c\": 3}}");
        let expect = vec![
            ("in:1".to_string(), r#"{"a": 1}"#.to_string()),
            ("in:4".to_string(), long.clone()),
            ("in:5".to_string(), "bad".to_string()),
            ("in:6".to_string(), r#"{"c": 3}"#.to_string()),
        ];
        for step in [1, 7, 4096, usize::MAX] {
            assert_eq!(read_all(data.as_bytes(), step), expect, "reads of {step} bytes");
        }
        assert!(read_all(b"", 10).is_empty());
        assert!(read_all(b"\n \n", 10).is_empty());
    }

    /// Everything an `Opening` over `data`, read `step` bytes at a time, passes on, and
    /// whether it saw content.
    fn opened(data: &[u8], step: usize) -> (Vec<u8>, bool) {
        let mut reader = Opening::new(Trickle { data: data.to_vec(), at: 0, step });
        let mut out = Vec::new();
        let mut buf = [0u8; 5];
        loop {
            match reader.read(&mut buf).unwrap() {
                0 => return (out, reader.has_content()),
                n => out.extend_from_slice(&buf[..n]),
            }
        }
    }

    #[test]
    fn a_byte_order_mark_is_dropped_however_the_input_arrives() {
        for step in [1, 2, 3, 4, 100] {
            assert_eq!(opened(b"\xEF\xBB\xBF{}\n", step), (b"{}\n".to_vec(), true), "reads of {step}");
            assert_eq!(opened(b"\xEF\xBB\xBF", step), (Vec::new(), false));
            assert_eq!(opened(b"\xEF\xBB\xBF \r\n", step), (b" \r\n".to_vec(), false));
            assert_eq!(opened(b"", step), (Vec::new(), false));
            assert_eq!(opened(b"{}", step), (b"{}".to_vec(), true));
            // Only a whole mark, and only at the start, is dropped.
            assert_eq!(opened(b"\xEF\xBB{", step), (b"\xEF\xBB{".to_vec(), true));
            assert_eq!(opened(b"\xEF", step), (b"\xEF".to_vec(), true));
            assert_eq!(opened(b"1\xEF\xBB\xBF", step), (b"1\xEF\xBB\xBF".to_vec(), true));
            assert_eq!(opened(b"\xEF\xBB\xBF\xEF\xBB\xBF", step), (b"\xEF\xBB\xBF".to_vec(), true));
        }
    }

    #[test]
    fn reused_blocks_show_no_stale_text() {
        // Lines of changing lengths over many blocks, each block reused once its records
        // are gone: a record must never see what an earlier line left in its block.
        let lines: Vec<String> =
            (0..4000).map(|i| format!("{{\"n\": {i}, \"pad\": \"{}\"}}", "y".repeat(i % 97))).collect();
        let data = lines.join("\n");
        let expect: Vec<(String, String)> =
            lines.iter().enumerate().map(|(i, l)| (format!("in:{}", i + 1), l.clone())).collect();
        for step in [1, 13, 5000, usize::MAX] {
            assert_eq!(read_all(data.as_bytes(), step), expect, "reads of {step} bytes");
        }
    }

    #[test]
    fn a_block_is_reused_only_when_no_record_holds_it() {
        let mut blocks = Blocks::default();
        let block = Arc::new(vec![7u8; 100]);
        let at = block.as_ptr();
        blocks.keep(&block);
        let record = RawText::within(&block, 0..10);
        drop(block);
        assert!(blocks.fresh().is_empty(), "a record still reads from it");
        drop(record);
        let reused = blocks.fresh();
        assert_eq!((reused.as_ptr(), reused.len()), (at, 100));
        assert!(blocks.fresh().is_empty(), "handed out once");
        // A block grown for one very long line goes back to the allocator.
        let huge = Arc::new(vec![0u8; 4 * BLOCK + 1]);
        blocks.keep(&huge);
        drop(huge);
        assert!(blocks.fresh().is_empty(), "not kept");
    }
}
