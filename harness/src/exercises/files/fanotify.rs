//! Reading the events of the fanotify group `sandbox::fanotify::on_mount` makes for `files`:
//! each carries an open descriptor of the file written, so its size and bytes are read from
//! the file itself even after the program deleted it.

use super::watch::{describe, Written};
use std::fs::File;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::PathBuf;

/// Every queued fanotify event: the file's path (as the descriptor names it, without a
/// ` (deleted)` suffix) and what it holds.
pub fn read(fa: &OwnedFd) -> Vec<(PathBuf, Written)> {
    use std::os::fd::AsRawFd;
    let meta_len = std::mem::size_of::<libc::fanotify_event_metadata>();
    let mut out = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        // SAFETY: reading into a buffer we own, at most its length.
        let n = unsafe { libc::read(fa.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            break;
        }
        let mut at = 0usize;
        while at + meta_len <= n as usize {
            // SAFETY: the kernel wrote whole events; read_unaligned copes with alignment.
            let meta: libc::fanotify_event_metadata =
                unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
            if (meta.event_len as usize) < meta_len {
                break;
            }
            at += meta.event_len as usize;
            if meta.fd < 0 {
                continue;
            }
            // SAFETY: the event's descriptor is ours to close.
            let file = File::from(unsafe { OwnedFd::from_raw_fd(meta.fd) });
            let link = std::fs::read_link(format!("/proc/self/fd/{}", meta.fd));
            if let (Ok(link), Some(written)) = (link, describe(&file)) {
                let text = link.to_string_lossy();
                let path = text.strip_suffix(" (deleted)").unwrap_or(&text);
                out.push((PathBuf::from(path), written));
            }
        }
    }
    out
}
