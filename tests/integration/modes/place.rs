//! A trial's own folder and the `sysgrade` it runs there, in one of the three modes: a copy
//! of the binary, the submissions and a home, owned by the uid the grader runs as (an
//! ordinary user in the user mode), with a clean environment.

use super::Mode;
use crate::confine;
use harness::sandbox::procfs;
use libtest_mimic::Failed;
use std::os::unix::fs::{chown, PermissionsExt};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};
use wait_timeout::ChildExt;

/// Ordinary users for the user mode, one per trial (so that a program's `kill(-1)` in one
/// trial cannot reach another trial's grader): counted down from 60999, below the pool of
/// 61000–61255 that the grader leases to its runs.
static NEXT_UID: AtomicU32 = AtomicU32::new(60_999);

/// One trial's folder: `bin/sysgrade`, `home/`, `work/` (the submissions).
pub struct Place {
    pub mode: Mode,
    dir: tempfile::TempDir,
    pub home: PathBuf,
    pub work: PathBuf,
    /// The uid/gid the grader is switched to, when it is not the test's own.
    pub ids: Option<(u32, u32)>,
}

impl Place {
    pub fn new(mode: Mode) -> Result<Place, Failed> {
        Place::new_in(mode, &std::env::temp_dir())
    }

    /// A place below `base` instead of the temporary folder.
    pub fn new_in(mode: Mode, base: &Path) -> Result<Place, Failed> {
        let ids = (mode == Mode::User && confine::is_root()).then(|| {
            let uid = NEXT_UID.fetch_sub(1, Ordering::Relaxed);
            (uid, uid)
        });
        let dir = tempfile::Builder::new().prefix("modes-").tempdir_in(base)?;
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755))?;
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin)?;
        std::fs::copy(crate::support::SYSGRADE, bin.join("sysgrade"))?;
        let place = Place {
            mode,
            home: dir.path().join("home"),
            work: dir.path().join("work"),
            dir,
            ids,
        };
        for (folder, perm) in [(&place.home, 0o700), (&place.work, 0o755)] {
            std::fs::create_dir(folder)?;
            std::fs::set_permissions(folder, std::fs::Permissions::from_mode(perm))?;
            place.own(folder)?;
        }
        Ok(place)
    }

    /// The uid the grader runs as in this place.
    pub fn uid(&self) -> u32 {
        // SAFETY: getuid cannot fail.
        self.ids
            .map_or_else(|| unsafe { libc::getuid() }, |(uid, _)| uid)
    }

    fn own(&self, path: &Path) -> std::io::Result<()> {
        match self.ids {
            Some((uid, gid)) => chown(path, Some(uid), Some(gid)),
            None => Ok(()),
        }
    }

    /// Copies the folder `from` to `work/<rel>`, owned by the grader's uid.
    pub fn copy(&self, from: &Path, rel: &str) -> Result<PathBuf, Failed> {
        let to = self.work.join(rel);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent)?;
            self.own(parent)?;
        }
        copy_tree(self, from, &to)?;
        Ok(to)
    }

    /// `sysgrade ARGS…` in this place's mode, with a clean environment, in `work/`.
    pub fn sysgrade(&self) -> Command {
        self.binary("sysgrade")
    }

    /// Copies the executable `from` into the place as `bin/<name>`, beside `sysgrade`.
    pub fn add_binary(&self, from: &Path, name: &str) -> std::io::Result<()> {
        std::fs::copy(from, self.dir.path().join("bin").join(name)).map(drop)
    }

    /// `bin/<name> ARGS…` in this place's mode, with a clean environment, in `work/`.
    pub fn binary(&self, name: &str) -> Command {
        let bin = self.dir.path().join("bin").join(name);
        let mut cmd = match self.mode {
            Mode::Container => confine::command(bin),
            Mode::Root | Mode::User => Command::new(bin),
        };
        self.prepare(&mut cmd);
        cmd
    }

    /// Sets the clean environment and, in the user mode, the switch to the place's uid.
    pub fn prepare(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", "/usr/local/bin:/usr/bin:/bin")
            .env("HOME", &self.home)
            .env("LANG", "C.UTF-8")
            .current_dir(&self.work)
            .process_group(0);
        if let Some((uid, gid)) = self.ids {
            // SAFETY: the closure makes raw, async-signal-safe system calls only.
            unsafe {
                cmd.pre_exec(move || become_user(uid, gid));
            }
        }
    }

    /// Runs `cmd` (from [`Place::sysgrade`]) to its end, killed after `limit`.
    pub fn run(&self, mut cmd: Command, limit: Duration) -> Result<Ran, Failed> {
        let out = tempfile::tempfile()?;
        let err = tempfile::tempfile()?;
        let started = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(err.try_clone()?)
            .spawn()?;
        let Some(status) = child.wait_timeout(limit)? else {
            // SAFETY: kill on the process group this test started (process_group(0)).
            unsafe { libc::kill(-(child.id() as i32), libc::SIGKILL) };
            let _ = child.wait();
            return Err(format!(
                "{} mode: sysgrade still running after {limit:?}: killed\nstderr:\n{}",
                self.mode.name(),
                tail(&read_all(err)?, 3000)
            )
            .into());
        };
        Ok(Ran {
            status,
            stdout: read_all(out)?,
            stderr: read_all(err)?,
            secs: started.elapsed().as_secs_f64(),
        })
    }
}

