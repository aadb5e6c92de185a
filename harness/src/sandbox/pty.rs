//! The pseudo-terminal a program's standard output goes to, in raw mode.
//!
//! On a terminal C stdio, iostreams and Python flush per line, as when a person runs the
//! program; raw mode keeps `\n` from becoming `\r\n`.

use nix::pty::{openpty, Winsize};
use nix::sys::termios::{cfmakeraw, tcgetattr, tcsetattr, SetArg};
use std::os::fd::OwnedFd;

/// The two ends of a fresh pseudo-terminal.
pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

pub fn open() -> nix::Result<Pty> {
    let size = Winsize {
        ws_row: 24,
        ws_col: 80,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    let pair = openpty(Some(&size), None)?;
    let mut attrs = tcgetattr(&pair.slave)?;
    cfmakeraw(&mut attrs);
    tcsetattr(&pair.slave, SetArg::TCSANOW, &attrs)?;
    // Both ends close-on-exec: the slave reaches the supervisor only as its stdout (dup2
    // clears the flag there), never as a stray copy in it or in other runs' supervisors —
    // a stray copy would keep the terminal open after the program's tree is gone.
    set_cloexec(&pair.master);
    set_cloexec(&pair.slave);
    Ok(Pty {
        master: pair.master,
        slave: pair.slave,
    })
}

fn set_cloexec(fd: &OwnedFd) {
    use std::os::fd::AsRawFd;
    // SAFETY: fcntl on a descriptor we own.
    unsafe {
        libc::fcntl(fd.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC);
    }
}
