//! The private root a run sees: the system read-only, its own paths (the copy of the
//! submission, its home, the built program) bound at the same place, and fresh `/tmp`,
//! `/var/tmp`, `/dev/shm` and `/run/lock`. Nothing else: not the class folder, not other runs'
//! copies, not the grader's files, not `/home`, `/root` or `/srv`.
//!
//! Built by the supervisor as pid 1 of the run's pid namespace (so its `/proc` shows only the
//! run), in the run's mount namespace, the way bubblewrap does: a tmpfs becomes the new root,
//! the pieces are bound into it, and `pivot_root` leaves the old root behind.

use super::protocol::View;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

/// System folders bound read-only (those that exist; symlinks such as `/bin -> usr/bin` are
/// copied as symlinks).
pub const SYSTEM: &[&str] = &[
    "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/opt",
];

/// Device nodes bound from the host's `/dev`.
const DEVICES: &[&str] = &["null", "zero", "full", "random", "urandom", "tty"];

/// Writable places every program may use, each a fresh tmpfs private to the run.
pub const PRIVATE_DIRS: &[&str] = &["/tmp", "/var/tmp", "/dev/shm", "/run/lock"];

/// Where the new root is assembled (a tmpfs mounted over it, in our mount namespace only).
const STAGE: &str = "/tmp";

/// Builds the private root from `view` and moves into it. Returns an `O_PATH` descriptor on
/// the grader's `/proc`, which stays usable after the old root is gone (the supervisor
/// needs it to tell the grader the program's pid as the grader sees it).
pub fn enter(view: &View) -> Result<OwnedFd, String> {
    let host_proc = open_path(Path::new("/proc")).map_err(|e| format!("opening /proc: {e}"))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_PRIVATE,
        None::<&str>,
    )
    .map_err(|e| format!("making mounts private: {e}"))?;
    // The view's paths may lie below the stage: hold them open before covering it.
    let mut held = Vec::new();
    for (path, writable) in view
        .rw
        .iter()
        .map(|p| (p, true))
        .chain(view.ro.iter().map(|p| (p, false)))
    {
        let fd = open_path(path).map_err(|e| format!("opening {}: {e}", path.display()))?;
        held.push((path.clone(), fd, writable));
    }
    tmpfs(STAGE, "mode=0755,size=64m")?;
    let root = PathBuf::from(STAGE);
    system(&root)?;
    devices(&root)?;
    mount(
        Some("proc"),
        &root.join("proc"),
        Some("proc"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    )
    .map_err(|e| format!("mounting /proc: {e}"))?;
    for dir in PRIVATE_DIRS {
        let at = inside(&root, Path::new(dir));
        mkdirs(&at)?;
        tmpfs(&at, "mode=1777,size=512m")?;
    }
    symlink("/run/lock", &root.join("var/lock"))?;
    symlink("/run", &root.join("var/run"))?;
    for (path, fd, writable) in &held {
        bind_fd(fd, &inside(&root, path), *writable)?;
    }
    pivot(&root)?;
    remount_readonly(Path::new("/"))?;
    Ok(host_proc)
}

/// `root` + `path` (absolute).
fn inside(root: &Path, path: &Path) -> PathBuf {
    root.join(path.strip_prefix("/").unwrap_or(path))
}

fn system(root: &Path) -> Result<(), String> {
    for dir in SYSTEM.iter().map(Path::new) {
        let Ok(meta) = std::fs::symlink_metadata(dir) else {
            continue;
        };
        let at = inside(root, dir);
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
            symlink(&target.to_string_lossy(), &at)?;
        } else if meta.is_dir() {
            mkdirs(&at)?;
            bind(dir, &at, false)?;
        }
    }
    for dir in ["proc", "sys", "dev", "home", "run", "var"] {
        mkdirs(&root.join(dir))?;
    }
    // /sys read-only: some libraries read the CPU topology there.
    if Path::new("/sys").is_dir() {
        bind(Path::new("/sys"), &root.join("sys"), false)?;
    }
    Ok(())
}

