//! Following one fork_exec run: the program starts under a process watch (and libfaketime
//! where installed), its counter lines are read up to [`UPTO`], then it is ended. What was
//! printed and the whole process tree are handed to the scenarios.

use crate::outcome::Failure;
use crate::run::transcript::Source;
use crate::run::Run;
use crate::sandbox::proc_events::{ProcRecord, Watch};
use crate::scenario::tools::FAKETIME_LIB;
use crate::scenario::{Ctx, Launch};
use crate::text::re;
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

/// The counter value the observation runs to: two forks, five iterations of margin.
const UPTO: i64 = 25;
/// Start-up may be slow; later counter lines come every 0.5 s of the program's time.
const FIRST: Duration = Duration::from_secs(10);
const NEXT: Duration = Duration::from_secs(3);
/// Files placed in the program's folder: `ls -l` in a child must list them.
pub const PROBES: [&str; 2] = ["sysgrade-probe-a.txt", "sysgrade-probe-b.txt"];
/// How much faster than real time the program's clock runs under libfaketime.
const SPEED_UP: f64 = 10.0;
/// A counter line: a number, bare or after one word (except the words in [`NOT_COUNTERS`]).
const COUNTER: &str = r"^\s*(?:([a-z]\w*)\s*[:=]?\s*)?(\d+)\s*$";
/// Words before a number that make it something else: `ls -l`'s `total N`, a pid, a status.
const NOT_COUNTERS: [&str; 7] = [
    "total", "pid", "child", "parent", "process", "status", "exit",
];

/// What one run showed up to counter [`UPTO`].
pub struct Observed {
    /// Counter values in the order printed, with their transcript times (ms).
    pub counters: Vec<(i64, u64)>,
    pub stdout: Vec<String>,
    pub procs: Vec<ProcRecord>,
    pub main: i32,
    /// When the last counter line was seen: the end of the observation.
    pub until: Instant,
    /// An instant and its transcript time, to place process events among lines.
    pub clock: (Instant, u64),
    pub speed: f64,
    pub python: bool,
}

impl Observed {
    /// Where `at` falls on the transcript's clock (ms since the run's start).
    pub fn ms(&self, at: Instant) -> i64 {
        let (base, ms) = self.clock;
        let delta = if at >= base {
            (at - base).as_millis() as i64
        } else {
            -((base - at).as_millis() as i64)
        };
        ms as i64 + delta
    }

    /// The last counter value printed before `at` (0 before the first). A line is read a
    /// little after it is printed: lines up to a quarter period later count as before.
    pub fn counter_at(&self, at: Instant) -> i64 {
        let ms = self.ms(at) + (125.0 / self.speed) as i64;
        self.counters
            .iter()
            .take_while(|(_, t)| (*t as i64) <= ms)
            .last()
            .map_or(0, |(v, _)| *v)
    }

    pub fn last(&self) -> i64 {
        self.counters.last().map_or(0, |(v, _)| *v)
    }

    /// The program's direct children, in fork order.
    pub fn children(&self) -> Vec<&ProcRecord> {
        self.procs
            .iter()
            .filter(|p| p.parent == self.main)
            .collect()
    }

    /// The children forked before the last counter seen. What happens at that counter may be
    /// cut off by the end of the observation, so only these are judged: the verdict does not
    /// depend on timing.
    pub fn judged_children(&self) -> Vec<&ProcRecord> {
        let last = self.last();
        self.children()
            .into_iter()
            .filter(|k| self.counter_at(k.forked) < last)
            .collect()
    }

    pub fn name(&self, p: &ProcRecord) -> String {
        let what = p
            .execs
            .last()
            .map_or_else(|| "no exec".to_string(), |e| e.command.clone());
        format!(
            "pid {} ({}, forked at counter {})",
            p.pid,
            what,
            self.counter_at(p.forked)
        )
    }
}

/// The program's speed-up and the launch that applies it.
fn time_dilation(ctx: &Ctx) -> (f64, Launch) {
    let launch = Launch::new();
    if !Path::new(FAKETIME_LIB).exists() {
        return (1.0, launch);
    }
    let speed = (SPEED_UP / ctx.clock().factor()).max(1.0);
    let launch = launch
        .env("LD_PRELOAD", FAKETIME_LIB)
        .env("FAKETIME", format!("+0 x{}", factor(speed)));
    (speed, launch)
}

