//! `files` (FileSystem/file.py): makes `tmp/` (saying so if it exists), writes
//! `tmpfile0.txt` … `tmpfile9.txt` with 10–200 random `[A-Z0-9]` characters, lists them,
//! prints a stat of each, then removes the files and the folder.
//!
//! What the program does to `tmp/` is watched while it runs (see [`watch`]); its output is
//! read in blocks: a line naming one of the files and the lines after it that name none.

mod fanotify;
mod watch;

use super::Exercise;
use crate::outcome::{Failure, Verdict};
use crate::run::describe_exit;
use crate::run::transcript::Source;
use crate::run::Exit;
use crate::scenario::{Ctx, Launch, Scenario, Shared};
use crate::text::{quote, re};
use crate::{ensure, fail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use watch::{FileWatch, Seen};

pub static EXERCISE: Exercise = Exercise {
    id: "files",
    lecture: &["FileSystem/file.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "created",
            "tmpfile0.txt … tmpfile9.txt created in tmp/ and all ten listed",
            created,
        )
        .shared(&RUN),
        Scenario::new(
            "stat",
            "each file's size (10–200 bytes, as written) printed with its name",
            stat,
        )
        .shared(&RUN),
        Scenario::new(
            "cleanup",
            "tmp/ removed, nothing else in the folder changed",
            cleanup,
        )
        .shared(&RUN),
        Scenario::new(
            "tmp_exists",
            "with an empty tmp/ already there: says so and still completes",
            tmp_exists,
        ),
    ],
};

const WAIT: Duration = Duration::from_secs(10);
const NAME: &str = r"tmpfile(\d+)\.txt";
const SIZE: &str = r"st_size\D{0,3}(\d+)|(\d+)\s*bytes?\b|size\D{0,3}(\d+)";

/// `created`, `stat` and `cleanup` judge one run: the files it made, the sizes it printed,
/// and the folder it left (`tmp_exists` starts with tmp/ in place: a run of its own).
static RUN: Shared<Observed> = Shared {
    why: "the files made, the sizes printed and the folder left are one run's",
    observe,
    judges: &[
        ("created", |o| judge_created(o).into()),
        ("stat", |o| judge_stat(o).into()),
        ("cleanup", |o| judge_cleanup(o).into()),
    ],
};

fn names() -> Vec<String> {
    (0..10).map(|i| format!("tmpfile{i}.txt")).collect()
}

/// One run, watched.
struct Observed {
    stdout: Vec<String>,
    stderr: Vec<String>,
    exit: Exit,
    seen: Seen,
    before: BTreeMap<String, String>,
    after: BTreeMap<String, String>,
}

fn observe(ctx: &mut Ctx) -> Result<Observed, Failure> {
    let dir = ctx.workdir();
    let before = tree(&dir);
    let fault = |e: nix::Error| Failure::fault(format!("watching the folder: {e}"));
    let mut watch = FileWatch::new(&dir).map_err(fault)?;
    let mut run = ctx.start_prepared(Launch::new().observe_removals(), |reach| {
        watch.mark_mount(reach);
        Ok(())
    })?;
    let running = watch.spawn();
    let exit = run.wait_exit(WAIT);
    let mut seen = running.finish();
    let exit = exit?;
    let tmp = dir.join("tmp");
    let removed = run.removed();
    let from_tmp = removed
        .iter()
        .filter(|r| r.path.parent() == Some(&tmp))
        .count();
    let observed = run.removals_observed();
    run.note(match &observed {
        Ok(()) => format!("the supervisor saw {from_tmp} file(s) removed from tmp/, each read just before it went"),
        Err(why) => format!("removals could not be watched: {why}"),
    });
    seen.add_removed(&removed, &tmp, observed);
    Ok(Observed {
        stdout: run.lines(Source::Stdout),
        stderr: run.lines(Source::Stderr),
        exit,
        seen,
        before,
        after: tree(&dir),
    })
}

/// Every entry below `dir`: relative path -> kind and size.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    crate::run::folder_entries(dir, 5000)
        .into_iter()
        .map(|(rel, m)| {
            let kind = if m.is_dir() {
                "folder".to_string()
            } else if m.is_file() {
                format!("file of {} bytes", m.len())
            } else {
                "other".to_string()
            };
            (rel, kind)
        })
        .collect()
}

/// A stretch of output: a line naming files and the lines after it naming none.
struct Block {
    names: BTreeSet<String>,
    /// Sizes with a label (`st_size=57`, `57 bytes`) anywhere in the block.
    sizes: BTreeSet<u64>,
    /// Bare integers on the naming line itself when it holds no labelled size
    /// (`tmpfile3.txt 57`, an `ls -l` line).
    bare: BTreeSet<u64>,
}

