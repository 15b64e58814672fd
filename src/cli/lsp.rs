//! `flowgate lsp`: the language server, over stdin and stdout.

use clap::Args;

use super::exit;

#[derive(Args, Debug)]
pub struct LspArgs {
    /// Talk over stdin and stdout (the only transport; accepted because clients pass it).
    #[arg(long)]
    stdio: bool,
    /// Milliseconds after the last edit before a document is checked.
    #[arg(long, default_value_t = 150, value_name = "MS")]
    debounce_ms: u64,
}

pub fn run(args: &LspArgs) -> u8 {
    let _ = args.stdio;
    let options = crate::lsp::Options { debounce: std::time::Duration::from_millis(args.debounce_ms) };
    match crate::lsp::serve(&options) {
        Ok(()) => exit::OK,
        Err(e) => {
            eprintln!("error: {e}");
            exit::CANNOT_RUN
        }
    }
}
