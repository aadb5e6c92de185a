//! Small text helpers for scenarios: lenient, case-insensitive patterns over output lines.

use regex::Regex;

/// A case-insensitive regex. Patterns are the scenarios' own constants, so a bad one is a
/// programming error caught by the scenario tests.
pub fn re(pattern: &str) -> Regex {
    Regex::new(&format!("(?i){pattern}"))
        .unwrap_or_else(|e| panic!("bad scenario pattern {pattern:?}: {e}"))
}

/// A pattern matching `n` as a whole number.
pub fn number(n: impl std::fmt::Display) -> Regex {
    re(&format!(r"(^|\D){n}(\D|$)"))
}

/// The first capture group of `re` in the first line where it matches, parsed as a number.
pub fn capture_number(re: &Regex, lines: &[String]) -> Option<i64> {
    lines
        .iter()
        .find_map(|l| re.captures(l)?.get(1)?.as_str().parse().ok())
}

/// The text quoted for a message: at most 120 characters, in Rust debug quoting so that
/// control characters and quotes are visible and inert.
pub fn quote(s: &str) -> String {
    let cut: String = s.chars().take(120).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}
