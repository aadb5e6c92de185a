//! fifo_client (lecture: SimpleFiFo/client.py): makes the FIFO `mypipe` if it is missing,
//! opens it for writing (blocking until a reader comes), writes `0\n` .. `99\n`, closes it
//! and prints `wrote 100 lines`.
//!
//! Scenarios: `fifo_client.lines`, `fifo_client.creates`.

use nix::errno::Errno;
use nix::sys::stat::Mode;
use nix::unistd::mkfifo;
use std::fmt::Write as _;
use std::io::Write;
use std::process::exit;

const FIFO: &str = "mypipe";

fn main() {
    match mkfifo(FIFO, Mode::from_bits_truncate(0o666)) {
        Ok(()) | Err(Errno::EEXIST) => {}
        Err(e) => {
            eprintln!("fifo_client: mkfifo {FIFO}: {e}");
            exit(1);
        }
    }
    let mut text = String::new();
    for i in 0..100 {
        let _ = writeln!(text, "{i}");
    }
    // Opening for writing blocks until a reader opens the FIFO.
    let result = std::fs::OpenOptions::new()
        .write(true)
        .open(FIFO)
        .and_then(|mut fifo| fifo.write_all(text.as_bytes()));
    if let Err(e) = result {
        eprintln!("fifo_client: writing to {FIFO}: {e}");
        exit(1);
    }
    println!("wrote 100 lines");
}
