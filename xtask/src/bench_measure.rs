//! `cargo xtask bench` on one submission, measured in this process: each exercise graded
//! alone (its scenarios in parallel as always), then the whole submission at once.
//!
//! Method. Wall: a monotonic clock around `grading::grade`. The grader's CPU: this process's
//! `RUSAGE_SELF` (all threads). Everything it started: `RUSAGE_CHILDREN` (every supervisor is
//! reaped before `grade` returns, and each supervisor reaps its program's tree, so the
//! programs' CPU is in it too). The supervisors' own CPU and the runs come from the
//! `SYSGRADE_PHASES` lines (`sandbox/phases.rs`): each supervisor writes `supervisor.cpu` at
//! its exit and `supervisor.exec` at its start. Programs = children − supervisors (builds and
//! the harness's tools run in a sandbox count as programs).

use crate::bench_table::{self, Phases, Row};
use harness::sandbox::phases;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Where the phase lines of this process and its supervisors go.
pub struct Recorder {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Recorder {
    /// Turns phase recording on for this process (before anything is graded: the file is
    /// opened once, on first use) and for every supervisor it starts.
    pub fn start() -> anyhow::Result<Recorder> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("phases");
        std::fs::write(&path, "")?;
        std::env::set_var(phases::VAR, &path);
        anyhow::ensure!(
            phases::enabled(),
            "could not open {} for the phases",
            path.display()
        );
        Ok(Recorder { path, _dir: dir })
    }

    /// How much was recorded so far (bytes): where [`Recorder::since`] starts.
    pub fn recorded(&self) -> u64 {
        std::fs::metadata(&self.path).map_or(0, |m| m.len())
    }

    /// The phases recorded from byte `from` on.
    pub fn since(&self, from: u64) -> anyhow::Result<Phases> {
        let mut file = std::fs::File::open(&self.path)?;
        file.seek(SeekFrom::Start(from))?;
        let mut text = String::new();
        file.read_to_string(&mut text)?;
        Ok(bench_table::parse_phases(&text))
    }
}

/// Grades each of `ids` alone, then all at once, `rounds` times: the medians per exercise,
/// and those of the whole.
pub fn rounds(
    settings: &harness::Settings,
    recorder: &Recorder,
    dir: &Path,
    ids: &[String],
    rounds: usize,
) -> anyhow::Result<(Vec<Row>, Row)> {
    let mut per_exercise: Vec<Vec<Row>> = vec![Vec::new(); ids.len()];
    let mut whole = Vec::new();
    for _ in 0..rounds {
        for (id, rows) in ids.iter().zip(&mut per_exercise) {
            let one = std::slice::from_ref(id);
            rows.push(measure(settings, recorder, dir, one, id)?);
        }
        whole.push(measure(settings, recorder, dir, ids, "whole")?);
    }
    let rows = per_exercise.iter().map(|r| bench_table::median_row(r));
    Ok((rows.collect(), bench_table::median_row(&whole)))
}

/// Grades `ids` of `dir` once and measures it; the row is named `name`.
pub fn measure(
    settings: &harness::Settings,
    recorder: &Recorder,
    dir: &Path,
    ids: &[String],
    name: &str,
) -> anyhow::Result<Row> {
    let request = harness::grading::Request {
        submissions: vec![dir.to_path_buf()],
        exercises: harness::cli::select(ids)?,
        ..Default::default()
    };
    let from = recorder.recorded();
    let (self0, children0) = (cpu(libc::RUSAGE_SELF), cpu(libc::RUSAGE_CHILDREN));
    let start = Instant::now();
    let results = harness::grading::grade(settings, &request, &mut |_| {})?;
    let wall = start.elapsed().as_secs_f64();
    let grader_cpu = cpu(libc::RUSAGE_SELF) - self0;
    let children = cpu(libc::RUSAGE_CHILDREN) - children0;
    let phases = recorder.since(from)?;
    let supervisors_cpu = bench_table::phase_secs(&phases, "supervisor.cpu");
    Ok(Row {
        id: name.to_string(),
        wall,
        programs_cpu: (children - supervisors_cpu).max(0.0),
        grader_cpu,
        supervisors_cpu,
        runs: phases.get("supervisor.exec").map_or(0, |p| p.0),
        scenarios: results
            .iter()
            .flat_map(|r| &r.exercises)
            .map(|e| e.scenarios.len())
            .sum(),
    })
}

fn cpu(who: i32) -> f64 {
    phases::cpu_seconds(who)
}
