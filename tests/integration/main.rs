//! The workspace's integration tests: one binary, data-driven, every case a named trial so
//! that `cargo test -- signals` filters as people expect.
//!
//! - `fixtures::<fixture>::<exercise>`: grades a fixture and checks every verdict against its
//!   `fixture.toml` (fixtures.rs).
//! - `reference::<exercise>`: the reference crate scores full marks (reference.rs).
//! - `snapshot::…`: insta snapshots of the reference's output and of reports (snapshots.rs).
//! - `cli::…`: the command line's messages and exit codes (cli.rs).
//! - `hostile::…`: floods, hangs and daemons are graded and cleaned up (hostile.rs).
//!
//! This binary is also the supervisor of the runs it grades: `main` dispatches first.

mod cli;
mod fixtures;
mod hostile;
mod reference;
mod snapshots;
mod support;

fn main() {
    harness::sandbox::supervisor::dispatch();
    let args = libtest_mimic::Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(fixtures::trials());
    trials.extend(reference::trials());
    trials.extend(snapshots::trials());
    trials.extend(cli::trials());
    trials.extend(hostile::trials());
    libtest_mimic::run(&args, trials).exit();
}
