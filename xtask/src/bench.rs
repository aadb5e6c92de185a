//! `cargo xtask bench`: grades a submission and reports wall time, the harness's own CPU
//! time, and the time the programs themselves needed.

use std::path::PathBuf;
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
    #[arg(long, default_value_t = 3)]
    rounds: usize,
}

fn cpu_seconds(who: i32) -> f64 {
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(who, &mut usage) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(usage.ru_utime) + t(usage.ru_stime)
}

impl Bench {
    pub fn run(&self) -> anyhow::Result<()> {
        let dir = crate::workspace_root().join(&self.dir);
        let mut settings = harness::Settings::from_env();
        settings.cargo_target_dir = Some(crate::workspace_root().join("target").join("graded"));
        let request = harness::runner::Request {
            submissions: vec![dir.clone()],
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
            let results = harness::runner::grade(&settings, &request, &mut |_| {})?;
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
}
