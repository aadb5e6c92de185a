//! A student checking their work: grading a folder on what it holds, `list`, `explain`,
//! feedback that quotes an answer in other words, and `grade --watch`.

use crate::support::{self, sysgrade, Outcome};
use libtest_mimic::{Failed, Trial};
use predicates::prelude::*;
use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("cli::folder_is_graded_on_what_it_holds", what_it_holds),
        Trial::test("cli::course_keeps_missing_exercises_counted", course_counts),
        Trial::test("cli::list_shows_summaries", list_summaries),
        Trial::test("cli::list_survives_a_closed_pipe", closed_pipe),
        Trial::test("cli::explain_every_exercise_from_its_doc", explain_all),
        Trial::test("cli::explain_unknown_exercise_suggests", explain_unknown),
        Trial::test("cli::answer_in_other_words_is_a_fail", other_words),
        Trial::test("cli::watch_regrades_a_changed_file", watch),
    ]
}

/// A folder holding only the exit-1 fixture's process.py.
fn one_exercise() -> Result<tempfile::TempDir, Failed> {
    let dir = tempfile::tempdir()?;
    std::fs::copy(
        support::root().join("fixtures/process-exit1/process.py"),
        dir.path().join("process.py"),
    )?;
    Ok(dir)
}

fn what_it_holds() -> Outcome {
    let dir = one_exercise()?;
    let out = sysgrade().args(["grade", "-q"]).arg(dir.path()).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let not_found: Vec<&str> = stdout.lines().filter(|l| l.contains("not found")).collect();
    let ok = out.status.code() == Some(1)
        && not_found.len() == 1
        && not_found[0].contains("not graded: procloop, signals,")
        && stdout.contains("Total: 2/3");
    if !ok {
        return Err(format!("{:?}\n{stdout}", out.status.code()).into());
    }
    Ok(())
}

fn course_counts() -> Outcome {
    let dir = one_exercise()?;
    let course = dir.path().join("course.toml");
    std::fs::write(&course, "exercises = [\"process\", \"signals\"]\n")?;
    sysgrade()
        .args(["grade", "-q", "--course"])
        .arg(&course)
        .arg(dir.path())
        .assert()
        .code(1)
        .stdout(
            predicate::str::contains("signals (not found)  0/4")
                .and(predicate::str::contains("Total: 2/7")),
        );
    Ok(())
}

fn list_summaries() -> Outcome {
    let out = sysgrade().arg("list").output()?;
    let listed = String::from_utf8_lossy(&out.stdout);
    for e in harness::exercises::ALL {
        for s in e.scenarios {
            let id = format!("{}.{}", e.id, s.id);
            let line = listed
                .lines()
                .find(|l| l.split_whitespace().next() == Some(id.as_str()))
                .ok_or_else(|| format!("{id} not listed"))?;
            if !line.ends_with(s.summary) {
                return Err(format!("{id} listed without its summary: {line:?}").into());
            }
        }
    }
    Ok(())
}

/// `sysgrade list | head`: the reader is gone before anything is written.
fn closed_pipe() -> Outcome {
    let (reader, writer) = std::io::pipe()?;
    drop(reader);
    let out = std::process::Command::new(support::SYSGRADE)
        .arg("list")
        .stdout(writer)
        .stderr(Stdio::piped())
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if out.status.code() != Some(0) || stderr.contains("panicked") {
        return Err(format!("{:?}: {stderr}", out.status).into());
    }
    Ok(())
}

fn explain_all() -> Outcome {
    let readme = std::fs::read_to_string(support::root().join("README.md"))?;
    if !readme.contains("docs/exercises/") {
        return Err("README.md does not link to docs/exercises/".into());
    }
    for e in harness::exercises::ALL {
        let file = support::root().join(format!("docs/exercises/{}.md", e.id));
        let doc =
            std::fs::read_to_string(&file).map_err(|err| format!("{}: {err}", file.display()))?;
        let ids = e
            .scenarios
            .iter()
            .map(|s| s.id)
            .chain(std::iter::once(harness::exercises::HYGIENE));
        for s in ids {
            if !doc.contains(&format!("\n- `{}.{s}`: ", e.id)) {
                return Err(format!("{} has no bullet for {}.{s}", file.display(), e.id).into());
            }
        }
        let out = sysgrade().args(["explain", e.id]).output()?;
        if out.status.code() != Some(0) || String::from_utf8_lossy(&out.stdout) != doc {
            return Err(format!("`sysgrade explain {}` is not its doc", e.id).into());
        }
    }
    Ok(())
}

