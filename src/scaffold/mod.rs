//! `flowgate init`: a first flow from a storefront to a back office, ready to check, test and
//! run, written from the templates in `templates/`.
//!
//! A scaffold is the flow, its lookup file, two sample orders for the source to read, a
//! recorded case with the same orders and a README. The case's `expected.txt` is not a
//! template: it is the report of the flow as written, recorded as `flowgate test --update`
//! records it, so the case passes the moment it is written.

use std::fmt;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::testing::{self, CaseResult};

/// The storefront the orders come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    Shopify,
    Woocommerce,
}

/// Where the orders go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Target {
    /// `erp.SalesOrder`s posted to the ERP's API.
    Erp,
    /// One CSV row per order.
    File,
}

impl Source {
    pub const ALL: [Source; 2] = [Source::Shopify, Source::Woocommerce];

    pub fn name(self) -> &'static str {
        match self {
            Source::Shopify => "shopify",
            Source::Woocommerce => "woocommerce",
        }
    }

    /// The sample orders: one complete, one without an email (held).
    fn orders(self) -> [(&'static str, &'static str); 2] {
        match self {
            Source::Shopify => [
                ("order-1002.json", include_str!("templates/shopify_order_1002.json")),
                ("order-1003-no-email.json", include_str!("templates/shopify_order_1003.json")),
            ],
            Source::Woocommerce => [
                ("order-727.json", include_str!("templates/woocommerce_order_727.json")),
                ("order-728-no-email.json", include_str!("templates/woocommerce_order_728.json")),
            ],
        }
    }
}

impl Target {
    pub const ALL: [Target; 2] = [Target::Erp, Target::File];

    pub fn name(self) -> &'static str {
        match self {
            Target::Erp => "erp",
            Target::File => "file",
        }
    }
}

/// The name of the recorded case every scaffold carries.
pub const CASE: &str = "recorded_orders";

/// One scaffold: what it reads and where it sends it.
#[derive(Clone, Copy, Debug)]
pub struct Scaffold {
    pub source: Source,
    pub target: Target,
}

/// Why nothing, or not everything, was written.
#[derive(Debug)]
pub enum InitError {
    /// A file the scaffold would write is already there; nothing was written.
    Exists(PathBuf),
    Io(PathBuf, io::Error),
    /// The written flow could not record its case (a bug in a template).
    Record(String),
}

impl fmt::Display for InitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InitError::Exists(p) => write!(f, "{} already exists; nothing was written", p.display()),
            InitError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            InitError::Record(e) => write!(f, "cannot record the test case: {e}"),
        }
    }
}

impl std::error::Error for InitError {}

impl Scaffold {
    /// `shopify_orders_to_erp`: the flow's name, and its file's.
    pub fn flow_name(&self) -> String {
        format!("{}_orders_to_{}", self.source.name(), self.target.name())
    }

    /// The files written from templates, relative to the directory, in writing order.
    pub fn files(&self) -> Vec<(PathBuf, String)> {
        let name = self.flow_name();
        let flow = match (self.source, self.target) {
            (Source::Shopify, Target::Erp) => include_str!("templates/shopify_erp.flow"),
            (Source::Shopify, Target::File) => include_str!("templates/shopify_file.flow"),
            (Source::Woocommerce, Target::Erp) => include_str!("templates/woocommerce_erp.flow"),
            (Source::Woocommerce, Target::File) => include_str!("templates/woocommerce_file.flow"),
        };
        let mut files = vec![
            (PathBuf::from(format!("{name}.flow")), flow.replace("__NAME__", &name)),
            (PathBuf::from("lookups/carriers.csv"), include_str!("templates/carriers.csv").to_string()),
        ];
        let input = Path::new(&format!("{name}.tests")).join(CASE).join("input");
        for (file, text) in self.source.orders() {
            files.push((Path::new("orders").join(file), text.to_string()));
            files.push((input.join(file), text.to_string()));
        }
        files.push((PathBuf::from("README.md"), self.readme()));
        let ignored = match self.target {
            Target::Erp => ".flowgate/\n",
            Target::File => ".flowgate/\nout/\n",
        };
        files.push((PathBuf::from(".gitignore"), ignored.to_string()));
        files
    }

