//! fork_exec (the student project's p4_b_hw8.py): prints a counter (`1`, `2`, ... one bare
//! number a line) every 0.5 s. At every tenth iteration it prints `About to fork...` and
//! forks; the child execs `ls -l` (found on PATH) and never runs the loop (if the exec fails
//! it exits 127). Unlike the student project, the parent reaps every finished child after
//! each sleep (waitpid(-1, WNOHANG)), so no zombie lasts more than about 0.5 s; what it
//! reaped is reported on stderr.
//!
//! Scenarios: `fork_exec.counts`, `fork_exec.children`, `fork_exec.reaped`.

use nix::errno::Errno;
use nix::sys::signal::{signal, SigHandler, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::{execvp, fork, ForkResult, Pid};
use std::ffi::CString;
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_millis(500);

/// Reap every child that has finished, without blocking.
fn reap() {
    loop {
        match waitpid(Pid::from_raw(-1), Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => return,
            Ok(WaitStatus::Exited(pid, code)) => eprintln!("reaped child pid {pid}: exit {code}"),
            Ok(WaitStatus::Signaled(pid, sig, _)) => eprintln!("reaped child pid {pid}: {sig}"),
            Ok(_) => {}
            Err(Errno::EINTR) => {}
            Err(e) => {
                eprintln!("fork_exec: waitpid: {e}");
                return;
            }
        }
    }
}

/// Fork a child that becomes `ls -l`.
fn spawn_ls(argv: &[CString]) {
    // SAFETY: the child only calls async-signal-safe functions (signal, execvp, _exit) on
    // data prepared before the fork; stdout was flushed by the newline of the last println.
    match unsafe { fork() } {
        Ok(ForkResult::Child) => unsafe {
            // Rust ignores SIGPIPE; give `ls` the default disposition back.
            let _ = signal(Signal::SIGPIPE, SigHandler::SigDfl);
            let _ = execvp(&argv[0], argv);
            libc::_exit(127);
        },
        Ok(ForkResult::Parent { .. }) => {}
        Err(e) => eprintln!("fork_exec: fork failed: {e}"),
    }
}

fn main() {
    let argv = [c"ls".to_owned(), c"-l".to_owned()];
    let start = Instant::now();
    for i in 1u64.. {
        println!("{i}");
        if i.is_multiple_of(10) {
            println!("About to fork...");
            spawn_ls(&argv);
        }
        // Keep to the 0.5 s beat without drift.
        let next = start + PERIOD * i as u32;
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
        reap();
    }
}
