//! The parser, its error recovery, the AST dump and the diagnostic renderer never panic.
#![no_main]

use flowgate::diagnostic::render_plain;
use flowgate::source::SourceFile;
use flowgate::syntax::{dump::dump, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(&SourceFile::inline("fuzz.flow", text)) {
        Ok(module) => {
            let _ = dump(&module);
        }
        Err(diags) => {
            assert!(diags.has_errors(), "a failed parse must report an error");
            let _ = render_plain(&diags);
        }
    }
});
