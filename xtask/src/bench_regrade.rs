//! `cargo xtask bench --unchanged N`: regrading an unchanged class through a results folder
//! (`grade --results DIR`). A class of N copies and variants of the fixtures is graded once
//! into a results folder, then graded again, unchanged, by a fresh process as a lecturer
//! would run it: the second time nothing runs, so its wall time is the cost of the cache
//! (hashing the grader binary and every submission, reading every stored result).

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// Grades a class of `n` twice through one results folder and reports both times.
pub fn run(n: usize, exercises: &[String]) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let class = tmp.path().join("class");
    for i in 0..n {
        let variant = super::bench::VARIANTS[i % super::bench::VARIANTS.len()];
        super::bench::copy_fixture(
            &crate::workspace_root().join("fixtures").join(variant),
            &class.join(format!("student{i:03}")),
        )?;
    }
    let ids: Vec<String> = if exercises.is_empty() {
        ["process", "env", "environ"].map(String::from).to_vec()
    } else {
        exercises.to_vec()
    };
    let results = tmp.path().join("results");
    println!(
        "bench: a class of {n} ({}) graded into a results folder, then again unchanged",
        ids.join(", ")
    );
    let (first, said) = grade(&class, &results, &ids)?;
    println!("first grading: wall {first:.2} s; {said}");
    let (again, said) = grade(&class, &results, &ids)?;
    println!("unchanged regrade: wall {again:.3} s; {said}");
    anyhow::ensure!(
        said.contains(&format!("{n} reused, 0 graded")),
        "the unchanged regrade graded something: {said}"
    );
    Ok(())
}

/// One `grade --results` by a fresh process (this binary's `grade`): its wall time and the
/// line saying what was reused.
fn grade(class: &Path, results: &Path, ids: &[String]) -> anyhow::Result<(f64, String)> {
    let mut cmd = Command::new(std::env::current_exe()?);
    cmd.args([
        "grade",
        "--class",
        "--quiet",
        "--format",
        "csv",
        "--results",
    ])
    .arg(results);
    for id in ids {
        cmd.args(["--exercise", id]);
    }
    cmd.arg(class);
    let start = Instant::now();
    let out = cmd.output()?;
    let wall = start.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    anyhow::ensure!(out.status.code() != Some(2), "grade exited 2: {stderr}");
    let said = stderr
        .lines()
        .find(|l| l.starts_with("results in "))
        .unwrap_or("(no results line)")
        .to_string();
    Ok((wall, said))
}
