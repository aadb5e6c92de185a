//! A self-contained HTML report (`--format html`): for a class, an overview table (student ×
//! exercise, coloured by score, sortable) linking to each student's section; per scenario its
//! verdict and feedback, and per run a timeline of the transcript, the deadlines waited
//! against ([`deadlines`]), the processes over time
//! and the pictures the run kept. Templates are maud (compile-time, escaping by default);
//! pictures are hand-written SVG ([`svg`]). Program output is quoted within [`caps`].

pub mod caps;
pub mod deadlines;
pub mod page;
pub mod svg;

use crate::result::{ExerciseResult, ScenarioResult, SubmissionResult};
use crate::run::RunRecord;
use caps::Budget;
use maud::{html, Markup};

pub fn render(results: &[SubmissionResult]) -> String {
    let mut budget = Budget::for_page(results.len());
    let title = match results.iter().find_map(|r| r.course.as_deref()) {
        Some(course) => format!("sysgrade: {course}"),
        None => "sysgrade".to_string(),
    };
    let (quoted, pictured) = caps::Budget::caps(results.len() > 1);
    let mb = |bytes: usize| format!("{:.1}", bytes as f64 / 1e6);
    let body = html! {
        h1 { (title) }
        p class="caps" {
            "Program output is quoted as text, at most " (caps::LINES_PER_SCENARIO)
            " lines per scenario, " (caps::CHARS_PER_LINE) " characters per line and "
            (mb(quoted)) " MB per page, and pictures at most "
            (mb(pictured)) " MB per page, each shared out among its submissions; the rest is left out and said so."
            @if results.len() > 1 {
                " In a class's page, the scenarios a student passed are listed by id, and the others drawn in full; a student's own page (one submission) draws every scenario, with a cap of "
                (mb(caps::BYTES_PER_PAGE)) " MB of output and " (mb(caps::PICTURE_BYTES_PER_PAGE)) " MB of pictures."
            }
        }
        @if results.len() > 1 { (overview(results)) }
        @for (i, r) in results.iter().enumerate() { (submission(i, r, &mut budget)) }
    };
    page::shell(&title, body)
}

/// The class at a glance: a row per student, a column per exercise, the total.
fn overview(results: &[SubmissionResult]) -> Markup {
    let columns = super::csv::columns(results);
    html! {
        table class="overview" {
            thead { tr {
                th { "student" }
                @for id in &columns { th { (id) } }
                th { "total" }
            } }
            tbody {
                @for (i, r) in results.iter().enumerate() {
                    @let name = super::junit::name_of(&r.submission);
                    tr {
                        td data-v=(name) { a href=(format!("#sub-{i}")) { (name) } }
                        @for id in &columns {
                            @match r.exercises.iter().find(|e| e.id == *id && e.source.is_some()) {
                                Some(e) => td class=(grade(e.score, e.max_score)) data-v=(ratio(e.score, e.max_score)) {
                                    (e.score) "/" (e.max_score)
                                },
                                None => td class="none" data-v="-1" { "—" },
                            }
                        }
                        td class=(grade(r.score, r.max_score)) data-v=(r.score) { (r.score) "/" (r.max_score) }
                    }
                }
            }
        }
    }
}

/// The colour class of a score: `full`, `partial` (at least half), `low`, or `none`.
pub fn grade(score: u32, max: u32) -> &'static str {
    match (score, max) {
        (_, 0) => "none",
        (s, m) if s >= m => "full",
        (s, m) if 2 * s >= m => "partial",
        _ => "low",
    }
}

fn ratio(score: u32, max: u32) -> String {
    format!("{:.3}", score as f64 / max.max(1) as f64)
}

fn submission(i: usize, r: &SubmissionResult, budget: &mut Budget) -> Markup {
    budget.next_submission();
    html! {
        section class="submission" id=(format!("sub-{i}")) {
            h2 { (super::junit::name_of(&r.submission)) ": " (r.score) "/" (r.max_score) }
            @for note in super::notes(r) { p class="note" { (note) } }
            @for p in &r.problems { p class="problem" { (p) } }
            @for e in &r.exercises { (exercise(i, e, budget)) }
        }
    }
}

