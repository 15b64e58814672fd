//! YAML reading, behind one small module: `serde_yaml` is deprecated upstream, so the
//! rest of the crate only sees `serde_json::Value` and this module can change crates.

/// Parses YAML text into a JSON value (YAML's extra types become strings or numbers).
pub fn from_str(text: &str) -> Result<serde_json::Value, String> {
    serde_yaml::from_str::<serde_json::Value>(text).map_err(|e| e.to_string())
}
