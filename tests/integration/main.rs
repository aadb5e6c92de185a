//! The workspace's integration tests: one binary, data-driven, every case a named trial so
//! that `cargo test -- signals` filters as people expect.
//!
//! - `fixtures::<fixture>::<exercise>`: grades a fixture and checks every verdict against its
//!   `fixture.toml` (fixtures.rs).
//! - `reference::<exercise>`: the reference crate scores full marks (reference.rs).
//! - `snapshot::…`: insta snapshots of the reference's output and of reports (snapshots.rs).
//! - `cli::…`: the command line's messages and exit codes (cli.rs), and a student's own
//!   loop: grading what a folder holds, `list`, `explain`, `--watch` (student.rs).
//! - `hostile::…`: floods, hangs and daemons are graded and cleaned up (hostile.rs).
//! - `html::…`, `snapshot::html::…`, `hostile::html_…`: the HTML report, loaded in headless
//!   Chromium (no console message, one bar per child, zombies, images, injected markup inert)
//!   and snapshotted (html.rs).
//! - `formats::…`, `snapshot::format::…`: every report format, hostile output (formats.rs);
//!   class and course report shapes (reports.rs).
//! - `class::…`: a class of 100, partitions and merge, detection, `--repeat` (class.rs).
//! - `results::…`: `grade --results DIR`: a killed class run resumes to one run's gradebook;
//!   only what changed is graded again; in every mode an unchanged re-run grades nobody and
//!   a program cannot write the results folder (results.rs).
//! - `shared::…`: shared runs: one run judged by every member; a member whose part was cut
//!   short gets a run of its own (shared.rs).
//! - `course::…`: course files (course.rs).
//! - `concurrency::…`: two gradings of fixed-name IPC programs at once agree (concurrency.rs).
//! - `tidy::…`: scenario ids match `scenario-ids.txt`; every id has a failing and a passing
//!   fixture (tidy.rs).
//! - `doctor::…`: `sysgrade doctor`'s claims, in the three modes, against what a grading then
//!   does; a tool hidden from PATH is named with its install command (doctor.rs, doctor/).
//! - `install::…`: install.sh installs a release packed by `cargo xtask dist`'s own code, and
//!   refuses bad input leaving the install folder as it was (install.rs).
//! - `dist::…`: the GitHub workflows pass actionlint, install.sh passes `sh -n` and
//!   shellcheck (dist.rs).
//! - `engines::…`: PrairieLearn's grader in a `/grade` layout (also confined), `--partition
//!   auto` from Kubernetes' and GitLab's variables, `--exit-status report`, and the
//!   Kubernetes and CI examples parsed against the CLI (engines.rs, engines/).
//! - `gradescope::…`: autograder.zip replayed by `sysgrade gradescope run` under Docker's
//!   default confinement; results.json valid in every case (gradescope.rs).
//! - `modes::…`: the CLI as root, as an ordinary user and under Docker's default confinement:
//!   same verdicts, hostile programs contained (modes.rs, modes/).
//!
//! Docker's confinement is reproduced by this binary itself (confine.rs).
//!
//! This binary is also the supervisor of the runs it grades and the confining wrapper of the
//! container mode: `main` dispatches to both first.

mod class;
mod cli;
mod concurrency;
mod confine;
mod course;
mod dist;
mod doctor;
mod engines;
mod fixtures;
mod formats;
mod gradescope;
mod hostile;
mod html;
mod install;
mod modes;
mod reference;
mod reports;
mod results;
mod shared;
mod snapshots;
mod student;
mod support;
mod tidy;

fn main() {
    harness::sandbox::supervisor::dispatch();
    confine::dispatch();
    let args = libtest_mimic::Arguments::from_args();
    let mut trials = Vec::new();
    trials.extend(fixtures::trials());
    trials.extend(reference::trials());
    trials.extend(snapshots::trials());
    trials.extend(cli::trials());
    trials.extend(student::trials());
    trials.extend(hostile::trials());
    trials.extend(html::trials());
    trials.extend(formats::trials());
    trials.extend(reports::trials());
    trials.extend(class::trials());
    trials.extend(results::trials());
    trials.extend(shared::trials());
    trials.extend(course::trials());
    trials.extend(concurrency::trials());
    trials.extend(tidy::trials());
    trials.extend(modes::trials());
    trials.extend(doctor::trials());
    trials.extend(install::trials());
    trials.extend(dist::trials());
    trials.extend(engines::trials());
    trials.extend(gradescope::trials());
    libtest_mimic::run(&args, trials).exit();
}
