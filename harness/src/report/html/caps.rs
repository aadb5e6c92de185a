//! Bounds on what a page quotes of program output, so a flood cannot make it unboundedly
//! large: lines per scenario, characters per line, bytes per page. The page states them.

use crate::run::transcript::Entry;

/// Transcript lines shown per scenario (over its runs).
pub const LINES_PER_SCENARIO: usize = 200;
/// Characters shown per line.
pub const CHARS_PER_LINE: usize = 200;
/// Bytes of transcript quoted per page (each line counts twice, in its timeline mark's
/// tooltip and in the transcript, with its markup), shared out equally among the page's
/// submissions; beyond, lines are left out.
pub const BYTES_PER_PAGE: usize = 3_000_000;
/// Bytes of pictures (their base64 PNGs) per page, shared out equally among the page's
/// submissions; beyond, a picture is left out and the page says so. With the transcripts'
/// share, a page stays under 10 MB however large the class.
pub const PICTURE_BYTES_PER_PAGE: usize = 2_000_000;
/// A class's page quotes less: every student who did not pass is drawn there, and the page
/// must open in under 2 s however many did not (measured: about 0.65 s of Chromium's time
/// per MB on the 2-core machine; with the other markup a class's page stays near 2 MB).
pub const BYTES_PER_CLASS_PAGE: usize = 1_000_000;
pub const PICTURE_BYTES_PER_CLASS_PAGE: usize = 500_000;
/// What one line costs besides its text (its mark, its tooltip's and transcript's markup).
const LINE_COST: usize = 96;

/// What is left to quote: per scenario and per submission.
#[derive(Debug)]
pub struct Budget {
    /// Each submission's share of the page.
    pub share: usize,
    /// A page of several submissions (a class): passed scenarios are a line of ids.
    pub class: bool,
    pub page_bytes: usize,
    pub scenario_lines: usize,
    /// Bytes of pictures left for this submission.
    pub picture_bytes: usize,
    /// Each submission's share of the page's pictures.
    pub picture_share: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget::for_page(1)
    }
}

impl Budget {
    /// The budget of a page of `submissions`.
    pub fn for_page(submissions: usize) -> Self {
        let class = submissions > 1;
        let (quoted, pictured) = Budget::caps(class);
        let share = quoted / submissions.max(1);
        let picture_share = pictured / submissions.max(1);
        Budget {
            share,
            class,
            page_bytes: share,
            scenario_lines: LINES_PER_SCENARIO,
            picture_bytes: picture_share,
            picture_share,
        }
    }

    /// Bytes of quoted output and of pictures a page holds: a class's page or a student's own.
    pub fn caps(class: bool) -> (usize, usize) {
        if class {
            (BYTES_PER_CLASS_PAGE, PICTURE_BYTES_PER_CLASS_PAGE)
        } else {
            (BYTES_PER_PAGE, PICTURE_BYTES_PER_PAGE)
        }
    }

    /// A new submission begins: its share of the page.
    pub fn next_submission(&mut self) {
        self.page_bytes = self.share;
        self.picture_bytes = self.picture_share;
    }

    /// Whether a picture of `bytes` (base64) still fits this submission's share.
    pub fn take_picture(&mut self, bytes: usize) -> bool {
        let fits = bytes <= self.picture_bytes;
        if fits {
            self.picture_bytes -= bytes;
        }
        fits
    }

    /// A new scenario begins: its own lines, the page's bytes as they are.
    pub fn next_scenario(&mut self) {
        self.scenario_lines = LINES_PER_SCENARIO;
    }

    /// The entries of a run that fit, each line cut to [`CHARS_PER_LINE`], and how many
    /// were left out.
    pub fn take(&mut self, entries: &[Entry]) -> (Vec<Entry>, usize) {
        let mut kept = Vec::new();
        for e in entries {
            let text = cut(&e.text);
            let cost = 2 * text.len() + LINE_COST;
            if self.scenario_lines == 0 || self.page_bytes < cost {
                break;
            }
            self.scenario_lines -= 1;
            self.page_bytes -= cost;
            kept.push(Entry { text, ..e.clone() });
        }
        let omitted = entries.len() - kept.len();
        (kept, omitted)
    }
}

fn cut(text: &str) -> String {
    match text.char_indices().nth(CHARS_PER_LINE) {
        Some((at, _)) => format!("{}… [cut]", &text[..at]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::transcript::Source;

    fn line(text: &str) -> Entry {
        Entry {
            at_ms: 0,
            source: Source::Stdout,
            text: text.into(),
        }
    }

    #[test]
    fn a_flood_is_cut_per_line_per_scenario_and_per_page() {
        let mut budget = Budget::default();
        let flood = vec![line(&"x".repeat(10_000)); 1000];
        let (kept, omitted) = budget.take(&flood);
        assert_eq!(
            (kept.len(), omitted),
            (LINES_PER_SCENARIO, 1000 - LINES_PER_SCENARIO)
        );
        assert!(kept[0].text.ends_with("… [cut]"));
        assert_eq!(kept[0].text.chars().count(), CHARS_PER_LINE + 7);
        assert_eq!(budget.take(&flood).0.len(), 0);
        budget.next_scenario();
        budget.page_bytes = 100;
        assert_eq!(budget.take(&flood).0.len(), 0);
        let mut class = Budget::for_page(100);
        assert_eq!(class.share, BYTES_PER_CLASS_PAGE / 100);
        class.page_bytes = 0;
        class.next_submission();
        assert_eq!(class.page_bytes, BYTES_PER_CLASS_PAGE / 100);
    }

    #[test]
    fn pictures_are_capped_per_submission() {
        let mut b = Budget::for_page(100);
        let share = PICTURE_BYTES_PER_CLASS_PAGE / 100;
        assert!(b.take_picture(share / 2));
        assert!(!b.take_picture(share));
        b.next_submission();
        assert!(b.take_picture(share));
    }
}
