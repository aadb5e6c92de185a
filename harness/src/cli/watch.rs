//! `grade --watch`: grade once, then re-grade each exercise whose files change (notified by
//! the kernel through `notify`, with saves coalesced over a short debounce) and print only
//! the verdicts that changed.

use crate::exercises::{self, Exercise};
use crate::grading::{self, Request, Scope};
use crate::report::{self, Format};
use crate::result::SubmissionResult;
use crate::settings::Settings;
use notify_debouncer_mini::notify::RecursiveMode;
use notify_debouncer_mini::{new_debouncer, DebounceEventResult};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

/// Saves closer together than this are one change (an editor's write, rename and chmod).
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Grades `request` (one submission), then watches its folder until interrupted.
pub(super) fn run(settings: &Settings, request: Request) -> anyhow::Result<i32> {
    let root = request.submissions[0].clone();
    let mut current = grade(settings, &request)?;
    super::emit(&report::render(
        Format::Human,
        std::slice::from_ref(&current),
        std::io::stdout().is_terminal(),
    ));
    let (tx, rx) = mpsc::channel::<DebounceEventResult>();
    let mut debouncer = new_debouncer(DEBOUNCE, tx)?;
    debouncer.watcher().watch(&root, RecursiveMode::Recursive)?;
    eprintln!("watching {} for changes (Ctrl-C to stop)", root.display());
    while let Ok(first) = rx.recv() {
        let mut changed = paths(first);
        // Saves made while the last grading ran count as one change.
        while let Ok(more) = rx.try_recv() {
            changed.extend(paths(more));
        }
        let changed: Vec<PathBuf> = changed
            .iter()
            .filter_map(|p| p.strip_prefix(&root).ok())
            .filter(|p| relevant(p))
            .map(Path::to_path_buf)
            .collect();
        let targets = affected(&changed, &current, &request.exercises);
        if targets.is_empty() {
            continue;
        }
        let names: Vec<String> = changed.iter().map(|p| p.display().to_string()).collect();
        let ids: Vec<&str> = targets.iter().map(|e| e.id).collect();
        eprintln!(
            "changed: {}; re-grading {}",
            names.join(", "),
            ids.join(", ")
        );
        let again = Request {
            exercises: targets,
            scope: Scope::Listed,
            ..request.clone()
        };
        let regraded = grade(settings, &again)?;
        let before = current.clone();
        merge(&mut current, &regraded, request.scope);
        super::emit(&report::changes::render(&before, &regraded, &current));
    }
    Ok(0)
}

fn grade(settings: &Settings, request: &Request) -> anyhow::Result<SubmissionResult> {
    grading::grade(settings, request, &mut |_| {})?
        .pop()
        .ok_or_else(|| anyhow::anyhow!("grading returned no result"))
}

fn paths(events: DebounceEventResult) -> Vec<PathBuf> {
    match events {
        Ok(events) => events.into_iter().map(|e| e.path).collect(),
        Err(e) => {
            eprintln!("warning: watching: {e}");
            Vec::new()
        }
    }
}

/// Not an editor's swap or backup file, nor a build or VCS folder.
fn relevant(rel: &Path) -> bool {
    rel.components().all(|c| {
        let name = c.as_os_str().to_string_lossy();
        !(name.starts_with('.')
            || name.ends_with('~')
            || name.ends_with(".swp")
            || name.ends_with(".swx")
            || name == "4913"
            || name == "__pycache__"
            || name == "target")
    })
}

