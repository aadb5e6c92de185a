//! `cargo xtask bench`: grading time against the time the programs themselves need.
//!
//! - `bench [dir] [--exercise ID]…`: grades one submission (default: the bundled Python
//!   fixture) and reports wall time, the harness's own CPU time, and per exercise the summed
//!   scenario time.
//! - `bench --class N`: grades a generated class of N submissions (copies and variants of the
//!   fixtures) and compares the wall time with the ideal: the larger of the summed CPU time
//!   over the cores and the summed wall time of the single runs over the jobs.
//! - `bench --unchanged N`: regrades an unchanged class of N through a results folder
//!   (`bench_regrade.rs`).

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
    /// How many times to grade.
    #[arg(long, default_value_t = 2)]
    rounds: usize,
    /// Grade a generated class of this many submissions instead.
    #[arg(long)]
    class: Option<usize>,
    /// Grade a generated class of this many into a results folder, then regrade it
    /// unchanged (`grade --results`) and report both times.
    #[arg(long, value_name = "N")]
    unchanged: Option<usize>,
    /// Scenarios at once (default: the grader's default).
    #[arg(long)]
    jobs: Option<usize>,
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

fn cpu_seconds(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

/// CPU time of this process and of every descendant reaped so far (supervisors, programs).
fn all_cpu() -> f64 {
    cpu_seconds(libc::RUSAGE_SELF) + cpu_seconds(libc::RUSAGE_CHILDREN)
}

impl Bench {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut settings = harness::Settings::from_env();
        settings.cargo_target_dir = Some(crate::workspace_root().join("target").join("graded"));
        if let Some(jobs) = self.jobs {
            settings.jobs = jobs;
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
        let dir = crate::workspace_root().join(&self.dir);
        let request = harness::grading::Request {
            submissions: vec![dir],
            exercises: harness::cli::select(&self.exercises)?,
            ..Default::default()
        };
        println!(
            "bench: grading {} ({} exercises), {} round(s), {} jobs",
            self.dir.display(),
            request.exercises.len(),
            self.rounds,
            settings.jobs
        );
        for round in 1..=self.rounds {
            let cpu0 = cpu_seconds(libc::RUSAGE_SELF);
            let start = Instant::now();
            let results = harness::grading::grade(settings, &request, &mut |_| {})?;
            let wall = start.elapsed().as_secs_f64();
            let cpu = cpu_seconds(libc::RUSAGE_SELF) - cpu0;
            let r = &results[0];
            let scenario_ms: u64 = r
                .exercises
                .iter()
                .flat_map(|e| &e.scenarios)
                .map(|s| s.duration_ms)
                .sum();
            println!(
                "round {round}: wall {wall:.2} s, harness CPU {cpu:.2} s, summed scenario time {:.2} s, score {}/{}",
                scenario_ms as f64 / 1000.0,
                r.score,
                r.max_score
            );
            for e in &r.exercises {
                let ms: u64 = e.scenarios.iter().map(|s| s.duration_ms).sum();
                println!(
                    "    {:<16} {:>6.2} s  {}/{}",
                    e.id,
                    ms as f64 / 1000.0,
                    e.score,
                    e.max_score
                );
            }
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
