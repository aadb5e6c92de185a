//! Reader threads: the pseudo-terminal (stdout), the stderr pipe and the supervisor's
//! reports, each feeding the shared state.
//!
//! Output is stored up to a cap per stream; past it the stream is marked flooded, and reading
//! goes on (discarding) so the program never blocks on a full terminal: the grader's memory
//! stays bounded whatever the program prints.

use super::state::{Reaped, Removed, Shared, StreamState, MAX_LINE, MAX_REMOVED};
use super::transcript::{Entry, Source};
use crate::sandbox::protocol::{Facility, Report};
use std::io::{BufRead, BufReader};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::sync::Arc;
use std::thread::JoinHandle;

/// Reads `fd` until end of file (or EIO, which is how a pty master says it).
pub fn spawn_stream_reader(shared: Arc<Shared>, fd: OwnedFd, source: Source) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            match nix::unistd::read(fd.as_fd(), &mut buf) {
                Ok(0) => break,
                Ok(n) => ingest(&shared, source, &buf[..n]),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
        }
        shared.update(|st| {
            let at_ms = st.entries.last().map_or(0, |e| e.at_ms);
            let stream = stream_mut(st, source);
            stream.eof = true;
            let rest = std::mem::take(&mut stream.partial);
            if !rest.is_empty() {
                push_line(st, source, &rest, at_ms.max(shared.now_ms()));
            }
        });
    })
}

fn stream_mut(st: &mut super::state::State, source: Source) -> &mut StreamState {
    match source {
        Source::Stderr => &mut st.stderr,
        _ => &mut st.stdout,
    }
}

fn ingest(shared: &Shared, source: Source, bytes: &[u8]) {
    let at_ms = shared.now_ms();
    let cap = shared.output_cap;
    shared.update(|st| {
        let stream = stream_mut(st, source);
        stream.total_bytes += bytes.len() as u64;
        if stream.stored_bytes >= cap {
            if st.flooded.is_none() {
                st.flooded = Some(source);
            }
            return;
        }
        stream.stored_bytes += bytes.len() as u64;
        stream.partial.extend_from_slice(bytes);
        let mut lines = Vec::new();
        while let Some(pos) = stream.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = stream.partial.drain(..=pos).collect();
            lines.push(line[..line.len() - 1].to_vec());
        }
        while stream.partial.len() > MAX_LINE {
            let line: Vec<u8> = stream.partial.drain(..MAX_LINE).collect();
            lines.push(line);
        }
        if !stream.partial.is_empty() {
            stream.partial_at_ms = at_ms;
        }
        for line in lines {
            push_line(st, source, &line, at_ms);
        }
    });
}

fn push_line(st: &mut super::state::State, source: Source, line: &[u8], at_ms: u64) {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = String::from_utf8_lossy(line).into_owned();
    st.entries.push(Entry {
        at_ms,
        source,
        text,
    });
}

/// Reads the supervisor's reports until its socket closes.
pub fn spawn_report_reader(shared: Arc<Shared>, control: UnixStream) -> JoinHandle<()> {
    std::thread::spawn(move || {
        let reader = BufReader::new(control);
        for line in reader.lines() {
            let Ok(line) = line else { break };
            let Ok(report) = serde_json::from_str::<Report>(&line) else {
                continue;
            };
            apply(&shared, report);
        }
        shared.update(|st| st.supervisor_gone = true);
    })
}

fn apply(shared: &Shared, report: Report) {
    shared.update(|st| match report {
        Report::Ready { pid } => st.supervisor_pid = Some(pid),
        Report::Started { pid, own_pid } => {
            st.main_pid = Some(pid);
            st.own_pid = Some(own_pid);
            st.started_at_ms = Some(shared.now_ms());
        }
        Report::SpawnFailed { error } => st.spawn_error = Some(error),
        Report::Reaped {
            pid, exit, main, ..
        } => {
            // The grader's clock, so exits sort correctly among the transcript's entries.
            let reaped = Reaped {
                pid,
                exit,
                at_ms: shared.now_ms(),
            };
            if main {
                st.main_exit = Some(reaped);
            }
            st.reaped.push(reaped);
        }
        Report::Empty => st.empty = true,
        Report::WallLimit => st.wall_limit = true,
        Report::KilledAll { .. } => st.killed_all = true,
        Report::Listener { port, options } => st.listeners.push((port, options)),
        Report::Removed { path, size, head } => {
            if st.removed.len() < MAX_REMOVED {
                st.removed.push(Removed { path, size, head });
            }
        }
        Report::Process { event } => st.processes.update(|tree| tree.apply_reported(&event)),
        Report::Problem {
            facility: Facility::Removals,
            error,
        } => st.removals_problem = Some(error),
        Report::Problem {
            facility: Facility::Processes,
            error,
        } => st.processes_problem = Some(error),
        // The guarantees were probed once; what this run could not set up is known.
        Report::Problem { .. } => {}
    });
}
