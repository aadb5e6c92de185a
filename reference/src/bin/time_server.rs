//! time_server (the student project's p7_hw6.py): listens on 0.0.0.0:55555 (SO_REUSEADDR)
//! and, for each connection, sends `\n\nCurrent time: <ctime>\n\n` (local time as C's ctime,
//! e.g. `Sun Nov 22 02:49:31 2026`), shuts the connection down and closes it. Errors on one
//! connection (a client that resets at once) are reported on stderr and ignored.
//!
//! Output: `time server listening on port 55555, pid <pid>`, `served <addr>`.
//!
//! Scenarios: `time_server.message`, `time_server.many`, `time_server.reset_client`,
//! `time_server.restart`.

use std::ffi::CStr;
use std::io::Write;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::exit;

extern "C" {
    /// Reads TZ (POSIX; the libc crate does not declare it).
    fn tzset();
}

const ADDRESS: &str = "0.0.0.0:55555";

/// The local time as `ctime(3)` writes it, without its newline.
fn ctime_now() -> String {
    let mut buf = [0 as libc::c_char; 64];
    // SAFETY: ctime_r writes at most 26 bytes into the buffer, which is large enough.
    let text = unsafe {
        let now = libc::time(std::ptr::null_mut());
        if libc::ctime_r(&now, buf.as_mut_ptr()).is_null() {
            return "unknown time".to_owned();
        }
        CStr::from_ptr(buf.as_ptr())
    };
    text.to_string_lossy().trim_end().to_owned()
}

fn serve(mut conn: TcpStream) -> std::io::Result<()> {
    let message = format!("\n\nCurrent time: {}\n\n", ctime_now());
    // std sends with MSG_NOSIGNAL, and Rust programs ignore SIGPIPE anyway.
    conn.write_all(message.as_bytes())?;
    conn.shutdown(Shutdown::Both)
}

fn main() {
    // SAFETY: tzset only reads TZ and sets libc's time zone state, before any other thread.
    unsafe { tzset() };
    // std sets SO_REUSEADDR before binding on Unix; its backlog is the system's maximum.
    let listener = TcpListener::bind(ADDRESS).unwrap_or_else(|e| {
        eprintln!("time_server: cannot listen on {ADDRESS}: {e}");
        exit(1)
    });
    println!(
        "time server listening on port 55555, pid {}",
        nix::unistd::getpid()
    );
    loop {
        match listener.accept() {
            Ok((conn, peer)) => match serve(conn) {
                Ok(()) => println!("served {peer}"),
                Err(e) => eprintln!("time_server: serving {peer}: {e}"),
            },
            Err(e) => eprintln!("time_server: accept: {e}"),
        }
    }
}
