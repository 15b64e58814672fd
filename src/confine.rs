//! Reading the files a flow names (its imports, its lookup files) only where the flow
//! may reach, only if they are regular files, and only up to a size.
//!
//! `flowgate check` runs in CI on pull requests nobody has reviewed yet. A flow that
//! imports `/proc/self/environ` or reads `/etc/shadow` as a lookup would have the checker
//! quote the CI's secrets in a diagnostic; one that imports a FIFO would hang it, and
//! `/dev/zero` would fill its memory. So every path is resolved (symlinks included)
//! and must lie in the directory tree of the files being checked, or of a directory
//! allowed with `--allow-path`; only regular files are opened (their metadata is read
//! first, so a FIFO is never opened); and no more than a stated size is read.

use std::fmt;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// The largest `.flow` file read: far beyond any hand-written flow, small enough that a
/// generated one cannot exhaust the memory of a CI runner.
pub const MAX_FLOW_BYTES: u64 = 16 << 20;

/// The largest lookup file read (CSV, JSON or YAML): code tables are exports, larger
/// than flows, but held in memory whole for the run.
pub const MAX_LOOKUP_BYTES: u64 = 64 << 20;

/// The directory trees a check may read from.
#[derive(Clone, Debug, Default)]
pub struct Confinement {
    /// Resolved directories; `None` reads anywhere (the library's `check_text`, whose
    /// paths are relative to no file).
    roots: Option<Vec<PathBuf>>,
}

/// Why a file was not read. None of them quotes the file.
#[derive(Debug)]
pub enum ReadError {
    /// The path resolves outside every allowed directory.
    Outside {
        resolved: PathBuf,
    },
    /// A FIFO, a device, a socket or a directory.
    NotRegular {
        kind: &'static str,
    },
    TooLarge {
        limit: u64,
    },
    NotUtf8 {
        offset: usize,
    },
    Io(io::Error),
}

impl ReadError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io(e) if e.kind() == io::ErrorKind::NotFound)
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Outside { resolved } => write!(
                f,
                "it is outside the directories being checked (it resolves to {}); \
                 pass --allow-path DIR to allow the directory it is in",
                resolved.display()
            ),
            ReadError::NotRegular { kind } => write!(f, "it is {kind}, not a regular file"),
            ReadError::TooLarge { limit } => write!(f, "it is larger than {} MiB, the most read", limit >> 20),
            ReadError::NotUtf8 { offset } => write!(f, "it is not UTF-8 text (byte {offset})"),
            ReadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl Confinement {
    /// Reads anywhere.
    pub fn unconfined() -> Confinement {
        Confinement { roots: None }
    }

    /// The trees of `paths`: a directory is its own tree, a file's is its directory's.
    pub fn around(paths: &[PathBuf]) -> Confinement {
        let mut c = Confinement { roots: Some(Vec::new()) };
        for p in paths {
            let dir = if p.is_dir() { p.as_path() } else { p.parent().unwrap_or(Path::new("")) };
            c.allow(if dir.as_os_str().is_empty() { Path::new(".") } else { dir });
        }
        c
    }

    /// Widens the confinement to `dir`'s tree (a path that cannot be resolved allows nothing).
    pub fn allow(&mut self, dir: &Path) {
        if let (Some(roots), Ok(dir)) = (&mut self.roots, dir.canonicalize()) {
            if !roots.contains(&dir) {
                roots.push(dir);
            }
        }
    }

    /// `path` resolved, if it lies in an allowed tree.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, ReadError> {
        let resolved = path.canonicalize().map_err(ReadError::Io)?;
        match &self.roots {
            Some(roots) if !roots.iter().any(|r| resolved.starts_with(r)) => Err(ReadError::Outside { resolved }),
            _ => Ok(resolved),
        }
    }

    /// The text of `path`, if it is allowed, a regular file, at most `limit` bytes and UTF-8.
    pub fn read_text(&self, path: &Path, limit: u64) -> Result<(PathBuf, String), ReadError> {
        let resolved = self.resolve(path)?;
        let text = read_text(&resolved, limit)?;
        Ok((resolved, text))
    }
}

/// The bytes of a regular file, at most `limit` of them. The metadata is read before the
/// file is opened, so a FIFO is refused rather than waited on; and the reading stops at
/// the limit, since `/proc` files say they are empty and files grow.
pub fn read_regular(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let meta = std::fs::metadata(path).map_err(ReadError::Io)?;
    check_kind(&meta)?;
    if meta.len() > limit {
        return Err(ReadError::TooLarge { limit });
    }
    let file = std::fs::File::open(path).map_err(ReadError::Io)?;
    // The file opened may not be the one looked at (a rename in between): look again.
    check_kind(&file.metadata().map_err(ReadError::Io)?)?;
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
    file.take(limit + 1).read_to_end(&mut bytes).map_err(ReadError::Io)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooLarge { limit });
    }
    Ok(bytes)
}

/// The text of a regular file, at most `limit` bytes, that must be UTF-8.
pub fn read_text(path: &Path, limit: u64) -> Result<String, ReadError> {
    String::from_utf8(read_regular(path, limit)?)
        .map_err(|e| ReadError::NotUtf8 { offset: e.utf8_error().valid_up_to() })
}

fn check_kind(meta: &std::fs::Metadata) -> Result<(), ReadError> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    let kind = if t.is_file() {
        return Ok(());
    } else if t.is_dir() {
        "a directory"
    } else if t.is_fifo() {
        "a FIFO"
    } else if t.is_char_device() {
        "a character device"
    } else if t.is_block_device() {
        "a block device"
    } else if t.is_socket() {
        "a socket"
    } else {
        "a special file"
    };
    Err(ReadError::NotRegular { kind })
}
