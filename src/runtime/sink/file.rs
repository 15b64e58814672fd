//! `file` and `stdout` sinks: each record a line of NDJSON or CSV, or an element of a
//! JSON array.

use std::io::Write;
use std::path::Path;

use super::super::options::Options;
use super::super::{RunOptions, RuntimeError};
use super::{Handed, Handing, Sink};
use crate::connectors::sink::csv_line;
use crate::connectors::{Delivery, Format};
use crate::value::Value;

/// Where a file or stdout sink writes, read once from its options.
pub(crate) struct FileConfig {
    /// `None` for stdout.
    path: Option<String>,
    format: Format,
}

impl FileConfig {
    pub fn from_options(o: &Options<'_>) -> Result<FileConfig, RuntimeError> {
        let format = o.format()?;
        Ok(if o.kind() == "file" {
            let path = o.required_literal("path")?;
            let format = format.unwrap_or_else(|| Format::of_path(Path::new(&path)));
            FileConfig { path: Some(path), format }
        } else {
            FileConfig { path: None, format: format.unwrap_or(Format::Ndjson) }
        })
    }
}

pub(crate) struct FileSink {
    writer: Box<dyn Write + Send>,
    format: Format,
    /// NDJSON straight from the record to the file: nothing needs the delivery's body.
    direct: bool,
    /// The line being written, reused from record to record.
    line: Vec<u8>,
    written: u64,
    /// A CSV file that already has its header line.
    header_written: bool,
}

impl FileSink {
    pub fn open(config: FileConfig, opts: &RunOptions) -> Result<FileSink, RuntimeError> {
        let FileConfig { path, format } = config;
        let mut header_written = false;
        let writer: Box<dyn Write + Send> = match path {
            Some(path) => {
                let full = opts.base_dir.join(path);
                if let Some(dir) = full.parent() {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| RuntimeError::Output(format!("{}: {e}", dir.display())))?;
                }
                // NDJSON and CSV outputs accumulate across runs (a replay adds to them); a
                // JSON array cannot be appended to, so it is written anew.
                let append = format != Format::Json;
                let existing = append && std::fs::metadata(&full).is_ok_and(|m| m.len() > 0);
                let f = std::fs::OpenOptions::new()
                    .create(true)
                    .write(true)
                    .append(append)
                    .truncate(!append)
                    .open(&full)
                    .map_err(|e| RuntimeError::Output(format!("{}: {e}", full.display())))?;
                header_written = existing;
                Box::new(std::io::BufWriter::new(f))
            }
            None => Box::new(std::io::BufWriter::new(std::io::stdout())),
        };
        Ok(FileSink {
            writer,
            format,
            direct: !opts.keep_events && format == Format::Ndjson,
            line: Vec::new(),
            written: 0,
            header_written,
        })
    }

    pub fn direct(&self) -> bool {
        self.direct
    }

    fn write(&mut self, d: &Delivery, record: &Value) -> std::io::Result<()> {
        let w = &mut self.writer;
        match self.format {
            Format::Ndjson if self.direct => {
                // Into a buffer of its own first: small writes to a buffer are inlined,
                // where each would be a dynamic call into the sink's writer.
                self.line.clear();
                crate::value::write_json(&mut self.line, record, crate::value::Redaction::Redact)?;
                self.line.push(b'\n');
                w.write_all(&self.line)?;
            }
            Format::Ndjson => writeln!(w, "{}", d.body)?,
            Format::Json => {
                let sep = if self.written == 0 { "[\n" } else { ",\n" };
                write!(w, "{sep}{}", serde_json::to_string_pretty(&d.body).unwrap_or_default())?;
            }
            Format::Csv => {
                if !self.header_written {
                    w.write_all(csv_line(record, true).as_bytes())?;
                    self.header_written = true;
                }
                w.write_all(csv_line(record, false).as_bytes())?;
            }
        }
        self.written += 1;
        Ok(())
    }
}

impl Sink for FileSink {
    fn deliver<'a>(&'a mut self, delivery: &'a Delivery, record: &'a Value) -> Handing<'a> {
        let written =
            self.write(delivery, record).map(|()| Handed::Written).map_err(|e| RuntimeError::Output(e.to_string()));
        Box::pin(std::future::ready(written))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.writer.flush()
    }

    fn finish(&mut self) -> std::io::Result<()> {
        if self.format == Format::Json {
            self.writer.write_all(if self.written == 0 { b"[]\n" } else { b"\n]\n" })?;
        }
        self.writer.flush()
    }
}
