//! `cargo xtask bench`: grading time against the time the programs themselves need.
//!
//! - `bench [dir] [--exercise ID]… [--rounds N] [--phases]`: grades one submission (default:
//!   the bundled Python fixture), each exercise alone, then all at once, and reports per
//!   exercise wall time, the programs' CPU, the harness's CPU (grader and supervisors) and
//!   runs per scenario (`bench_measure.rs`, `bench_table.rs`); `--phases` adds where the
//!   harness's time goes.
//! - `bench --compare GIT-REF [--rounds N]`: the same submission graded by this grader and by
//!   the one built at GIT-REF, alternately, with the ratios (`bench_compare.rs`).
//! - `bench --class N`: grades a generated class of N submissions (copies and variants of the
//!   fixtures) and compares the wall time with the ideal: the larger of the summed CPU time
//!   over the cores and the summed wall time of the single runs over the jobs.
//! - `bench --html N`: the HTML report of a class of N copies of one graded submission: its
//!   size and headless Chromium's load time (`bench_html.rs`).
//! - `bench --unchanged N`: regrades an unchanged class of N through a results folder
//!   (`bench_regrade.rs`).

use crate::bench_table;
use std::path::{Path, PathBuf};
use std::time::Instant;

#[derive(clap::Args)]
pub struct Bench {
    /// The submission to grade (default: the bundled Python fixture).
    #[arg(default_value = "fixtures/good-python")]
    dir: PathBuf,
    /// Exercises to grade (default: all).
    #[arg(long = "exercise")]
    exercises: Vec<String>,
    /// How many times to grade each (default: 1; 3 with --compare).
    #[arg(long)]
    rounds: Option<usize>,
    /// Also print where the harness's time goes, phase by phase (`SYSGRADE_PHASES`).
    #[arg(long)]
    phases: bool,
    /// Compare with the grader built at this git ref: both graded alternately, ratios printed.
    #[arg(long, value_name = "GIT-REF")]
    compare: Option<String>,
    /// Grade a generated class of this many submissions instead.
    #[arg(long)]
    class: Option<usize>,
    /// Grade a generated class of this many into a results folder, then regrade it
    /// unchanged (`grade --results`) and report both times.
    #[arg(long, value_name = "N")]
    unchanged: Option<usize>,
    /// Measure the HTML report of a class of this many copies of the submission: its size
    /// and Chromium's load time.
    #[arg(long, value_name = "N")]
    html: Option<usize>,
    /// Scenarios at once (default: the grader's default).
    #[arg(long)]
    jobs: Option<usize>,
}

/// Benchmarks measure the release profile, the one that ships: a debug xtask (the default of
/// `cargo xtask`) runs itself again as `cargo run --release -p xtask -- <the same arguments>`
/// and exits with its status. `Ok` in the release build itself.
pub fn in_release() -> anyhow::Result<()> {
    if !cfg!(debug_assertions) {
        return Ok(());
    }
    eprintln!("bench: measuring the release build (cargo run --release -p xtask)");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["run", "--release", "--quiet", "--package", "xtask", "--"])
        .args(std::env::args_os().skip(1))
        .current_dir(crate::workspace_root())
        .status()?;
    std::process::exit(status.code().unwrap_or(1));
}

/// Fixture variants a generated class cycles through.
pub(crate) const VARIANTS: [&str; 8] = [
    "good-python",
    "good-cpp",
    "process-exit1",
    "signals-no-sigint",
    "procloop-busy",
    "env-truthiness",
    "signal-catcher-no-sighup",
    "environ-fixed-list",
];

/// CPU time of this process and of every descendant reaped so far (supervisors, programs).
fn all_cpu() -> f64 {
    let cpu = harness::sandbox::phases::cpu_seconds;
    cpu(libc::RUSAGE_SELF) + cpu(libc::RUSAGE_CHILDREN)
}

