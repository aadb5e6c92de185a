//! Resource limits for a program, applied between fork and exec.

use super::protocol::Limits;
use nix::sys::resource::{setrlimit, Resource};

/// Applies `limits` to the calling process. Async-signal-safe: only `setrlimit` calls.
pub fn apply(limits: &Limits) -> std::io::Result<()> {
    set(Resource::RLIMIT_CPU, limits.cpu_seconds)?;
    set(Resource::RLIMIT_NPROC, limits.processes)?;
    set(Resource::RLIMIT_FSIZE, limits.file_size_bytes)?;
    set(Resource::RLIMIT_NOFILE, limits.open_files)?;
    set(Resource::RLIMIT_AS, limits.address_space_bytes)?;
    set(Resource::RLIMIT_CORE, 0)
}

fn set(resource: Resource, value: u64) -> std::io::Result<()> {
    setrlimit(resource, value, value).map_err(std::io::Error::from)
}