/// An exercise: its scenarios in full, except in a class's page, where the scenarios that
/// passed are one line of ids (their evidence is in the student's own page), and a finding
/// several scenarios share is shown once: a class of 100 then loads in a fraction of the
/// time (measured with `cargo xtask bench --html 100`: 4.1 MB and 2.6–3.4 s over an empty
/// page before, 0.6 MB and 0.2–0.3 s after).
fn exercise(i: usize, e: &ExerciseResult, budget: &mut Budget) -> Markup {
    let mut drawn = homes(i, e);
    let pass = |s: &&ScenarioResult| s.status == crate::outcome::Status::Pass;
    let (passed, shown): (Vec<&ScenarioResult>, Vec<&ScenarioResult>) = if budget.class {
        e.scenarios.iter().partition(pass)
    } else {
        (Vec::new(), e.scenarios.iter().collect())
    };
    let groups = if budget.class {
        same_findings(shown)
    } else {
        shown.into_iter().map(|s| vec![s]).collect()
    };
    let ids: Vec<&str> = passed.iter().map(|s| s.id.as_str()).collect();
    html! {
        h3 { (e.id) " " span class=(grade(e.score, e.max_score)) { (e.score) "/" (e.max_score) } }
        @if let Some(w) = &e.warnings { pre class="warnings" { (text(w)) } }
        @for group in &groups {
            @if let [s] = group.as_slice() {
                (scenario(i, s, budget, &mut drawn))
            } @else {
                (merged(i, group))
            }
        }
        @if !ids.is_empty() {
            p class="passed" { span class="verdict" { "PASS" } (ids.join(", ")) }
        }
    }
}

/// `scenarios` in order, those that say what an earlier one said without runs of their own
/// (a program that was not found, or did not build: one finding for every scenario) joined to
/// the first that said it.
fn same_findings(scenarios: Vec<&ScenarioResult>) -> Vec<Vec<&ScenarioResult>> {
    let mergeable = |s: &ScenarioResult| s.runs.is_empty();
    let mut groups: Vec<Vec<&ScenarioResult>> = Vec::new();
    for s in scenarios {
        let same = groups.iter_mut().find(|g| {
            mergeable(g[0])
                && mergeable(s)
                && g[0].status == s.status
                && g[0].feedback == s.feedback
        });
        match same {
            Some(group) => group.push(s),
            None => groups.push(vec![s]),
        }
    }
    groups
}

/// One finding shared by several scenarios: their ids and points, the feedback once.
fn merged(i: usize, all: &[&ScenarioResult]) -> Markup {
    let first = all[0];
    let ids: Vec<&str> = all.iter().map(|s| s.id.as_str()).collect();
    let points: u32 = all.iter().map(|s| s.points).sum();
    let max: u32 = all.iter().map(|s| s.max_points).sum();
    let status = first.status.as_str();
    html! {
        details class=(format!("scenario {status}")) id=(format!("sub-{i}-{}", first.id)) open {
            summary {
                span class="verdict" { (status.to_uppercase()) }
                (ids.join(", ")) " " (points) "/" (max)
            }
            pre class="feedback" { (text(&first.feedback)) }
        }
    }
}

/// Each distinct run of an exercise, the anchor of the scenario that draws it, and whether
/// it was drawn yet: a shared run is drawn once, its other members link to it.
type Drawn<'a> = Vec<(&'a RunRecord, String, bool)>;

/// Where each run of `e` is drawn: in the first scenario that did not pass and holds it
/// (what a student opens), else in the first that holds it.
fn homes(i: usize, e: &ExerciseResult) -> Drawn<'_> {
    let pass = |s: &&ScenarioResult| s.status == crate::outcome::Status::Pass;
    let (passed, other): (Vec<_>, Vec<_>) = e.scenarios.iter().partition(pass);
    let mut homes: Drawn<'_> = Vec::new();
    for s in other.into_iter().chain(passed) {
        for run in &s.runs {
            if !homes.iter().any(|(r, _, _)| same_run(r, run)) {
                homes.push((run, format!("sub-{i}-{}", s.id), false));
            }
        }
    }
    homes
}

