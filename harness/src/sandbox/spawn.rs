//! Starting the program under the supervisor: its own session, default signal dispositions
//! and an empty mask, limits, an identity (when the supervisor is root), the seccomp tap
//! where the spec asks for it (removals and processes: see `removals` and `proc_calls`), the
//! socket filter where the run's network is held to TCP ports (see `netfilter`), and the
//! Landlock ruleset where there is one.

use super::protocol::{Facility, Report, Spec};
use super::supervisor::{send, Sender};
use super::tap::{Tap, Watching};
use super::{landlock, netfilter};
use std::os::unix::process::CommandExt;

/// Starts the program; returns its pid (as the supervisor sees it). What of the removals
/// tap could not be set up is reported on `out` as a problem, before the start is.
pub(super) fn spawn(
    spec: &Spec,
    ruleset: Option<&landlock::Prepared>,
    out: &Sender,
) -> std::io::Result<i32> {
    let contain_network = spec.sandbox.tcp_ports.is_some();
    if contain_network && ruleset.is_none() {
        // The program would have the host's network: it does not start.
        return Err(std::io::Error::other(
            "the network rules (Landlock TCP ports) could not be set up",
        ));
    }
    let mut cmd = std::process::Command::new(&spec.program);
    cmd.args(&spec.args).current_dir(&spec.cwd).env_clear();
    cmd.envs(spec.env.iter().map(|(k, v)| (k, v)));
    let limits = spec.limits;
    let ruleset = ruleset.map(landlock::Prepared::raw);
    let identity = spec.identity.filter(|_| nix::unistd::geteuid().is_root());
    let watching = Watching {
        removals: spec.observe_removals,
        processes: spec.observe_processes,
    };
    let problem = |error: String| {
        for (wanted, facility) in [
            (watching.removals, Facility::Removals),
            (watching.processes, Facility::Processes),
        ] {
            if wanted {
                let error = error.clone();
                send(out, &Report::Problem { facility, error });
            }
        }
    };
    let tap = (watching.removals || watching.processes)
        .then(|| Tap::new(watching))
        .and_then(|made| made.map_err(problem).ok());

    let installer = tap.as_ref().map(Tap::installer);
    if tap.is_some() && watching.processes {
        super::proc_calls::start(out.clone(), identity);
    }
    let serving = tap.map(|tap| tap.serve(out.clone(), identity));
    // SAFETY: only async-signal-safe calls (setsid, sigaction, sigprocmask, setrlimit,
    // setgroups, setgid, setuid, prctl, seccomp, sendmsg, close, landlock_restrict_self) run
    // between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            nix::unistd::setsid().map_err(std::io::Error::from)?;
            reset_signals();
            super::limits::apply(&limits)?;
            if let Some((uid, gid)) = identity {
                if libc::setgroups(0, std::ptr::null()) != 0
                    || libc::setgid(gid) != 0
                    || libc::setuid(uid) != 0
                {
                    return Err(std::io::Error::last_os_error());
                }
            }
            if let Some(installer) = &installer {
                installer.install();
            }
            if contain_network {
                netfilter::install()?;
            }
            if let Some(fd) = ruleset {
                landlock::enforce(fd)?;
            }
            Ok(())
        });
    }
    let child = cmd.spawn();
    if let Some(Err(e)) = serving.map(|s| s.confirm()) {
        problem(e);
    }
    Ok(child?.id() as i32)
}

/// Default dispositions for every catchable signal and an empty mask.
fn reset_signals() {
    // SAFETY: plain sigaction/sigprocmask calls with valid arguments.
    unsafe {
        for sig in 1..32 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::signal(sig, libc::SIG_DFL);
            }
        }
        let mut empty: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut empty);
        libc::sigprocmask(libc::SIG_SETMASK, &empty, std::ptr::null_mut());
    }
}
