//! The filter run by a small interpreter of the classic BPF it uses, on chosen calls.

use super::*;

const X86_64: u32 = 0xC000_003E;

/// Runs `prog` on a `seccomp_data` of `arch`, `nr` and the arguments' low halves.
fn run(prog: &[sock_filter], arch: u32, nr: u32, args: [u32; 3]) -> u32 {
    let word = |offset: u32| match offset {
        NR => nr,
        ARCH => arch,
        ARG0 => args[0],
        ARG1 => args[1],
        ARG2 => args[2],
        other => panic!("load at {other}"),
    };
    let (mut pc, mut acc) = (0usize, 0u32);
    loop {
        let ins = prog[pc];
        pc += 1;
        match ins.code {
            LOAD => acc = word(ins.k),
            AND => acc &= ins.k,
            RET => return ins.k,
            JEQ => pc += usize::from(if acc == ins.k { ins.jt } else { ins.jf }),
            other => panic!("instruction {other:#x}"),
        }
    }
}

fn decide(nr: u32, args: [u32; 3]) -> u32 {
    run(&filter(X86_64, 41), X86_64, nr, args)
}

fn sock(domain: i32, kind: i32, protocol: i32) -> u32 {
    decide(41, [domain as u32, kind as u32, protocol as u32])
}

#[test]
fn tcp_unix_and_netlink_sockets_are_allowed() {
    use libc::*;
    assert_eq!(sock(AF_INET, SOCK_STREAM, 0), RET_ALLOW);
    assert_eq!(
        sock(
            AF_INET6,
            SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
            IPPROTO_TCP
        ),
        RET_ALLOW
    );
    assert_eq!(sock(AF_UNIX, SOCK_DGRAM, 0), RET_ALLOW);
    assert_eq!(sock(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), RET_ALLOW);
    assert_eq!(sock(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE), RET_ALLOW);
}

#[test]
fn what_landlock_does_not_cover_is_refused_with_eacces() {
    use libc::*;
    assert_eq!(sock(AF_INET, SOCK_DGRAM, 0), RET_EACCES);
    assert_eq!(
        sock(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP),
        RET_EACCES
    );
    assert_eq!(sock(AF_INET, SOCK_RAW, IPPROTO_ICMP), RET_EACCES);
    assert_eq!(sock(AF_INET, SOCK_STREAM, IPPROTO_SCTP), RET_EACCES);
    assert_eq!(sock(AF_INET, SOCK_STREAM, 262), RET_EACCES, "MPTCP");
    assert_eq!(sock(AF_INET, SOCK_SEQPACKET, 0), RET_EACCES);
    assert_eq!(sock(AF_PACKET, SOCK_RAW, 0x0300), RET_EACCES);
    assert_eq!(sock(AF_VSOCK, SOCK_STREAM, 0), RET_EACCES);
    assert_eq!(
        decide(41 | X32_BIT, [AF_INET as u32, SOCK_STREAM as u32, 0]),
        RET_EACCES
    );
    assert_eq!(decide(IO_URING_SETUP, [8, 0, 0]), RET_EPERM);
}

#[test]
fn every_other_call_is_allowed() {
    for nr in [0, 1, 42, 49, 59, 87, 263, 435] {
        assert_eq!(
            decide(nr, [libc::AF_INET as u32, libc::SOCK_DGRAM as u32, 0]),
            RET_ALLOW
        );
    }
}

#[test]
fn i386_sockets_are_refused_and_the_rest_allowed() {
    let prog = filter(X86_64, 41);
    assert_eq!(run(&prog, I386.0, 359, [2, 2, 0]), RET_EACCES);
    assert_eq!(run(&prog, I386.0, 102, [1, 0, 0]), RET_EACCES);
    assert_eq!(run(&prog, I386.0, 4, [1, 0, 0]), RET_ALLOW);
    assert_eq!(run(&prog, 0xC000_00B7, 198, [2, 2, 0]), RET_ALLOW);
}
