//! "Did you mean …": the nearest valid name for a mistyped exercise, scenario id, key or
//! signal, by edit distance (`strsim`).

/// The candidate nearest to `word`, when it is near enough to be a likely typo: at most a
/// third of the word's length in edits (at least 2), or `word` with a missing `SIG` prefix.
pub fn nearest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_lowercase();
    let mut best: Option<(usize, &'a str)> = None;
    for c in candidates {
        let c_lower = c.to_lowercase();
        if c_lower == format!("sig{lower}") {
            return Some(c);
        }
        let d = strsim::levenshtein(&lower, &c_lower);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    let limit = (word.chars().count() / 3).max(2);
    best.filter(|(d, _)| *d <= limit).map(|(_, c)| c)
}

/// ` (did you mean `x`?)` or nothing.
pub fn did_you_mean<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> String {
    nearest(word, candidates)
        .map(|c| format!(" (did you mean `{c}`?)"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_names_are_suggested_and_far_ones_are_not() {
        let ids = ["signals", "signal_catcher", "process", "procloop"];
        assert_eq!(nearest("signls", ids), Some("signals"));
        assert_eq!(nearest("proces", ids), Some("process"));
        assert_eq!(nearest("time_server", ids), None);
        assert_eq!(nearest("HUP", ["SIGINT", "SIGHUP"]), Some("SIGHUP"));
        assert_eq!(
            did_you_mean("SIGHPU", ["SIGINT", "SIGHUP"]),
            " (did you mean `SIGHUP`?)"
        );
    }
}
