//! The netlink side of [`super`]: the connector socket, subscribing, and splitting what the
//! kernel sends into proc events (`struct cn_msg` and `struct proc_event`, linux/cn_proc.h).

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

const CN_IDX_PROC: u32 = 1;
const CN_VAL_PROC: u32 = 1;
pub const PROC_CN_MCAST_LISTEN: u32 = 1;
pub const PROC_CN_MCAST_IGNORE: u32 = 2;
const NLMSG_HDR: usize = 16;
const CN_MSG: usize = 20;

/// A non-blocking connector socket bound to the proc events group, with a large receive
/// buffer (SO_RCVBUFFORCE as root) so bursts of events are not dropped.
pub fn open_socket() -> io::Result<OwnedFd> {
    // SAFETY: plain socket/bind/setsockopt calls on a descriptor we own from here on.
    unsafe {
        let fd = libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            libc::NETLINK_CONNECTOR,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let sock = OwnedFd::from_raw_fd(fd);
        let size: libc::c_int = 8 << 20;
        let len = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
        let p = (&size as *const libc::c_int).cast();
        if libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUFFORCE, p, len) != 0 {
            libc::setsockopt(fd, libc::SOL_SOCKET, libc::SO_RCVBUF, p, len);
        }
        let mut addr: libc::sockaddr_nl = std::mem::zeroed();
        addr.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        addr.nl_groups = CN_IDX_PROC;
        let alen = std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t;
        if libc::bind(fd, (&addr as *const libc::sockaddr_nl).cast(), alen) != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(sock)
    }
}

/// Sends `op` (listen or ignore); the kernel's acknowledgement carries `tag + 1`.
pub fn control(sock: &OwnedFd, op: u32, tag: u32) -> io::Result<()> {
    let mut msg = Vec::with_capacity(NLMSG_HDR + CN_MSG + 4);
    let total = (NLMSG_HDR + CN_MSG + 4) as u32;
    msg.extend_from_slice(&total.to_ne_bytes());
    msg.extend_from_slice(&(libc::NLMSG_DONE as u16).to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&std::process::id().to_ne_bytes());
    for word in [CN_IDX_PROC, CN_VAL_PROC, 0, tag] {
        msg.extend_from_slice(&word.to_ne_bytes());
    }
    msg.extend_from_slice(&4u16.to_ne_bytes());
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&op.to_ne_bytes());
    // SAFETY: sending a buffer we own to the kernel (netlink address 0).
    let sent = unsafe {
        let mut kernel: libc::sockaddr_nl = std::mem::zeroed();
        kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
        libc::sendto(
            sock.as_raw_fd(),
            msg.as_ptr().cast(),
            msg.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Calls `f(what, timestamp_ns, event data, cn_msg ack)` for each proc event in `buf`.
pub fn for_each_event(buf: &[u8], mut f: impl FnMut(u32, u64, &[u8], u32)) {
    let mut at = 0;
    while at + NLMSG_HDR <= buf.len() {
        let len = u32_at(buf, at) as usize;
        if len < NLMSG_HDR || at + len > buf.len() {
            return;
        }
        let msg = &buf[at..at + len];
        if msg.len() >= NLMSG_HDR + CN_MSG + 16 && u32_at(msg, NLMSG_HDR) == CN_IDX_PROC {
            let ev = &msg[NLMSG_HDR + CN_MSG..];
            let ack = u32_at(msg, NLMSG_HDR + 12);
            f(u32_at(ev, 0), u64_at(ev, 8), &ev[16..], ack);
        }
        at += (len + 3) & !3;
    }
}

/// The kernel's CLOCK_MONOTONIC timestamp as an `Instant` (the same clock on Linux).
pub fn event_instant(ts_ns: u64) -> Instant {
    let now = Instant::now();
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    let mono = if unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut t) } == 0 {
        t.tv_sec as u64 * 1_000_000_000 + t.tv_nsec as u64
    } else {
        ts_ns
    };
    now.checked_sub(Duration::from_nanos(mono.saturating_sub(ts_ns)))
        .unwrap_or(now)
}

/// The native-endian word at `at`, or 0 past the end.
pub fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

/// The native-endian double word at `at`, or 0 past the end.
pub fn u64_at(b: &[u8], at: usize) -> u64 {
    b.get(at..at + 8)
        .and_then(|s| s.try_into().ok())
        .map_or(0, u64::from_ne_bytes)
}