/// The exercises to grade again: those whose program file changed; for any other file (a
/// header, a Makefile, a module, a new file), the programs it may belong to and the
/// exercises not found yet; everything when `submission.toml` changed.
fn affected(
    changed: &[PathBuf],
    current: &SubmissionResult,
    requested: &[&'static Exercise],
) -> Vec<&'static Exercise> {
    if changed.iter().any(|p| p == Path::new("submission.toml")) {
        return requested.to_vec();
    }
    let source = |e: &Exercise| {
        current
            .exercises
            .iter()
            .find(|x| x.id == e.id)
            .and_then(|x| x.source.as_deref())
            .map(|s| PathBuf::from(s.split(" (bin ").next().unwrap_or(s)))
    };
    let mut out: Vec<&'static Exercise> = Vec::new();
    for path in changed {
        let exact: Vec<&'static Exercise> = requested
            .iter()
            .copied()
            .filter(|e| source(e).as_deref() == Some(path.as_path()))
            .collect();
        let hits = if exact.is_empty() {
            requested
                .iter()
                .copied()
                .filter(|e| match source(e) {
                    Some(s) => near(path, &s),
                    None => true,
                })
                .collect()
        } else {
            exact
        };
        for e in hits {
            if !out.iter().any(|o| o.id == e.id) {
                out.push(e);
            }
        }
    }
    out
}

/// Whether a changed file may belong to the program at `source`: it lies in the program's
/// folder or below (for a program at the top, only files at the top).
fn near(path: &Path, source: &Path) -> bool {
    let top = Path::new("");
    match source.parent().unwrap_or(top) {
        folder if folder == top => path.parent().unwrap_or(top) == top,
        folder => path.starts_with(folder),
    }
}

/// Puts the re-graded exercises into `current`, in catalogue order. Graded on what it holds
/// (`Scope::Found`), an exercise still or no longer found goes to `not_found`.
fn merge(current: &mut SubmissionResult, regraded: &SubmissionResult, scope: Scope) {
    for e in &regraded.exercises {
        current.exercises.retain(|x| x.id != e.id);
        current.not_found.retain(|x| *x != e.id);
        if scope == Scope::Found && e.source.is_none() {
            current.not_found.push(e.id.clone());
        } else {
            current.exercises.push(e.clone());
        }
    }
    let order = |id: &str| exercises::ALL.iter().position(|e| e.id == id);
    current.exercises.sort_by_key(|e| order(&e.id));
    current.not_found.sort_by_key(|id| order(id));
    let found = current.exercises.iter().any(|e| e.source.is_some());
    current.problems = regraded
        .problems
        .iter()
        .filter(|p| !(found && p.starts_with("no exercise found")))
        .cloned()
        .collect();
    *current = current.clone().total();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::ExerciseResult;

    fn result(sources: &[(&str, Option<&str>)]) -> SubmissionResult {
        SubmissionResult {
            submission: "s".into(),
            score: 0,
            max_score: 0,
            not_graded: 0,
            missing_tools: Vec::new(),
            exercises: sources
                .iter()
                .map(|(id, source)| ExerciseResult::bare(id, source.map(String::from), Vec::new()))
                .collect(),
            problems: Vec::new(),
            not_found: Vec::new(),
            course: None,
            guarantees: Default::default(),
            time_scale: 1.0,
            setup: Default::default(),
        }
    }

    fn ids(v: Vec<&'static Exercise>) -> Vec<&'static str> {
        v.into_iter().map(|e| e.id).collect()
    }

    #[test]
    fn a_saved_program_regrades_its_exercise_only() {
        let all = exercises::ALL.to_vec();
        let current = result(&[
            ("process", Some("process.py")),
            ("signals", Some("week2/signal.cpp")),
            ("env", None),
        ]);
        let got = affected(&[PathBuf::from("process.py")], &current, &all[..6]);
        assert_eq!(ids(got), ["process"]);
        // A header beside signal.cpp: that program, and the exercises not found yet.
        let got = affected(&[PathBuf::from("week2/signal.h")], &current, &all[..6]);
        assert_eq!(
            ids(got),
            ["procloop", "signals", "signal_catcher", "env", "environ"]
        );
        let got = affected(&[PathBuf::from("submission.toml")], &current, &all[..3]);
        assert_eq!(ids(got), ["process", "procloop", "signals"]);
    }

    #[test]
    fn editor_files_are_not_changes() {
        for p in [
            ".signal.cpp.swp",
            "signal.cpp~",
            "4913",
            "target/x",
            "a/__pycache__/m.pyc",
        ] {
            assert!(!relevant(Path::new(p)), "{p}");
        }
        assert!(relevant(Path::new("week2/signal.cpp")));
    }
}
