//! The pure half of `cargo xtask bench`: figures in, text out. Medians and ratios, the
//! per-exercise table with its totals, and the phases read back from `SYSGRADE_PHASES` lines.
//! Nothing here measures or runs anything, so all of it is unit-tested from hand-built values.

use std::collections::BTreeMap;
use std::fmt::Write;

/// One exercise's figures (seconds), from one grading of it alone.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    pub id: String,
    pub wall: f64,
    /// The programs: CPU the supervisors reaped (and builds, tools).
    pub programs_cpu: f64,
    /// The grading process itself (`RUSAGE_SELF`).
    pub grader_cpu: f64,
    /// The supervisors' own CPU (each run's exec, namespaces, private root, reaping).
    pub supervisors_cpu: f64,
    /// Supervisors started: runs of the program, and of the harness's tools in its sandbox.
    pub runs: usize,
    pub scenarios: usize,
}

impl Row {
    /// The harness's CPU: the grading process and its supervisors.
    pub fn harness_cpu(&self) -> f64 {
        self.grader_cpu + self.supervisors_cpu
    }
}

/// The median (the mean of the middle two for an even count); `None` for no values.
pub fn median(values: &[f64]) -> Option<f64> {
    let mut v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

/// The smallest finite value.
pub fn min(values: &[f64]) -> Option<f64> {
    values
        .iter()
        .copied()
        .filter(|x| x.is_finite())
        .min_by(f64::total_cmp)
}

/// `this / reference`, or `None` when the reference is zero (nothing to compare with).
pub fn ratio(this: f64, reference: f64) -> Option<f64> {
    (reference > 0.0).then(|| this / reference)
}

/// The row of medians over several gradings of one exercise (runs and scenarios: the last).
pub fn median_row(rows: &[Row]) -> Row {
    let m = |f: fn(&Row) -> f64| median(&rows.iter().map(f).collect::<Vec<_>>()).unwrap_or(0.0);
    let last = rows.last().cloned().unwrap_or_default();
    Row {
        wall: m(|r| r.wall),
        programs_cpu: m(|r| r.programs_cpu),
        grader_cpu: m(|r| r.grader_cpu),
        supervisors_cpu: m(|r| r.supervisors_cpu),
        ..last
    }
}

/// The sums over all rows, named `total`.
pub fn total(rows: &[Row]) -> Row {
    Row {
        id: "total".into(),
        wall: rows.iter().map(|r| r.wall).sum(),
        programs_cpu: rows.iter().map(|r| r.programs_cpu).sum(),
        grader_cpu: rows.iter().map(|r| r.grader_cpu).sum(),
        supervisors_cpu: rows.iter().map(|r| r.supervisors_cpu).sum(),
        runs: rows.iter().map(|r| r.runs).sum(),
        scenarios: rows.iter().map(|r| r.scenarios).sum(),
    }
}

fn per(n: usize, d: usize) -> String {
    if d == 0 {
        "-".into()
    } else {
        format!("{:.2}", n as f64 / d as f64)
    }
}

/// The per-exercise table with a totals line.
pub fn render(rows: &[Row]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>7} {:>9} {:>8} {:>8} {:>8} {:>5} {:>5} {:>8}",
        "exercise", "wall", "programs", "harness", "grader", "superv.", "runs", "scen.", "runs/sc."
    );
    let line = |out: &mut String, r: &Row| {
        let _ = writeln!(
            out,
            "{:<16} {:>7.2} {:>9.2} {:>8.2} {:>8.2} {:>8.2} {:>5} {:>5} {:>8}",
            r.id,
            r.wall,
            r.programs_cpu,
            r.harness_cpu(),
            r.grader_cpu,
            r.supervisors_cpu,
            r.runs,
            r.scenarios,
            per(r.runs, r.scenarios)
        );
    };
    for r in rows {
        line(&mut out, r);
    }
    line(&mut out, &total(rows));
    out
}

/// The whole submission graded at once, on one line.
pub fn render_whole(w: &Row) -> String {
    format!(
        "the whole submission at once: wall {:.2} s, programs {:.2} s, harness {:.2} s (grader {:.2} s, supervisors {:.2} s), {} runs for {} scenarios",
        w.wall, w.programs_cpu, w.harness_cpu(), w.grader_cpu, w.supervisors_cpu, w.runs, w.scenarios
    )
}

/// One exercise's paired gradings under `--compare`: (this, reference) seconds per round.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Paired {
    pub id: String,
    pub wall: Vec<(f64, f64)>,
    pub harness_cpu: Vec<(f64, f64)>,
}

fn ratios(pairs: &[(f64, f64)]) -> Vec<f64> {
    pairs.iter().filter_map(|&(a, b)| ratio(a, b)).collect()
}

fn cell(values: &[f64], f: fn(&[f64]) -> Option<f64>) -> String {
    f(values).map_or("-".into(), |v| format!("{v:.2}"))
}

/// The ratios this/reference per exercise, each round paired with its neighbour: min and
/// median of the rounds' ratios, for wall time and the harness's CPU, and the medians behind.
pub fn render_compare(rows: &[Paired]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<16} {:>9} {:>9} {:>9} {:>9}   {:>15} {:>15}",
        "exercise", "wall min", "wall med", "cpu min", "cpu med", "wall this/ref", "cpu this/ref"
    );
    for r in rows {
        let (w, c) = (ratios(&r.wall), ratios(&r.harness_cpu));
        let med = |pairs: &[(f64, f64)]| {
            let a: Vec<f64> = pairs.iter().map(|p| p.0).collect();
            let b: Vec<f64> = pairs.iter().map(|p| p.1).collect();
            format!("{}/{}", cell(&a, median), cell(&b, median))
        };
        let _ = writeln!(
            out,
            "{:<16} {:>9} {:>9} {:>9} {:>9}   {:>15} {:>15}",
            r.id,
            cell(&w, min),
            cell(&w, median),
            cell(&c, min),
            cell(&c, median),
            med(&r.wall),
            med(&r.harness_cpu)
        );
    }
    out
}

