//! The whole front end (`check_text`: parsing, imports, checking) and the diagnostic
//! renderer never panic.
#![no_main]

use flowgate::diagnostic::render_plain;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let outcome = flowgate::check_text("fuzz.flow", text);
    let _ = render_plain(&outcome.diagnostics);
});