impl Bench {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut settings = harness::Settings::from_env();
        settings.cargo_target_dir = Some(crate::workspace_root().join("target").join("graded"));
        if let Some(jobs) = self.jobs {
            settings.jobs = jobs;
        }
        if let Some(reference) = &self.compare {
            return crate::bench_compare::run(
                reference,
                &self.dir,
                &self.exercises,
                self.rounds.unwrap_or(3).max(1),
            );
        }
        if let Some(n) = self.html {
            let dir = crate::workspace_root().join(&self.dir);
            return crate::bench_html::run(&settings, &dir, &self.exercises, n);
        }
        if let Some(n) = self.unchanged {
            return crate::bench_regrade::run(n, &self.exercises);
        }
        match self.class {
            Some(n) => self.class_bench(&settings, n),
            None => self.one(&settings),
        }
    }

    fn one(&self, settings: &harness::Settings) -> anyhow::Result<()> {
        let recorder = crate::bench_measure::Recorder::start()?;
        let dir = crate::workspace_root().join(&self.dir);
        let ids: Vec<String> = harness::cli::select(&self.exercises)?
            .iter()
            .map(|e| e.id.to_string())
            .collect();
        let rounds = self.rounds.unwrap_or(1).max(1);
        println!(
            "bench: grading {} ({} exercises), {rounds} round(s), {} jobs",
            self.dir.display(),
            ids.len(),
            settings.jobs
        );
        let probing = Instant::now();
        harness::sandbox::guarantees::Guarantees::current(&settings.supervisor);
        let from = recorder.recorded();
        println!(
            "probe of the sandbox (once per process, not counted below): {:.2} s",
            probing.elapsed().as_secs_f64()
        );
        let (rows, whole) = crate::bench_measure::rounds(settings, &recorder, &dir, &ids, rounds)?;
        println!("each exercise graded alone (seconds; medians over {rounds} round(s)):");
        print!("{}", bench_table::render(&rows));
        println!("  (CPU seconds, user+sys. programs: all this process reaped (RUSAGE_CHILDREN) less the supervisors; harness: grader (RUSAGE_SELF) + supervisors' own, reported at their exit; runs: supervisors started)");
        println!("{}", bench_table::render_whole(&whole));
        if self.phases {
            let scenarios = rounds * 2 * bench_table::total(&rows).scenarios;
            println!("where the harness's time goes ({scenarios} scenarios graded in all; *.cpu: CPU seconds, the rest wall):");
            print!(
                "{}",
                bench_table::render_phases(&recorder.since(from)?, scenarios)
            );
        }
        Ok(())
    }

    fn class_bench(&self, settings: &harness::Settings, n: usize) -> anyhow::Result<()> {
        let tmp = tempfile::tempdir()?;
        let mut submissions = Vec::new();
        for i in 0..n {
            let dir = tmp.path().join(format!("student{i:03}"));
            copy_fixture(
                &crate::workspace_root()
                    .join("fixtures")
                    .join(VARIANTS[i % VARIANTS.len()]),
                &dir,
            )?;
            submissions.push(dir);
        }
        let default_set = [
            "process",
            "procloop",
            "signals",
            "signal_catcher",
            "env",
            "environ",
        ]
        .map(String::from);
        let ids = if self.exercises.is_empty() {
            default_set.to_vec()
        } else {
            self.exercises.clone()
        };
        let request = harness::grading::Request {
            submissions,
            exercises: harness::cli::select(&ids)?,
            ..Default::default()
        };
        let cores = std::thread::available_parallelism().map_or(1, |c| c.get()) as f64;
        println!(
            "bench: a class of {n} ({} exercises each), {} jobs on {cores} cores",
            ids.len(),
            settings.jobs
        );
        let cpu0 = all_cpu();
        let start = Instant::now();
        let results = harness::grading::grade(settings, &request, &mut |_| {})?;
        let wall = start.elapsed().as_secs_f64();
        let cpu = all_cpu() - cpu0;
        let single: f64 = results
            .iter()
            .flat_map(|r| r.exercises.iter().flat_map(|e| &e.scenarios))
            .map(|s| s.duration_ms as f64 / 1000.0)
            .sum();
        let ideal = (cpu / cores).max(single / settings.jobs as f64);
        println!("wall {wall:.1} s; summed CPU {cpu:.1} s (/{cores} cores = {:.1} s); summed single-run wall {single:.1} s (/{} jobs = {:.1} s)", cpu / cores, settings.jobs, single / settings.jobs as f64);
        println!("ideal {ideal:.1} s; ideal/measured = {:.2}", ideal / wall);
        Ok(())
    }
}

pub(crate) fn copy_fixture(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)?.flatten() {
        if entry.path().is_file() && entry.file_name() != "fixture.toml" {
            std::fs::copy(entry.path(), to.join(entry.file_name()))?;
        }
    }
    Ok(())
}
