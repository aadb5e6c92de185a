//! Where a program put the FIFO it was expected to make in its own folder: under another
//! name there, or in a scratch place (`/tmp/myfifo`). Named as the program sees the path, so
//! a scenario's feedback can say where it went.

use crate::run::Run;
use crate::sandbox::rootfs::PRIVATE_DIRS;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

/// Folders below a searched place looked into, at most (`/tmp/proj/fifo`).
const DEPTH: usize = 2;
/// Entries looked at, at most: a program that fills /tmp cannot make the search slow.
const BUDGET: usize = 2_000;

/// The FIFOs the run's program made outside `expected`: in its folder under other names,
/// and in its scratch places (its private `/tmp`, `/var/tmp`, `/dev/shm` and `/run/lock`, or
/// where those are shared, the entries its own uid owns there). Sorted, as the program sees
/// them.
pub fn fifos_made(run: &Run, expected: &Path) -> Vec<String> {
    let mut found = Vec::new();
    let mut budget = BUDGET;
    let own = run.dir().to_path_buf();
    search(&own, &own, None, &mut budget, &mut found);
    let reach = run.reach();
    let owner =
        (!reach.private_tmp && run.uid() != nix::unistd::getuid().as_raw()).then(|| run.uid());
    for dir in PRIVATE_DIRS {
        let shown = PathBuf::from(dir);
        let seen = if reach.private_tmp {
            PathBuf::from(format!("/proc/{}/root{dir}", reach.supervisor))
        } else if owner.is_some() {
            shown.clone()
        } else {
            // Shared places and no uid of its own: nothing here is told apart as its.
            continue;
        };
        search(&seen, &shown, owner, &mut budget, &mut found);
    }
    found.retain(|f| Path::new(f) != expected);
    found.sort();
    found.dedup();
    found
}

/// Collects the FIFOs below `seen` (reached by the grader), named below `shown` (as the
/// program sees the same folder), owned by `owner` when given.
fn search(
    seen: &Path,
    shown: &Path,
    owner: Option<u32>,
    budget: &mut usize,
    found: &mut Vec<String>,
) {
    let mut stack = vec![(seen.to_path_buf(), shown.to_path_buf(), 0)];
    while let Some((seen, shown, depth)) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&seen) else {
            continue;
        };
        for entry in entries.flatten() {
            if *budget == 0 {
                return;
            }
            *budget -= 1;
            let Ok(meta) = entry.path().symlink_metadata() else {
                continue;
            };
            let name = shown.join(entry.file_name());
            if meta.file_type().is_fifo() && owner.is_none_or(|uid| meta.uid() == uid) {
                found.push(name.display().to_string());
            } else if meta.is_dir() && depth < DEPTH {
                stack.push((entry.path(), name, depth + 1));
            }
        }
    }
}

/// A clause for a FIFO that did not appear where expected: `" (it made a FIFO at
/// /tmp/myfifo instead: make it in its own folder, named mypipe)"`, or nothing.
pub fn hint(run: &Run, expected: &Path) -> String {
    let made = fifos_made(run, expected);
    let Some(first) = made.first() else {
        return String::new();
    };
    let name = expected
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let more = match made.len() {
        1 => String::new(),
        n => format!(" and {} more", n - 1),
    };
    format!(" (it made a FIFO at {first}{more} instead: make it in its own folder, named {name})")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifos_below_a_place_are_found_and_named_as_the_program_sees_them() {
        let dir = tempfile::tempdir().expect("a folder");
        let deep = dir.path().join("proj/pipes");
        std::fs::create_dir_all(&deep).expect("folders");
        for path in [dir.path().join("myfifo"), deep.join("two")] {
            nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600))
                .expect("a FIFO");
        }
        std::fs::write(dir.path().join("plain"), "x").expect("a file");
        let mut found = Vec::new();
        let mut budget = BUDGET;
        search(dir.path(), Path::new("/tmp"), None, &mut budget, &mut found);
        found.sort();
        assert_eq!(found, ["/tmp/myfifo", "/tmp/proj/pipes/two"]);
        let mut none = Vec::new();
        search(
            dir.path(),
            Path::new("/tmp"),
            Some(u32::MAX - 1),
            &mut budget,
            &mut none,
        );
        assert!(none.is_empty(), "{none:?}");
    }
}