/// A speed-up as libfaketime and messages spell it: "10", "3.33".
pub fn factor(speed: f64) -> String {
    if speed.fract() == 0.0 {
        format!("{speed:.0}")
    } else {
        format!("{speed:.2}")
    }
}

/// Starts the program under a process watch and follows it up to counter [`UPTO`], then
/// ends it (so zombies it never reaped count against `reaped` only, not hygiene).
pub fn observe(ctx: &mut Ctx) -> Result<Observed, Failure> {
    for (i, name) in PROBES.iter().enumerate() {
        std::fs::write(ctx.workdir().join(name), format!("probe {i}\n"))
            .map_err(|e| Failure::fault(format!("placing {name}: {e}")))?;
    }
    let (speed, launch) = time_dilation(ctx);
    let mut watch = None;
    let mut run = ctx.start_prepared(launch, |reach| {
        let w = Watch::subscribe(reach.supervisor).map_err(|e| {
            Failure::skip(format!(
                "cannot follow the program's processes: {e} (the kernel's process events need a grader running as root in the initial network namespace)"
            ))
        })?;
        watch = Some(w);
        Ok(())
    })?;
    let watch = watch.ok_or_else(|| Failure::fault("no process watch"))?;
    let clock = clock(&run, speed);
    let counted = count_to(&mut run, UPTO);
    let until = Instant::now();
    let main = run.pid();
    let (procs, lost) = {
        let tree = watch.tree();
        (tree.procs.clone(), tree.lost)
    };
    drop(watch);
    let ended = end(&mut run);
    if speed > 1.0 {
        // libfaketime keeps a segment and a semaphore per process, removed at a normal
        // exit only; they vanish with the run's private /dev/shm.
        for p in &procs {
            run.allow_shm(&format!("faketime_shm_{}", p.pid));
            run.allow_shm(&format!("sem.faketime_sem_{}", p.pid));
        }
    }
    let counters = counted?;
    ended?;
    if lost || !procs.iter().any(|p| p.pid == main) {
        return Err(Failure::fault(
            "the kernel's process events were incomplete (machine too busy?); grade again",
        ));
    }
    Ok(Observed {
        counters,
        stdout: run.lines(Source::Stdout),
        procs,
        main,
        until,
        clock,
        speed,
        python: ctx.program().is_python(),
    })
}

/// Notes how the run is followed, and returns that note's instant and transcript time.
fn clock(run: &Run, speed: f64) -> (Instant, u64) {
    let pace = if speed > 1.0 {
        format!(
            "its clock runs {}x faster than real time (libfaketime)",
            factor(speed)
        )
    } else {
        "its clock is real time (libfaketime is not installed)".to_string()
    };
    let text = format!("following its processes through the kernel's process events; {pace}");
    let at = Instant::now();
    run.note(text.clone());
    let ms = run
        .entries()
        .iter()
        .rev()
        .find(|e| e.source == Source::Harness && e.text == text)
        .map_or(0, |e| e.at_ms);
    (at, ms)
}

/// Reads counter lines until the first one showing `upto` or more.
fn count_to(run: &mut Run, upto: i64) -> Result<Vec<(i64, u64)>, Failure> {
    let pattern = re(COUNTER);
    let mut counters: Vec<(i64, u64)> = Vec::new();
    while counters.len() < 8 * upto as usize {
        let within = if counters.is_empty() { FIRST } else { NEXT };
        let line = run
            .expect_described(Source::Stdout, &pattern, "a counter line", within)
            .map_err(|f| match counters.last() {
                Some((v, _)) => f.context(format!("after counter {v}")),
                None => f,
            })?;
        let Some(caps) = pattern.captures(&line.text) else {
            continue;
        };
        let word = caps.get(1).map(|w| w.as_str().to_ascii_lowercase());
        if word.is_some_and(|w| NOT_COUNTERS.contains(&w.as_str())) {
            continue;
        }
        let Ok(value) = caps[2].parse::<i64>() else {
            continue;
        };
        let at = run.entries().get(line.index).map_or(0, |e| e.at_ms);
        counters.push((value, at));
        if value >= upto {
            break;
        }
    }
    Ok(counters)
}

/// Ends the still-running program (an endless loop) and waits for it.
fn end(run: &mut Run) -> Result<(), Failure> {
    if run.exit().is_none() {
        let _ = run.signal(Signal::SIGKILL);
    }
    run.wait_exit(Duration::from_secs(5)).map(|_| ())
}