fn blocks(lines: &[String]) -> Vec<Block> {
    let (name, size, integer) = (re(NAME), re(SIZE), re(r"\b\d+\b"));
    let mut out: Vec<Block> = Vec::new();
    for line in lines {
        let named: BTreeSet<String> = name
            .find_iter(line)
            .map(|m| m.as_str().to_string())
            .collect();
        if !named.is_empty() {
            let rest = name.replace_all(line, " ");
            let bare = if size.is_match(&rest) {
                BTreeSet::new()
            } else {
                integer
                    .find_iter(&rest)
                    .filter_map(|m| m.as_str().parse().ok())
                    .collect()
            };
            out.push(Block {
                names: named,
                sizes: BTreeSet::new(),
                bare,
            });
        }
        if let Some(block) = out.last_mut() {
            for c in size.captures_iter(line) {
                let n = c
                    .iter()
                    .skip(1)
                    .flatten()
                    .find_map(|m| m.as_str().parse::<u64>().ok());
                block.sizes.extend(n);
            }
        }
    }
    out
}

/// `a, b and 3 more`.
fn list(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(4).map(String::as_str).collect();
    match items.len() {
        0 => "none".into(),
        n if n > 4 => format!("{} and {} more", shown.join(", "), n - 4),
        _ => shown.join(", "),
    }
}

fn created(ctx: &mut Ctx) -> Verdict {
    judge_created(&observe(ctx)?)
}

fn judge_created(o: &Observed) -> Verdict {
    ensure!(
        o.seen.tmp_created,
        "expected the folder tmp/ to be created in its working directory; it never was ({})",
        describe_exit(o.exit)
    );
    let blocks = blocks(&o.stdout);
    // The listing: the blocks before the first one holding a size (all of them when the
    // listing and the stat are printed together).
    let split = blocks
        .iter()
        .position(|b| !b.sizes.is_empty())
        .unwrap_or(blocks.len());
    let listing = if split == 0 {
        &blocks[..]
    } else {
        &blocks[..split]
    };
    let listed: BTreeSet<&String> = listing.iter().flat_map(|b| &b.names).collect();
    let seen = o.seen.names();
    let missing = not_created(&o.seen)?;
    ensure!(
        missing.is_empty(),
        "expected tmpfile0.txt … tmpfile9.txt to be created in tmp/; not created: {} (seen in tmp/: {})",
        list(&missing),
        list(&seen.iter().cloned().collect::<Vec<_>>())
    );
    let unlisted: Vec<String> = names()
        .into_iter()
        .filter(|n| !listed.contains(n))
        .collect();
    ensure!(
        unlisted.is_empty(),
        "the ten files were created, but the listing printed {} of them; missing: {}",
        10 - unlisted.len(),
        list(&unlisted)
    );
    Ok("tmpfile0.txt … tmpfile9.txt created in tmp/ (seen while it ran) and all ten listed".into())
}

/// The ten names not seen created in tmp/ (inotify, fanotify, the removals the supervisor
/// saw, or what tmp/ held at the end: never the program's own listing). When some are
/// missing and nothing here sees every file (a file written and deleted at once escapes
/// inotify), nothing can be judged: `skip`, with the kernel's reason.
fn not_created(seen: &Seen) -> Result<Vec<String>, Failure> {
    let names_seen = seen.names();
    let missing: Vec<String> = names()
        .into_iter()
        .filter(|n| !names_seen.contains(n))
        .collect();
    if !missing.is_empty() && !seen.exact {
        return Err(Failure::skip(format!(
            "creation cannot be judged on this machine: the watch on tmp/ saw {} of the ten files, and nothing here sees every file: {}",
            10 - missing.len(),
            seen.inexact_because.join("; ")
        )));
    }
    Ok(missing)
}

fn stat(ctx: &mut Ctx) -> Verdict {
    judge_stat(&observe(ctx)?)
}

fn judge_stat(o: &Observed) -> Verdict {
    let blocks = blocks(&o.stdout);
    let judged: Vec<(String, &watch::Written)> = names()
        .into_iter()
        .filter_map(|n| o.seen.written.get(&n).map(|w| (n, w)))
        .collect();
    if judged.len() < 10 && !o.seen.exact {
        // A file written and removed at once escapes inotify: judging only the files it
        // caught could pass a program whose other files are wrong.
        return Err(Failure::skip(format!(
            "sizes cannot be judged on this machine: inotify caught {} of the ten files before they were removed, and nothing here sees every file: {}",
            judged.len(),
            o.seen.inexact_because.join("; ")
        )));
    }
    ensure!(
        !judged.is_empty(),
        "no tmpfile0.txt … tmpfile9.txt was seen written in tmp/, so no size can be checked"
    );
    for (name, written) in &judged {
        ensure!(
            (10..=200).contains(&written.size),
            "{name} holds {} bytes; expected 10–200 random characters",
            written.size
        );
        let own: Vec<&Block> = blocks
            .iter()
            .filter(|b| b.names.len() == 1 && b.names.contains(name))
            .collect();
        let printed: BTreeSet<u64> = own.iter().flat_map(|b| b.sizes.iter().copied()).collect();
        // Without a labelled size, a bare number on the line naming it will do.
        let bare = printed.is_empty() && own.iter().any(|b| b.bare.contains(&written.size));
        if !bare && !printed.contains(&written.size) {
            let shown: Vec<String> = printed.iter().map(u64::to_string).collect();
            fail!(
                "{name} holds {} bytes, but {}",
                written.size,
                if shown.is_empty() {
                    format!(
                        "no size was printed on the line or block naming it (e.g. `st_size={}`)",
                        written.size
                    )
                } else {
                    format!("the size printed with it was {}", shown.join(" or "))
                }
            );
        }
    }
    Ok(format!(
        "the size of each of the {} files written (10–200 bytes) was printed with its name",
        judged.len()
    ))
}

