//! Evidence for a failed wait: what the program printed instead of the line it was expected
//! to print. A program that answered in other words did the wrong thing (`fail`); only a
//! silent one timed out.

use super::transcript::{Entry, Source};
/// A line the program has begun and not ended (a prompt printed without a newline, maybe
/// with an answer after it): its text and when its latest bytes came.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending<'a> {
    pub text: &'a str,
    pub at_ms: u64,
}

/// What the program printed on `source` instead of the expected line, while it was awaited:
/// the lines after the cursor `from` that came after the harness's latest action (a signal
/// sent, a line typed, the start) or after the wait began; failing those, the line it has
/// not ended, if its latest bytes came then (`input("Number: ")` answering on the prompt's
/// line). `None` when it stayed silent.
pub(super) fn answered_otherwise(
    entries: &[Entry],
    from: usize,
    source: Source,
    began_ms: u64,
    pending: Option<Pending>,
) -> Option<String> {
    let from = from.min(entries.len());
    let action = entries[from..]
        .iter()
        .rposition(|e| e.source == Source::Harness && e.at_ms <= began_ms)
        .map(|i| from + i);
    let said: Vec<&Entry> = entries
        .iter()
        .enumerate()
        .skip(from)
        .filter(|(i, e)| {
            e.source == source && (e.at_ms >= began_ms || action.is_some_and(|a| *i > a))
        })
        .map(|(_, e)| e)
        .collect();
    let since_ms = action.map_or(began_ms, |a| entries[a].at_ms.min(began_ms));
    let (first, unended) = match (said.first(), pending) {
        (Some(first), _) => ((*first).clone(), ""),
        (None, Some(p)) if p.at_ms >= since_ms && !p.text.trim().is_empty() => (
            Entry {
                at_ms: p.at_ms,
                source,
                text: p.text.to_string(),
            },
            ", with no newline yet,",
        ),
        (None, _) => return None,
    };
    let after = match action.map(|a| &entries[a]) {
        Some(a) => format!(
            "{} after the harness's `{}`",
            secs_ms(first.at_ms.saturating_sub(a.at_ms)),
            a.text
        ),
        None => format!(
            "{} into the wait",
            secs_ms(first.at_ms.saturating_sub(began_ms))
        ),
    };
    let more = match said.len() {
        0 | 1 => String::new(),
        n => format!(
            " (and {} more line{})",
            n - 1,
            if n == 2 { "" } else { "s" }
        ),
    };
    Some(format!(
        "it printed {} on {} at {} ({after}){more}{unended} instead, and nothing matching",
        crate::text::quote(&first.text),
        source.label(),
        secs_ms(first.at_ms),
    ))
}

/// Milliseconds as seconds for messages: `0.012 s`.
fn secs_ms(ms: u64) -> String {
    format!("{:.3} s", ms as f64 / 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(at_ms: u64, source: Source, text: &str) -> Entry {
        Entry {
            at_ms,
            source,
            text: text.into(),
        }
    }

    #[test]
    fn an_answer_in_other_words_is_quoted_with_its_time() {
        let entries = [
            entry(0, Source::Harness, "started signals (pid 7)"),
            entry(5, Source::Stdout, "Process id is 7"),
            entry(900, Source::Harness, "sent SIGINT to pid 7"),
            entry(903, Source::Stdout, "Ouch, Ctrl-C!"),
        ];
        let said = answered_otherwise(&entries, 2, Source::Stdout, 901, None).expect("an answer");
        assert_eq!(
            said,
            "it printed \"Ouch, Ctrl-C!\" on stdout at 0.903 s (0.003 s after the harness's `sent SIGINT to pid 7`) instead, and nothing matching"
        );
    }

    #[test]
    fn silence_and_older_lines_are_not_an_answer() {
        let entries = [
            entry(0, Source::Harness, "started signals (pid 7)"),
            entry(5, Source::Stdout, "Process id is 7"),
            entry(900, Source::Harness, "sent SIGINT to pid 7"),
            entry(950, Source::Stderr, "a warning"),
        ];
        assert_eq!(
            answered_otherwise(&entries, 2, Source::Stdout, 901, None),
            None
        );
    }

    #[test]
    fn an_answer_on_the_prompts_line_is_quoted_without_its_newline() {
        let entries = [
            entry(0, Source::Harness, "started plotter (pid 7)"),
            entry(1200, Source::Harness, "typed \"abc\""),
        ];
        let answered = Pending {
            text: "Please input a number: Please enter an integer",
            at_ms: 1201,
        };
        assert_eq!(
            answered_otherwise(&entries, 0, Source::Stdout, 1200, Some(answered)).as_deref(),
            Some("it printed \"Please input a number: Please enter an integer\" on stdout at 1.201 s (0.001 s after the harness's `typed \"abc\"`), with no newline yet, instead, and nothing matching")
        );
        let prompt_only = Pending {
            text: "Please input a number: ",
            at_ms: 300,
        };
        assert_eq!(
            answered_otherwise(&entries, 0, Source::Stdout, 1200, Some(prompt_only)),
            None
        );
    }
}
