//! The seccomp tap: a filter installed in the program between fork and exec that turns the
//! watched system calls into user notifications (`SECCOMP_RET_USER_NOTIF`, Linux 5.0), the
//! socket pair its listener crosses to the supervisor, and the thread that answers each
//! notification, letting every call go on unchanged (`SECCOMP_USER_NOTIF_FLAG_CONTINUE`,
//! 5.5). One filter, one listener, for both uses: removals (`removals`) and processes
//! (`proc_calls`). It needs no privilege, only `no_new_privs`, and Docker's default seccomp
//! profile allows it. The program's tree inherits the filter; a call through another
//! architecture's system calls (i386, x32) is not seen.

use super::removals::{look, MAX_REPORTS};
use libc::{sock_filter, sock_fprog};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

/// The architecture's audit number and the removals watched (aarch64 has no `unlink`).
#[cfg(target_arch = "x86_64")]
const WATCHED: Option<(u32, &[i64])> = Some((0xC000_003E, &[libc::SYS_unlink, libc::SYS_unlinkat]));
#[cfg(target_arch = "aarch64")]
const WATCHED: Option<(u32, &[i64])> = Some((0xC000_00B7, &[libc::SYS_unlinkat]));
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const WATCHED: Option<(u32, &[i64])> = None;

/// What the filter watches: removals, processes, or both (one filter, one listener).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Watching {
    pub removals: bool,
    pub processes: bool,
}

/// The filter and the socket pair its listener crosses, made before fork.
pub struct Tap {
    filter: Vec<sock_filter>,
    parent: OwnedFd,
    child: OwnedFd,
    watching: Watching,
}

/// What the child needs between fork and exec: plain values only.
#[derive(Clone, Copy)]
pub struct Installer {
    filter: *const sock_filter,
    len: u16,
    socket: RawFd,
}

// SAFETY: the pointer is only read in the forked child, whose copy of the parent's memory
// holds the filter (the `Tap` outlives the spawn).
unsafe impl Send for Installer {}
unsafe impl Sync for Installer {}

fn stmt(code: u32, k: u32) -> sock_filter {
    sock_filter {
        code: code as u16,
        jt: 0,
        jf: 0,
        k,
    }
}

fn jump(k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16,
        jt,
        jf,
        k,
    }
}

/// The filter: the watched system calls of this architecture become user notifications,
/// everything else is allowed.
fn filter(arch: u32, calls: &[i64]) -> Vec<sock_filter> {
    let load = libc::BPF_LD | libc::BPF_W | libc::BPF_ABS;
    let n = calls.len();
    let mut filter = vec![
        stmt(load, 4), // seccomp_data.arch
        jump(arch, 0, (n + 1) as u8),
        stmt(load, 0), // seccomp_data.nr
    ];
    for (i, call) in calls.iter().enumerate() {
        filter.push(jump(*call as u32, (n - i) as u8, 0));
    }
    filter.push(stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW));
    filter.push(stmt(
        libc::BPF_RET | libc::BPF_K,
        libc::SECCOMP_RET_USER_NOTIF,
    ));
    filter
}

impl Tap {
    pub fn new(watching: Watching) -> Result<Tap, String> {
        let Some((arch, removals)) = WATCHED else {
            return Err("not implemented for this architecture".into());
        };
        let mut calls = Vec::new();
        if watching.removals {
            calls.extend_from_slice(removals);
        }
        if watching.processes {
            calls.extend_from_slice(super::proc_calls::WATCHED);
        }
        let filter = filter(arch, &calls);
        let mut fds = [0 as RawFd; 2];
        let kind = libc::SOCK_SEQPACKET | libc::SOCK_CLOEXEC;
        // SAFETY: socketpair fills two descriptors, owned at once.
        if unsafe { libc::socketpair(libc::AF_UNIX, kind, 0, fds.as_mut_ptr()) } != 0 {
            return Err(format!("socketpair: {}", std::io::Error::last_os_error()));
        }
        // SAFETY: just made, owned by nobody else.
        let (parent, child) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        Ok(Tap {
            filter,
            parent,
            child,
            watching,
        })
    }

    pub fn installer(&self) -> Installer {
        Installer {
            filter: self.filter.as_ptr(),
            len: self.filter.len() as u16,
            socket: self.child.as_raw_fd(),
        }
    }