impl Drop for Place {
    /// In the user mode, ends whatever still runs as the place's uid (a grader killed by its
    /// own program leaves runs behind) and removes what that uid left in the shared
    /// temporary folders, so that later trials and test runs start clean. The trial has
    /// already judged by then.
    fn drop(&mut self) {
        let Some((uid, _)) = self.ids else { return };
        for pid in processes_of(uid) {
            // SAFETY: kill by pid, of a process running as this trial's own uid.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        // SIGKILL is delivered asynchronously: let them die before removing what they made.
        let deadline = Instant::now() + Duration::from_secs(3);
        while !processes_of(uid).is_empty() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for shared in ["/tmp", "/var/tmp", "/dev/shm", "/run/lock"] {
            let Ok(entries) = std::fs::read_dir(shared) else {
                continue;
            };
            for entry in entries.flatten() {
                use std::os::unix::fs::MetadataExt;
                let Ok(meta) = entry.path().symlink_metadata() else {
                    continue;
                };
                if meta.uid() != uid {
                    continue;
                }
                let _ = if meta.is_dir() {
                    std::fs::remove_dir_all(entry.path())
                } else {
                    std::fs::remove_file(entry.path())
                };
            }
        }
    }
}

/// A finished grading.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
    pub secs: f64,
}

impl Ran {
    /// The grader exited by itself with 0 (all passed) or 1 (some did not).
    pub fn exited_normally(&self, mode: Mode) -> Result<(), String> {
        match self.status.code() {
            Some(0 | 1) => Ok(()),
            _ => Err(format!(
                "{} mode: sysgrade ended with {} (signal {:?})\nstdout:\n{}\nstderr:\n{}",
                mode.name(),
                self.status,
                self.status.signal(),
                tail(&self.stdout, 2000),
                tail(&self.stderr, 3000)
            )),
        }
    }

    /// The JSON report on standard output (or in `file`), one object per submission.
    pub fn json(&self, mode: Mode, text: &str) -> Result<Vec<serde_json::Value>, String> {
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Array(all)) => Ok(all),
            Ok(one) => Ok(vec![one]),
            Err(e) => Err(format!(
                "{} mode: the report is not JSON ({e}); exit {}\nreport:\n{}\nstderr:\n{}",
                mode.name(),
                self.status,
                tail(text, 2000),
                tail(&self.stderr, 3000)
            )),
        }
    }
}

fn become_user(uid: u32, gid: u32) -> std::io::Result<()> {
    // SAFETY: plain system calls; async-signal-safe between fork and exec.
    unsafe {
        if libc::setgroups(0, std::ptr::null()) != 0
            || libc::setgid(gid) != 0
            || libc::setuid(uid) != 0
        {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

fn copy_tree(place: &Place, from: &Path, to: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        std::fs::set_permissions(to, std::fs::Permissions::from_mode(0o755))?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(place, &entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.is_file() {
        std::fs::copy(from, to)?;
    } else {
        return Ok(());
    }
    place.own(to)
}

fn read_all(mut file: std::fs::File) -> std::io::Result<String> {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    file.rewind()?;
    file.read_to_end(&mut bytes)?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

pub fn tail(text: &str, max: usize) -> &str {
    let mut start = text.len().saturating_sub(max);
    while !text.is_char_boundary(start) {
        start += 1;
    }
    &text[start..]
}

/// Live (not zombie) processes whose real uid is `uid`.
fn processes_of(uid: u32) -> Vec<i32> {
    procfs::all()
        .into_iter()
        .filter(|p| !p.is_zombie() && p.uid == uid)
        .map(|p| p.pid)
        .collect()
}
