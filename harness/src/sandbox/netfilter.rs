//! The socket families and types Landlock does not cover, refused (`Sandbox::tcp_ports`).
//!
//! Where a run shares the host's network (no network namespace), Landlock's network rules
//! (ABI 4+) hold TCP to the exercise's ports; UDP, raw and packet sockets, SCTP and MPTCP are
//! beyond them. This seccomp filter, installed in the program between fork and exec and
//! inherited by its whole tree, answers `socket()` with `EACCES` unless it asks for a unix
//! or netlink socket, or a plain TCP socket (`AF_INET`/`AF_INET6`, `SOCK_STREAM`, protocol 0
//! or `IPPROTO_TCP`). It also refuses `io_uring_setup` (`EPERM`), which could make sockets
//! without the `socket` system call, and the i386 `socket` and `socketcall` calls. Nothing
//! is killed: a refused call fails as a permission error, and every other call is allowed, so
//! this filter never takes precedence over the removals tap's notifications.
//!
//! Unix sockets stay: Python, Qt's D-Bus and the harness's own probes use them, and files
//! are Landlock's. Netlink stays: glibc's `getaddrinfo` asks the kernel's routes over it, and
//! it reaches nothing outside the machine.

use libc::sock_filter;

/// The architecture's audit number and its `socket` system call.
#[cfg(target_arch = "x86_64")]
const NATIVE: Option<(u32, u32)> = Some((0xC000_003E, libc::SYS_socket as u32));
#[cfg(target_arch = "aarch64")]
const NATIVE: Option<(u32, u32)> = Some((0xC000_00B7, libc::SYS_socket as u32));
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const NATIVE: Option<(u32, u32)> = None;

/// x86-64's x32 calls carry this bit in their number.
const X32_BIT: u32 = 0x4000_0000;
/// i386 programs on x86-64: the audit number, `socketcall` and `socket`.
const I386: (u32, u32, u32) = (0x4000_0003, 102, 359);
/// `io_uring_setup`, the same number on every architecture.
const IO_URING_SETUP: u32 = 425;

const LOAD: u16 = (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS) as u16;
const RET: u16 = (libc::BPF_RET | libc::BPF_K) as u16;
const JEQ: u16 = (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16;
const AND: u16 = (libc::BPF_ALU | libc::BPF_AND | libc::BPF_K) as u16;

const RET_ALLOW: u32 = libc::SECCOMP_RET_ALLOW;
const RET_EACCES: u32 = libc::SECCOMP_RET_ERRNO | libc::EACCES as u32;
const RET_EPERM: u32 = libc::SECCOMP_RET_ERRNO | libc::EPERM as u32;

/// Offsets in `struct seccomp_data`: the number, the architecture, the low halves of
/// arguments 0, 1 and 2 (little-endian).
const NR: u32 = 0;
const ARCH: u32 = 4;
const ARG0: u32 = 16;
const ARG1: u32 = 24;
const ARG2: u32 = 32;

const fn op(code: u16, k: u32) -> sock_filter {
    sock_filter {
        code,
        jt: 0,
        jf: 0,
        k,
    }
}

const fn jeq(k: u32, jt: u8, jf: u8) -> sock_filter {
    sock_filter {
        code: JEQ,
        jt,
        jf,
        k,
    }
}

/// Its length.
const LEN: usize = 27;

/// The filter for `arch` (its audit number) and its `socket` number. A jump skips that many
/// instructions; the comments name where it lands.
const fn filter(arch: u32, socket: u32) -> [sock_filter; LEN] {
    [
        /* 0 */ op(LOAD, ARCH),
        /* 1 */ jeq(arch, 0, 19), // else 21: another architecture
        /* 2 */ op(LOAD, NR),
        /* 3 */ jeq(socket, 3, 0), // 7
        /* 4 */ jeq(socket | X32_BIT, 14, 0), // 19: refused
        /* 5 */ jeq(IO_URING_SETUP, 14, 0), // 20: refused
        /* 6 */ op(RET, RET_ALLOW),
        // socket(domain, type, protocol)
        /* 7 */ op(LOAD, ARG0),
        /* 8 */ jeq(libc::AF_UNIX as u32, 9, 0), // 18
        /* 9 */ jeq(libc::AF_NETLINK as u32, 8, 0), // 18
        /* 10 */ jeq(libc::AF_INET as u32, 1, 0), // 12
        /* 11 */ jeq(libc::AF_INET6 as u32, 0, 7), // 12, else 19
        // AF_INET or AF_INET6: SOCK_STREAM (the type without its flags), then TCP
        /* 12 */
        op(LOAD, ARG1),
        /* 13 */ op(AND, 0xf),
        /* 14 */ jeq(libc::SOCK_STREAM as u32, 0, 4), // else 19
        /* 15 */ op(LOAD, ARG2),
        /* 16 */ jeq(0, 1, 0), // 18
        /* 17 */ jeq(libc::IPPROTO_TCP as u32, 0, 1), // 18, else 19
        /* 18 */ op(RET, RET_ALLOW),
        /* 19 */ op(RET, RET_EACCES),
        /* 20 */ op(RET, RET_EPERM),
        // another architecture: i386's socketcall and socket refused, the rest allowed
        /* 21 */
        jeq(I386.0, 0, 3), // else 25
        /* 22 */ op(LOAD, NR),
        /* 23 */ jeq(I386.1, 2, 0), // 26
        /* 24 */ jeq(I386.2, 1, 0), // 26
        /* 25 */ op(RET, RET_ALLOW),
        /* 26 */ op(RET, RET_EACCES),
    ]
}

/// The filter of this architecture, made once, before any fork.
static FILTER: Option<[sock_filter; LEN]> = match NATIVE {
    Some((arch, socket)) => Some(filter(arch, socket)),
    None => None,
};

/// Installs the filter on the calling process (and so on all it starts). Between fork and
/// exec: async-signal-safe, two system calls, no allocation. `no_new_privs` is set, as
/// unprivileged seccomp requires.
pub fn install() -> std::io::Result<()> {
    let Some(filter) = FILTER.as_ref() else {
        return Err(std::io::Error::from_raw_os_error(libc::ENOSYS));
    };
    let prog = libc::sock_fprog {
        len: LEN as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    // SAFETY: prctl with integers; seccomp reads the program, which lives in a static.
    unsafe {
        if libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        if libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            0,
            &prog as *const libc::sock_fprog,
        ) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Whether this architecture has the filter.
pub fn supported() -> bool {
    FILTER.is_some()
}

#[cfg(test)]
mod tests;
