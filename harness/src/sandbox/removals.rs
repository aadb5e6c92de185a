//! Every regular file a program removes, seen as it was just before (`Spec::observe_removals`).
//!
//! A file written and deleted at once escapes inotify, and fanotify, which hands the grader a
//! descriptor of each file closed after writing, needs CAP_SYS_ADMIN in the initial user
//! namespace: an unprivileged fanotify group (Linux 5.13+) reports file handles and names
//! only, and opening a handle (`open_by_handle_at`) needs CAP_DAC_READ_SEARCH. Instead, a
//! seccomp filter installed in the program between fork and exec (`tap`) turns its `unlink`
//! and `unlinkat` into user notifications (`SECCOMP_RET_USER_NOTIF`, Linux 5.0) that the
//! supervisor answers: it reads the path from the caller's memory, opens the file, reports
//! its size and first bytes ([`Report::Removed`]) and lets the call go on
//! (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`, 5.5). That needs no privilege, only `no_new_privs`
//! (set for Landlock anyway), and Docker's default seccomp profile allows it: the same
//! observation as root, as an ordinary user and in a container. The program's tree inherits
//! the filter; a removal through another architecture's system calls (i386, x32) is not
//! seen. Nothing is changed for the program but a short pause at each removal.
//!
//! Reading the caller's memory (`/proc/<pid>/mem`) and its working directory needs ptrace
//! access to it: the supervisor is its ancestor, and as root it takes the program's uid as
//! its file-system identity on the serving thread (root in a container has no
//! CAP_SYS_PTRACE).

use super::protocol::Report;
use std::os::fd::AsRawFd;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::PathBuf;

/// At most this many bytes of a removed file are reported.
const KEEP: usize = 4096;
/// At most this many removals are reported per run (later ones still go on).
pub(super) const MAX_REPORTS: usize = 1000;

/// The regular file a request is about to remove, read now.
pub(super) fn look(req: &libc::seccomp_notif) -> Option<Report> {
    let pid = req.pid;
    let args = req.data.args;
    let (dirfd, address, flags) = if i64::from(req.data.nr) == libc::SYS_unlinkat {
        (args[0] as i32, args[1], args[2] as i32)
    } else {
        (libc::AT_FDCWD, args[0], 0)
    };
    if flags & libc::AT_REMOVEDIR != 0 {
        return None;
    }
    let path = read_path(pid, address)?;
    let full = if path.is_absolute() {
        PathBuf::from(format!("/proc/{pid}/root")).join(path.strip_prefix("/").ok()?)
    } else if dirfd == libc::AT_FDCWD {
        PathBuf::from(format!("/proc/{pid}/cwd")).join(path)
    } else {
        PathBuf::from(format!("/proc/{pid}/fd/{dirfd}")).join(path)
    };
    // Only regular files are opened: opening a device node or a FIFO can do something.
    if !std::fs::symlink_metadata(&full).ok()?.is_file() {
        return None;
    }
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&full)
        .ok()?;
    let meta = file.metadata().ok()?;
    if !meta.is_file() {
        return None;
    }
    let mut head = vec![0u8; KEEP.min(meta.len() as usize)];
    let read = file.read_at(&mut head, 0).unwrap_or(0);
    head.truncate(read);
    let path = std::fs::read_link(format!("/proc/self/fd/{}", file.as_raw_fd())).ok()?;
    Some(Report::Removed {
        path,
        size: meta.len(),
        head,
    })
}

/// The NUL-terminated path at `address` in process `pid`'s memory.
fn read_path(pid: u32, address: u64) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStringExt;
    let mem = std::fs::File::open(format!("/proc/{pid}/mem")).ok()?;
    let buf = read_cstring(&mem, address, libc::PATH_MAX as usize)?;
    Some(PathBuf::from(std::ffi::OsString::from_vec(buf)))
}

/// The NUL-terminated string at `address` in a process's memory (`mem`), at most `max`
/// bytes long.
pub(super) fn read_cstring(mem: &std::fs::File, address: u64, max: usize) -> Option<Vec<u8>> {
    let mut buf = vec![0u8; max];
    let mut got = 0;
    // Page by page: a path near the end of a mapping must not fail the whole read.
    while got < buf.len() {
        let at = address + got as u64;
        let page_left = 4096 - (at % 4096) as usize;
        let want = page_left.min(buf.len() - got);
        let n = mem.read_at(&mut buf[got..got + want], at).ok()?;
        if n == 0 {
            return None;
        }
        if let Some(end) = buf[got..got + n].iter().position(|b| *b == 0) {
            buf.truncate(got + end);
            return Some(buf);
        }
        got += n;
    }
    None
}
