//! Shared test machinery: paths, grading a folder, redaction for snapshots.

use harness::exercises;
use harness::grading::{grade, Request};
use harness::outcome::Status;
use harness::result::{ScenarioResult, SubmissionResult};
use harness::Settings;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration;

pub type Outcome = Result<(), libtest_mimic::Failed>;

/// Set (as CI does) to make a scenario skipped for a missing tool (ffmpeg, matplotlib) a
/// test failure instead of a note.
pub const REQUIRE_TOOLS: &str = "SYSGRADE_REQUIRE_TOOLS";

pub fn tools_required() -> bool {
    std::env::var_os(REQUIRE_TOOLS).is_some_and(|v| !v.is_empty() && v != "0")
}

/// `Ok(true)` when `tool` is missing and may be skipped here (a note is printed); an error
/// when it is missing and tools are required (CI).
pub fn skip_without(tool: &str, install: &str) -> Result<bool, libtest_mimic::Failed> {
    if harness::settings::which(tool).is_some() {
        return Ok(false);
    }
    skip_missing(tool, install)
}

/// For a `tool` known to be missing: `Ok(true)` (a note is printed), or an error when tools
/// are required (CI).
pub fn skip_missing(tool: &str, install: &str) -> Result<bool, libtest_mimic::Failed> {
    if tools_required() {
        return Err(format!("`{tool}` is required ({REQUIRE_TOOLS} is set): {install}").into());
    }
    eprintln!("note: `{tool}` is missing, check skipped ({install})");
    Ok(true)
}

/// A PATH on which the commands `hidden` are not found and everything else on this PATH is:
/// a folder of links to each command of each PATH folder, first found first, minus `hidden`.
/// The folder lives as long as the returned `TempDir`.
pub fn path_without(hidden: &[&str]) -> std::io::Result<(tempfile::TempDir, std::ffi::OsString)> {
    let dir = tempfile::Builder::new().prefix("path-without-").tempdir()?;
    let path = std::env::var_os("PATH").unwrap_or_default();
    for folder in std::env::split_paths(&path) {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let link = dir.path().join(&name);
            if hidden.iter().any(|h| name == *h) || link.symlink_metadata().is_ok() {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), link)?;
        }
    }
    let only = dir.path().as_os_str().to_owned();
    Ok((dir, only))
}

/// The `sysgrade` binary under test.
pub const SYSGRADE: &str = env!("CARGO_BIN_EXE_sysgrade");

/// `sysgrade ARGS…` run by assert_cmd, ended after five minutes.
pub fn sysgrade() -> assert_cmd::Command {
    sysgrade_within(Duration::from_secs(300))
}

/// `sysgrade ARGS…` run by assert_cmd, ended after `limit`.
pub fn sysgrade_within(limit: Duration) -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::new(SYSGRADE);
    cmd.timeout(limit);
    cmd
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Settings for tests: this binary supervises; cargo builds share the workspace's target.
pub fn settings() -> Settings {
    let mut s = Settings::from_env();
    s.cargo_target_dir = Some(root().join("target").join("graded"));
    // Trials already run side by side: two scenarios at a time each keeps a 2-core machine
    // from being overcommitted.
    s.jobs = 2;
    s
}

/// Grades `dir` on the exercises `ids`.
pub fn grade_dir(
    settings: &Settings,
    dir: &Path,
    ids: &[&str],
) -> Result<SubmissionResult, String> {
    let exercises = ids
        .iter()
        .map(|id| exercises::get(id).ok_or_else(|| format!("unknown exercise {id}")))
        .collect::<Result<Vec<_>, _>>()?;
    let request = Request {
        submissions: vec![dir.to_path_buf()],
        exercises,
        ..Request::default()
    };
    let mut results = grade(settings, &request, &mut |_| {}).map_err(|e| e.to_string())?;
    results.pop().ok_or_else(|| "no result".to_string())
}

/// Grades the fixture `name` (a folder of `fixtures/`) on the exercises `ids`, with the test
/// settings.
pub fn grade_fixture(name: &str, ids: &[&str]) -> Result<SubmissionResult, String> {
    grade_dir(&settings(), &root().join("fixtures").join(name), ids)
}

/// `process-exit1` graded on `process` with the test settings (as [`grade_fixture`]), graded
/// once for every report trial that renders it.
pub fn process_exit1() -> Result<SubmissionResult, String> {
    static GRADED: OnceLock<Result<SubmissionResult, String>> = OnceLock::new();
    GRADED
        .get_or_init(|| grade_fixture("process-exit1", &["process"]))
        .clone()
}

