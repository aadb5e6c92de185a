//! The pictures of a run, as hand-written SVG: a timeline (lanes for the harness, stdout and
//! stderr; a mark per transcript entry, its line in the mark's tooltip; signals as diamonds)
//! and the process tree over time (a bar per process from fork to exit, its zombie time until
//! reaped drawn apart, class `zombie`). Geometry is pure arithmetic on milliseconds.

use crate::run::transcript::{Entry, Source};
use crate::run::ProcessSpan;
use maud::{html, Markup};

/// The drawing's width, in SVG units.
pub const WIDTH: f64 = 760.0;
/// Room for the lanes' and processes' names on the left.
pub const LEFT: f64 = 120.0;
const RIGHT: f64 = 10.0;
const LANE: f64 = 18.0;
const ROW: f64 = 16.0;
const AXIS: f64 = 16.0;
/// Characters of a line shown in a tooltip.
const TIP: usize = 100;
/// Marks closer than this (SVG units) in one lane are drawn as one.
const MERGE: f64 = 2.0;

/// One mark on the timeline: where, in which lane, whether a signal, and its tooltip (the
/// first line it stands for, and how many more).
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    pub x: f64,
    pub source: Source,
    pub signal: bool,
    pub tip: String,
    pub more: usize,
}

/// The marks of `entries`: one per entry, except that entries of one lane within
/// [`MERGE`] of the previous mark join it (a burst of lines is one mark, "+N more").
/// Signals are never merged.
pub fn marks(entries: &[Entry], span: u64) -> Vec<Mark> {
    let mut out: Vec<Mark> = Vec::new();
    for e in entries {
        let x = x_at(e.at_ms, span);
        let signal = is_signal(e);
        let near = out.iter_mut().rev().find(|m| m.source == e.source);
        if let Some(m) = near.filter(|m| !signal && !m.signal && x - m.x < MERGE) {
            m.more += 1;
            continue;
        }
        out.push(Mark {
            x,
            source: e.source,
            signal,
            tip: tip(e),
            more: 0,
        });
    }
    out
}

/// The x of `ms` on an axis from 0 to `span_ms` (at least 1).
pub fn x_at(ms: u64, span_ms: u64) -> f64 {
    let span = span_ms.max(1) as f64;
    let x = LEFT + (ms.min(span_ms.max(1)) as f64) / span * (WIDTH - LEFT - RIGHT);
    (x * 10.0).round() / 10.0
}

/// The milliseconds the pictures of a run cover: up to its last event, at least a second.
pub fn span_ms(entries: &[Entry], spans: &[ProcessSpan]) -> u64 {
    let last_entry = entries.iter().map(|e| e.at_ms).max().unwrap_or(0);
    let last_proc = spans
        .iter()
        .flat_map(|p| [Some(p.forked_ms), p.exited_ms, p.reaped_ms])
        .flatten()
        .max()
        .unwrap_or(0);
    last_entry.max(last_proc).max(1000)
}

/// Whether a harness entry says a signal was sent (`SIGTERM`, `SIGINT`, …).
pub fn is_signal(e: &Entry) -> bool {
    e.source == Source::Harness
        && e.text
            .split(|c: char| !c.is_ascii_alphanumeric())
            .any(|w| w.parse::<nix::sys::signal::Signal>().is_ok())
}

/// The lane of a source, from the top.
pub fn lane(source: Source) -> usize {
    match source {
        Source::Harness => 0,
        Source::Stdout => 1,
        Source::Stderr => 2,
    }
}

/// Tick marks: about five round instants (ms) on an axis of `span_ms`.
pub fn ticks(span_ms: u64) -> Vec<u64> {
    let rough = span_ms / 5;
    let step = [
        100, 200, 500, 1000, 2000, 5000, 10_000, 20_000, 30_000, 60_000,
    ]
    .into_iter()
    .find(|s| *s >= rough)
    .unwrap_or(rough.max(1));
    (0..=span_ms / step).map(|i| i * step).collect()
}

fn seconds(ms: u64) -> String {
    format!("{:.1}s", ms as f64 / 1000.0)
}

fn tip(e: &Entry) -> String {
    let text: String = super::super::escape::text(&e.text)
        .chars()
        .take(TIP)
        .collect();
    format!("{} {}: {text}", seconds(e.at_ms), e.source.label())
}

/// Grid lines at the ticks (one path), labelled at the first and the last.
fn axis(y: f64, span: u64) -> Markup {
    let ticks = ticks(span);
    let grid: String = ticks
        .iter()
        .map(|t| format!("M{} 0v{y}", x_at(*t, span)))
        .collect();
    let last = ticks.last().copied().filter(|t| *t > 0);
    html! {
        path class="tick" d=(grid) {}
        text class="tick" x=(x_at(0, span)) y=(y + 12.0) { (seconds(0)) }
        @if let Some(t) = last {
            text class="tick" x=(x_at(t, span)) y=(y + 12.0) text-anchor="end" { (seconds(t)) }
        }
    }
}

