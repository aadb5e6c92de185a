//! Unprivileged identities for runs, leased one per concurrent run.
//!
//! As root, every run gets a uid/gid of its own from a small pool, leased with an `flock` so
//! that parallel runs — in this process or in another grader — never share one. A uid of its
//! own is what makes `RLIMIT_NPROC` a real bound on a fork bomb (root is exempt from it) and
//! lets leftovers (files in /tmp, processes) be found by owner.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

/// First uid (and gid) of the pool.
pub const BASE: u32 = 61_000;
/// Size of the pool: at most this many runs hold an identity at once on one machine.
pub const POOL: u32 = 256;

/// A leased uid/gid; released on drop.
#[derive(Debug)]
pub struct Lease {
    pub uid: u32,
    pub gid: u32,
    _lock: Flock<File>,
}

fn lock_dir() -> PathBuf {
    std::env::temp_dir().join("sysgrade-identities")
}

/// Whether runs will get identities of their own (the grader is root).
pub fn available() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Leases a free identity, or `None` when not root or the pool is exhausted.
pub fn lease() -> Option<Lease> {
    if !available() {
        return None;
    }
    let dir = lock_dir();
    std::fs::create_dir_all(&dir).ok()?;
    let _ = std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700));
    for slot in 0..POOL {
        let uid = BASE + slot;
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join(format!("{uid}.lock")))
            .ok()?;
        if let Ok(lock) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            return Some(Lease {
                uid,
                gid: uid,
                _lock: lock,
            });
        }
    }
    None
}
