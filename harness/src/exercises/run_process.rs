//! `run_process` (Subprocess/run_process.py): runs `./run.py` three times, one after the
//! other — no argument, `11`, and `2` with its output captured and printed after
//! `Captured output`.
//!
//! Before the start the harness replaces `./run.py` and `./run` with its probe, a python3
//! script that records each start (argv, pid, parent pid, monotonic time) and end, prints
//! `i=…` lines like run.py and a line naming its pid (so a run's output can be told from
//! another's), and lingers a moment so that overlapping runs show.

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::probe::{self, Records};
use crate::run::transcript::Source;
use crate::scenario::{Ctx, Launch, Scenario, Shared};
use crate::text::{quote, re};
use crate::{ensure, fail};
use serde_json::Value;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "run_process",
    lecture: &["Subprocess/run_process.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "children",
            "exactly three runs of ./run.py: [], [11], [2], one after the other",
            children,
        )
        .shared(&RUN),
        Scenario::new(
            "capture",
            "the third run's output appears after `Captured output`, not before",
            capture,
        )
        .shared(&RUN),
    ],
};

/// The probe. `LOG` is filled in; it lingers `LINGER` seconds before its end record.
const PROBE: &str = r#"# run.py probe of the grading harness: records each start and end, prints like run.py
import sys
LINGER = 0.1
args = sys.argv[1:]
def _children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except (OSError, ValueError):
        return []
note(event="start", argv=args, name=sys.argv[0], ppid=os.getppid(),
     siblings=_children(os.getppid()))
count, code = 10, 0
if len(args) == 1:
    try:
        count = int(args[0])
        print("Using command line args", file=sys.stderr, flush=True)
    except ValueError:
        print(f"run.py probe: not an integer: {args[0]!r}", file=sys.stderr, flush=True)
        count, code = 0, 1
for i in range(count):
    print(f"i={i}")
print(f"run.py probe, pid {os.getpid()}", flush=True)
time.sleep(LINGER)
note(event="end", code=code)
sys.exit(code)
"#;

const WAIT: Duration = Duration::from_secs(15);
/// The argument lists of the three runs, in order.
const EXPECTED: [&[&str]; 3] = [&[], &["11"], &["2"]];

/// One start of the probe.
#[derive(Debug, Clone)]
struct Start {
    /// How it was called (`./run.py`, `run.py`, `./run`).
    name: String,
    argv: Vec<String>,
    pid: i64,
    at: f64,
    /// The caller's children when it started, itself included: an earlier run among them
    /// was still running, or had ended and not been waited for.
    siblings: Vec<i64>,
    /// When its end record was written, if it was.
    ended: Option<f64>,
}

