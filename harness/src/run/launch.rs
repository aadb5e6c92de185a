//! Starting a program under a fresh supervisor: pty for stdout, pipes for stdin and stderr,
//! the control socket and the socket channel.

use super::output::{spawn_report_reader, spawn_stream_reader};
use super::state::Shared;
use super::transcript::Source;
use crate::error::Error;
use crate::sandbox::handle::{self, Handle, Streams};
use crate::sandbox::protocol::Spec;
use crate::sandbox::pty;
use std::fs::File;
use std::io::Write;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

/// The grader's side of a started supervisor.
pub struct Launched {
    pub handle: Handle,
    /// The socket channel, shared with the run's `Reach` handles.
    pub channel: Arc<Mutex<std::os::unix::net::UnixStream>>,
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
    let streams = Streams {
        stdin: Stdio::from(in_read),
        stdout: Stdio::from(pty.slave),
        stderr: Stdio::from(err_write),
    };
    let handle = handle::start(supervisor, streams).map_err(|source| Error::Supervisor {
        path: supervisor.to_path_buf(),
        source,
    })?;
    let shared = Arc::new(Shared::new(output_cap));
    let mut line = serde_json::to_string(spec).map_err(|e| Error::Internal(e.to_string()))?;
    line.push('\n');
    (&handle.control)
        .write_all(line.as_bytes())
        .map_err(io_err("sending the run spec"))?;
    // The readers end by themselves when the program's tree and the supervisor are gone.
    spawn_stream_reader(shared.clone(), pty.master, Source::Stdout);
    spawn_stream_reader(shared.clone(), err_read, Source::Stderr);
    spawn_report_reader(
        shared.clone(),
        handle
            .control
            .try_clone()
            .map_err(io_err("control socket"))?,
    );
    let channel = Arc::new(Mutex::new(
        handle
            .channel
            .try_clone()
            .map_err(io_err("socket channel"))?,
    ));
    Ok(Launched {
        handle,
        channel,
        stdin: Some(File::from(in_write)),
        shared,
    })
}

fn pipe() -> Result<(OwnedFd, OwnedFd), Error> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(nix_err("creating a pipe"))
}