fn scenario<'a>(
    i: usize,
    s: &'a ScenarioResult,
    budget: &mut Budget,
    drawn: &mut Drawn<'a>,
) -> Markup {
    let anchor = format!("sub-{i}-{}", s.id);
    budget.next_scenario();
    let status = s.status.as_str();
    // Open what a student should look at: what did not pass, and pictures.
    let pictures = s.runs.iter().any(|r| !r.pictures.is_empty());
    let open = s.status != crate::outcome::Status::Pass || pictures;
    html! {
        details class=(format!("scenario {status}")) id=(anchor)
            open[open] {
            summary {
                span class="verdict" { (status.to_uppercase()) }
                (s.id) " " (s.points) "/" (s.max_points)
            }
            pre class="feedback" { (text(&s.feedback)) }
            @for run in &s.runs { (drawn_once(run, &anchor, budget, drawn)) }
        }
    }
}

/// The pictures of `run`, or a link to where they are drawn.
fn drawn_once<'a>(
    run: &'a RunRecord,
    anchor: &str,
    budget: &mut Budget,
    drawn: &mut Drawn<'a>,
) -> Markup {
    if !drawn_here(run, anchor, drawn) {
        let at = drawn
            .iter()
            .find(|(r, _, _)| same_run(r, run))
            .map_or("", |(_, at, _)| at.as_str());
        return html! {
            p class="same" { (run.label) ": drawn in " a href=(format!("#{at}")) { (at) } }
        };
    }
    run_pictures(run, budget)
}

/// Whether `run` is drawn in the scenario at `anchor`: its home, the first time.
fn drawn_here<'a>(run: &'a RunRecord, anchor: &str, drawn: &mut Drawn<'a>) -> bool {
    let Some(home) = drawn.iter_mut().find(|(r, _, _)| same_run(r, run)) else {
        drawn.push((run, anchor.to_string(), true));
        return true;
    };
    if home.1 != anchor || home.2 {
        return false;
    }
    home.2 = true;
    true
}

/// One run shared by several scenarios: the same label and transcript.
fn same_run(a: &RunRecord, b: &RunRecord) -> bool {
    a.label == b.label && a.transcript == b.transcript
}

fn run_pictures(run: &RunRecord, budget: &mut Budget) -> Markup {
    let (entries, omitted) = budget.take(&run.transcript);
    let span =
        svg::span_ms(&run.transcript, &run.processes).max(deadlines::span_needed(&run.deadlines));
    let signals: Vec<u64> = entries
        .iter()
        .filter(|e| svg::is_signal(e))
        .map(|e| e.at_ms)
        .collect();
    html! {
        div class="run" {
            h4 { (run.label) }
            (svg::timeline(&entries, span))
            (deadlines::drawing(&run.deadlines, span))
            @if !run.processes.is_empty() { (svg::processes(&run.processes, &signals, span)) }
            @for p in &run.pictures { (picture(p, budget)) }
            details class="transcript" {
                summary { "transcript (" (entries.len()) " lines)" }
                pre { @for e in &entries { (line(e)) "\n" } }
                @if omitted > 0 { p class="caps" { (omitted) " more lines left out (caps above)" } }
            }
        }
    }
}

fn picture(p: &crate::run::Picture, budget: &mut Budget) -> Markup {
    if !budget.take_picture(p.png_base64.len()) {
        return html! {
            p class="caps" { (p.label) ": picture left out (pictures are capped per page, see above)" }
        };
    }
    html! {
        figure class="picture" {
            img src=(format!("data:image/png;base64,{}", p.png_base64))
                width=(p.width) height=(p.height) alt=(p.label) loading="lazy";
            figcaption { (p.label) }
        }
    }
}

fn line(e: &crate::run::transcript::Entry) -> String {
    format!(
        "{:>8.3}s {:<7} {}",
        e.at_ms as f64 / 1000.0,
        e.source.label(),
        text(&e.text)
    )
}

