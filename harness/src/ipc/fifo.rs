//! The harness as the other end of a program's FIFO: made with `mkfifo`, opened without ever
//! blocking (so a program that never opens its end is a timeout, not a hung grader), read or
//! written with deadlines.

use nix::errno::Errno;
use nix::fcntl::{fcntl, open, FcntlArg, OFlag};
use nix::poll::PollFlags;
use nix::sys::stat::Mode;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// Makes a FIFO at `path`, readable and writable by everyone (the run's uid gets it anyway).
pub fn make(path: &Path) -> std::io::Result<()> {
    nix::unistd::mkfifo(path, Mode::from_bits_truncate(0o666))?;
    // mkfifo's mode is cut by the umask.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o666))
}

/// What is at `path`: "a FIFO", "a regular file of 12 bytes", "a folder", …, or `None`.
pub fn describe(path: &Path) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    let meta = std::fs::symlink_metadata(path).ok()?;
    let kind = meta.file_type();
    Some(if kind.is_fifo() {
        "a FIFO".into()
    } else if kind.is_file() {
        format!("a regular file of {} bytes", meta.len())
    } else if kind.is_dir() {
        "a folder".into()
    } else if kind.is_symlink() {
        "a symbolic link".into()
    } else {
        "a special file".into()
    })
}

/// Whether `path` is a FIFO.
pub fn is_fifo(path: &Path) -> bool {
    describe(path).as_deref() == Some("a FIFO")
}

/// The harness's read end of a FIFO, opened non-blocking.
pub struct Reader {
    fd: OwnedFd,
}

/// What one wait on a reader gave.
#[derive(Debug, PartialEq, Eq)]
pub enum Got {
    /// This many bytes were appended.
    Data(usize),
    /// Every writer closed (after at least one had opened).
    Eof,
    /// Nothing before the deadline.
    Nothing,
}

impl Reader {
    /// Opens `path` for reading without waiting for a writer. With `keep_writer` it is opened
    /// read-write, so the FIFO always has a writer too: end of file never comes between the
    /// program's writers, and waiting for data never spins.
    pub fn open(path: &Path, keep_writer: bool) -> std::io::Result<Self> {
        let mode = if keep_writer {
            OFlag::O_RDWR
        } else {
            OFlag::O_RDONLY
        };
        let fd = open(
            path,
            mode | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        )?;
        Ok(Reader { fd })
    }

    /// Asks for a pipe buffer of `bytes` (fewer context switches for large transfers).
    pub fn grow(&self, bytes: i32) {
        let _ = fcntl(&self.fd, FcntlArg::F_SETPIPE_SZ(bytes));
    }

    pub fn fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }

    /// Reads everything available now into `out` (at most `limit` bytes kept; the rest is
    /// read and counted). Returns the bytes read and whether the writers are gone.
    pub fn drain(&self, out: &mut Vec<u8>, limit: usize) -> (usize, bool) {
        let mut buf = vec![0u8; 1 << 16];
        let mut total = 0;
        loop {
            match nix::unistd::read(&self.fd, &mut buf) {
                Ok(0) => return (total, true),
                Ok(n) => {
                    let keep = n.min(limit.saturating_sub(out.len()));
                    out.extend_from_slice(&buf[..keep]);
                    total += n;
                }
                Err(Errno::EINTR) => {}
                Err(_) => return (total, false),
            }
        }
    }

    /// Waits for data or end of file until `deadline` (at most `cap`).
    pub fn wait(&self, out: &mut Vec<u8>, limit: usize, deadline: Instant, cap: Duration) -> Got {
        let ready = super::wait_ready(&[self.fd()], PollFlags::POLLIN, deadline, cap);
        let flags = ready.first().copied().unwrap_or(PollFlags::empty());
        if flags.is_empty() {
            return Got::Nothing;
        }
        let (n, writers_gone) = self.drain(out, limit);
        if n > 0 {
            Got::Data(n)
        } else if writers_gone && flags.contains(PollFlags::POLLHUP) {
            Got::Eof
        } else {
            Got::Nothing
        }
    }

    /// Reads until end of file or `deadline`: the bytes and whether end of file came.
    pub fn read_to_eof(&self, deadline: Instant) -> (Vec<u8>, bool) {
        let mut out = Vec::new();
        loop {
            match self.wait(&mut out, usize::MAX, deadline, Duration::MAX) {
                Got::Eof => return (out, true),
                Got::Nothing if Instant::now() >= deadline => return (out, false),
                _ => {}
            }
        }
    }
}

/// Opens `path` for writing once a reader has it open, trying until `deadline` or until
/// `give_up` says so. A reader blocked in `open` raises no event: the attempt is repeated
/// with a growing pause. `Ok(None)` when no reader came.
pub fn open_writer(
    path: &Path,
    deadline: Instant,
    mut give_up: impl FnMut() -> bool,
) -> std::io::Result<Option<std::fs::File>> {
    let mut error = None;
    let found = super::poll_state(deadline, || {
        if give_up() {
            return Some(None);
        }
        match open(
            path,
            OFlag::O_WRONLY | OFlag::O_NONBLOCK | OFlag::O_CLOEXEC,
            Mode::empty(),
        ) {
            Ok(fd) => Some(Some(fd)),
            Err(Errno::ENXIO | Errno::ENOENT) => None,
            Err(e) => {
                error = Some(e);
                Some(None)
            }
        }
    });
    if let Some(e) = error {
        return Err(e.into());
    }
    Ok(found.flatten().map(std::fs::File::from))
}

/// Writes all of `bytes` to `file` (opened non-blocking) before `deadline`, waiting for room
/// in the pipe. Returns how many bytes went in; fewer when the reader stopped reading or left.
pub fn write_within(file: &std::fs::File, bytes: &[u8], deadline: Instant) -> usize {
    use std::io::Write;
    let mut done = 0;
    let mut out = file;
    while done < bytes.len() {
        match out.write(&bytes[done..]) {
            Ok(0) => break,
            Ok(n) => done += n,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                let ready =
                    super::wait_ready(&[file.as_fd()], PollFlags::POLLOUT, deadline, Duration::MAX);
                if ready.first().is_none_or(|r| r.is_empty()) && Instant::now() >= deadline {
                    break;
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    done
}
