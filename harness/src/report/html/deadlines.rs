//! The deadlines a run's verdicts rest on, drawn under its timeline: a row per wait, a bar
//! from when the harness began waiting to when the wait ended, and the deadline itself as a
//! line (class `deadline`; `deadline missed` when the wait ran out of time). A student sees
//! how close a late answer came, and that "within 2 s" was measured from the right moment.

use super::svg::{x_at, WIDTH};
use crate::run::transcript::Deadline;
use maud::{html, Markup};

/// Rows drawn per run; past it, the missed deadlines are kept first.
pub const ROWS: usize = 8;
const ROW: f64 = 14.0;
/// Characters of what was awaited shown on a row's label.
const LABEL: usize = 16;

/// The deadlines drawn: all when they fit in [`ROWS`], else the missed ones first and then
/// the earliest met ones, in the order they were waited for; and how many were left out.
pub fn chosen(deadlines: &[Deadline]) -> (Vec<&Deadline>, usize) {
    if deadlines.len() <= ROWS {
        return (deadlines.iter().collect(), 0);
    }
    let mut kept: Vec<(usize, &Deadline)> = deadlines
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.met)
        .chain(deadlines.iter().enumerate().filter(|(_, d)| d.met))
        .take(ROWS)
        .collect();
    kept.sort_by_key(|(i, _)| *i);
    (
        kept.into_iter().map(|(_, d)| d).collect(),
        deadlines.len() - ROWS,
    )
}

/// Whether the wait ran until its deadline without what it awaited.
pub fn missed(d: &Deadline) -> bool {
    !d.met && d.ended_ms >= d.by_ms
}

/// The milliseconds the deadlines need on the axis: each wait's end, and the deadline of a
/// missed one (the met ones' deadlines may lie far past everything else, and are clipped).
pub fn span_needed(deadlines: &[Deadline]) -> u64 {
    deadlines
        .iter()
        .map(|d| if missed(d) { d.by_ms } else { d.ended_ms })
        .max()
        .unwrap_or(0)
}

/// A row's label: what was awaited, cut to [`LABEL`] characters (the tooltip has it all).
fn label(d: &Deadline) -> String {
    let what = super::super::escape::text(&d.what);
    if what.chars().count() <= LABEL {
        return what;
    }
    let cut: String = what.chars().take(LABEL - 1).collect();
    format!("{}…", cut.trim_end())
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

/// A row's tooltip: what was awaited, from when, by when, and how it ended.
pub fn tip(d: &Deadline) -> String {
    let what = super::super::escape::text(&d.what);
    let ended = if d.met {
        format!("came at {}", seconds(d.ended_ms))
    } else if missed(d) {
        "did not come in time".to_string()
    } else {
        format!("the wait ended at {} without it", seconds(d.ended_ms))
    };
    format!(
        "expected {what} by {} (waiting from {}): {ended}",
        seconds(d.by_ms),
        seconds(d.from_ms)
    )
}

/// The deadlines of a run as rows on the timeline's axis (`span` ms).
pub fn drawing(deadlines: &[Deadline], span: u64) -> Markup {
    let (rows, left_out) = chosen(deadlines);
    if rows.is_empty() {
        return html! {};
    }
    let height = rows.len() as f64 * ROW + 2.0;
    html! {
        svg class="deadlines" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label="deadlines" {
            @for (i, d) in rows.iter().enumerate() {
                @let y = i as f64 * ROW;
                @let from = x_at(d.from_ms, span);
                @let end = x_at(d.ended_ms, span);
                @let label = label(d);
                text class="lane" x="4" y=(y + 10.0) { (label) }
                rect class=(if d.met { "waited met" } else { "waited" }) x=(from) y=(y + 4.0)
                    width=((end - from).max(1.0)) height=(ROW - 8.0) {
                    title { (tip(d)) }
                }
                @if d.by_ms <= span || missed(d) {
                    @let at = x_at(d.by_ms, span);
                    path class=(if missed(d) { "deadline missed" } else { "deadline" })
                        d=(format!("M{at} {}v{}", y + 1.0, ROW - 2.0)) {
                        title { (tip(d)) }
                    }
                }
            }
        }
        @if left_out > 0 {
            p class="caps" { (left_out) " more met deadlines not drawn (at most " (ROWS) " rows a run)" }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(from_ms: u64, by_ms: u64, ended_ms: u64, met: bool) -> Deadline {
        Deadline {
            what: "a line matching /pid/ on stdout".into(),
            from_ms,
            by_ms,
            ended_ms,
            met,
        }
    }

    #[test]
    fn a_wait_that_ran_out_of_time_is_missed_and_one_cut_short_is_not() {
        assert!(missed(&wait(0, 2000, 2000, false)));
        assert!(!missed(&wait(0, 2000, 300, false)));
        assert!(!missed(&wait(0, 2000, 300, true)));
        assert!(tip(&wait(0, 2000, 2000, false)).ends_with("did not come in time"));
        assert!(tip(&wait(0, 2000, 300, true)).ends_with("came at 0.3s"));
    }

    #[test]
    fn the_axis_reaches_a_missed_deadline_but_not_a_met_one() {
        assert_eq!(span_needed(&[wait(100, 10_000, 300, true)]), 300);
        assert_eq!(span_needed(&[wait(100, 2100, 2100, false)]), 2100);
    }

    #[test]
    fn missed_deadlines_are_drawn_first_when_there_are_too_many() {
        let mut many: Vec<Deadline> = (0..20).map(|i| wait(i, i + 10, i + 1, true)).collect();
        many[15] = wait(15, 25, 25, false);
        let (rows, left_out) = chosen(&many);
        assert_eq!((rows.len(), left_out), (ROWS, 20 - ROWS));
        assert!(rows.iter().any(|d| !d.met));
        assert!(rows.windows(2).all(|w| w[0].from_ms < w[1].from_ms));
    }

    #[test]
    fn a_missed_deadline_is_drawn_as_one() {
        let svg =
            drawing(&[wait(0, 2000, 2000, false), wait(0, 900, 100, true)], 2000).into_string();
        assert_eq!(svg.matches("class=\"deadline missed\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("class=\"deadline\"").count(), 1, "{svg}");
        assert_eq!(svg.matches("class=\"waited met\"").count(), 1, "{svg}");
    }
}
