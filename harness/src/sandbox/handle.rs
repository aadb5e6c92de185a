//! The grader's handle on one supervisor process: starting it (the grading binary re-run in
//! supervisor mode, in a process group of its own, with the control socket on descriptor 3
//! and the socket channel on descriptor 4) and letting it go.

use super::protocol::{CHANNEL_FD, CONTROL_FD, SUPERVISOR_ARG};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// A started supervisor.
#[derive(Debug)]
pub struct Handle {
    pub child: Child,
    /// JSON lines both ways (see `protocol`).
    pub control: UnixStream,
    /// Descriptors from the supervisor (see `channel`).
    pub channel: UnixStream,
}

/// The program's standard streams, handed to the supervisor and inherited by the program.
pub struct Streams {
    pub stdin: Stdio,
    pub stdout: Stdio,
    pub stderr: Stdio,
}

impl Streams {
    pub fn null() -> Streams {
        Streams {
            stdin: Stdio::null(),
            stdout: Stdio::null(),
            stderr: Stdio::null(),
        }
    }
}

/// Starts `binary` as a supervisor with `streams`.
pub fn start(binary: &Path, streams: Streams) -> std::io::Result<Handle> {
    let (control, theirs) = UnixStream::pair()?;
    let (channel, their_channel) = UnixStream::pair()?;
    let fds = [
        (high_fd(theirs.as_raw_fd())?, CONTROL_FD),
        (high_fd(their_channel.as_raw_fd())?, CHANNEL_FD),
    ];
    let mut cmd = std::process::Command::new(binary);
    cmd.arg(SUPERVISOR_ARG)
        .stdin(streams.stdin)
        .stdout(streams.stdout)
        .stderr(streams.stderr)
        .process_group(0);
    if super::phases::enabled() {
        cmd.env(super::phases::T0_VAR, super::phases::now_ns().to_string());
    }
    // SAFETY: dup2 and fcntl are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            for (fd, to) in &fds {
                if libc::dup2(fd.as_raw_fd(), *to) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                libc::fcntl(*to, libc::F_SETFD, 0);
            }
            Ok(())
        });
    }
    let child = cmd.spawn()?;
    Ok(Handle {
        child,
        control,
        channel,
    })
}

impl Handle {
    /// Closes the control socket (the supervisor then kills what is left and exits) and
    /// waits for it, killing it after 10 s.
    pub fn finish(mut self) {
        let _ = self.control.shutdown(std::net::Shutdown::Both);
        match self.child.wait_timeout(Duration::from_secs(10)) {
            Ok(Some(_)) => {}
            _ => {
                let _ = self.child.kill();
                let _ = self.child.wait();
            }
        }
    }
}

/// A close-on-exec duplicate of `fd` numbered 10 or above, clear of the standard descriptors
/// and of descriptors 3 and 4 in the child.
fn high_fd(fd: i32) -> std::io::Result<OwnedFd> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that we then own.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) })
}
