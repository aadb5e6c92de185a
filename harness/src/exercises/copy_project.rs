//! `copy_project` (FileSystem/copy_project.py): unpacks `BaseMayaProject.tgz` from its folder,
//! copies the tree to `NewMayaProject` and removes `BaseMayaProject`.
//!
//! The harness puts its own archive in place (see [`archive`]), replacing any the submission
//! carries, and compares the copy with it entry by entry: kind, bytes, a file's executable bits.

mod archive;

use super::Exercise;
use crate::ipc::watch::PathWatch;
use crate::outcome::{Failure, Verdict};
use crate::run::Exit;
use crate::run::ExpectExit;
use crate::run::{describe_exit, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use archive::Node;
use nix::sys::inotify::AddWatchFlags;
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "copy_project",
    lecture: &["FileSystem/copy_project.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "tree",
            "NewMayaProject equals the archive: folders, names with spaces, bytes, executable bits",
            tree,
        ),
        Scenario::new(
            "cleanup",
            "BaseMayaProject removed afterwards, the archive untouched",
            cleanup,
        ),
        Scenario::new(
            "missing_archive",
            "without the archive: non-zero exit, nothing created",
            missing_archive,
        ),
    ],
};

const ARCHIVE: &str = "BaseMayaProject.tgz";
const TARGET: &str = "NewMayaProject";
const WAIT: Duration = Duration::from_secs(15);
/// The permission bits compared: a file's executable bits (user, group, others).
const EXEC: u32 = 0o111;

/// Puts the harness's archive in the program's folder and runs the program to its end.
fn unpacked(ctx: &mut Ctx) -> Result<(Run, Exit, Vec<u8>), Failure> {
    let bytes = archive::build().map_err(|e| Failure::fault(format!("building {ARCHIVE}: {e}")))?;
    let path = ctx.workdir().join(ARCHIVE);
    let _ = std::fs::remove_dir_all(&path);
    std::fs::write(&path, &bytes)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)))
        .map_err(|e| Failure::fault(format!("writing {ARCHIVE}: {e}")))?;
    let mut run = ctx.start(Launch::new())?;
    let exit = run.wait_exit(WAIT)?;
    Ok((run, exit, bytes))
}

/// The tree below `dir` (not following symlinks): relative path -> node; a symlink or other
/// special file shows as a file of mode 0 holding its kind's name.
fn read_tree(dir: &Path) -> BTreeMap<String, Node> {
    let mut out = BTreeMap::new();
    for (rel, meta) in crate::run::folder_entries(dir, 10_000) {
        let mode = meta.permissions().mode() & 0o7777;
        let node = if meta.is_dir() {
            Node::Folder { mode }
        } else if meta.is_file() && meta.len() <= 64 << 20 {
            Node::File {
                mode,
                bytes: std::fs::read(dir.join(&rel)).unwrap_or_default(),
            }
        } else {
            let kind = if meta.is_symlink() {
                "symlink"
            } else {
                "special file"
            };
            Node::File {
                mode: 0,
                bytes: kind.as_bytes().to_vec(),
            }
        };
        out.insert(rel, node);
    }
    out
}

/// `a, b and 3 more`, each name quoted with backquotes.
fn list<'a>(items: impl IntoIterator<Item = &'a String>) -> String {
    let items: Vec<&String> = items.into_iter().collect();
    let shown: Vec<String> = items.iter().take(4).map(|s| format!("`{s}`")).collect();
    if items.len() > 4 {
        format!("{} and {} more", shown.join(", "), items.len() - 4)
    } else {
        shown.join(", ")
    }
}

/// How one entry of the copy differs from the archive's, if it does. Of the permission bits
/// only a file's executable bits count, as the description says: the rest (and a folder's
/// mode) follow the umask the program runs under, which is not the program's doing.
fn compare(path: &str, want: &Node, got: &Node) -> Option<String> {
    match (want, got) {
        (Node::Folder { .. }, Node::Folder { .. }) => None,
        (
            Node::File {
                mode: m1,
                bytes: b1,
            },
            Node::File {
                mode: m2,
                bytes: b2,
            },
        ) => {
            if b1 != b2 {
                let at = b1.iter().zip(b2).position(|(x, y)| x != y);
                Some(match at {
                    Some(at) => format!("`{path}` differs from the archive's at byte {at}"),
                    None => format!(
                        "`{path}` holds {} bytes, the archive's {}",
                        b2.len(),
                        b1.len()
                    ),
                })
            } else if m1 & EXEC != m2 & EXEC {
                Some(if m1 & EXEC != 0 && m2 & EXEC == 0 {
                    format!("`{path}` has mode {m2:04o}, expected {m1:04o}: its executable bits were lost (copy the mode too, e.g. shutil.copy2 or copytree)")
                } else {
                    format!(
                        "`{path}` has executable bits ({m2:04o}) the archive's ({m1:04o}) does not"
                    )
                })
            } else {
                None
            }
        }
        (Node::Folder { .. }, _) => Some(format!("`{path}` should be a folder, but is a file")),
        (_, Node::Folder { .. }) => Some(format!("`{path}` should be a file, but is a folder")),
    }
}

