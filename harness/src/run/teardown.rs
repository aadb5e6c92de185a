//! Ending a run: what the program left behind is found, recorded and removed.
//!
//! Order matters. Zombies are looked for while their parent still runs; then the program, if
//! it still runs, is ended as a person would (its window closed, or its exercise's signal;
//! only the program: descendants get a grace to finish by themselves, like a resource
//! tracker or an ffmpeg draining its input), then killed if it must be; whatever outlives
//! the grace is a leftover process and is killed through the supervisor; last, files the run's
//! uid owns outside the run's own folder, and shared memory segments, are listed and removed.

use super::launch::Launched;
use super::leftovers::{Leftovers, RunRecord};
use super::scan::{self, Unscanned};
use super::state::Shared;
use super::{describe_exit, Run};
use crate::sandbox::protocol::Command;
use crate::sandbox::{phases, procfs};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Grace for descendants to finish by themselves, nominal.
const GRACE: Duration = Duration::from_millis(1500);
/// How long the readers may take to deliver the last of the output once the program's tree
/// and the supervisor are gone, nominal. The end always comes then (nothing holds the
/// terminal or the pipe any more), so this is only ever waited in full on a machine so loaded
/// that the reader threads are not scheduled; a shorter wait lost a program's last line in CI.
const DRAIN: Duration = Duration::from_secs(10);
/// How long a program still running at the end may take to block before it is signalled
/// (a third of it), nominal: the time a person takes to reach for Ctrl-C.
const READY: Duration = GRACE;

pub(super) fn teardown(run: &mut Run, mut launched: Launched) -> RunRecord {
    let shared = launched.shared.clone();
    let grace = run.oversight.clock.real(GRACE);
    launched.stdin = None;
    let mut leftovers = Leftovers::default();
    let main = run.pid();
    let sup = run
        .supervisor_pid()
        .unwrap_or(launched.handle.child.id() as i32);

    let ending = Instant::now();
    let mut killed = false;
    if still_running(run, grace / 3) {
        leftovers.zombies = lingering_zombies(main, grace / 3);
        killed = end_as_a_person_would(run, &shared, main, grace);
    }
    let _ = shared.wait_for(Instant::now() + grace, |st| st.empty.then_some(()));
    if !shared.lock().empty {
        leftovers.processes = describe_alive(sup);
        send(&launched, &Command::KillAll);
        let _ = shared.wait_for(Instant::now() + Duration::from_secs(5), |st| {
            st.empty.then_some(())
        });
    }
    phases::record("teardown.end", ending.elapsed().as_secs_f64());
    let scanning = Instant::now();
    let mut unscanned = Unscanned::default();
    leftovers.shm = scan::shm_leftovers(run, sup, &mut unscanned);
    let own_root = &run.oversight.own_root;
    leftovers.files = if run.spec.sandbox.namespaces {
        scan::private_files(sup, own_root, &mut unscanned)
    } else if let Some((uid, _)) = run.spec.identity {
        scan::owned_files(uid, own_root, &mut unscanned)
    } else {
        scan::new_files(&run.shared_before, own_root, &mut unscanned)
    };
    if killed {
        leftovers.excuse();
    }
    phases::record("teardown.scan", scanning.elapsed().as_secs_f64());
    let finishing = Instant::now();
    send(&launched, &Command::Quit);
    launched.handle.finish();
    let drained = shared
        .wait_for(Instant::now() + run.oversight.clock.real(DRAIN), |st| {
            (st.stdout.eof && st.stderr.eof).then_some(())
        })
        .is_some();
    phases::record("teardown.finish", finishing.elapsed().as_secs_f64());
    if !drained {
        shared.note(
            "the harness stopped reading the program's output before its end: lines printed last may be missing here",
        );
    }
    note_exit(&shared);
    for finding in leftovers.all() {
        shared.note(finding);
    }
    for left in &leftovers.excused {
        shared.note(format!(
            "{left} was left when the harness killed the program: removed, and not counted against it"
        ));
    }
    for place in &unscanned.0 {
        shared.note(format!(
            "the harness could not look for leftovers in {place}"
        ));
    }
    let processes = run.process_spans();
    let (transcript, started, pictures, deadlines) = {
        let st = shared.lock();
        (
            st.entries.clone(),
            st.main_pid.is_some(),
            st.pictures.clone(),
            st.deadlines.clone(),
        )
    };
    RunRecord {
        label: run.oversight.label.clone(),
        transcript,
        leftovers,
        started,
        unscanned: unscanned.0,
        processes,
        pictures,
        deadlines,
    }
}