    /// The recorded case's expected report, written after the templates.
    pub fn expected(&self) -> PathBuf {
        Path::new(&format!("{}.tests", self.flow_name())).join(CASE).join("expected.txt")
    }

    fn readme(&self) -> String {
        let name = self.flow_name();
        let (summary, verb, run) = match self.target {
            Target::Erp => (
                "each order becomes one `erp.SalesOrder` (the stdlib's `erp` module), posted to the ERP's API.",
                "send",
                format!(
                    "A real run needs the ERP's address and token in the environment; it keeps its holds and\n\
                     the keys it has delivered in `.flowgate/state.db`:\n\n\
                     ```sh\nERP_URL=https://erp.example.com/api ERP_TOKEN=... flowgate run {name}.flow\n\
                     flowgate holds list\n```\n"
                ),
            ),
            Target::File => (
                "each order becomes one row of `out/orders.csv`.",
                "write",
                format!(
                    "A real run appends to `out/orders.csv`; it keeps its holds in `.flowgate/state.db`:\n\n\
                     ```sh\nflowgate run {name}.flow\nflowgate holds list\n```\n"
                ),
            ),
        };
        include_str!("templates/README.md")
            .replace("__NAME__", &name)
            .replace("__FROM__", self.source.name())
            .replace("__TO__", self.target.name())
            .replace("__SUMMARY__", summary)
            .replace("__VERB__", verb)
            .replace("__RUN__\n", &run)
    }

    /// Writes the scaffold into `dir` (created if missing) and records its case; returns the
    /// files written. When any of them exists already, writes nothing.
    pub fn write(&self, dir: &Path) -> Result<Vec<PathBuf>, InitError> {
        let files = self.files();
        let expected = dir.join(self.expected());
        for path in files.iter().map(|(p, _)| dir.join(p)).chain([expected.clone()]) {
            if path.symlink_metadata().is_ok() {
                return Err(InitError::Exists(path));
            }
        }
        let mut written = Vec::new();
        let done = self.write_files(dir, &files, &mut written).and_then(|()| self.record(dir));
        if let Err(e) = done {
            // All or nothing: what this run wrote goes, so a second try starts clean.
            for path in &written {
                let _ = std::fs::remove_file(path);
            }
            return Err(e);
        }
        written.push(expected);
        Ok(written)
    }

    fn write_files(
        &self,
        dir: &Path,
        files: &[(PathBuf, String)],
        written: &mut Vec<PathBuf>,
    ) -> Result<(), InitError> {
        for (rel, text) in files {
            let path = dir.join(rel);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).map_err(|e| InitError::Io(parent.to_path_buf(), e))?;
            }
            let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    InitError::Exists(path.clone())
                } else {
                    InitError::Io(path.clone(), e)
                }
            })?;
            written.push(path.clone());
            file.write_all(text.as_bytes()).map_err(|e| InitError::Io(path.clone(), e))?;
        }
        Ok(())
    }

    /// Records the case's `expected.txt` as `flowgate test --update` does.
    fn record(&self, dir: &Path) -> Result<(), InitError> {
        let name = self.flow_name();
        let flow_file = dir.join(format!("{name}.flow"));
        let outcome =
            crate::check_files(std::slice::from_ref(&flow_file)).map_err(|e| InitError::Record(e.to_string()))?;
        let program = outcome
            .ir()
            .ok_or_else(|| InitError::Record(crate::diagnostic::render_human(&outcome.diagnostics, false)))?;
        let flow = program
            .flows
            .iter()
            .position(|f| f.name == name)
            .ok_or_else(|| InitError::Record(format!("{} declares no flow {name}", flow_file.display())))?;
        let case = testing::cases(&flow_file)
            .into_iter()
            .find(|c| c.name == CASE)
            .ok_or_else(|| InitError::Record(format!("no case {CASE} beside {}", flow_file.display())))?;
        match testing::run_case(&case, &program, flow, dir, true) {
            CaseResult::Updated => Ok(()),
            CaseResult::Error(e) => Err(InitError::Record(e)),
            other => Err(InitError::Record(format!("{other:?}"))),
        }
    }
}
