//! The judges from hand-built observations: a run of 25 iterations, a line every 500 ms,
//! children forked at 10 and 20.

use super::observe::Observed;
use super::{judge_children, judge_counts, judge_reaped, RUN};
use crate::clock::Clock;
use crate::outcome::Status;
use crate::run::processes::{Exec, ProcRecord};
use crate::run::Exit;
use crate::scenario::Judged;
use std::time::{Duration, Instant};

const MAIN: i32 = 100;

fn at(base: Instant, ms: u64) -> Instant {
    base + Duration::from_millis(ms)
}

/// A child forked at counter `n`'s line (+50 ms) that runs `ls -l` and ends 20 ms later;
/// reaped `reaped_after` ms after it ended (never, if `None`).
fn kid(base: Instant, pid: i32, n: u64, reaped_after: Option<u64>) -> ProcRecord {
    let forked = n * 500 + 50;
    ProcRecord {
        pid,
        parent: MAIN,
        forked: at(base, forked),
        execs: vec![Exec {
            at: at(base, forked + 5),
            command: "ls -l".into(),
        }],
        exited: Some((at(base, forked + 20), Exit::Code(0))),
        reaped: reaped_after.map(|r| at(base, forked + 20 + r)),
    }
}

/// The run, with the children `kids` makes from the run's start instant.
fn observed(kids: impl FnOnce(Instant) -> Vec<ProcRecord>) -> Observed {
    let base = Instant::now();
    let kids = kids(base);
    let counters: Vec<(i64, u64)> = (1..=25).map(|v| (v, v as u64 * 500)).collect();
    let listing = "-rw-r--r-- 1 u g 8 Jan  1 00:00 sysgrade-probe-a.txt".to_string();
    let mut stdout: Vec<String> = (1..=25).map(|v| v.to_string()).collect();
    stdout.extend(kids.iter().map(|_| listing.clone()));
    let mut procs = vec![ProcRecord {
        pid: MAIN,
        parent: 1,
        forked: base,
        execs: Vec::new(),
        exited: None,
        reaped: None,
    }];
    procs.extend(kids);
    Observed {
        counters,
        after: Vec::new(),
        ended: None,
        stdout,
        stderr: Vec::new(),
        procs,
        main: MAIN,
        until: at(base, 12_600),
        clock: (base, 0),
        speed: 1.0,
        python: true,
        scale: Clock::new(1.0),
        before_ending: None,
    }
}

#[test]
fn a_correct_run_passes_all_three() {
    let o = observed(|base| vec![kid(base, 201, 10, Some(5)), kid(base, 202, 20, Some(5))]);
    for (id, judge) in RUN.judges {
        assert!(
            matches!(judge(&o), Judged::Verdict(Ok(_))),
            "{id}: {:?}",
            judge(&o)
        );
    }
}

#[test]
fn a_counter_that_starts_again_fails_counts_only() {
    let mut o = observed(|_| Vec::new());
    o.counters[12].0 = 1;
    let f = judge_counts(&o).unwrap_err();
    assert!(f.message.contains("back to 1"), "{}", f.message);
}

#[test]
fn no_child_fails_children_and_reaped() {
    let o = observed(|_| Vec::new());
    assert!(judge_counts(&o).is_ok());
    let f = judge_children(&o).unwrap_err();
    assert!(
        f.message.starts_with("forked no child in 25 iterations"),
        "{}",
        f.message
    );
    assert_eq!(judge_reaped(&o).unwrap_err().status, Status::Fail);
}

#[test]
fn a_zombie_left_for_seconds_fails_reaped_only() {
    let o = observed(|base| vec![kid(base, 201, 10, None), kid(base, 202, 20, None)]);
    assert!(judge_children(&o).is_ok(), "{:?}", judge_children(&o));
    let f = judge_reaped(&o).unwrap_err();
    assert!(f.message.contains("was still a zombie"), "{}", f.message);
}

#[test]
fn counts_and_children_judge_the_run_before_the_harness_ended_a_child() {
    // Two children running the counter loop; the harness ended the first.
    let running = |base, pid, n| ProcRecord {
        exited: None,
        execs: Vec::new(),
        ..kid(base, pid, n, None)
    };
    let mut o = observed(|base| {
        let mut ended = running(base, 201, 10);
        ended.exited = Some((at(base, 12_700), Exit::Signal(9)));
        vec![ended, running(base, 202, 20)]
    });
    let base = o.clock.0;
    let before = vec![
        o.procs[0].clone(),
        running(base, 201, 10),
        running(base, 202, 20),
    ];
    o.before_ending = Some((at(base, 12_600), before));
    // Before the harness's SIGKILL the child ran the loop: that is the finding, not a death.
    let f = judge_children(&o.as_counted()).unwrap_err();
    assert!(
        f.message.starts_with(
            "the child forked at counter 10 (pid 201) never called exec (it was still running)"
        ),
        "{}",
        f.message
    );
}
