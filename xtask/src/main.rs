//! `cargo xtask`: the project's tasks, each in a module of its own.
//!
//! - `grade <dir>…`: grade submissions (the harness's `grade`, with the workspace's cargo
//!   target shared so the reference crate builds once).
//! - `snapshots [--check]`: regenerate (or check) the insta snapshots.
//! - `bench`: time grading and report the figures.
//! - `merge`: join the JSON reports of class slices into one gradebook.
//! - `stress`: the fixtures' verdicts under load must equal the quiet ones.
//! - `dist`: the release: static binaries packed per target, sha256.sum and install.sh.
//! - `image [--check]`: a container image (mmdebstrap + podman), checked by grading in it.

mod bench;
mod bench_compare;
mod bench_html;
mod bench_measure;
mod bench_regrade;
mod bench_table;
mod dist;
mod image;
mod merge;
mod snapshots;
mod stress;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Project tasks")]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Grade submission folders.
    Grade(harness::cli::GradeArgs),
    /// Regenerate the insta snapshots (or, with --check, fail on drift).
    Snapshots(snapshots::Snapshots),
    /// Measure grading time against the programs' own time.
    Bench(bench::Bench),
    /// Join the JSON reports of a class graded in slices into one gradebook.
    Merge(merge::Merge),
    /// Grade the fixtures quiet, then repeatedly under load: no verdict may change.
    Stress(stress::Stress),
    /// Build the release: a static archive per target, sha256.sum and install.sh.
    Dist(dist::Dist),
    /// Build the container image (Debian, the optional tools, sysgrade); --check grades in it.
    Image(image::Image),
}

/// The workspace root (xtask lives one level below it).
pub fn workspace_root() -> PathBuf {
    let here = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    here.parent().map(PathBuf::from).unwrap_or(here)
}

fn main() {
    harness::sandbox::supervisor::dispatch();
    let cli = Cli::parse();
    let code = match cli.command {
        Cmd::Grade(mut args) => {
            args.cargo_target_dir
                .get_or_insert_with(|| workspace_root().join("target").join("graded"));
            harness::cli::grade(&args, harness::Settings::from_env())
        }
        Cmd::Snapshots(s) => report(s.run()),
        Cmd::Bench(b) => report(bench::in_release().and_then(|()| b.run())),
        Cmd::Merge(m) => m.run(),
        Cmd::Stress(s) => report(s.run()),
        Cmd::Dist(d) => report(d.run()),
        Cmd::Image(i) => report(i.run()),
    };
    std::process::exit(code);
}

fn report(result: anyhow::Result<()>) -> i32 {
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {}", harness::error::one_line(&e));
            2
        }
    }
}
