//! Following one fork_exec run: the program starts under a process watch (and libfaketime
//! where installed), its counter lines are read for [`UPTO`] iterations, then it is ended.
//! What was printed and the whole process tree are handed to the scenarios.
//!
//! Iterations are counted by lines, not by the values printed: a program whose counter starts
//! again at 1 after each fork is followed for as long as one that counts on.

use super::ending::{end_child, still_running_child, Follow};
use crate::clock::Clock;
use crate::outcome::Failure;
use crate::run::processes::{connector_available, Origin, ProcRecord, ProcessWatch};
use crate::run::transcript::Source;
use crate::run::Run;
use crate::scenario::tools::FAKETIME_LIB;
use crate::scenario::{Ctx, Launch};
use crate::settings::ProcEvents;
use crate::text::re;
use nix::sys::signal::Signal;
use std::path::Path;
use std::time::{Duration, Instant};

/// The iterations the observation covers: two forks, five iterations of margin. It ends at
/// the counter line showing this value, or, for a counter that went down (started again),
/// after this many counter lines.
const UPTO: i64 = 25;
/// Start-up may be slow; later counter lines come every 0.5 s of the program's time.
const FIRST: Duration = Duration::from_secs(10);
pub const NEXT: Duration = Duration::from_secs(3);
/// Files placed in the program's folder: `ls -l` in a child must list them.
pub const PROBES: [&str; 2] = ["sysgrade-probe-a.txt", "sysgrade-probe-b.txt"];
/// How much faster than real time the program's clock runs under libfaketime.
const SPEED_UP: f64 = 10.0;
/// A counter line: a number, bare or after one word (except the words in [`NOT_COUNTERS`]).
pub const COUNTER: &str = r"^\s*(?:([a-z]\w*)\s*[:=]?\s*)?(\d+)\s*$";
/// Words before a number that make it something else: `ls -l`'s `total N`, a pid, a status.
const NOT_COUNTERS: [&str; 7] = [
    "total", "pid", "child", "parent", "process", "status", "exit",
];

/// What one run showed up to counter [`UPTO`].
pub struct Observed {
    /// Counter values in the order printed, with their transcript times (ms), up to the end
    /// of the observation (not those printed after the harness ended a child).
    pub counters: Vec<(i64, u64)>,
    /// Counter lines printed after the harness ended a child ([`Observed::ended`]).
    pub after: Vec<(i64, u64)>,
    /// A child still running at the end of the observation that the harness ended, so that
    /// its reaping could be seen ([`Follow::EndingAChild`]), with the counter at that moment.
    pub ended: Option<(i32, i64)>,
    pub stdout: Vec<String>,
    /// Standard error's lines with their transcript times (ms).
    pub stderr: Vec<(String, u64)>,
    pub procs: Vec<ProcRecord>,
    pub main: i32,
    /// When the last counter line was seen: the end of the observation.
    pub until: Instant,
    /// An instant and its transcript time, to place process events among lines.
    pub clock: (Instant, u64),
    pub speed: f64,
    pub python: bool,
    /// The grading's clock (deadlines in real time).
    pub scale: Clock,
    /// When the harness ended a child: the end of the observation and the process records
    /// as they were just before (what `counts` and `children` judge).
    pub before_ending: Option<(Instant, Vec<ProcRecord>)>,
}

impl Observed {
    /// The observation as it stood when the counting ended, before the harness ended a
    /// child (if it did): nothing the harness did is judged as the program's.
    pub fn as_counted(&self) -> Observed {
        let (until, procs) = self
            .before_ending
            .clone()
            .unwrap_or_else(|| (self.until, self.procs.clone()));
        Observed {
            counters: self.counters.clone(),
            after: Vec::new(),
            ended: None,
            stdout: self.stdout.clone(),
            stderr: self.stderr.clone(),
            procs,
            main: self.main,
            until,
            clock: self.clock,
            speed: self.speed,
            python: self.python,
            scale: self.scale,
            before_ending: None,
        }
    }

