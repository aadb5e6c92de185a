//! Telling the harness's own helper from an impostor: a process connecting to a records
//! socket is believed only if it is a Python interpreter running, untraced and without
//! injected code, one of the helper scripts the harness installed, byte for byte.
//!
//! The peer is named by the kernel (`SO_PEERCRED`, translated into the grader's pid
//! namespace), not by anything the program can say.

use crate::sandbox::procfs;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};

/// Variables that would let a program run its own code inside a genuine helper.
const INJECTING: &[&str] = &[
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "PYTHONPATH",
    "PYTHONSTARTUP",
    "PYTHONHOME",
    "PYTHONINSPECT",
    "PYTHONUSERBASE",
    "PYTHONEXECUTABLE",
];

/// A helper script the harness installed: its full text.
#[derive(Debug, Clone)]
pub struct Trusted {
    pub text: Vec<u8>,
}

/// Checks the peer of `stream` against `trusted`; the reason when it is not believed.
pub fn peer(stream: &UnixStream, trusted: &[Trusted]) -> Result<(), String> {
    let pid = crate::peer::pid(stream).map_err(|e| format!("no peer credentials: {e}"))?;
    let proc = PathBuf::from(format!("/proc/{pid}"));
    // Readable by anyone: read once, before the ids change and for the tracer check.
    let status = std::fs::read_to_string(proc.join("status")).unwrap_or_default();
    let _as_peer = PeerFsIds::take(&status);
    let exe = std::fs::read_link(proc.join("exe")).map_err(|e| format!("pid {pid}: {e}"))?;
    let exe_name = exe.file_name().map(|n| n.to_string_lossy().into_owned());
    if !exe_name.is_some_and(|n| n.starts_with("python")) {
        return Err(format!("pid {pid} runs {}, not Python", exe.display()));
    }
    if procfs::status_value(&status, "TracerPid") != Some("0") {
        return Err(format!("pid {pid} is traced"));
    }
    let environ = std::fs::read(proc.join("environ")).unwrap_or_default();
    for var in environ.split(|b| *b == 0) {
        let name = var.split(|b| *b == b'=').next().unwrap_or_default();
        if let Some(bad) = INJECTING.iter().find(|v| v.as_bytes() == name) {
            return Err(format!("pid {pid} was started with {bad} set"));
        }
    }
    let cmdline = std::fs::read(proc.join("cmdline")).unwrap_or_default();
    let script = script_of(&cmdline).ok_or_else(|| format!("pid {pid} runs no script"))?;
    // The script as the helper itself opens it: relative to its working directory, in its
    // own file system.
    let seen = if Path::new(&script).is_absolute() {
        proc.join("root").join(script.trim_start_matches('/'))
    } else {
        proc.join("cwd").join(&script)
    };
    let text = std::fs::read(&seen).map_err(|e| format!("pid {pid}: reading {script}: {e}"))?;
    if trusted.iter().any(|t| t.text == text) {
        Ok(())
    } else {
        Err(format!(
            "pid {pid} runs {script}, which is not the harness's helper"
        ))
    }
}

/// While alive, this thread's file-system ids are the peer's. A root grader in a container has
/// no `CAP_SYS_PTRACE`, so it may read `/proc/<pid>/exe`, `environ` and `cwd` of a program run
/// under another uid only as that uid; the file-system ids are per thread, so no other thread
/// of the grader is affected.
struct PeerFsIds {
    changed: bool,
}

impl PeerFsIds {
    /// Takes the ids of the peer whose `/proc/<pid>/status` is `status`.
    fn take(status: &str) -> PeerFsIds {
        let ids = (
            procfs::status_id(status, "Uid"),
            procfs::status_id(status, "Gid"),
        );
        let (Some(uid), Some(gid)) = ids else {
            return PeerFsIds { changed: false };
        };
        if !nix::unistd::geteuid().is_root() || uid == 0 {
            return PeerFsIds { changed: false };
        }
        // SAFETY: setfsgid/setfsuid change only this thread's file-system ids.
        unsafe {
            libc::syscall(libc::SYS_setfsgid, gid);
            libc::syscall(libc::SYS_setfsuid, uid);
        }
        PeerFsIds { changed: true }
    }
}

impl Drop for PeerFsIds {
    fn drop(&mut self) {
        if self.changed {
            // SAFETY: back to the grader's own ids, for this thread only.
            unsafe {
                libc::syscall(libc::SYS_setfsuid, nix::unistd::geteuid().as_raw());
                libc::syscall(libc::SYS_setfsgid, nix::unistd::getegid().as_raw());
            }
        }
    }
}

/// The script a Python command line runs: its first argument that is not an option. `None`
/// for `python3` reading standard input, `-c code` or `-m module`.
fn script_of(cmdline: &[u8]) -> Option<String> {
    let mut args = cmdline.split(|b| *b == 0).skip(1).filter(|a| !a.is_empty());
    while let Some(arg) = args.next() {
        match arg {
            b"-c" | b"-m" | b"-" => return None,
            // Options that take a value: `-X dev`, `-W error`.
            b"-X" | b"-W" => {
                args.next();
            }
            _ if arg.starts_with(b"-") => continue,
            _ => return Some(String::from_utf8_lossy(arg).into_owned()),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::script_of;
    use rstest::rstest;

    #[rstest]
    #[case(b"python3\0/tmp/h/probe.py\0".as_slice(), Some("/tmp/h/probe.py"))]
    #[case(b"python3\0-u\0-B\0run.py\0a\0".as_slice(), Some("run.py"))]
    #[case(b"python3\0-X\0dev\0run.py\0".as_slice(), Some("run.py"))]
    #[case(b"python3\0".as_slice(), None)]
    #[case(b"python3\0-\0".as_slice(), None)]
    #[case(b"python3\0-c\0print(1)\0".as_slice(), None)]
    #[case(b"python3\0-m\0http.server\0".as_slice(), None)]
    fn finds_the_script(#[case] cmdline: &[u8], #[case] want: Option<&str>) {
        assert_eq!(script_of(cmdline).as_deref(), want);
    }
}
