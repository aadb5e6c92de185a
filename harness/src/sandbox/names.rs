//! Locks on global names (a TCP port, a shared memory segment) for runs that share the
//! host's namespaces: two such runs that use the same fixed name take turns, so correctness
//! never depends on timing luck. With private namespaces no lock is needed.

use nix::fcntl::{Flock, FlockArg};
use std::fs::{File, OpenOptions};
use std::path::PathBuf;

/// A held name; released on drop.
#[derive(Debug)]
pub struct NameLock {
    pub name: String,
    _lock: Flock<File>,
}

/// Blocks until `name` (like `tcp:65432` or `shm:imageMap`) is free, then holds it.
pub fn claim(name: &str) -> std::io::Result<NameLock> {
    let dir = std::env::temp_dir().join("sysgrade-names");
    std::fs::create_dir_all(&dir)?;
    let file_name: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let path: PathBuf = dir.join(format!("{file_name}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    let lock =
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, e)| std::io::Error::from(e))?;
    Ok(NameLock {
        name: name.to_string(),
        _lock: lock,
    })
}