/// Per phase name: how many times it was recorded and the seconds summed.
pub type Phases = BTreeMap<String, (usize, f64)>;

/// Reads `SYSGRADE_PHASES` lines (`<name> <seconds>`); a malformed line is skipped.
pub fn parse_phases(text: &str) -> Phases {
    let mut phases = Phases::new();
    for line in text.lines() {
        let mut words = line.split_whitespace();
        let (Some(name), Some(secs), None) = (words.next(), words.next(), words.next()) else {
            continue;
        };
        if let Ok(secs) = secs.parse::<f64>() {
            let entry = phases.entry(name.to_string()).or_default();
            entry.0 += 1;
            entry.1 += secs;
        }
    }
    phases
}

/// The summed seconds of `name` (zero when never recorded).
pub fn phase_secs(phases: &Phases, name: &str) -> f64 {
    phases.get(name).map_or(0.0, |p| p.1)
}

/// The breakdown: per phase its count, total, mean, and share per scenario.
pub fn render_phases(phases: &Phases, scenarios: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<18} {:>6} {:>9} {:>9} {:>12}",
        "phase", "count", "total s", "mean ms", "ms/scenario"
    );
    for (name, (count, secs)) in phases {
        let mean = if *count == 0 {
            0.0
        } else {
            secs / *count as f64 * 1e3
        };
        let per_scenario = if scenarios == 0 {
            "-".into()
        } else {
            format!("{:.1}", secs / scenarios as f64 * 1e3)
        };
        let _ = writeln!(
            out,
            "{name:<18} {count:>6} {secs:>9.3} {mean:>9.2} {per_scenario:>12}"
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(id: &str, wall: f64, runs: usize, scenarios: usize) -> Row {
        Row {
            id: id.into(),
            wall,
            programs_cpu: 1.0,
            grader_cpu: 0.25,
            supervisors_cpu: 0.5,
            runs,
            scenarios,
        }
    }

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[f64::NAN, 5.0]), Some(5.0));
    }

    #[test]
    fn min_and_ratio() {
        assert_eq!(min(&[2.0, 0.5, 1.0]), Some(0.5));
        assert_eq!(min(&[]), None);
        assert_eq!(ratio(1.0, 2.0), Some(0.5));
        assert_eq!(ratio(1.0, 0.0), None);
    }

    #[test]
    fn median_row_takes_each_column_apart() {
        let mut a = row("env", 3.0, 4, 4);
        a.grader_cpu = 0.1;
        let b = row("env", 1.0, 4, 4);
        let c = row("env", 2.0, 4, 4);
        let m = median_row(&[a, b, c]);
        assert_eq!((m.id.as_str(), m.wall, m.grader_cpu), ("env", 2.0, 0.25));
    }

    #[test]
    fn table_has_a_line_per_exercise_and_totals() {
        let text = render(&[row("env", 1.5, 4, 4), row("fork_exec", 2.0, 9, 3)]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("exercise"));
        let words: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(
            words,
            [
                "fork_exec",
                "2.00",
                "1.00",
                "0.75",
                "0.25",
                "0.50",
                "9",
                "3",
                "3.00"
            ]
        );
        let totals: Vec<&str> = lines[3].split_whitespace().collect();
        assert_eq!(
            totals,
            ["total", "3.50", "2.00", "1.50", "0.50", "1.00", "13", "7", "1.86"]
        );
    }

    #[test]
    fn whole_line_sums_the_harness() {
        let text = render_whole(&row("whole", 9.0, 82, 104));
        assert!(text.contains("wall 9.00 s, programs 1.00 s, harness 0.75 s (grader 0.25 s, supervisors 0.50 s), 82 runs for 104 scenarios"), "{text}");
    }

    #[test]
    fn compare_pairs_each_round() {
        let paired = Paired {
            id: "env".into(),
            wall: vec![(1.0, 2.0), (3.0, 2.0), (2.0, 2.0)],
            harness_cpu: vec![(0.5, 0.0), (0.5, 0.0), (0.5, 0.0)],
        };
        let text = render_compare(&[paired]);
        let words: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(
            words,
            ["env", "0.50", "1.00", "-", "-", "2.00/2.00", "0.50/0.00"]
        );
    }

    #[test]
    fn phases_sum_per_name_and_skip_malformed_lines() {
        let phases = parse_phases("copy 0.5\ncopy 0.25\nstart x\nbroken\nspawn 1 2\nstart 2\n");
        assert_eq!(phases.get("copy"), Some(&(2, 0.75)));
        assert_eq!(phases.get("start"), Some(&(1, 2.0)));
        assert_eq!(phases.len(), 2);
        assert_eq!(phase_secs(&phases, "namespaces"), 0.0);
        let text = render_phases(&phases, 4);
        let copy: Vec<&str> = text.lines().nth(1).unwrap().split_whitespace().collect();
        assert_eq!(copy, ["copy", "2", "0.750", "375.00", "187.5"]);
    }
}