    /// Before the spawn: a thread receives the listener the child sends between fork and
    /// exec and answers its notifications (the program's own exec among them, so this
    /// cannot wait until the spawn returned), reporting on `out`. `ids` is the program's uid
    /// and gid when the supervisor is root.
    pub fn serve(self, out: super::supervisor::Sender, ids: Option<(u32, u32)>) -> Serving {
        let (told, answer) = std::sync::mpsc::channel();
        let Tap {
            filter,
            parent,
            child,
            watching,
        } = self;
        std::thread::spawn(move || {
            let listener = receive(&parent);
            let _ = told.send(listener.as_ref().map(drop).map_err(Clone::clone));
            if let Ok(listener) = listener {
                take_identity(ids);
                answer_all(&listener, &out, watching);
            }
        });
        Serving {
            _filter: filter,
            child,
            answer,
        }
    }
}

/// A tap being served: what the spawn must keep until the child has gone through exec.
pub struct Serving {
    _filter: Vec<sock_filter>,
    child: OwnedFd,
    answer: std::sync::mpsc::Receiver<Result<(), String>>,
}

impl Serving {
    /// After the spawn: whether the child's listener arrived, or why nothing will be
    /// observed. The child sends it (or its error) before exec, and its end of the socket
    /// closes at exec, so the answer is prompt.
    pub fn confirm(self) -> Result<(), String> {
        drop(self.child);
        self.answer
            .recv_timeout(std::time::Duration::from_secs(10))
            .map_err(|_| "the program sent no seccomp listener".to_string())?
    }
}

/// Takes the program's uid and gid as this thread's file-system identity (when the
/// supervisor is root): reading another process's memory, or its exit code in `stat`,
/// needs ptrace access, which root in a container lacks (no CAP_SYS_PTRACE).
pub(super) fn take_identity(ids: Option<(u32, u32)>) {
    if let Some((uid, gid)) = ids {
        // SAFETY: per-thread file-system identity (the raw calls, not the libc wrappers
        // that would change every thread); integer arguments only.
        unsafe {
            libc::syscall(libc::SYS_setfsgid, gid);
            libc::syscall(libc::SYS_setfsuid, uid);
        }
    }
}

impl Installer {
    /// In the child, between fork and exec (async-signal-safe system calls only): sets
    /// `no_new_privs`, installs the filter and sends its listener to the supervisor, with 0,
    /// or the errno of what failed and no descriptor. The program runs either way.
    pub fn install(&self) {
        let prog = sock_fprog {
            len: self.len,
            filter: self.filter.cast_mut(),
        };
        // SAFETY: prctl and seccomp with valid arguments; sendmsg from stack buffers.
        unsafe {
            let listener = if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
                -1
            } else {
                libc::syscall(
                    libc::SYS_seccomp,
                    libc::SECCOMP_SET_MODE_FILTER,
                    libc::SECCOMP_FILTER_FLAG_NEW_LISTENER,
                    &prog as *const sock_fprog,
                ) as RawFd
            };
            let errno = if listener < 0 {
                *libc::__errno_location()
            } else {
                0
            };
            send_fd(self.socket, errno, listener);
            if listener >= 0 {
                libc::close(listener);
            }
        }
    }
}

/// Sends `errno` as 4 bytes and, when `fd >= 0`, the descriptor (no allocation).
unsafe fn send_fd(socket: RawFd, errno: i32, fd: RawFd) {
    let mut payload = errno.to_ne_bytes();
    let mut iov = libc::iovec {
        iov_base: payload.as_mut_ptr().cast(),
        iov_len: payload.len(),
    };
    let mut space = [0u64; 4];
    let mut msg: libc::msghdr = std::mem::zeroed();
    msg.msg_iov = &mut iov;
    msg.msg_iovlen = 1;
    if fd >= 0 {
        msg.msg_control = space.as_mut_ptr().cast();
        msg.msg_controllen = libc::CMSG_SPACE(4) as _;
        let cmsg = libc::CMSG_FIRSTHDR(&msg);
        (*cmsg).cmsg_level = libc::SOL_SOCKET;
        (*cmsg).cmsg_type = libc::SCM_RIGHTS;
        (*cmsg).cmsg_len = libc::CMSG_LEN(4) as _;
        std::ptr::write_unaligned(libc::CMSG_DATA(cmsg).cast::<RawFd>(), fd);
    }
    libc::sendmsg(socket, &msg, libc::MSG_NOSIGNAL);
}

