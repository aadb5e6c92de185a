//! `cargo xtask stress [--repeat N] [--busy K] [--exercise ID]…`: grades the correct and
//! single-defect fixtures (with `--exercise`, those graded on it, on it only) once on a quiet
//! machine, then again with `--repeat N` while K busy loops (default: twice the cores)
//! compete for the CPU, and fails if any verdict differs. Not timed: it proves that verdicts
//! rest on what programs do, not on how loaded the machine is. Too long for every CI run (N+1
//! gradings of every fixture), so it is a task, not a test.

use anyhow::Context;
use harness::grading::{grade, Request};
use harness::outcome::Status;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

#[derive(clap::Args)]
pub struct Stress {
    /// Repeats of every scenario under load.
    #[arg(long, default_value_t = 5)]
    repeat: u32,
    /// Busy loops competing for the CPU (default: twice the cores).
    #[arg(long)]
    busy: Option<usize>,
    /// Only fixtures graded on these exercises, and only these exercises of them.
    #[arg(long = "exercise", value_name = "ID")]
    exercises: Vec<String>,
}

#[derive(serde::Deserialize)]
struct FixtureToml {
    exercises: Vec<String>,
}

/// (fixture, scenario id) → status and feedback.
type Verdicts = BTreeMap<(String, String), (Status, String)>;

impl Stress {
    pub fn run(&self) -> anyhow::Result<()> {
        let fixtures = self.fixtures()?;
        anyhow::ensure!(!fixtures.is_empty(), "no fixture matches");
        let mut settings = harness::Settings::from_env();
        settings.cargo_target_dir = Some(crate::workspace_root().join("target").join("graded"));
        let quiet = self.grade(&settings, &fixtures, 1)?;
        let stop = Arc::new(AtomicBool::new(false));
        let busy = self.busy.unwrap_or_else(|| 2 * cores());
        let loops: Vec<_> = (0..busy)
            .map(|_| {
                let stop = stop.clone();
                std::thread::spawn(move || {
                    let mut x = 0u64;
                    while !stop.load(Ordering::Relaxed) {
                        x = std::hint::black_box(
                            x.wrapping_mul(6364136223846793005).wrapping_add(1),
                        );
                    }
                })
            })
            .collect();
        let loaded = self.grade(&settings, &fixtures, self.repeat);
        stop.store(true, Ordering::Relaxed);
        for l in loops {
            let _ = l.join();
        }
        let loaded = loaded?;
        let mut differ = Vec::new();
        let mut not_judged = 0;
        for (key, (status, feedback)) in &quiet {
            let under_load = loaded.get(key);
            // A scenario that says the machine was too busy to judge it gives no verdict:
            // that is no verdict changed (it is what it must do under these busy loops).
            if under_load
                .is_some_and(|(s, f)| *s == Status::Skip && harness::outcome::overloaded(f))
            {
                not_judged += 1;
                continue;
            }
            if under_load.map(|(s, _)| s) != Some(status) {
                let said = |s: &Status, f: &str| match s {
                    Status::Pass => String::new(),
                    _ => format!(" ({f})"),
                };
                differ.push(format!(
                    "{} {}: quiet {}{}, loaded {}{}",
                    key.0,
                    key.1,
                    status.as_str(),
                    said(status, feedback),
                    under_load.map_or("missing", |(s, _)| s.as_str()),
                    under_load.map_or_else(String::new, |(s, f)| said(s, f))
                ));
            }
        }
        println!(
            "{} verdicts of {} fixtures checked: quiet, then {} repeats with {busy} busy loops on {} cores",
            quiet.len(),
            fixtures.len(),
            self.repeat,
            cores()
        );
        anyhow::ensure!(
            differ.is_empty(),
            "{} verdict(s) changed under load:\n{}",
            differ.len(),
            differ.join("\n")
        );
        if not_judged > 0 {
            println!("{not_judged} scenario(s) not judged under load (the machine was overloaded): no verdict, not counted as changed");
        }
        println!("no verdict changed under load");
        Ok(())
    }

    /// Every non-hostile fixture and the exercises it is graded on (those of `--exercise`).
    fn fixtures(&self) -> anyhow::Result<Vec<(PathBuf, Vec<String>)>> {
        let dir = crate::workspace_root().join("fixtures");
        let mut out = Vec::new();
        for entry in std::fs::read_dir(&dir)
            .context("reading fixtures/")?
            .flatten()
        {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let Ok(text) = std::fs::read_to_string(path.join("fixture.toml")) else {
                continue;
            };
            if name.starts_with("hostile-") {
                continue;
            }
            let mut fixture: FixtureToml =
                toml::from_str(&text).with_context(|| format!("{name}/fixture.toml"))?;
            // With --exercise, only those exercises are graded (good-python holds them all).
            if !self.exercises.is_empty() {
                fixture.exercises.retain(|e| self.exercises.contains(e));
            }
            if !fixture.exercises.is_empty() {
                out.push((path, fixture.exercises));
            }
        }
        out.sort();
        Ok(out)
    }

    /// Grades all fixtures at once, `repeat` times per scenario; the verdicts of the
    /// exercises each fixture is graded on.
    fn grade(
        &self,
        settings: &harness::Settings,
        fixtures: &[(PathBuf, Vec<String>)],
        repeat: u32,
    ) -> anyhow::Result<Verdicts> {
        let mut ids: Vec<&String> = fixtures
            .iter()
            .flat_map(|(_, e)| e)
            .filter(|e| self.exercises.is_empty() || self.exercises.contains(e))
            .collect();
        ids.sort();
        ids.dedup();
        let exercises = ids
            .iter()
            .map(|id| harness::exercises::get(id).with_context(|| format!("unknown exercise {id}")))
            .collect::<anyhow::Result<Vec<_>>>()?;
        let request = Request {
            submissions: fixtures.iter().map(|(p, _)| p.clone()).collect(),
            exercises,
            repeat,
            ..Request::default()
        };
        let results = grade(settings, &request, &mut |_| {})?;
        let mut verdicts = Verdicts::new();
        for ((path, exercises), result) in fixtures.iter().zip(results) {
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            for s in result
                .exercises
                .iter()
                .filter(|e| exercises.contains(&e.id))
                .flat_map(|e| &e.scenarios)
            {
                verdicts.insert((name.clone(), s.id.clone()), (s.status, s.feedback.clone()));
            }
        }
        Ok(verdicts)
    }
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}