/// Program or feedback text, control characters made visible (maud escapes the markup).
fn text(t: &str) -> String {
    super::escape::text(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::run::transcript::{Entry, Source};

    #[test]
    fn a_shared_run_is_drawn_once_in_the_member_that_did_not_pass() {
        let mut r = super::super::sample::fault_and_build_failure();
        let run = RunRecord {
            label: "run 1, shared by ids, exit".into(),
            ..Default::default()
        };
        for s in &mut r.exercises[0].scenarios[..2] {
            s.runs = vec![run.clone()];
        }
        let page = render(&[r]);
        assert_eq!(page.matches("<svg class=\"timeline\"").count(), 1, "{page}");
        assert!(
            page.contains("drawn in <a href=\"#sub-0-process.exit\">"),
            "{page}"
        );
    }

    /// In a class's page the scenarios that passed are one line of ids; the others are drawn
    /// in full. A student's own page shows every scenario.
    #[test]
    fn a_class_page_lists_passes_in_a_line_and_draws_the_rest() {
        let mut r = super::super::sample::fault_and_build_failure();
        let run = RunRecord {
            label: "run 1".into(),
            ..Default::default()
        };
        let scenarios = &mut r.exercises[0].scenarios;
        scenarios[0].status = crate::outcome::Status::Pass;
        scenarios[0].runs = vec![run.clone()];
        scenarios[1].status = crate::outcome::Status::Fail;
        scenarios[1].runs = vec![RunRecord {
            label: "run 2".into(),
            ..run
        }];
        let (passed, failed) = (scenarios[0].id.clone(), scenarios[1].id.clone());
        let class = render(&[r.clone(), r.clone()]);
        assert!(
            !class.contains(&format!("id=\"sub-0-{passed}\"")),
            "{class}"
        );
        assert!(class.contains(&format!("</span>{passed}")), "{class}");
        assert!(class.contains(&format!("id=\"sub-0-{failed}\"")), "{class}");
        assert_eq!(
            class.matches("<svg class=\"timeline\"").count(),
            2,
            "{class}"
        );
        let own = render(&[r]);
        assert!(own.contains(&format!("id=\"sub-0-{passed}\"")), "{own}");
        assert_eq!(own.matches("<svg class=\"timeline\"").count(), 2, "{own}");
    }

    /// One finding for every scenario (no program found) is shown once in a class's page.
    #[test]
    fn a_class_page_shows_one_finding_once() {
        let mut r = super::super::sample::fault_and_build_failure();
        for s in &mut r.exercises[0].scenarios {
            s.status = crate::outcome::Status::Fail;
            s.feedback = "no program for `process` found".into();
            s.runs.clear();
        }
        let n = r.exercises[0].scenarios.len();
        assert!(n >= 2);
        let class = render(&[r.clone(), r.clone()]);
        assert_eq!(
            class.matches("no program for `process` found").count(),
            2,
            "{class}"
        );
        let own = render(&[r]);
        assert_eq!(
            own.matches("no program for `process` found").count(),
            n,
            "{own}"
        );
    }

    #[test]
    fn scores_are_coloured_by_share() {
        assert_eq!(grade(4, 4), "full");
        assert_eq!(grade(2, 4), "partial");
        assert_eq!(grade(1, 4), "low");
        assert_eq!(grade(0, 0), "none");
    }

    #[test]
    fn hostile_output_and_feedback_stay_text() {
        let mut r = super::super::sample::fault_and_build_failure();
        let s = &mut r.exercises[0].scenarios[0];
        s.status = crate::outcome::Status::Fail;
        s.feedback = "saw <img src=x onerror=alert(1)>".into();
        s.runs = vec![RunRecord {
            label: "run 1".into(),
            transcript: vec![Entry {
                at_ms: 5,
                source: Source::Stdout,
                text: "<script>window.__pwned=1</script></svg> javascript:alert(1)".into(),
            }],
            ..Default::default()
        }];
        let page = render(&[r.clone(), r]);
        assert_eq!(
            page.matches("<script").count(),
            1,
            "only the page's own script"
        );
        assert!(!page.contains("<img src=x"));
        assert!(page.contains("&lt;script&gt;window.__pwned=1&lt;/script&gt;&lt;/svg&gt;"));
        assert!(page.contains("script-src 'sha256-"));
        assert!(page.contains("table class=\"overview\""));
        assert!(page.contains("href=\"#sub-1\""));
    }
}
