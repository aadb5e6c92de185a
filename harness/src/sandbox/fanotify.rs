//! fanotify on a whole mount, for close-after-write: each event comes with an open
//! descriptor of the file, so what a program wrote can be read even after it deleted the
//! file. `files` marks a run's own mount with it; `sysgrade doctor` asks the kernel the same
//! way whether it may.

use std::os::fd::{FromRawFd, OwnedFd};

/// A fanotify group with a mount mark on `path`'s mount for close-after-write, or the
/// kernel's refusal (`fanotify_init` wants CAP_SYS_ADMIN in the initial user namespace for a
/// group that receives descriptors; a mount mark wants it too).
pub fn on_mount(path: &str) -> std::io::Result<OwnedFd> {
    let what = |step: &str| {
        let e = std::io::Error::last_os_error();
        std::io::Error::new(e.kind(), format!("{step}: {e}"))
    };
    let c_path = std::ffi::CString::new(path).map_err(std::io::Error::other)?;
    // SAFETY: plain system calls; the descriptor is owned at once, the path outlives the call.
    unsafe {
        let fd = libc::fanotify_init(
            libc::FAN_CLASS_NOTIF | libc::FAN_CLOEXEC | libc::FAN_NONBLOCK,
            (libc::O_RDONLY | libc::O_LARGEFILE | libc::O_CLOEXEC) as libc::c_uint,
        );
        if fd < 0 {
            return Err(what("fanotify_init"));
        }
        let owned = OwnedFd::from_raw_fd(fd);
        let marked = libc::fanotify_mark(
            fd,
            libc::FAN_MARK_ADD | libc::FAN_MARK_MOUNT,
            libc::FAN_CLOSE_WRITE,
            libc::AT_FDCWD,
            c_path.as_ptr(),
        );
        if marked != 0 {
            return Err(what("fanotify_mark"));
        }
        Ok(owned)
    }
}
