//! shm_owner (the viewer side of the lecture's ImageSharedMemory): creates the POSIX shared
//! memory segment `imageMap` (/dev/shm/imageMap) of 400x400x4 bytes, prints
//! `shared memory imageMap ready, pid <pid>`, then waits. SIGINT or SIGHUP (and SIGTERM)
//! unlink the segment, print `removing shared memory imageMap` and exit 0.
//!
//! Scenarios: `shm_owner.created`, `shm_owner.unlinked`.

use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::signal::Signal;
use nix::sys::stat::Mode;
use nix::unistd::ftruncate;
use reference::image::{FRAME_BYTES, SEGMENT};
use reference::signals::Catcher;
use std::process::exit;
use std::time::Duration;

fn main() {
    let catcher =
        Catcher::new(&[Signal::SIGINT, Signal::SIGHUP, Signal::SIGTERM]).expect("install handlers");
    let fd = shm_open(
        SEGMENT,
        OFlag::O_CREAT | OFlag::O_RDWR,
        Mode::from_bits_truncate(0o600),
    )
    .unwrap_or_else(|e| {
        eprintln!("shm_owner: cannot create shared memory {SEGMENT}: {e}");
        exit(1)
    });
    if let Err(e) = ftruncate(&fd, FRAME_BYTES as i64) {
        eprintln!("shm_owner: cannot size {SEGMENT}: {e}");
        let _ = shm_unlink(SEGMENT);
        exit(1);
    }
    drop(fd);
    println!(
        "shared memory imageMap ready, pid {}",
        nix::unistd::getpid()
    );
    while !catcher.sleep(Duration::from_secs(3600)) {}
    println!("removing shared memory imageMap");
    if let Err(e) = shm_unlink(SEGMENT) {
        eprintln!("shm_owner: shm_unlink {SEGMENT}: {e}");
        exit(1);
    }
}
