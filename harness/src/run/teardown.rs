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
use super::state::Shared;
use super::{describe_exit, Run};
use crate::sandbox::copy::remove_entry;
use crate::sandbox::procfs;
use crate::sandbox::protocol::Command;
use crate::sandbox::rootfs::PRIVATE_DIRS;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Grace for descendants to finish by themselves, nominal.
const GRACE: Duration = Duration::from_millis(1500);

pub(super) fn teardown(run: &mut Run, mut launched: Launched) -> RunRecord {
    let shared = launched.shared.clone();
    let grace = run.oversight.clock.real(GRACE);
    launched.stdin = None;
    let mut leftovers = Leftovers::default();
    let main = run.pid();
    let sup = run
        .supervisor_pid()
        .unwrap_or(launched.handle.child.id() as i32);

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
    leftovers.shm = shm_leftovers(run, sup);
    leftovers.files = if run.spec.sandbox.namespaces {
        private_files(sup, &run.oversight.own_root)
    } else if let Some((uid, _)) = run.spec.identity {
        owned_files(uid, &run.oversight.own_root)
    } else {
        new_files(&run.shared_before, &run.oversight.own_root)
    };
    if killed {
        leftovers.excuse();
    }
    send(&launched, &Command::Quit);
    launched.handle.finish();
    let _ = shared.wait_for(Instant::now() + Duration::from_secs(2), |st| {
        (st.stdout.eof && st.stderr.eof).then_some(())
    });
    note_exit(&shared);
    for finding in leftovers.all() {
        shared.note(finding);
    }
    for left in &leftovers.excused {
        shared.note(format!(
            "{left} was left when the harness killed the program: removed, and not counted against it"
        ));
    }
    let transcript = shared.lock().entries.clone();
    RunRecord {
        label: run.oversight.label.clone(),
        transcript,
        leftovers,
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

/// The entries of the shared scratch places (`/tmp`, `/var/tmp`, `/dev/shm`, `/run/lock`) as
/// they are now: compared at the end of a run that has neither its own places nor its own
/// uid, to find what it added.
pub(super) fn shared_entries() -> Vec<PathBuf> {
    PRIVATE_DIRS
        .iter()
        .flat_map(|dir| {
            list_names(Path::new(dir))
                .into_iter()
                .map(move |n| Path::new(dir).join(n))
        })
        .collect()
}

/// A grading folder of another grader (`/tmp/sysgrade-*`, owned by the grader's own uid,
/// which no program runs as): its runs' copies may belong to a uid this run holds now, and are
/// never this run's leftovers. A program's own `/tmp/sysgrade-…` is its uid's, and counts.
fn other_grader(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let top = path
        .parent()
        .is_some_and(|p| PRIVATE_DIRS.iter().any(|d| Path::new(d) == p));
    top && meta.is_dir()
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("sysgrade-"))
}

/// Names the harness's own helpers leave (libfaketime's segments), never the program's.
fn harness_trace(name: &str) -> bool {
    name.starts_with("faketime_shm_") || name.starts_with("sem.faketime_sem_")
}

fn list_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Entries the program left in its private scratch places (the folders that lead to its
/// own paths aside), named as the program saw them. They vanish with the run's mount
/// namespace.
fn private_files(sup: i32, own_root: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for dir in PRIVATE_DIRS.iter().chain(&["/dev/mqueue"]) {
        if *dir == "/dev/shm" {
            continue;
        }
        let seen = PathBuf::from(format!("/proc/{sup}/root{dir}"));
        for name in list_names(&seen) {
            let path = Path::new(dir).join(&name);
            if own_root.starts_with(&path) {
                continue;
            }
            found.push(path.display().to_string());
        }
    }
    found
}

/// Entries owned by the grader's uid that appeared in the shared scratch places since
/// `before`; removed. Only sound while no other run of this uid runs at once (see
/// `Guarantees::attributable`).
fn new_files(before: &[PathBuf], own_root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let mut found = Vec::new();
    for path in shared_entries() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if before.contains(&path)
            || own_root.starts_with(&path)
            || path.starts_with(own_root)
            || path.starts_with("/dev/shm")
            || harness_trace(&name)
        {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.uid() != uid {
            continue;
        }
        found.push(path.display().to_string());
        let _ = remove_entry(&path);
    }
    found.sort();
    found
}

/// Segments left in the run's /dev/shm (its private one, or new names in the host's), removed.
fn shm_leftovers(run: &Run, sup: i32) -> Vec<String> {
    let (dir, before) = if run.spec.sandbox.namespaces {
        (
            PathBuf::from(format!("/proc/{sup}/root/dev/shm")),
            Vec::new(),
        )
    } else if run.spec.identity.is_some() {
        // Owned files in /dev/shm are found by owner below.
        return Vec::new();
    } else {
        let before = run
            .shared_before
            .iter()
            .filter(|p| p.starts_with("/dev/shm"))
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        (PathBuf::from("/dev/shm"), before)
    };
    let mut left = Vec::new();
    for name in list_names(&dir) {
        if before.contains(&name) || run.allowed_shm.contains(&name) || harness_trace(&name) {
            continue;
        }
        let _ = std::fs::remove_file(dir.join(&name));
        left.push(name);
    }
    left
}

/// Files and folders owned by `uid` in the world-writable places, outside `own_root`; removed.
fn owned_files(uid: u32, own_root: &Path) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut budget = 20_000usize;
    let mut stack: Vec<PathBuf> = PRIVATE_DIRS
        .iter()
        .chain(&["/dev/mqueue"])
        .map(PathBuf::from)
        .collect();
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                return found;
            }
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.starts_with(own_root) || harness_trace(&name) {
                continue;
            }
            let Ok(meta) = std::fs::symlink_metadata(&path) else {
                continue;
            };
            if other_grader(&path, &meta) {
                continue;
            }
            if meta.uid() == uid {
                found.push(path.display().to_string());
                let _ = remove_entry(&path);
            } else if meta.is_dir() {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}