/// Whether a scenario was skipped because the machine was too loaded to judge it (not a
/// missing tool): tolerated anywhere, and such a report is not compared with a snapshot.
pub fn overloaded(result: &SubmissionResult) -> bool {
    result
        .exercises
        .iter()
        .flat_map(|e| &e.scenarios)
        .any(overloaded_skip)
}

/// Whether this scenario was skipped because the machine was too loaded to judge it.
pub fn overloaded_skip(s: &ScenarioResult) -> bool {
    s.status == Status::Skip && harness::outcome::overloaded(&s.feedback)
}

/// The human report without colour.
pub fn human(result: &SubmissionResult) -> String {
    harness::report::render(
        harness::report::Format::Human,
        std::slice::from_ref(result),
        false,
    )
}

/// `Ok` when nothing is `wrong`; otherwise what is, then the human report it was found in.
pub fn judged(wrong: &[String], result: &SubmissionResult) -> Outcome {
    if wrong.is_empty() {
        Ok(())
    } else {
        Err(format!("{}\n\n{}", wrong.join("\n"), human(result)).into())
    }
}

/// Filters that make reports and transcripts stable: pids, uids, paths, times, percentages.
pub fn redactions() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            r"/tmp/sysgrade\\?-[A-Za-z0-9]+(/sub\\?-\d+/run\\?-\d+)?",
            "[ROOT]",
        ),
        (
            r"(?i)(pid|process id|process id is|pid is|child of pid)( |\D{0,3})\d+",
            "$1$2[PID]",
        ),
        (r"\b6[12]\d{3}\b", "[UID]"),
        (r"\b\d+\.\d{3}s\b", "[T]"),
        (r"\b\d+% of a core", "[N]% of a core"),
        (r"Grading .*", "Grading [SUBMISSION]"),
        // The sandbox line depends on the machine and user (pinned by report::human's tests).
        (
            r"(?m)^  sandbox: .*; time scale",
            "  sandbox: [SANDBOX]; time scale",
        ),
        // files: the reference's stat lines hold random sizes, inodes and times.
        (r"\bst_(ino|dev|size|atime|mtime|ctime)=\d+", "st_$1=[N]"),
        // `ls -l` listings (fork_exec's children): dates and sizes vary, and a child's output
        // may land anywhere among its parent's lines; dropped (the scenario checks them).
        (
            r"(?m)^ *([-dlcbps][-rwxsStT]{9}\S*\s+\d+\s.*|total \d+)\n",
            "",
        ),
        // Measured times and counts in feedback ("at 0.075 s", "12 frame(s)", "0.10 s before"),
        // dates a program printed, and names it made from its pid.
        (r"\b\d+\.\d+ s\b", "[S] s"),
        (r"\b\d+ (frame|connection)\(s\)", "[N] $1(s)"),
        (r"\b\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\b", "[DATE]"),
        (r"(/tmp/[A-Za-z_]+-)\d+", "${1}[N]"),
        (r"but it is \d+", "but it is [PID]"),
        // Amounts that depend on how far a program got before the harness looked.
        (r"\b\d+ bytes of imageMap", "[N] bytes of imageMap"),
        (r"cover \d+%", "cover [N]%"),
        // How many colours a random drawing has at the moment it is looked at.
        (r"\(\d+ colours;", "([N] colours;"),
        // A server dying of a reset refuses the next client, or accepts and drops it, by timing.
        (
            r"the next client: (could not connect to [^;]*|no reply[^;]*); it exited",
            "the next client: [NOT SERVED]; it exited",
        ),
        // An exec seen before its command line could be read is named by its comm.
        (r"\(\[ls\], forked", "(ls -l, forked"),
        // A TCP client's ephemeral port, as the echo and time servers print their peers.
        (
            r"(Connected by|served|serving) 127\.0\.0\.1:\d+",
            "$1 127.0.0.1:[PORT]",
        ),
    ]
}

/// Applies [`redactions`] to `text` (for comparisons outside insta).
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    for (pattern, replacement) in redactions() {
        out = regex::Regex::new(pattern)
            .expect("valid filter")
            .replace_all(&out, replacement)
            .into_owned();
    }
    out
}

/// insta settings writing to the workspace's `snapshots/` folder, with the redactions.
pub fn insta_settings() -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.set_snapshot_path(root().join("snapshots"));
    s.set_prepend_module_to_snapshot(false);
    s.set_omit_expression(true);
    // The checkout's path, as written and as the Markdown report escapes it (a path may
    // hold `-`, `_`, spaces…).
    let repo = root().display().to_string();
    s.add_filter(&regex::escape(&repo), "[REPO]");
    s.add_filter(
        &regex::escape(&harness::report::markdown::md(&repo)),
        "[REPO]",
    );
    for (pattern, replacement) in redactions() {
        s.add_filter(pattern, replacement);
    }
    s
}
