//! `flowgate graph FLOW`: the flow as a Mermaid or Graphviz diagram.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use clap::{Args, ValueEnum};

use super::exit;
use super::load::load;
use crate::graph::{dot, mermaid, FlowGraph};

#[derive(Args, Debug)]
pub struct GraphArgs {
    /// The .flow file.
    flow: PathBuf,
    /// Which flow, when the file declares several.
    #[arg(long = "flow")]
    name: Option<String>,
    /// Output format; `svg` runs Graphviz's `dot`.
    #[arg(long, value_enum, default_value_t = Format::Mermaid)]
    format: Format,
}

#[derive(Clone, Copy, Debug, ValueEnum, PartialEq, Eq)]
enum Format {
    Mermaid,
    Dot,
    Svg,
}

pub fn run(args: &GraphArgs) -> u8 {
    let loaded = match load(&args.flow, args.name.as_deref()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::CANNOT_RUN;
        }
    };
    let graph = FlowGraph::of(&loaded.program, loaded.flow());
    let text = match args.format {
        Format::Mermaid => mermaid(&graph),
        Format::Dot => dot(&graph),
        Format::Svg => match svg(&dot(&graph)) {
            Ok(svg) => svg,
            Err(e) => {
                eprintln!("error: {e}");
                return exit::CANNOT_RUN;
            }
        },
    };
    let _ = std::io::stdout().write_all(text.as_bytes());
    exit::OK
}

/// The dot text drawn by Graphviz.
fn svg(dot_text: &str) -> Result<String, String> {
    let mut child = Command::new("dot")
        .arg("-Tsvg")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "--format svg needs Graphviz's `dot` on the PATH (install the graphviz package), \
                 or use --format dot and draw it elsewhere"
                    .to_string()
            } else {
                format!("cannot run Graphviz's `dot`: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin.write_all(dot_text.as_bytes()).map_err(|e| format!("writing to `dot`: {e}"))?;
    }
    let out = child.wait_with_output().map_err(|e| format!("running `dot`: {e}"))?;
    if !out.status.success() {
        return Err(format!("`dot` failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    String::from_utf8(out.stdout).map_err(|_| "`dot` wrote something that is not text".to_string())
}
