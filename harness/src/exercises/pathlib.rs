//! `pathlib` (FileSystem/path_lib.py; `path_lib.*` is a conventional name too, since a Python
//! `pathlib.py` would shadow the standard module): prints the working directory and its
//! name, the parts, name and suffixes of the Windows path `C:\Users\jmacey/test.py`, and
//! `$HOME/scripts/test.py`.
//!
//! The output is normalised — the working directory becomes `$CWD`, the home folder `$HOME`,
//! the folder's name (as a word of its own) `$NAME` — and compared value by value with the
//! reference's output, normalised the same way. The reference's output is read from the insta
//! snapshot `snapshots/reference__pathlib.snap` (its `run 1 stdout:` block, where the reference,
//! a cargo package at the root of its submission, ran in `[ROOT]/sub` with HOME `[ROOT]/home`),
//! so a change to the reference shows in the snapshot test first. The expected values are the
//! last word of each of its lines, leaving out the Windows forms (with `\`), whose printing
//! differs between languages. Any print format holding the values passes; a missing or wrong
//! value fails with the normalised lines side by side.

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::run::transcript::Source;
use crate::scenario::{Ctx, Launch, Scenario};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "pathlib",
    lecture: &["FileSystem/path_lib.py"],
    aliases: &["path_lib"],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[Scenario::new(
        "output",
        "working directory, its name, Users/jmacey/test.py, .py, $HOME/scripts/test.py",
        output,
    )],
};

/// The reference's output as the snapshot test saw it.
const SNAPSHOT: &str = include_str!("../../../snapshots/reference__pathlib.snap");
/// Where the reference ran, as the snapshot's redactions write it.
const REFERENCE_CWD: &str = "[ROOT]/sub";
const REFERENCE_HOME: &str = "[ROOT]/home";
const WAIT: Duration = Duration::from_secs(5);

/// The reference's normalised lines: the snapshot's first `run 1 stdout:` block.
fn reference_lines() -> Vec<String> {
    let name = REFERENCE_CWD.rsplit('/').next().unwrap_or_default();
    SNAPSHOT
        .lines()
        .skip_while(|l| l.trim() != "run 1 stdout:")
        .skip(1)
        .take_while(|l| l.starts_with("    "))
        .map(|l| normalise(l.trim_start(), REFERENCE_CWD, REFERENCE_HOME, name))
        .collect()
}

/// The words of a line: split at blanks, quotes, brackets, commas, `=` and `:`; a trailing
/// full stop dropped.
fn words(line: &str) -> Vec<String> {
    line.split(|c: char| c.is_whitespace() || "'\"()[]{}<>,;=:".contains(c))
        .map(|w| w.strip_suffix('.').unwrap_or(w))
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The expected values with the reference line each comes from.
fn expected() -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in reference_lines() {
        if let Some(value) = words(&line).pop() {
            if !value.contains('\\') && !out.iter().any(|(v, _)| *v == value) {
                out.push((value, line));
            }
        }
    }
    out
}

/// `/a/b/` as `/a/b`.
fn plain(path: &Path) -> String {
    path.components().collect::<PathBuf>().display().to_string()
}

/// A line with the working directory, the home folder and the folder's name replaced.
fn normalise(line: &str, cwd: &str, home: &str, name: &str) -> String {
    let mut pairs = [(cwd, "$CWD"), (home, "$HOME")];
    pairs.sort_by_key(|(from, _)| std::cmp::Reverse(from.len()));
    let mut text = line.to_string();
    for (from, to) in pairs {
        if !from.is_empty() {
            text = text.replace(from, to);
        }
    }
    if name.is_empty() {
        return text;
    }
    // The name only where it is a word of its own, not inside a longer word or path.
    let mut out = String::new();
    let mut rest = text.as_str();
    while let Some(at) = rest.find(name) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + name.len()..].chars().next();
        let edge = |c: Option<char>| {
            c.is_none_or(|c| c.is_whitespace() || "'\"()[]{}<>,;=:".contains(c) || c == '.')
        };
        out.push_str(&rest[..at]);
        let is_word = edge(before) && edge(after) && before != Some('.');
        out.push_str(if is_word { "$NAME" } else { name });
        rest = &rest[at + name.len()..];
    }
    out.push_str(rest);
    out
}

fn output(ctx: &mut Ctx) -> Verdict {
    let expected = expected();
    if expected.is_empty() {
        return Err(Failure::fault(
            "snapshots/reference__pathlib.snap holds no normalised reference output",
        ));
    }
    let cwd = plain(&ctx.workdir());
    let home = plain(&ctx.home());
    let name = Path::new(&cwd)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut run = ctx.start(Launch::new())?;
    let exit = run.wait_exit(WAIT)?;
    let lines: Vec<String> = run
        .lines(Source::Stdout)
        .iter()
        .map(|l| normalise(l, &cwd, &home, &name))
        .collect();
    let found: Vec<String> = lines.iter().flat_map(|l| words(l)).collect();
    let missing: Vec<&(String, String)> = expected
        .iter()
        .filter(|(v, _)| !found.contains(v))
        .collect();
    if missing.is_empty() {
        let values: Vec<&str> = expected.iter().map(|(v, _)| v.as_str()).collect();
        return Ok(format!("printed every value: {}", values.join(", ")));
    }
    Err(Failure::fail(diff(&missing, &lines, exit)))
}

/// What is missing, and the reference's normalised lines against the program's.
fn diff(missing: &[&(String, String)], lines: &[String], exit: crate::run::Exit) -> String {
    let names: Vec<String> = missing.iter().map(|(v, _)| format!("`{v}`")).collect();
    let mut text = format!(
        "its output lacks {} ($CWD is the working directory, $NAME its name, $HOME the home folder; any format is fine, the values must be right). Normalised, reference (-) against this program (+):",
        names.join(", ")
    );
    let reference = reference_lines();
    for (_, line) in missing {
        text.push_str(&format!("\n- {line}"));
    }
    let extra: Vec<&String> = lines
        .iter()
        .filter(|l| !reference.contains(l))
        .take(10)
        .collect();
    for line in &extra {
        text.push_str(&format!("\n+ {}", crate::text::quote(line)));
    }
    if lines.is_empty() {
        text.push_str(&format!(
            "\n+ (nothing on stdout; the program {})",
            crate::run::describe_exit(exit)
        ));
    }
    text
}
