//! fifo_server (lecture: SimpleFiFo/server.py): makes the FIFO `mypipe` in the working
//! directory (an existing one is fine), prints `fifo server ready, pid <pid>`, then for each
//! writer: opens the FIFO for reading (blocking until a writer comes), reads to end of file,
//! prints `read <N>` (N bytes) and opens it again. SIGINT or SIGHUP (even while blocked in
//! the open) removes the FIFO, prints `stopping server and removing fifo`, exits 0.
//!
//! Scenarios: `fifo_server.fifo`, `fifo_server.reads`, `fifo_server.sigint`,
//! `fifo_server.sighup`.

use nix::errno::Errno;
use nix::fcntl::{open, OFlag};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::{mkfifo, read};
use reference::signals::{Catcher, Woken};
use std::os::fd::{AsFd, OwnedFd};
use std::process::exit;

const FIFO: &str = "mypipe";

fn stop() -> ! {
    println!("stopping server and removing fifo");
    if let Err(e) = std::fs::remove_file(FIFO) {
        eprintln!("fifo_server: removing {FIFO}: {e}");
    }
    exit(0);
}

/// Open the FIFO for reading; `None` when a signal came first.
fn open_fifo(catcher: &Catcher) -> Option<OwnedFd> {
    loop {
        // The open blocks until a writer opens the other end: let the signals interrupt it.
        match catcher.unblocked(|| open(FIFO, OFlag::O_RDONLY | OFlag::O_CLOEXEC, Mode::empty())) {
            None | Some(Err(Errno::EINTR)) if catcher.any_pending() => return None,
            None | Some(Err(Errno::EINTR)) => continue,
            Some(Ok(fd)) => return Some(fd),
            Some(Err(e)) => {
                eprintln!("fifo_server: opening {FIFO}: {e}");
                exit(1);
            }
        }
    }
}

/// Read `fd` to end of file; the byte count, or `None` when a signal came first.
fn read_all(catcher: &Catcher, fd: &OwnedFd) -> Option<usize> {
    let mut total = 0;
    let mut buf = [0u8; 4096];
    loop {
        // Wait for data (or the writer's close) in a way signals can interrupt.
        if catcher.wait_fd(Some(fd.as_fd()), nix::poll::PollFlags::POLLIN, None) == Woken::Signal {
            return None;
        }
        match read(fd, &mut buf) {
            Ok(0) => return Some(total),
            Ok(n) => total += n,
            Err(Errno::EINTR | Errno::EAGAIN) => {}
            Err(e) => {
                eprintln!("fifo_server: reading {FIFO}: {e}");
                exit(1);
            }
        }
    }
}

fn main() {
    let catcher = Catcher::new(&[Signal::SIGINT, Signal::SIGHUP]).expect("install handlers");
    match mkfifo(FIFO, Mode::from_bits_truncate(0o666)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => {
            eprintln!("fifo_server: mkfifo {FIFO}: {e}");
            exit(1);
        }
    }
    println!("fifo server ready, pid {}", nix::unistd::getpid());
    loop {
        let Some(fd) = open_fifo(&catcher) else {
            stop()
        };
        let Some(n) = read_all(&catcher, &fd) else {
            stop()
        };
        println!("read {n}");
    }
}
