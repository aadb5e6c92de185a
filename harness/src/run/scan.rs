//! The teardown's scans for what a run left outside its own folder: files, FIFOs, message
//! queues and shared memory segments in the scratch places. A place that could not be read
//! (or a scan that ran out of budget) is recorded in [`Unscanned`]: hygiene never calls a run
//! clean on a look it could not take.

use super::Run;
use crate::sandbox::copy::remove_entry;
use crate::sandbox::rootfs::PRIVATE_DIRS;
use std::path::{Path, PathBuf};

/// Most entries `owned_files` looks at before it gives up.
const BUDGET: usize = 20_000;

/// The places a scan could not read, each with why, as the program would name them.
#[derive(Debug, Default)]
pub(super) struct Unscanned(pub Vec<String>);

impl Unscanned {
    /// Records `shown` as not read because of `e`. A place that does not exist holds nothing:
    /// that is a complete look, not a missed one.
    fn note(&mut self, shown: &Path, e: &std::io::Error) {
        if e.kind() != std::io::ErrorKind::NotFound {
            self.0.push(format!("{} ({e})", shown.display()));
        }
    }
}

/// The names in `dir`, sorted; a folder that cannot be read is recorded as `shown`.
fn list_names(dir: &Path, shown: &Path, unscanned: &mut Unscanned) -> Vec<String> {
    let mut names: Vec<String> = match std::fs::read_dir(dir) {
        Ok(d) => d
            .filter_map(|e| Some(e.ok()?.file_name().to_string_lossy().into_owned()))
            .collect(),
        Err(e) => {
            unscanned.note(shown, &e);
            Vec::new()
        }
    };
    names.sort();
    names
}

/// The entries of the shared scratch places (`/tmp`, `/var/tmp`, `/dev/shm`, `/run/lock`) as
/// they are now: compared at the end of a run that has neither its own places nor its own
/// uid, to find what it added.
pub(super) fn shared_entries(unscanned: &mut Unscanned) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for dir in PRIVATE_DIRS {
        let dir = Path::new(dir);
        for name in list_names(dir, dir, unscanned) {
            out.push(dir.join(name));
        }
    }
    out
}

/// A grading folder of another grader (`/tmp/sysgrade-*`, owned by the grader's own uid,
/// which no program runs as): its runs' copies may belong to a uid this run holds now, and are
/// never this run's leftovers. A program's own `/tmp/sysgrade-…` is its uid's, and counts.
fn other_grader(path: &Path, meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    let top = path
        .parent()
        .is_some_and(|p| PRIVATE_DIRS.iter().any(|d| Path::new(d) == p));
    top && meta.is_dir()
        && meta.uid() == nix::unistd::geteuid().as_raw()
        && path
            .file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with("sysgrade-"))
}

/// Names the harness's own helpers leave (libfaketime's segments), never the program's.
fn harness_trace(name: &str) -> bool {
    name.starts_with("faketime_shm_") || name.starts_with("sem.faketime_sem_")
}

/// Entries the program left in its private scratch places (the folders that lead to its
/// own paths aside), named as the program saw them. They vanish with the run's mount
/// namespace.
pub(super) fn private_files(sup: i32, own_root: &Path, unscanned: &mut Unscanned) -> Vec<String> {
    let mut found = Vec::new();
    for dir in PRIVATE_DIRS.iter().chain(&["/dev/mqueue"]) {
        if *dir == "/dev/shm" {
            continue;
        }
        let seen = PathBuf::from(format!("/proc/{sup}/root{dir}"));
        for name in list_names(&seen, Path::new(dir), unscanned) {
            let path = Path::new(dir).join(&name);
            if own_root.starts_with(&path) {
                continue;
            }
            found.push(path.display().to_string());
        }
    }
    found
}

/// Entries owned by the grader's uid that appeared in the shared scratch places since
/// `before`; removed. Only sound while no other run of this uid runs at once (see
/// `Guarantees::attributable`).
pub(super) fn new_files(
    before: &[PathBuf],
    own_root: &Path,
    unscanned: &mut Unscanned,
) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let uid = nix::unistd::geteuid().as_raw();
    let mut found = Vec::new();
    for path in shared_entries(unscanned) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if before.contains(&path)
            || own_root.starts_with(&path)
            || path.starts_with(own_root)
            || path.starts_with("/dev/shm")
            || harness_trace(&name)
        {
            continue;
        }
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                unscanned.note(&path, &e);
                continue;
            }
        };
        if meta.uid() != uid {
            continue;
        }
        found.push(path.display().to_string());
        let _ = remove_entry(&path);
    }
    found.sort();
    found
}

