//! Keeping a copy of a submission in step with it, rewriting only the files that changed, so
//! that a build tool that judges by modification times (cargo) rebuilds only what changed.

use crate::sandbox::copy::{remove_entry as remove, SKIPPED};
use std::fs;
use std::io;
use std::path::Path;

/// Makes `dst` hold what `src` holds: changed or new files are written, vanished entries
/// removed, unchanged files left alone. Symlinks are copied as links; other special files are
/// left out, as `copy_tree` does.
pub fn sync_tree(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    let mut wanted = Vec::new();
    for entry in fs::read_dir(src)? {
        let entry = entry?;
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        wanted.push(name.clone());
        let (from, to) = (entry.path(), dst.join(&name));
        let kind = fs::symlink_metadata(&from)?.file_type();
        if kind.is_dir() {
            if fs::symlink_metadata(&to).is_ok_and(|m| !m.is_dir()) {
                fs::remove_file(&to)?;
            }
            sync_tree(&from, &to)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from)?;
            if fs::read_link(&to).ok().as_deref() != Some(target.as_path()) {
                remove(&to)?;
                std::os::unix::fs::symlink(target, &to)?;
            }
        } else if kind.is_file() {
            let same = fs::symlink_metadata(&to).is_ok_and(|m| m.is_file())
                && fs::read(&from)? == fs::read(&to)?;
            if !same {
                remove(&to)?;
                fs::copy(&from, &to)?;
            }
        }
    }
    for entry in fs::read_dir(dst)? {
        let entry = entry?;
        if !wanted.contains(&entry.file_name()) {
            remove(&entry.path())?;
        }
    }
    Ok(())
}