/// The listener the child sent, or why there is none.
fn receive(socket: &OwnedFd) -> Result<OwnedFd, String> {
    use nix::sys::socket::{recvmsg, ControlMessageOwned, MsgFlags};
    let mut payload = [0u8; 4];
    let mut iov = [std::io::IoSliceMut::new(&mut payload)];
    let mut space = nix::cmsg_space!([RawFd; 1]);
    let flags = MsgFlags::MSG_CMSG_CLOEXEC;
    let msg = recvmsg::<()>(socket.as_raw_fd(), &mut iov, Some(&mut space), flags)
        .map_err(|e| format!("receiving the seccomp listener: {e}"))?;
    if msg.bytes == 0 {
        return Err("the program started without sending its seccomp listener".into());
    }
    let mut listener = None;
    for cmsg in msg
        .cmsgs()
        .map_err(|e| format!("receiving the seccomp listener: {e}"))?
    {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            for fd in fds {
                // SAFETY: a descriptor just received, owned by nobody else.
                listener.get_or_insert(unsafe { OwnedFd::from_raw_fd(fd) });
            }
        }
    }
    let errno = i32::from_ne_bytes(payload);
    listener.ok_or_else(|| {
        format!(
            "seccomp user notification: {}",
            std::io::Error::from_raw_os_error(errno)
        )
    })
}

/// Answers notifications until no process uses the filter any more.
fn answer_all(listener: &OwnedFd, out: &super::supervisor::Sender, watching: Watching) {
    use super::proc_calls::{Answer, Held};
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use std::os::fd::AsFd;
    let fd = listener.as_raw_fd();
    let mut reported = 0;
    // Waits held until their caller has a child to reap (see `proc_calls::on_call`).
    let mut held: Vec<Held> = Vec::new();
    loop {
        let mut fds = [PollFd::new(listener.as_fd(), PollFlags::POLLIN)];
        let timeout = if held.is_empty() {
            PollTimeout::NONE
        } else {
            PollTimeout::from(1u8)
        };
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(_) => return,
        }
        held.retain(|h| {
            if !still_pending(fd, h.id) {
                return false; // interrupted by a signal (asked again) or killed
            }
            let go = super::proc_calls::may_go(h);
            if go {
                go_on(fd, h.id);
            }
            !go
        });
        let revents = fds[0].revents().unwrap_or(PollFlags::empty());
        if !revents.contains(PollFlags::POLLIN) {
            if revents.intersects(PollFlags::POLLHUP | PollFlags::POLLERR | PollFlags::POLLNVAL) {
                return;
            }
            continue;
        }
        // SAFETY: the kernel wants a zeroed request; both structs are plain data.
        let mut req: libc::seccomp_notif = unsafe { std::mem::zeroed() };
        // SAFETY: ioctls on the listener with structs of the kernel's layout.
        if unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_RECV, &mut req) } != 0 {
            continue; // the caller died meanwhile (ENOENT), or a signal (EINTR)
        }
        let removal = WATCHED.is_some_and(|(_, calls)| calls.contains(&i64::from(req.data.nr)));
        if watching.processes && !removal {
            // Before the caller goes on: what it is about to do is recorded first.
            if let Answer::Hold(h) = super::proc_calls::on_call(&req) {
                held.push(h);
                continue;
            }
        }
        let wanted = watching.removals && removal && reported < MAX_REPORTS;
        let seen = wanted.then(|| look(&req)).flatten();
        // The caller may have died and its pid been reused while we read: only a request
        // still pending vouches for what was read.
        if let (true, Some(report)) = (still_pending(fd, req.id), seen) {
            // Before the caller goes on: the report comes before anything it does next
            // (its exit, above all) on the control socket.
            super::supervisor::send(out, &report);
            reported += 1;
        }
        go_on(fd, req.id);
    }
}

/// Whether the notification `id` still waits for its answer.
fn still_pending(fd: RawFd, id: u64) -> bool {
    // SAFETY: an ioctl on the listener with the id's address.
    unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0 }
}

/// Lets the call `id` go on unchanged.
fn go_on(fd: RawFd, id: u64) {
    let resp = libc::seccomp_notif_resp {
        id,
        val: 0,
        error: 0,
        flags: libc::SECCOMP_USER_NOTIF_FLAG_CONTINUE as u32,
    };
    // SAFETY: an ioctl on the listener with a struct of the kernel's layout.
    unsafe { libc::ioctl(fd, libc::SECCOMP_IOCTL_NOTIF_SEND, &resp) };
}
