//! `file` and `stdin` sources, and recorded payloads (`--input`) standing in for any
//! source: JSON, NDJSON or CSV files read in order, each record decoded as it is read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::task::JoinHandle;

use super::super::flow_info::panic_text;
use super::super::options::Options;
use super::super::unit::{Chunk, Unit, CHUNK};
use super::super::{RunOptions, RuntimeError};
use super::repeat::Repeats;
use super::{Intake, Source};
use crate::connectors::source::expand;
use crate::connectors::{read_inputs, Format, Incoming};
use crate::metrics;

/// The files a file source reads, and how their names are shown.
pub(crate) struct FileConfig {
    pub paths: Vec<PathBuf>,
    pub format: Option<Format>,
    pub display_root: Option<PathBuf>,
}

impl FileConfig {
    /// `--input` if given, else the file source's own `path`, else stdin.
    pub fn from_options(o: &Options<'_>, opts: &RunOptions) -> Result<FileConfig, RuntimeError> {
        let patterns = match (&opts.inputs, o.kind()) {
            (Some(inputs), _) => inputs.clone(),
            (None, "file") => vec![o.required_literal("path")?],
            (None, _) => vec!["-".into()],
        };
        FileConfig::expanded(&patterns, opts.input_format.or(o.format()?), opts)
    }

    /// Recorded payloads for a source that reads from the network.
    pub fn recorded(o: &Options<'_>, opts: &RunOptions) -> Result<FileConfig, RuntimeError> {
        let Some(inputs) = &opts.inputs else {
            return Err(RuntimeError::Setup(format!(
                "the `{}` source `{}` reads from the network; give recorded payloads with --input FILE...",
                o.kind(),
                o.name()
            )));
        };
        FileConfig::expanded(inputs, opts.input_format, opts)
    }

    fn expanded(patterns: &[String], format: Option<Format>, opts: &RunOptions) -> Result<FileConfig, RuntimeError> {
        // `--input` paths are the command line's, relative to where it runs; a source's
        // own path is the flow's, relative to its file.
        let base = if opts.inputs.is_some() { PathBuf::from(".") } else { opts.base_dir.clone() };
        let paths = expand(patterns, &base).map_err(RuntimeError::Input)?;
        Ok(FileConfig { paths, format, display_root: opts.display_root.clone() })
    }
}

pub(crate) struct FileSource {
    config: FileConfig,
    repeats: Repeats,
}

impl FileSource {
    pub fn new(config: FileConfig) -> FileSource {
        FileSource { config, repeats: Repeats::none() }
    }

    /// Recorded webhook requests: repeats are filtered as the inbox filters them.
    pub fn with_repeats(mut self, repeats: Repeats) -> FileSource {
        self.repeats = repeats;
        self
    }
}

impl Source for FileSource {
    fn start(self: Box<Self>, intake: Intake) -> JoinHandle<Result<u64, RuntimeError>> {
        let FileSource { config, repeats } = *self;
        tokio::task::spawn_blocking(move || {
            let mut n: u64 = 0;
            let root = config.display_root.clone();
            let display = |p: &Path| match root.as_ref().and_then(|r| p.strip_prefix(r).ok()) {
                Some(rel) => rel.display().to_string(),
                None => crate::modules::display_path(p),
            };
            // Stdin may be a live stream: each record goes on as soon as it is read.
            let chunk_len = if config.paths.iter().any(|p| p.as_os_str() == "-") { 1 } else { CHUNK };
            let mut chunk: Chunk = Vec::with_capacity(chunk_len);
            let mut open = true;
            let info = intake.info.clone();
            let read = catch_unwind(AssertUnwindSafe(|| {
                read_inputs(&config.paths, config.format, &intake.ty, &info.decode, &display, &mut |item| {
                    if intake.stopped() {
                        return false;
                    }
                    n += 1;
                    metrics::add("records_in", &info.name, "", 1);
                    match item {
                        Incoming::Record { source_ref, value, raw } => {
                            let unit =
                                Unit::entering(n, Arc::from(source_ref.as_str()), value, raw, intake.slots, None);
                            match repeats.admit(unit, &intake) {
                                Ok(unit) => chunk.push(unit),
                                Err(msg) => return intake.ev.blocking_send(*msg).is_ok(),
                            }
                            if chunk.len() >= chunk_len {
                                let full = std::mem::replace(&mut chunk, Vec::with_capacity(chunk_len));
                                open = intake.tx.blocking_send(full).is_ok();
                            }
                            open
                        }
                        Incoming::Bad { source_ref, raw, error } => {
                            let at = Arc::from(source_ref.as_str());
                            let msg = info.bad_input(n, at, raw, &error, &intake.stage, intake.line);
                            intake.ev.blocking_send(msg).is_ok()
                        }
                    }
                })
            }));
            if open && !chunk.is_empty() {
                let _ = intake.tx.blocking_send(chunk);
            }
            match read {
                Ok(result) => result.map_err(RuntimeError::Input)?,
                Err(panic) => {
                    return Err(RuntimeError::Input(format!(
                        "reading input {} failed inside flowgate: {} (please report this); it and the inputs after \
                         it were not read and are read again by the next run",
                        n + 1,
                        panic_text(panic.as_ref())
                    )))
                }
            }
            Ok(n)
        })
    }
}