impl Start {
    fn command(&self) -> String {
        std::iter::once(self.name.clone())
            .chain(self.argv.iter().cloned())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Installs the probe, runs the program to its end, and waits for every probe run to end.
fn observe(ctx: &mut Ctx) -> Result<Probed, Failure> {
    let records = Records::create(ctx, "probe")?;
    let python = ctx.settings().python.clone();
    for name in ["run.py", "run"] {
        records.install(&ctx.workdir().join(name), &python, PROBE)?;
    }
    let mut run = ctx.start(Launch::new())?;
    run.wait_exit(WAIT)?;
    let clock = ctx.clock();
    let (_, recs) = records.wait(Duration::from_secs(3), clock, |r| {
        probe::events(r, "start").len() <= probe::events(r, "end").len()
    });
    records.note_rejected(&run);
    Ok(Probed {
        starts: starts(&recs),
        stdout: run.lines(Source::Stdout),
    })
}

/// What one run showed: the probe's runs of ./run.py, and the program's standard output.
struct Probed {
    starts: Vec<Start>,
    stdout: Vec<String>,
}

/// Both scenarios judge one run: the probe's records and the program's output.
static RUN: Shared<Probed> = Shared {
    why: "the runs of ./run.py and the captured output are one run's",
    observe,
    judges: &[
        ("children", |p| judge_children(&p.starts).into()),
        ("capture", |p| judge_capture(p).into()),
    ],
};

fn starts(records: &[Value]) -> Vec<Start> {
    let num = |r: &Value, f: &str| r.get(f).and_then(Value::as_f64);
    let ends = probe::events(records, "end");
    let mut starts: Vec<Start> = probe::events(records, "start")
        .into_iter()
        .map(|r| {
            let pid = r.get("pid").and_then(Value::as_i64).unwrap_or(-1);
            Start {
                name: r
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("./run.py")
                    .to_string(),
                argv: probe::strings(r, "argv"),
                pid,
                at: num(r, "t").unwrap_or(0.0),
                siblings: r
                    .get("siblings")
                    .and_then(Value::as_array)
                    .map(|a| a.iter().filter_map(Value::as_i64).collect())
                    .unwrap_or_default(),
                ended: ends
                    .iter()
                    .find(|e| e.get("pid").and_then(Value::as_i64) == Some(pid))
                    .and_then(|e| num(e, "t")),
            }
        })
        .collect();
    starts.sort_by(|a, b| a.at.total_cmp(&b.at));
    starts
}

fn children(ctx: &mut Ctx) -> Verdict {
    judge_children(&observe(ctx)?.starts)
}

fn judge_children(starts: &[Start]) -> Verdict {
    let listed: Vec<String> = starts.iter().map(Start::command).collect();
    ensure!(
        starts.len() == 3,
        "expected exactly three runs of ./run.py; there {} {}{}",
        if starts.len() == 1 { "was" } else { "were" },
        starts.len(),
        if listed.is_empty() {
            String::new()
        } else {
            format!(": {}", listed.join(", "))
        }
    );
    overlap(starts)?;
    for (k, (start, want)) in starts.iter().zip(EXPECTED).enumerate() {
        ensure!(
            start.argv == want,
            "run {} was `{}`; expected the argument(s) {:?} (the runs were: {})",
            k + 1,
            start.command(),
            want,
            listed.join(", ")
        );
    }
    Ok("three runs ([], [11], [2]), each started after the previous one ended".into())
}

/// Fails when a run started before an earlier one was waited for: the earlier one had not
/// ended yet, or its caller had not reaped it (it was still among the caller's children).
/// The second test does not depend on how long a run lasts, so a loaded machine cannot hide
/// the defect. The pair is named in the order the runs were expected in, not the order they
/// happened to start in, so the feedback does not depend on scheduling either.
fn overlap(starts: &[Start]) -> Result<(), Failure> {
    for (k, first) in starts.iter().enumerate() {
        for second in &starts[k + 1..] {
            let (early, late) = if first.at <= second.at {
                (first, second)
            } else {
                (second, first)
            };
            let running = early.ended.is_none_or(|end| end > late.at);
            let unreaped = late.siblings.contains(&early.pid);
            if running || unreaped {
                let (a, b) = if rank(second) < rank(first) {
                    (second, first)
                } else {
                    (first, second)
                };
                fail!(
                    "`{}` and `{}` ran at the same time: each run must be waited for before the next starts",
                    a.command(),
                    b.command()
                );
            }
        }
    }
    Ok(())
}

/// Where a run's arguments stand in the expected order (unexpected ones last).
fn rank(start: &Start) -> usize {
    EXPECTED
        .iter()
        .position(|want| start.argv == *want)
        .unwrap_or(EXPECTED.len())
}

fn capture(ctx: &mut Ctx) -> Verdict {
    judge_capture(&observe(ctx)?)
}

fn judge_capture(probed: &Probed) -> Verdict {
    let starts = &probed.starts;
    let Some(third) = starts.iter().find(|s| s.argv == ["2"]) else {
        let listed: Vec<String> = starts.iter().map(Start::command).collect();
        fail!(
            "./run.py was never run with the argument 2, so there was no output to capture (runs: {})",
            if listed.is_empty() {
                "none".to_string()
            } else {
                listed.join(", ")
            }
        );
    };
    let lines = &probed.stdout;
    let header = re("captured output");
    let mark = re(&format!(r"pid {}\b", third.pid));
    let seen = lines.iter().position(|l| mark.is_match(l));
    let Some(head) = lines.iter().position(|l| header.is_match(l)) else {
        fail!(
            "expected a `Captured output` line followed by the output of `{}`; there was no `Captured output` line{}",
            third.command(),
            if seen.is_some() {
                " (its output went straight to the terminal)"
            } else {
                ""
            }
        );
    };
    match seen {
        Some(at) if at < head => fail!(
            "the output of `{}` ({}) appeared before `Captured output`: it went straight to the terminal instead of being captured",
            third.command(),
            quote(&lines[at])
        ),
        Some(at) if at > head || after_header(&lines[head], &header, &mark) => Ok(format!(
            "the output of the third run (argument 2) was captured and printed after {}",
            quote(&lines[head])
        )),
        _ => fail!(
            "after `Captured output` expected the output of `{}` (its last line was `run.py probe, pid {}`); it never appeared on stdout",
            third.command(),
            third.pid
        ),
    }
}

/// Whether, on the `Captured output` line itself, the run's mark follows the header.
fn after_header(line: &str, header: &regex::Regex, mark: &regex::Regex) -> bool {
    match (header.find(line), mark.find(line)) {
        (Some(h), Some(m)) => m.start() >= h.end(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    fn start(argv: &[&str], at: f64, ended: Option<f64>) -> Start {
        Start {
            name: "./run.py".into(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            pid: (at * 1000.0) as i64 + 2,
            at,
            ended,
            siblings: Vec::new(),
        }
    }

    /// Two overlapping runs are named the same way whichever the machine started first.
    #[rstest]
    #[case(0.10, 0.11)]
    #[case(0.11, 0.10)]
    fn overlap_names_runs_in_expected_order(#[case] eleven: f64, #[case] two: f64) {
        let mut starts = vec![
            start(&[], 0.0, Some(0.05)),
            start(&["11"], eleven, Some(0.5)),
            start(&["2"], two, Some(0.3)),
        ];
        starts.sort_by(|a, b| a.at.total_cmp(&b.at));
        let failure = overlap(&starts).expect_err("the runs overlapped");
        assert!(
            failure
                .message
                .starts_with("`./run.py 11` and `./run.py 2` ran at the same time"),
            "{}",
            failure.message
        );
    }

    /// A run that ended but was not waited for overlaps the next, however short it was.
    #[test]
    fn an_unreaped_run_overlaps_the_next() {
        let mut third = start(&["2"], 0.5, Some(0.6));
        let second = start(&["11"], 0.1, Some(0.2));
        third.siblings = vec![second.pid, third.pid];
        let starts = [start(&[], 0.0, Some(0.05)), second, third];
        let failure = overlap(&starts).expect_err("the second run was not waited for");
        assert!(failure
            .message
            .starts_with("`./run.py 11` and `./run.py 2` ran at the same time"));
    }

    #[test]
    fn runs_one_after_another_do_not_overlap() {
        let starts = [
            start(&[], 0.0, Some(0.1)),
            start(&["11"], 0.1, Some(0.2)),
            start(&["2"], 0.3, Some(0.4)),
        ];
        assert!(overlap(&starts).is_ok());
    }
}

#[cfg(test)]
mod judges {
    use super::*;

    fn start(argv: &[&str], pid: i64, at: f64, ended: f64) -> Start {
        Start {
            name: "./run.py".into(),
            argv: argv.iter().map(|a| a.to_string()).collect(),
            pid,
            at,
            siblings: vec![pid],
            ended: Some(ended),
        }
    }

    fn probed(stdout: &[&str]) -> Probed {
        Probed {
            starts: vec![
                start(&[], 11, 0.0, 0.1),
                start(&["11"], 12, 0.2, 0.3),
                start(&["2"], 13, 0.4, 0.5),
            ],
            stdout: stdout.iter().map(|l| l.to_string()).collect(),
        }
    }

    #[test]
    fn three_runs_in_turn_with_the_output_captured_pass_both() {
        let p = probed(&["Captured output:", "run.py probe, pid 13"]);
        for (id, judge) in RUN.judges {
            assert!(
                matches!(judge(&p), crate::scenario::Judged::Verdict(Ok(_))),
                "{id}"
            );
        }
    }

    #[test]
    fn output_before_the_header_fails_capture_only() {
        let p = probed(&["run.py probe, pid 13", "Captured output:"]);
        let f = judge_capture(&p).unwrap_err();
        assert!(
            f.message.contains("appeared before `Captured output`"),
            "{}",
            f.message
        );
        assert!(judge_children(&p.starts).is_ok());
    }

    #[test]
    fn runs_that_overlap_fail_children_only() {
        let mut p = probed(&["Captured output:", "run.py probe, pid 13"]);
        p.starts[1].siblings = vec![11, 12];
        p.starts[0].ended = Some(0.3);
        assert!(judge_children(&p.starts).is_err());
        assert!(judge_capture(&p).is_ok());
    }
}