/// The transcript as lanes over time: one mark per entry, a diamond per signal sent.
pub fn timeline(entries: &[Entry], span: u64) -> Markup {
    let height = 3.0 * LANE + AXIS;
    html! {
        svg class="timeline" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label="timeline" {
            (axis(3.0 * LANE, span))
            @for (i, source) in [Source::Harness, Source::Stdout, Source::Stderr].iter().enumerate() {
                text class="lane" x="4" y=(i as f64 * LANE + 13.0) { (source.label()) }
            }
            @for m in marks(entries, span) {
                @let y = lane(m.source) as f64 * LANE;
                @let tip = match m.more {
                    0 => m.tip.clone(),
                    n => format!("{} (+{n} more)", m.tip),
                };
                @if m.signal {
                    path class="signal" d=(format!("M{} {}l5 5l-5 5l-5 -5z", m.x, y + 4.0)) {
                        title { (tip) }
                    }
                } @else {
                    path class=(format!("mark {}", m.source.label()))
                        d=(format!("M{} {}v{}", m.x, y + 3.0, LANE - 6.0)) {
                        title { (tip) }
                    }
                }
            }
        }
    }
}

/// A process's name on its row: its pid and what it exec'd (the program's file name, then
/// its arguments).
pub fn name(p: &ProcessSpan) -> String {
    let command = match p.command.as_deref() {
        Some(c) => {
            let (program, args) = c.split_once(' ').unwrap_or((c, ""));
            let base = program.rsplit('/').next().unwrap_or(program);
            let shown = format!("{base} {args}");
            super::super::escape::text(shown.trim_end())
        }
        None => "(no exec)".into(),
    };
    let short: String = command.chars().take(16).collect();
    format!("{} {short}", p.pid)
}

/// The geometry of one process: (fork→exit bar, exit→reap zombie bar), each `(x, width)`.
/// A process still running at the end runs to the edge; an exited one never reaped is a
/// zombie to the edge.
pub fn bars(p: &ProcessSpan, span: u64) -> ((f64, f64), Option<(f64, f64)>) {
    let start = x_at(p.forked_ms, span);
    let end = x_at(p.exited_ms.unwrap_or(span), span);
    let live = (start, (end - start).max(1.0));
    let zombie = p.exited_ms.map(|_| {
        let gone = x_at(p.reaped_ms.unwrap_or(span), span);
        (end, (gone - end).max(1.0))
    });
    (live, zombie)
}

fn zombie_tip(p: &ProcessSpan) -> String {
    match (p.exited_ms, p.reaped_ms) {
        (Some(exited), Some(reaped)) => format!(
            "zombie: pid {} was reaped {} after it exited",
            p.pid,
            seconds(reaped.saturating_sub(exited))
        ),
        _ => format!(
            "zombie: pid {} exited and was never reaped while followed",
            p.pid
        ),
    }
}

fn describe(p: &ProcessSpan) -> String {
    let at = |ms: Option<u64>| ms.map_or("—".to_string(), seconds);
    let exit = match p.exit {
        Some(e) => crate::run::describe_exit(e),
        None => "still running".into(),
    };
    format!(
        "pid {} (parent {}) {}: forked {}, exec {}, exited {} ({exit}), reaped {}",
        p.pid,
        p.parent,
        p.command
            .as_deref()
            .map(super::super::escape::text)
            .unwrap_or_default(),
        seconds(p.forked_ms),
        at(p.exec_ms),
        at(p.exited_ms),
        at(p.reaped_ms)
    )
}