/// Segments left in the run's /dev/shm (its private one, or new names in the host's), removed.
pub(super) fn shm_leftovers(run: &Run, sup: i32, unscanned: &mut Unscanned) -> Vec<String> {
    let (dir, before) = if run.spec.sandbox.namespaces {
        (
            PathBuf::from(format!("/proc/{sup}/root/dev/shm")),
            Vec::new(),
        )
    } else if run.spec.identity.is_some() {
        // Owned files in /dev/shm are found by owner below.
        return Vec::new();
    } else {
        let before = run
            .shared_before
            .iter()
            .filter(|p| p.starts_with("/dev/shm"))
            .filter_map(|p| Some(p.file_name()?.to_string_lossy().into_owned()))
            .collect();
        (PathBuf::from("/dev/shm"), before)
    };
    let mut left = Vec::new();
    for name in list_names(&dir, Path::new("/dev/shm"), unscanned) {
        if before.contains(&name) || run.allowed_shm.contains(&name) || harness_trace(&name) {
            continue;
        }
        let _ = std::fs::remove_file(dir.join(&name));
        left.push(name);
    }
    left
}

/// Whether a run of `uid` (whose gid is the same number) could enter the folder `meta` is of,
/// and so leave something below it. A folder it cannot enter (another user's `mktemp -d`,
/// mode 0700) holds nothing of the run's and is not walked.
fn enterable(meta: &std::fs::Metadata, uid: u32) -> bool {
    use std::os::unix::fs::MetadataExt;
    let mode = meta.mode();
    mode & 0o001 != 0 || (meta.gid() == uid && mode & 0o010 != 0)
}

/// Files and folders owned by `uid` in the world-writable places, outside `own_root`; removed.
/// Folders the run could not enter are not walked. Gives up after [`BUDGET`] entries, saying
/// so in `unscanned`.
pub(super) fn owned_files(uid: u32, own_root: &Path, unscanned: &mut Unscanned) -> Vec<String> {
    use std::os::unix::fs::MetadataExt;
    let mut found = Vec::new();
    let mut budget = BUDGET;
    let mut stack: Vec<PathBuf> = PRIVATE_DIRS
        .iter()
        .chain(&["/dev/mqueue"])
        .map(PathBuf::from)
        .collect();
    while let Some(dir) = stack.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) => {
                unscanned.note(&dir, &e);
                continue;
            }
        };
        for entry in entries.flatten() {
            budget = budget.saturating_sub(1);
            if budget == 0 {
                unscanned.0.push(format!(
                    "{} and what is left of {} (more than {BUDGET} entries)",
                    dir.display(),
                    PRIVATE_DIRS.join(", ")
                ));
                found.sort();
                return found;
            }
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.starts_with(own_root) || harness_trace(&name) {
                continue;
            }
            let meta = match std::fs::symlink_metadata(&path) {
                Ok(meta) => meta,
                Err(e) => {
                    unscanned.note(&path, &e);
                    continue;
                }
            };
            if other_grader(&path, &meta) {
                continue;
            }
            if meta.uid() == uid {
                found.push(path.display().to_string());
                let _ = remove_entry(&path);
            } else if meta.is_dir() && enterable(&meta, uid) {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_folders_a_run_could_enter_are_walked() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().expect("a folder");
        let meta = |mode: u32| {
            std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode))
                .expect("chmod");
            std::fs::metadata(dir.path()).expect("metadata")
        };
        let stranger = 4_000_000_000;
        assert!(
            !enterable(&meta(0o700), stranger),
            "another user's mktemp -d"
        );
        assert!(enterable(&meta(0o755), stranger));
        assert!(enterable(&meta(0o1777), stranger));
        let gid = meta(0o770).gid();
        assert!(enterable(&meta(0o770), gid), "its group may enter");
        assert!(!enterable(&meta(0o770), stranger));
    }

    #[test]
    fn a_folder_that_cannot_be_read_is_unscanned_and_one_that_is_missing_is_empty() {
        let mut unscanned = Unscanned::default();
        let dir = tempfile::tempdir().expect("a folder");
        let missing = dir.path().join("missing");
        assert!(list_names(&missing, &missing, &mut unscanned).is_empty());
        assert!(unscanned.0.is_empty(), "{unscanned:?}");
        // A file is no folder: reading it as one fails (ENOTDIR) whoever runs the test.
        let file = dir.path().join("file");
        std::fs::write(&file, b"").expect("a file");
        let shown = Path::new("/tmp");
        assert!(list_names(&file, shown, &mut unscanned).is_empty());
        assert_eq!(unscanned.0.len(), 1, "{unscanned:?}");
        assert!(unscanned.0[0].starts_with("/tmp ("), "{unscanned:?}");
    }
}