fn tree(ctx: &mut Ctx) -> Verdict {
    let (_run, exit, _) = unpacked(ctx)?;
    let target = ctx.workdir().join(TARGET);
    ensure!(
        target.is_dir(),
        "expected the folder {TARGET} after the run; there is none (the program {})",
        describe_exit(exit)
    );
    let want = archive::tree();
    let got = read_tree(&target);
    let missing: Vec<&String> = want.keys().filter(|k| !got.contains_key(*k)).collect();
    if !missing.is_empty() {
        fail!(
            "{TARGET} lacks {} of the archive's {} entries: {}",
            missing.len(),
            want.len(),
            list(missing)
        );
    }
    let extra: BTreeSet<&String> = got.keys().filter(|k| !want.contains_key(*k)).collect();
    if !extra.is_empty() {
        fail!(
            "{TARGET} holds entries the archive does not: {}",
            list(extra)
        );
    }
    if let Some(problem) = want.iter().find_map(|(p, w)| compare(p, w, &got[p])) {
        fail!("{TARGET} is not an exact copy: {problem}");
    }
    Ok(format!(
        "{TARGET} equals the archive: {} entries, nested empty folders, names with spaces, bytes and executable bits",
        want.len()
    ))
}

fn cleanup(ctx: &mut Ctx) -> Verdict {
    let dir = ctx.workdir();
    let watch = PathWatch::new(&dir, AddWatchFlags::IN_CREATE | AddWatchFlags::IN_MOVED_TO)
        .map_err(|e| Failure::fault(format!("watching the program's folder: {e}")))?;
    let (_run, exit, bytes) = unpacked(ctx)?;
    let base = dir.join(archive::TOP);
    // Something to clean up must have been there: the unpacked tree seen appearing in the
    // folder, or at least the copy made (from a tree unpacked elsewhere).
    let unpacked_here = watch.names().iter().any(|n| n == archive::TOP);
    ensure!(
        unpacked_here || dir.join(TARGET).exists(),
        "the program {} without unpacking {} in its folder or making {TARGET}: there was nothing to clean up, so nothing shows that it cleans up",
        describe_exit(exit),
        archive::TOP
    );
    if std::fs::symlink_metadata(&base).is_ok() {
        fail!(
            "{} is still there after the run (the program {}); it should be removed once copied",
            archive::TOP,
            describe_exit(exit)
        );
    }
    match std::fs::read(dir.join(ARCHIVE)) {
        Ok(now) if now == bytes => Ok(format!("{} removed, {ARCHIVE} untouched", archive::TOP)),
        Ok(_) => fail!("{ARCHIVE} was changed by the program; it should be left as it was"),
        Err(_) => fail!("{ARCHIVE} is gone after the run; it should be left as it was"),
    }
}

fn missing_archive(ctx: &mut Ctx) -> Verdict {
    let dir = ctx.workdir();
    let path = dir.join(ARCHIVE);
    let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir_all(&path));
    if std::fs::symlink_metadata(&path).is_ok() {
        return Err(Failure::fault(format!(
            "could not remove the submission's {ARCHIVE}"
        )));
    }
    let before: BTreeSet<String> = read_tree(&dir).into_keys().collect();
    let mut run = ctx.start(Launch::new())?;
    let exit = run.wait_exit(WAIT)?;
    let after: BTreeSet<String> = read_tree(&dir).into_keys().collect();
    let made: Vec<&String> = after.difference(&before).collect();
    ExpectExit::Nonzero.check(exit, format!("without {ARCHIVE} it"))?;
    ensure!(
        made.is_empty(),
        "without {ARCHIVE} it {} but created {}",
        describe_exit(exit),
        list(made)
    );
    Ok(format!(
        "without {ARCHIVE} it {} and created nothing",
        describe_exit(exit)
    ))
}
