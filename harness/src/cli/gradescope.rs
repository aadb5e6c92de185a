//! `sysgrade gradescope package | grade | run`: the Gradescope engine's command line
//! (`engines/gradescope/`).

use crate::engines::gradescope::{grade, package, replay, Layout};
use crate::settings::Settings;
use std::path::PathBuf;

#[derive(Debug, Clone, clap::Subcommand)]
pub enum Command {
    /// Write autograder.zip: the static binary, the course file, setup.sh and run_autograder.
    Package {
        /// The course file (default: none, every exercise is graded).
        #[arg(long, value_name = "FILE")]
        course: Option<PathBuf>,
        /// The sysgrade binary to pack (default: this one when static, else
        /// $SYSGRADE_STATIC_BIN).
        #[arg(long, value_name = "PATH")]
        binary: Option<PathBuf>,
        /// Pack a dynamically linked binary anyway: for `gradescope run` on this machine only,
        /// since Gradescope's Ubuntu 22.04 may lack its glibc.
        #[arg(long)]
        allow_dynamic: bool,
        /// Where to write the zip.
        #[arg(short, long, value_name = "ZIP", default_value = "autograder.zip")]
        output: PathBuf,
    },
    /// Grade inside Gradescope's container (run by run_autograder): always writes
    /// results/results.json. The root is $SYSGRADE_AUTOGRADER_ROOT, else /autograder.
    Grade,
    /// Replay what Gradescope does with ZIP on SUBMISSION in a temporary autograder root,
    /// and check the results.json it writes.
    Run {
        zip: PathBuf,
        submission: PathBuf,
        /// Keep the replay root (its path is printed).
        #[arg(long)]
        keep: bool,
        /// Replay in this folder (new or empty; kept) instead of a temporary one. It must lie
        /// outside /tmp, /var/tmp, /dev/shm and /run/lock.
        #[arg(long, value_name = "DIR")]
        root: Option<PathBuf>,
    },
}

/// Runs one gradescope command; returns the exit status.
pub fn run(command: &Command) -> i32 {
    match command {
        Command::Package {
            course,
            binary,
            allow_dynamic,
            output,
        } => pack(package::Options {
            course: course.clone(),
            binary: binary.clone(),
            allow_dynamic: *allow_dynamic,
            output: output.clone(),
        }),
        Command::Grade => grade::run(&Layout::from_env(), Settings::from_env()),
        Command::Run {
            zip,
            submission,
            keep,
            root,
        } => {
            let root = match root {
                Some(dir) => replay::Root::At(dir.clone()),
                None => replay::Root::Fresh { keep: *keep },
            };
            replay_and_report(zip, submission, &root)
        }
    }
}

fn pack(opts: package::Options) -> i32 {
    match package::package(&opts) {
        Ok(p) => {
            let kind = if p.is_static {
                "static"
            } else {
                "DYNAMIC (this machine only)"
            };
            let tools = match p.packages.as_slice() {
                [] => "none".to_string(),
                list => list.join(" "),
            };
            println!(
                "wrote {}: {} exercises, binary {} ({kind}), setup.sh installs: {tools}",
                opts.output.display(),
                p.exercises,
                p.binary.display()
            );
            0
        }
        Err(e) => {
            eprintln!("error: {e}");
            2
        }
    }
}

fn replay_and_report(
    zip: &std::path::Path,
    submission: &std::path::Path,
    root: &replay::Root,
) -> i32 {
    let keep = !matches!(root, replay::Root::Fresh { keep: false });
    let r = match replay::replay(zip, submission, root) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 2;
        }
    };
    println!("{}", summary(&r, keep));
    if r.valid() {
        0
    } else {
        1
    }
}

/// What a lecturer reads after a replay.
fn summary(r: &replay::Replayed, keep: bool) -> String {
    let mut lines = Vec::new();
    if let Some(why) = &r.setup_syntax {
        lines.push(format!("setup.sh: sh -n refused it: {why}"));
    }
    if !r.setup_missing.is_empty() {
        lines.push(format!(
            "setup.sh installs {} on Gradescope; not installed here, so scenarios needing them may be skip in this replay",
            r.setup_missing.join(" ")
        ));
    }
    lines.push(format!(
        "run_autograder exited with {}",
        r.exit.map_or("a signal".to_string(), |c| c.to_string())
    ));
    if let Some(v) = r
        .results
        .as_deref()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(t).ok())
    {
        let tests = v["tests"].as_array().cloned().unwrap_or_default();
        let count = |s: &str| tests.iter().filter(|t| t["status"] == s).count();
        lines.push(format!(
            "results.json: score {}, {} tests ({} passed, {} failed, {} without a status)",
            v["score"],
            tests.len(),
            count("passed"),
            count("failed"),
            tests.len() - count("passed") - count("failed")
        ));
    }
    if r.problems.is_empty() {
        lines.push("results.json is valid against Gradescope's documented fields".into());
    } else {
        lines.push("results.json is NOT valid:".into());
        lines.extend(r.problems.iter().map(|p| format!("  {p}")));
    }
    if keep {
        lines.push(format!("kept the replay root: {}", r.root.display()));
    }
    lines.join("\n")
}
