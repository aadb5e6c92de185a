//! Starting a program under a fresh supervisor: pty for stdout, pipes for stdin and stderr,
//! the control socket on descriptor 3.

use super::output::{spawn_report_reader, spawn_stream_reader};
use super::state::Shared;
use super::transcript::Source;
use crate::error::Error;
use crate::sandbox::protocol::{Spec, CONTROL_FD, SUPERVISOR_ARG};
use crate::sandbox::pty;
use std::fs::File;
use std::io::Write;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::Arc;

/// The grader's side of a started supervisor.
pub struct Launched {
    pub supervisor: Child,
    pub control: UnixStream,
    pub stdin: Option<File>,
    pub shared: Arc<Shared>,
}

fn io_err(what: &str) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        what: what.to_string(),
        source,
    }
}

fn nix_err(what: &str) -> impl Fn(nix::Error) -> Error + '_ {
    move |e| Error::Io {
        what: what.to_string(),
        source: e.into(),
    }
}

/// Starts `supervisor` (a grader binary) in supervisor mode and hands it `spec`.
pub fn launch(supervisor: &Path, spec: &Spec, output_cap: u64) -> Result<Launched, Error> {
    let pty = pty::open().map_err(nix_err("opening a pseudo-terminal"))?;
    let (err_read, err_write) = pipe()?;
    let (in_read, in_write) = pipe()?;
    let (control, theirs) = UnixStream::pair().map_err(io_err("creating the control socket"))?;
    let theirs_fd = high_fd(theirs.as_raw_fd())?;

    let mut cmd = std::process::Command::new(supervisor);
    cmd.arg(SUPERVISOR_ARG)
        .stdin(Stdio::from(in_read))
        .stdout(Stdio::from(pty.slave))
        .stderr(Stdio::from(err_write))
        .process_group(0);
    // SAFETY: dup2 and fcntl are async-signal-safe.
    unsafe {
        cmd.pre_exec(move || {
            if libc::dup2(theirs_fd.as_raw_fd(), CONTROL_FD) < 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::fcntl(CONTROL_FD, libc::F_SETFD, 0);
            Ok(())
        });
    }
    let supervisor = cmd.spawn().map_err(|source| Error::Supervisor {
        path: supervisor.to_path_buf(),
        source,
    })?;
    drop(cmd);
    drop(theirs);

    let shared = Arc::new(Shared::new(output_cap));
    let mut line = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    line.push('\n');
    (&control)
        .write_all(line.as_bytes())
        .map_err(io_err("sending the run spec"))?;
    // The readers end by themselves when the program's tree and the supervisor are gone.
    spawn_stream_reader(shared.clone(), pty.master, Source::Stdout);
    spawn_stream_reader(shared.clone(), err_read, Source::Stderr);
    spawn_report_reader(
        shared.clone(),
        control.try_clone().map_err(io_err("control socket"))?,
    );
    Ok(Launched {
        supervisor,
        control,
        stdin: Some(File::from(in_write)),
        shared,
    })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(nix_err("creating a pipe"))
}

/// A close-on-exec duplicate of `fd` numbered 10 or above, clear of the standard descriptors
/// and of descriptor 3 in the child.
fn high_fd(fd: i32) -> Result<OwnedFd, Error> {
    // SAFETY: F_DUPFD_CLOEXEC returns a new descriptor that we then own.
    let new = unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 10) };
    if new < 0 {
        return Err(io_err("duplicating the control socket")(
            std::io::Error::last_os_error(),
        ));
    }
    // SAFETY: `new` is a fresh descriptor owned by nobody else.
    Ok(unsafe { <OwnedFd as std::os::fd::FromRawFd>::from_raw_fd(new) })
}
