//! Making program output inert in a text report: control characters (terminal escapes,
//! carriage returns, bidirectional overrides) become visible escapes.

/// `text` with every control or bidi-override character shown as `\u{..}`.
pub fn text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c == '\t' {
            out.push(' ');
        } else if c.is_control() || is_bidi(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    out
}

fn is_bidi(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}')
}

#[cfg(test)]
mod tests {
    #[test]
    fn terminal_escapes_become_visible() {
        assert_eq!(super::text("a\x1b[2Jb\r"), "a\\u{1b}[2Jb\\u{d}");
    }
}
