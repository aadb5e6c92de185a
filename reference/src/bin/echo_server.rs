//! echo_server (lecture: SimpleSocket/server.py): listens on 127.0.0.1:65432 (SO_REUSEADDR)
//! and serves one connection after another, sending back every chunk it receives with its
//! bytes reversed until the peer closes. After a connection in which a chunk was exactly
//! `HUP` it exits 0. SIGINT or SIGHUP (also while waiting in accept or recv) exit 0.
//!
//! Output: `echo server listening on 127.0.0.1:65432, pid <pid>`, `Connected by <addr>`,
//! `received <n> bytes: "<data>"`, `connection closed`, `stopping server`.
//!
//! Scenarios: `echo_server.reverse`, `echo_server.reconnect`, `echo_server.hup`,
//! `echo_server.sigint`.

use nix::poll::PollFlags;
use nix::sys::signal::Signal;
use reference::signals::{Catcher, Woken};
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsFd;
use std::process::exit;

const ADDRESS: &str = "127.0.0.1:65432";

fn stop() -> ! {
    println!("stopping server");
    exit(0);
}

/// Echo chunks back reversed until the peer closes; `true` if one chunk was `HUP`.
fn serve(catcher: &Catcher, mut conn: TcpStream) -> bool {
    let mut saw_hup = false;
    let mut buf = [0u8; 1024];
    loop {
        if catcher.wait_fd(Some(conn.as_fd()), PollFlags::POLLIN, None) == Woken::Signal {
            stop();
        }
        let n = match conn.read(&mut buf) {
            Ok(0) => return saw_hup,
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("echo_server: receiving: {e}");
                return saw_hup;
            }
        };
        let chunk = &mut buf[..n];
        println!("received {n} bytes: {:?}", String::from_utf8_lossy(chunk));
        saw_hup |= chunk == b"HUP";
        chunk.reverse();
        if let Err(e) = conn.write_all(chunk) {
            eprintln!("echo_server: sending: {e}");
            return saw_hup;
        }
    }
}

fn main() {
    let catcher = Catcher::new(&[Signal::SIGINT, Signal::SIGHUP]).expect("install handlers");
    // std sets SO_REUSEADDR before binding on Unix.
    let listener = TcpListener::bind(ADDRESS).unwrap_or_else(|e| {
        eprintln!("echo_server: cannot listen on {ADDRESS}: {e}");
        exit(1)
    });
    // Non-blocking, so that a connection gone between poll and accept cannot block us.
    listener.set_nonblocking(true).expect("set non-blocking");
    println!(
        "echo server listening on {ADDRESS}, pid {}",
        nix::unistd::getpid()
    );
    loop {
        if catcher.wait_fd(Some(listener.as_fd()), PollFlags::POLLIN, None) == Woken::Signal {
            stop();
        }
        let (conn, peer) = match listener.accept() {
            Ok(accepted) => accepted,
            Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
            Err(e) => {
                eprintln!("echo_server: accept: {e}");
                continue;
            }
        };
        let _ = conn.set_nonblocking(false);
        println!("Connected by {peer}");
        let hup = serve(&catcher, conn);
        println!("connection closed");
        if hup {
            stop();
        }
    }
}
