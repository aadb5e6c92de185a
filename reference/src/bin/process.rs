//! process (lecture: Processes/process.cpp): prints its process id, user id and group id,
//! then exits 0.
//!
//! Scenarios: `process.ids` (the numbers are the real pid/uid/gid), `process.exit`.
//!
//! Output: `Process id is <pid>`, `User ID <uid>`, `Group ID <gid>`.

use nix::unistd::{getgid, getpid, getuid};

fn main() {
    println!("Process id is {}", getpid());
    println!("User ID {}", getuid());
    println!("Group ID {}", getgid());
}
