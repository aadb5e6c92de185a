//! `sysgrade doctor --format json`: the facts as they are (see `facts.rs` for the fields).

use super::facts::Facts;

/// The facts as a pretty-printed JSON object, with a final newline.
pub fn render(facts: &Facts) -> Result<String, serde_json::Error> {
    serde_json::to_string_pretty(facts).map(|text| text + "\n")
}