fn cleanup(ctx: &mut Ctx) -> Verdict {
    judge_cleanup(&observe(ctx)?)
}

fn judge_cleanup(o: &Observed) -> Verdict {
    if o.after.contains_key("tmp") {
        let left: Vec<String> = o
            .after
            .keys()
            .filter_map(|k| k.strip_prefix("tmp/").map(str::to_owned))
            .collect();
        fail!(
            "tmp/ is still there after the program ended (holding: {})",
            list(&left)
        );
    }
    let mut changes = Vec::new();
    for (path, kind) in &o.after {
        match o.before.get(path) {
            None => changes.push(format!("new {path}")),
            Some(k) if k != kind => changes.push(format!("{path} changed")),
            _ => {}
        }
    }
    changes.extend(
        o.before
            .keys()
            .filter(|p| !o.after.contains_key(*p))
            .map(|p| format!("{p} removed")),
    );
    ensure!(
        changes.is_empty(),
        "tmp/ is gone, but other things in its folder changed: {}",
        list(&changes)
    );
    ensure!(
        o.seen.tmp_created && o.seen.tmp_removed,
        "expected tmp/ to be created and removed while it ran; the harness saw it {}",
        if o.seen.tmp_created {
            "created but never removed"
        } else {
            "never created"
        }
    );
    Ok("tmp/ was created and removed while it ran; nothing else in its folder changed".into())
}

fn tmp_exists(ctx: &mut Ctx) -> Verdict {
    let tmp = ctx.workdir().join("tmp");
    std::fs::create_dir_all(&tmp).map_err(|e| Failure::fault(format!("making tmp/: {e}")))?;
    let o = observe(ctx)?;
    let said = re("exist");
    let lines: Vec<String> = o.stdout.iter().chain(&o.stderr).cloned().collect();
    let last = lines
        .last()
        .map(|l| format!("; its last line was {}", quote(l)))
        .unwrap_or_default();
    // "Still completes": it ends on its own (any status) after writing the ten files.
    ensure!(
        matches!(o.exit, Exit::Code(_)),
        "with tmp/ already there it {} (expected it to say so and carry on){last}",
        describe_exit(o.exit)
    );
    let seen = o.seen.names();
    let missing: Vec<String> = names().into_iter().filter(|n| !seen.contains(n)).collect();
    ensure!(
        missing.is_empty(),
        "with tmp/ already there it {} without writing all ten files (not created: {}){last}",
        describe_exit(o.exit),
        list(&missing)
    );
    ensure!(
        lines.iter().any(|l| said.is_match(l)),
        "with tmp/ already there expected a message saying it exists; none of its lines mentions that"
    );
    let ended = match o.exit {
        Exit::Code(0) => "exited 0".to_string(),
        other => describe_exit(other),
    };
    Ok(format!(
        "said tmp/ already exists, wrote the ten files and {ended}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(names: &[&str], exact: bool) -> Seen {
        Seen {
            created: names.iter().map(|n| n.to_string()).collect(),
            exact,
            inexact_because: vec!["no removals here".into()],
            ..Seen::default()
        }
    }

    #[test]
    fn creation_never_rests_on_the_listing() {
        let nine: Vec<String> = names().into_iter().take(9).collect();
        let nine: Vec<&str> = nine.iter().map(String::as_str).collect();
        let exact = not_created(&seen(&nine, true)).expect("judged");
        assert_eq!(exact, vec!["tmpfile9.txt".to_string()]);
        let inexact = not_created(&seen(&nine, false)).expect_err("not judged");
        assert_eq!(inexact.status, crate::outcome::Status::Skip);
        assert!(
            inexact.message.contains("no removals here"),
            "{}",
            inexact.message
        );
    }

    #[test]
    fn a_deleted_name_counts_as_created() {
        let mut s = seen(&[], false);
        s.deleted = names().into_iter().collect();
        assert_eq!(not_created(&s).expect("judged"), Vec::<String>::new());
    }

    #[test]
    fn a_bare_size_counts_on_the_naming_line_only() {
        let lines: Vec<String> = [
            "tmpfile3.txt 57",
            "tmpfile4.txt st_size=12 st_nlink=1",
            "tmpfile5.txt",
            "  99",
        ]
        .iter()
        .map(|l| l.to_string())
        .collect();
        let b = blocks(&lines);
        assert_eq!(b[0].bare, BTreeSet::from([57]));
        assert!(b[0].sizes.is_empty());
        assert_eq!(b[1].sizes, BTreeSet::from([12]));
        assert!(b[1].bare.is_empty());
        assert!(b[2].bare.is_empty() && b[2].sizes.is_empty());
    }
}

#[cfg(test)]
mod judges;