/// The processes over time: a bar per process (class `proc top` for the program, `proc
/// child` below it), zombie time apart (class `zombie`; `zombie unreaped` when never reaped
/// while followed), signals as vertical lines.
pub fn processes(spans: &[ProcessSpan], signals: &[u64], span: u64) -> Markup {
    let height = spans.len() as f64 * ROW + AXIS;
    let pids: Vec<i32> = spans.iter().map(|p| p.pid).collect();
    html! {
        svg class="procs" xmlns="http://www.w3.org/2000/svg" width=(WIDTH) height=(height)
            viewBox=(format!("0 0 {WIDTH} {height}")) role="img" aria-label="processes" {
            (axis(spans.len() as f64 * ROW, span))
            @for (i, p) in spans.iter().enumerate() {
                @let y = i as f64 * ROW;
                @let ((x, w), zombie) = bars(p, span);
                @let kind = if pids.contains(&p.parent) { "proc child" } else { "proc top" };
                text class="lane" x="4" y=(y + 11.0) { (name(p)) }
                rect class=(kind) x=(x) y=(y + 3.0) width=(w) height=(ROW - 6.0) {
                    title { (describe(p)) }
                }
                @if let Some((zx, zw)) = zombie {
                    rect class=(if p.reaped_ms.is_some() { "zombie" } else { "zombie unreaped" }) x=(zx) y=(y + 3.0) width=(zw) height=(ROW - 6.0) {
                        title { (zombie_tip(p)) }
                    }
                }
            }
            @for at in signals {
                line class="signal" x1=(x_at(*at, span)) x2=(x_at(*at, span)) y1="0"
                    y2=(spans.len() as f64 * ROW) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(forked: u64, exited: Option<u64>, reaped: Option<u64>) -> ProcessSpan {
        ProcessSpan {
            pid: 7,
            parent: 1,
            command: Some("ls -l".into()),
            forked_ms: forked,
            exec_ms: None,
            exited_ms: exited,
            reaped_ms: reaped,
            exit: None,
        }
    }

    #[test]
    fn instants_map_onto_the_axis_and_stay_inside_it() {
        assert_eq!(x_at(0, 1000), LEFT);
        assert_eq!(x_at(1000, 1000), WIDTH - RIGHT);
        assert_eq!(x_at(500, 1000), LEFT + (WIDTH - LEFT - RIGHT) / 2.0);
        assert_eq!(x_at(5000, 1000), WIDTH - RIGHT);
        assert_eq!(x_at(3, 0), WIDTH - RIGHT);
    }

    #[test]
    fn zombie_time_is_drawn_apart_from_the_life_of_a_process() {
        let ((x, w), zombie) = bars(&span(0, Some(500), Some(750)), 1000);
        assert_eq!((x, x + w), (x_at(0, 1000), x_at(500, 1000)));
        let (zx, zw) = zombie.expect("a zombie");
        assert_eq!((zx, zx + zw), (x_at(500, 1000), x_at(750, 1000)));
        let (_, never) = bars(&span(0, Some(500), None), 1000);
        assert_eq!(never.map(|(x, w)| x + w), Some(x_at(1000, 1000)));
        let ((_, w), running) = bars(&span(200, None, None), 1000);
        assert!(running.is_none());
        assert_eq!(x_at(200, 1000) + w, x_at(1000, 1000));
    }

    #[test]
    fn the_axis_covers_the_last_event_and_ticks_are_round() {
        assert_eq!(span_ms(&[], &[span(0, Some(2500), Some(4200))]), 4200);
        assert_eq!(span_ms(&[], &[]), 1000);
        assert_eq!(ticks(4200), [0, 1000, 2000, 3000, 4000]);
    }

    #[test]
    fn a_burst_of_lines_is_one_mark_and_signals_stay_apart() {
        let at = |at_ms, source, text: &str| Entry {
            at_ms,
            source,
            text: text.into(),
        };
        let entries = [
            at(0, Source::Stdout, "a"),
            at(1, Source::Stderr, "x"),
            at(2, Source::Stdout, "b"),
            at(3, Source::Harness, "sent SIGINT to pid 7"),
            at(500, Source::Stdout, "c"),
        ];
        let m = marks(&entries, 1000);
        let shown: Vec<(Source, usize, bool)> =
            m.iter().map(|m| (m.source, m.more, m.signal)).collect();
        assert_eq!(
            shown,
            [
                (Source::Stdout, 1, false),
                (Source::Stderr, 0, false),
                (Source::Harness, 0, true),
                (Source::Stdout, 0, false)
            ]
        );
        assert_eq!(m[0].tip, "0.0s stdout: a");
    }

    #[test]
    fn signals_are_told_from_other_notes() {
        let note = |text: &str| Entry {
            at_ms: 0,
            source: Source::Harness,
            text: text.into(),
        };
        assert!(is_signal(&note("sent SIGTERM to pid 12")));
        assert!(!is_signal(&note("SIGNAL handling is fine")));
        assert!(!is_signal(&Entry {
            source: Source::Stdout,
            ..note("sent SIGTERM")
        }));
    }

    #[test]
    fn program_text_in_a_picture_is_escaped() {
        let hostile = Entry {
            at_ms: 10,
            source: Source::Stdout,
            text: "</svg><script>window.__pwned=1</script>\u{1b}[2J".into(),
        };
        let svg = timeline(&[hostile], 1000).into_string();
        assert!(!svg.contains("<script"), "{svg}");
        assert!(svg.contains("&lt;/svg&gt;&lt;script&gt;"), "{svg}");
        assert!(svg.contains("\\u{1b}[2J"), "{svg}");
        let mut p = span(0, Some(10), None);
        p.command = Some("<img src=x onerror=alert(1)>".into());
        let svg = processes(&[p], &[], 1000).into_string();
        assert!(!svg.contains("<img"), "{svg}");
    }

    #[test]
    fn a_process_is_named_by_its_program_file_and_arguments() {
        let mut p = span(0, None, None);
        p.command = Some("/tmp/sysgrade-x/bin/fork_exec --fast".into());
        assert_eq!(name(&p), "7 fork_exec --fast");
        p.command = None;
        assert_eq!(name(&p), "7 (no exec)");
    }
}