fn devices(root: &Path) -> Result<(), String> {
    let dev = root.join("dev");
    for name in DEVICES {
        let host = Path::new("/dev").join(name);
        if !host.exists() {
            continue;
        }
        let at = dev.join(name);
        std::fs::write(&at, b"").map_err(|e| format!("{}: {e}", at.display()))?;
        bind(&host, &at, true)?;
    }
    symlink("/proc/self/fd", &dev.join("fd"))?;
    for (i, name) in ["stdin", "stdout", "stderr"].iter().enumerate() {
        symlink(&format!("/proc/self/fd/{i}"), &dev.join(name))?;
    }
    mkdirs(&dev.join("mqueue"))?;
    // A POSIX message queue file system for the run's IPC namespace, where it may be mounted.
    let _ = mount(
        Some("mqueue"),
        &dev.join("mqueue"),
        Some("mqueue"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        None::<&str>,
    );
    Ok(())
}

fn tmpfs(at: impl AsRef<Path>, options: &str) -> Result<(), String> {
    let at = at.as_ref();
    mount(
        Some("tmpfs"),
        at,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV,
        Some(options),
    )
    .map_err(|e| format!("private {}: {e}", at.display()))
}

fn mkdirs(path: &Path) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(|e| format!("creating {}: {e}", path.display()))
}

fn symlink(target: &str, at: &Path) -> Result<(), String> {
    if let Some(parent) = at.parent() {
        mkdirs(parent)?;
    }
    std::os::unix::fs::symlink(target, at).map_err(|e| format!("linking {}: {e}", at.display()))
}

fn open_path(path: &Path) -> std::io::Result<OwnedFd> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_PATH | libc::O_CLOEXEC)
        .open(path)?;
    Ok(file.into())
}

use std::os::unix::fs::OpenOptionsExt;

/// Binds what `fd` refers to onto `at` (created to match: a folder or an empty file).
fn bind_fd(fd: &OwnedFd, at: &Path, writable: bool) -> Result<(), String> {
    let source = PathBuf::from(format!("/proc/self/fd/{}", fd.as_raw_fd()));
    let is_dir = std::fs::metadata(&source)
        .map(|m| m.is_dir())
        .unwrap_or(true);
    if is_dir {
        mkdirs(at)?;
    } else {
        if let Some(parent) = at.parent() {
            mkdirs(parent)?;
        }
        std::fs::write(at, b"").map_err(|e| format!("{}: {e}", at.display()))?;
    }
    bind(&source, at, writable)
}

fn bind(source: &Path, at: &Path, writable: bool) -> Result<(), String> {
    mount(
        Some(source),
        at,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        None::<&str>,
    )
    .map_err(|e| format!("binding {}: {e}", at.display()))?;
    if writable {
        Ok(())
    } else {
        remount_readonly(at)
    }
}

/// Makes the mount at `at` read-only, keeping the flags a user namespace may not drop.
fn remount_readonly(at: &Path) -> Result<(), String> {
    let kept = locked_flags(at);
    mount(
        None::<&str>,
        at,
        None::<&str>,
        MsFlags::MS_BIND | MsFlags::MS_REMOUNT | MsFlags::MS_RDONLY | kept,
        None::<&str>,
    )
    .map_err(|e| format!("making {} read-only: {e}", at.display()))
}

/// The flags of the mount at `at` that must be repeated on a remount.
fn locked_flags(at: &Path) -> MsFlags {
    use nix::sys::statvfs::{statvfs, FsFlags};
    let Ok(stat) = statvfs(at) else {
        return MsFlags::empty();
    };
    let f = stat.flags();
    let mut out = MsFlags::empty();
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
    ] {
        if f.contains(fs) {
            out |= ms;
        }
    }
    // Linux's ST_RELATIME, which nix names only for glibc: the kernel reports it alike
    // through every libc's statvfs.
    if f.bits() & ST_RELATIME != 0 {
        out |= MsFlags::MS_RELATIME;
    }
    out
}

/// `ST_RELATIME` of `<linux/statfs.h>`.
const ST_RELATIME: nix::libc::c_ulong = 0x1000;

/// `pivot_root(".", ".")` in `root`, then the old root, stacked below, is detached.
fn pivot(root: &Path) -> Result<(), String> {
    std::env::set_current_dir(root).map_err(|e| format!("entering the new root: {e}"))?;
    let dot = CString::new(".").map_err(|e| e.to_string())?;
    // SAFETY: pivot_root with two valid C strings.
    let r = unsafe { libc::syscall(libc::SYS_pivot_root, dot.as_ptr(), dot.as_ptr()) };
    if r != 0 {
        return Err(format!("pivot_root: {}", std::io::Error::last_os_error()));
    }
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the old root: {e}"))?;
    std::env::set_current_dir("/").map_err(|e| format!("entering /: {e}"))
}