fn explain_unknown() -> Outcome {
    sysgrade()
        .args(["explain", "signls"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("unknown exercise `signls`")
                .and(predicate::str::contains("did you mean `signals`?")),
        );
    Ok(())
}

fn other_words() -> Outcome {
    let dir = support::root().join("fixtures/signals-other-words");
    let out = sysgrade()
        .args(["grade", "-q", "--exercise", "signals"])
        .arg(dir)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let ok = stdout.contains("FAIL    signals.sigint_survives")
        && stdout.contains("it printed \"Ouch, that hurt (Ctrl-C)\" on stdout at ")
        && stdout.contains("after the harness's `sent SIGINT")
        && !stdout.contains("TIMEOUT");
    if !ok {
        return Err(stdout.into_owned().into());
    }
    Ok(())
}

/// Starts `grade --watch`, fixes the program, and waits for the changed verdict.
fn watch() -> Outcome {
    let dir = one_exercise()?;
    let mut child = std::process::Command::new(support::SYSGRADE)
        .args(["grade", "--watch", "-q"])
        .arg(dir.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let (tx, rx) = mpsc::channel();
    forward(child.stdout.take(), &tx)?;
    forward(child.stderr.take(), &tx)?;
    let result = watch_steps(&rx, dir.path());
    let _ = child.kill();
    let _ = child.wait();
    result
}

/// A line the program printed, on either stream, and when it was read.
type Line = (String, Instant);

/// Sends every line of `stream` (a child's pipe) to `tx`, from a thread of its own.
fn forward(stream: Option<impl Read + Send + 'static>, tx: &mpsc::Sender<Line>) -> Outcome {
    let stream = stream.ok_or("no pipe")?;
    let tx = tx.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            let _ = tx.send((line, Instant::now()));
        }
    });
    Ok(())
}

/// Waits for a line containing `what`; every line read is added to `seen`.
fn wait_for(
    rx: &mpsc::Receiver<Line>,
    seen: &mut String,
    what: &str,
    within: Duration,
) -> Result<Instant, Failed> {
    let deadline = Instant::now() + within;
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        match rx.recv_timeout(left) {
            Ok((line, at)) => {
                seen.push_str(&line);
                seen.push('\n');
                if line.contains(what) {
                    return Ok(at);
                }
            }
            Err(_) => break,
        }
    }
    Err(format!("no line with {what:?} within {within:?}:\n{seen}").into())
}

fn watch_steps(rx: &mpsc::Receiver<Line>, dir: &std::path::Path) -> Outcome {
    let mut seen = String::new();
    wait_for(rx, &mut seen, "watching", Duration::from_secs(120))?;
    let program = dir.join("process.py");
    let text = std::fs::read_to_string(&program)?.replace("sys.exit(1)", "sys.exit(0)");
    std::fs::write(&program, text)?;
    let saved = Instant::now();
    let noticed = wait_for(rx, &mut seen, "re-grading process", Duration::from_secs(10))?;
    let scale = harness::Settings::from_env().time_scale;
    if noticed.duration_since(saved) > Duration::from_secs(1).mul_f64(scale.max(1.0)) {
        return Err(format!(
            "re-grading began {:?} after the save (more than 1 s)",
            noticed.duration_since(saved)
        )
        .into());
    }
    let mut changes = String::new();
    wait_for(
        rx,
        &mut changes,
        "Total: 2/3 → 3/3",
        Duration::from_secs(120),
    )?;
    let ok = changes
        .lines()
        .any(|l| l.contains("process.exit") && l.contains("FAIL → PASS"))
        && !changes.contains("process.ids")
        && changes.contains("process (process.py): 2/3 → 3/3");
    if !ok {
        return Err(
            format!("expected only process.exit to change, FAIL → PASS:\n{changes}").into(),
        );
    }
    Ok(())
}