/// Whether the program still runs at the end of the scenario. One that already died may not
/// have been reported yet: its exit is waited for (briefly) instead of calling it running.
fn still_running(run: &Run, within: Duration) -> bool {
    let main = run.pid();
    if run.exit().is_some() || main <= 0 {
        return false;
    }
    let alive = procfs::read(main).is_some_and(|p| !p.is_zombie());
    if alive {
        return true;
    }
    let reported = run
        .shared
        .wait_for(Instant::now() + within, |st| st.main_exit.map(|_| ()));
    reported.is_none() && procfs::read(main).is_some_and(|p| !p.is_zombie())
}

/// Ends a program still running when its scenario is over the way a person would, so that
/// what it cleans up then is not blamed on it: a program with a window has it closed (its
/// closeEvent runs) and its exit is awaited; any other gets the exercise's ending signal
/// (Ctrl-C, `kill`, SIGHUP). Signals follow with a grace each, SIGKILL last. True when the
/// harness killed a program whose window's closing did not end it: what it left then may be
/// the kill's doing.
fn end_as_a_person_would(run: &mut Run, shared: &Shared, main: i32, grace: Duration) -> bool {
    let sig = run.oversight.ending;
    let ended = |shared: &Shared| {
        shared
            .wait_for(Instant::now() + grace, |st| st.main_exit.map(|_| ()))
            .is_some()
    };
    let windowed = if let Some(close) = run.closer.take() {
        shared.note(
            "the scenario was over: the harness closed its window, as a person ending it would",
        );
        match close() {
            Ok(()) if ended(shared) => return false,
            Ok(()) => shared.note(format!(
                "it was still running {} after its window was closed: the harness sent {sig}",
                super::secs(GRACE)
            )),
            Err(why) => shared.note(format!(
                "its window could not be closed ({why}): the harness sent {sig}"
            )),
        }
        true
    } else {
        shared.note(format!(
            "the scenario was over and the program still ran: the harness sent {sig}, as a person ending it would"
        ));
        false
    };
    // As with any signal a scenario sends: once the program is blocked, so that its handler
    // (installed at start-up) is in place, and anyway when it never blocks.
    if !run.let_block(READY / 3) && run.exit().is_none() {
        shared.note(format!(
            "it never blocked within {}: the harness sent {sig} while it ran",
            super::secs(READY / 3)
        ));
    }
    let _ = kill(Pid::from_raw(main), sig);
    if ended(shared) {
        return windowed;
    }
    shared.note(format!(
        "it was still running {} after {sig}: the harness killed it (SIGKILL)",
        super::secs(GRACE)
    ));
    let _ = kill(Pid::from_raw(main), Signal::SIGKILL);
    windowed
}

/// How far the pty reader may trail the supervisor's exit report: output read this soon
/// after the exit was written before it.
const READER_LAG_MS: u64 = 250;

/// Records the program's exit in the transcript, after the output it wrote before exiting
/// (which the reader thread may have delivered a moment after the exit report).
fn note_exit(shared: &Shared) {
    let (exit, last_output) = {
        let st = shared.lock();
        let exit = st.main_exit;
        let last = exit.and_then(|r| {
            st.entries
                .iter()
                .filter(|e| {
                    e.source != super::Source::Harness && e.at_ms <= r.at_ms + READER_LAG_MS
                })
                .map(|e| e.at_ms)
                .max()
        });
        (exit, last)
    };
    if let Some(r) = exit {
        let at = r.at_ms.max(last_output.unwrap_or(0));
        shared.note_at(at, format!("the program {}", describe_exit(r.exit)));
    }
}

fn send(launched: &Launched, cmd: &Command) {
    let _ = cmd.send(&launched.handle.control);
}

/// Zombie children of the still-running program that stay unreaped through `grace`.
fn lingering_zombies(main: i32, grace: Duration) -> Vec<String> {
    let zombies = |pid| -> Vec<procfs::ProcInfo> {
        procfs::descendants(pid)
            .into_iter()
            .filter(|p| p.is_zombie())
            .collect()
    };
    let deadline = Instant::now() + grace;
    let mut found = zombies(main);
    while !found.is_empty() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
        found = zombies(main);
    }
    found
        .iter()
        .map(|p| format!("pid {} ({}), child of pid {}", p.pid, p.comm, p.ppid))
        .collect()
}

fn describe_alive(sup: i32) -> Vec<String> {
    procfs::descendants(sup)
        .into_iter()
        .filter(|p| !p.is_zombie())
        .map(|p| {
            let cmd = procfs::cmdline(p.pid);
            let ports = procfs::listening_ports(p.pid);
            let mut text = format!(
                "pid {} ({})",
                p.pid,
                if cmd.is_empty() { p.comm.clone() } else { cmd }
            );
            if !ports.is_empty() {
                let ports: Vec<String> = ports.iter().map(u16::to_string).collect();
                text.push_str(&format!(", listening on port {}", ports.join(", ")));
            }
            text
        })
        .collect()
}
