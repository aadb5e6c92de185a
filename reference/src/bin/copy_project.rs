//! copy_project (lecture: FileSystem/copy_project.py): unpacks `BaseMayaProject.tgz` from the
//! working directory (with `tar xzpf`, keeping the modes as archived whatever the umask),
//! copies the tree `BaseMayaProject` to `NewMayaProject` (file bytes, permission bits
//! including exec bits, empty folders, symlinks as symlinks), then removes `BaseMayaProject`.
//! The archive is left alone. Output: `Extracted BaseMayaProject.tgz`,
//! `Copied BaseMayaProject to NewMayaProject`, `Removed BaseMayaProject`.
//!
//! Scenarios: `copy_project.tree`, `copy_project.cleanup`, `copy_project.missing_archive`
//! (no archive: a message on stderr, exit 1, nothing created).

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{exit, Command};

const ARCHIVE: &str = "BaseMayaProject.tgz";
const SOURCE: &str = "BaseMayaProject";
const TARGET: &str = "NewMayaProject";

/// Copy `from` (a folder) to the new folder `to`, recursively.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    fs::create_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type()?;
        if kind.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&src)?, &dst)?;
        } else if kind.is_dir() {
            copy_tree(&src, &dst)?;
        } else {
            // fs::copy copies the bytes and the permission bits.
            fs::copy(&src, &dst)?;
        }
    }
    // Set the folder's own mode last, in case it is not writable.
    let mode = fs::metadata(from)?.permissions().mode();
    fs::set_permissions(to, fs::Permissions::from_mode(mode))
}

fn fail(message: String) -> ! {
    eprintln!("copy_project: {message}");
    exit(1);
}

fn main() {
    if !Path::new(ARCHIVE).is_file() {
        fail(format!("{ARCHIVE} not found in the working directory"));
    }
    if Path::new(TARGET).exists() {
        fail(format!("{TARGET} already exists"));
    }

    let status = Command::new("tar")
        .args(["xzpf", ARCHIVE])
        .status()
        .unwrap_or_else(|e| fail(format!("cannot run tar: {e}")));
    if !status.success() {
        fail(format!("tar xzf {ARCHIVE} failed ({status})"));
    }
    if !Path::new(SOURCE).is_dir() {
        fail(format!("{ARCHIVE} does not hold a {SOURCE} folder"));
    }
    println!("Extracted {ARCHIVE}");

    copy_tree(Path::new(SOURCE), Path::new(TARGET))
        .unwrap_or_else(|e| fail(format!("copying {SOURCE} to {TARGET}: {e}")));
    println!("Copied {SOURCE} to {TARGET}");

    fs::remove_dir_all(SOURCE).unwrap_or_else(|e| fail(format!("removing {SOURCE}: {e}")));
    println!("Removed {SOURCE}");
}