    /// Where `at` falls on the transcript's clock (ms since the run's start).
    pub fn ms(&self, at: Instant) -> i64 {
        transcript_ms(self.clock, at)
    }

    /// The index of the last counter line printed before `at` (`None` before the first). A
    /// line is read a little after it is printed: lines up to a quarter period later count
    /// as before.
    pub fn line_at(&self, at: Instant) -> Option<usize> {
        let ms = self.ms(at) + (125.0 / self.speed) as i64;
        self.counters
            .iter()
            .take_while(|(_, t)| (*t as i64) <= ms)
            .count()
            .checked_sub(1)
    }

    /// The last counter value printed before `at` (0 before the first).
    pub fn counter_at(&self, at: Instant) -> i64 {
        self.line_at(at).map_or(0, |i| self.counters[i].0)
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

    /// The children forked before the last counter line seen. What happens at that line may
    /// be cut off by the end of the observation, so only these are judged: the verdict does
    /// not depend on timing.
    pub fn judged_children(&self) -> Vec<&ProcRecord> {
        let last = self.counters.len().saturating_sub(1);
        self.children()
            .into_iter()
            .filter(|k| self.line_at(k.forked).is_some_and(|i| i < last))
            .collect()
    }

    /// How many processes of the program other than itself, ones that never exec'd, were
    /// running at transcript time `ms`: copies of the program that could print counters.
    pub fn copies_at(&self, ms: u64) -> usize {
        let ms = ms as i64;
        let mut family = std::collections::HashSet::from([self.main]);
        for p in &self.procs {
            if family.contains(&p.parent) {
                family.insert(p.pid);
            }
        }
        self.procs
            .iter()
            .filter(|p| {
                p.pid != self.main
                    && family.contains(&p.pid)
                    && self.ms(p.forked) < ms
                    && p.exited.is_none_or(|(at, _)| self.ms(at) >= ms)
                    && p.execs.first().is_none_or(|e| self.ms(e.at) >= ms)
            })
            .count()
    }

    /// Standard error's lines printed from `from` (included) to `to` (excluded).
    pub fn stderr_between(&self, from: Instant, to: Option<Instant>) -> Vec<&str> {
        let (from, to) = (self.ms(from), to.map(|t| self.ms(t)));
        self.stderr
            .iter()
            .filter(|(_, t)| (*t as i64) >= from && to.is_none_or(|to| (*t as i64) < to))
            .map(|(l, _)| l.as_str())
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

/// Where `at` falls on the transcript's clock, given one instant and its transcript time.
pub fn transcript_ms((base, ms): (Instant, u64), at: Instant) -> i64 {
    let delta = if at >= base {
        (at - base).as_millis() as i64
    } else {
        -((base - at).as_millis() as i64)
    };
    ms as i64 + delta
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

/// Starts the program under a process watch and follows it for [`UPTO`] iterations, then
/// ends it (so zombies it never reaped count against `reaped` only, not hygiene).
pub fn observe(ctx: &mut Ctx, follow: Follow) -> Result<Observed, Failure> {
    for (i, name) in PROBES.iter().enumerate() {
        std::fs::write(ctx.workdir().join(name), format!("probe {i}\n"))
            .map_err(|e| Failure::fault(format!("placing {name}: {e}")))?;
    }
    let (speed, launch) = time_dilation(ctx);
    let source = origin(ctx.settings().proc_events);
    let launch = match source {
        Origin::Supervisor => launch.observe_processes(),
        Origin::Connector => launch,
    };
    let mut watch = None;
    let mut run = ctx.start_prepared(launch, |reach| {
        if source == Origin::Connector {
            let w = ProcessWatch::subscribe(reach.supervisor).map_err(|e| {
                Failure::skip(format!(
                    "cannot follow the program's processes: {e} (the kernel's process events need a grader in the initial network and pid namespaces; set SYSGRADE_PROC_EVENTS=seccomp or auto)"
                ))
            })?;
            watch = Some(w);
        }
        Ok(())
    })?;
    if source == Origin::Supervisor {
        let tree = run.process_tree().map_err(|e| {
            Failure::skip(format!(
                "cannot follow the program's processes: the supervisor's seccomp filter: {e}"
            ))
        })?;
        watch = Some(ProcessWatch::reported(tree));
    }
    let watch = watch.ok_or_else(|| Failure::fault("no process watch"))?;
    let clock = clock(&run, speed, source);
    let counted = count_to(&mut run, UPTO);
    // The tree's pids: the grader's for the connector, the program's own for the supervisor.
    let main = match source {
        Origin::Connector => run.pid(),
        Origin::Supervisor => run.own_pid(),
    };
    let (mut after, mut ended, mut before_ending) = (Vec::new(), None, None);
    if let (Ok(counters), Follow::EndingAChild) = (&counted, follow) {
        if let Some(pid) = still_running_child(&watch, main, counters, clock, speed) {
            let at = counters.last().map_or(0, |(v, _)| *v);
            before_ending = Some((Instant::now(), watch.tree().procs.clone()));
            after = end_child(&mut run, &watch, pid, at);
            ended = Some((pid, at));
        }
    }
    let until = Instant::now();
    let (procs, lost) = {
        let tree = watch.tree();
        (tree.procs.clone(), tree.lost)
    };
    run.keep_processes(&watch.tree());
    drop(watch);
    let ended_run = end(&mut run);
    if speed > 1.0 {
        // libfaketime keeps a segment and a semaphore per process, removed at a normal
        // exit only; they vanish with the run's private /dev/shm.
        for p in &procs {
            run.allow_shm(&format!("faketime_shm_{}", p.pid));
            run.allow_shm(&format!("sem.faketime_sem_{}", p.pid));
        }
    }
    let counters = counted?;
    ended_run?;
    if lost || !procs.iter().any(|p| p.pid == main) {
        let whose = match source {
            Origin::Connector => "the kernel's",
            Origin::Supervisor => "the supervisor's",
        };
        return Err(Failure::fault(format!(
            "{whose} process events were incomplete (machine too busy?); grade again"
        )));
    }
    let stderr = run
        .entries()
        .into_iter()
        .filter(|e| e.source == Source::Stderr)
        .map(|e| (e.text, e.at_ms))
        .collect();
    Ok(Observed {
        counters,
        after,
        ended,
        stdout: run.lines(Source::Stdout),
        stderr,
        procs,
        main,
        until,
        clock,
        speed,
        python: ctx.program().is_python(),
        scale: ctx.clock(),
        before_ending,
    })
}

/// Where the process events come from, as the settings ask: in `auto`, the kernel's
/// connector where it answers (asked once), the supervisor otherwise.
fn origin(setting: ProcEvents) -> Origin {
    match setting {
        ProcEvents::Connector => Origin::Connector,
        ProcEvents::Seccomp => Origin::Supervisor,
        ProcEvents::Auto if connector_available().is_ok() => Origin::Connector,
        ProcEvents::Auto => Origin::Supervisor,
    }
}

/// Notes how the run is followed, and returns that note's instant and transcript time.
fn clock(run: &Run, speed: f64, source: Origin) -> (Instant, u64) {
    let pace = if speed > 1.0 {
        format!(
            "its clock runs {}x faster than real time (libfaketime)",
            factor(speed)
        )
    } else {
        "its clock is real time (libfaketime is not installed)".to_string()
    };
    let how = match source {
        Origin::Connector => "the kernel's process events",
        Origin::Supervisor => {
            "the supervisor's seccomp notifications (pids as the program sees them)"
        }
    };
    let text = format!("following its processes through {how}; {pace}");
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

/// Reads counter lines for `upto` iterations: until the first one showing `upto` or more (a
/// counter that starts above `upto` is followed for `upto` lines), or, when the counter went
/// down (it started again), for `upto` lines; at most `8 * upto` lines (several processes
/// printing).
fn count_to(run: &mut Run, upto: i64) -> Result<Vec<(i64, u64)>, Failure> {
    let pattern = re(COUNTER);
    let mut counters: Vec<(i64, u64)> = Vec::new();
    while counters.len() < 8 * upto as usize {
        let within = if counters.is_empty() { FIRST } else { NEXT };
        let next = next_counter(run, &pattern, within).map_err(|f| match counters.last() {
            Some((v, _)) => f.context(format!("after counter {v}")),
            None => f,
        })?;
        let Some((value, at)) = next else {
            continue;
        };
        counters.push((value, at));
        if covered(&counters, upto) {
            break;
        }
    }
    Ok(counters)
}

/// Whether `counters` cover `upto` iterations: the last shows `upto` or more, after the
/// `upto - first + 1` lines a counter from `first` needs (a counter that starts above `upto`
/// is followed for `upto` lines all the same); or, for a counter that went down (started
/// again), `upto` lines.
fn covered(counters: &[(i64, u64)], upto: i64) -> bool {
    let (Some((first, _)), Some((last, _))) = (counters.first(), counters.last()) else {
        return false;
    };
    // A fall of one is a copy of the program a line behind, not a counter started again.
    let went_down = counters.windows(2).any(|w| w[1].0 + 1 < w[0].0);
    let needed = if *first <= upto {
        upto - first + 1
    } else {
        upto
    };
    counters.len() as i64 >= needed && (*last >= upto || went_down)
}

/// The next line on standard output, as a counter value and its transcript time; `None` for a
/// line that looks like a counter but is not one (`total 8`).
pub fn next_counter(
    run: &mut Run,
    pattern: &regex::Regex,
    within: Duration,
) -> Result<Option<(i64, u64)>, Failure> {
    let line = run.expect_described(Source::Stdout, pattern, "a counter line", within)?;
    let Some(caps) = pattern.captures(&line.text) else {
        return Ok(None);
    };
    let word = caps.get(1).map(|w| w.as_str().to_ascii_lowercase());
    if word.is_some_and(|w| NOT_COUNTERS.contains(&w.as_str())) {
        return Ok(None);
    }
    let Ok(value) = caps[2].parse::<i64>() else {
        return Ok(None);
    };
    let at = run.entries().get(line.index).map_or(0, |e| e.at_ms);
    Ok(Some((value, at)))
}

/// Ends the still-running program (an endless loop) and waits for it.
fn end(run: &mut Run) -> Result<(), Failure> {
    if run.exit().is_none() {
        let _ = run.signal(Signal::SIGKILL);
    }
    run.wait_exit(Duration::from_secs(5)).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::covered;

    fn lines(values: impl IntoIterator<Item = i64>) -> Vec<(i64, u64)> {
        values.into_iter().map(|v| (v, 0)).collect()
    }

    #[test]
    fn twenty_five_iterations_however_the_counter_runs() {
        assert!(!covered(&lines(1..25), 25));
        assert!(covered(&lines(1..=25), 25));
        assert!(covered(&lines(0..=25), 25));
        // It starts again at 1 after each fork: 25 lines.
        let again: Vec<i64> = (1..=10).chain(1..=10).chain(1..=4).collect();
        assert!(!covered(&lines(again.clone()), 25));
        assert!(covered(&lines(again.into_iter().chain([5])), 25));
        // It starts at 1000: 25 lines, not one.
        assert!(!covered(&lines([1000]), 25));
        assert!(covered(&lines(1000..1025), 25));
        // Two processes print the same values: until the value, whatever the lines.
        let twice: Vec<i64> = (1..=10).chain((11..=24).flat_map(|v| [v, v])).collect();
        assert!(!covered(&lines(twice.clone()), 25));
        assert!(covered(&lines(twice.into_iter().chain([25])), 25));
        // A copy a line behind (20 after 21) is no counter started again.
        let behind: Vec<i64> = (1..=10)
            .chain((11..=20).flat_map(|v| [v, v]))
            .chain([21, 20, 22])
            .collect();
        assert!(!covered(&lines(behind), 25));
    }
}
