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
use crate::run::transcript::Source;
use crate::run::ExpectExit;
use crate::run::{describe_exit, Run};
use crate::sandbox::protocol::Exit;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::{quote, re};
use crate::{ensure, fail};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::Duration;
use watch::{Seen, Watch};

pub static EXERCISE: Exercise = Exercise {
    id: "files",
    lecture: &["FileSystem/file.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    scenarios: &[
        Scenario::new(
            "created",
            "tmpfile0.txt … tmpfile9.txt created in tmp/ and all ten listed",
            created,
        ),
        Scenario::new(
            "stat",
            "each file's size (10–200 bytes, as written) printed with its name",
            stat,
        ),
        Scenario::new(
            "cleanup",
            "tmp/ removed, nothing else in the folder changed",
            cleanup,
        ),
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

fn names() -> Vec<String> {
    (0..10).map(|i| format!("tmpfile{i}.txt")).collect()
}

/// One run, watched.
struct Observed {
    run: Run,
    exit: Exit,
    seen: Seen,
    before: BTreeMap<String, String>,
    after: BTreeMap<String, String>,
}

fn observe(ctx: &mut Ctx) -> Result<Observed, Failure> {
    let dir = ctx.workdir();
    let before = tree(&dir);
    let fault = |e: nix::Error| Failure::fault(format!("watching the folder: {e}"));
    let mut watch = Watch::new(&dir).map_err(fault)?;
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
        run,
        exit,
        seen,
        before,
        after: tree(&dir),
    })
}

/// Every entry below `dir`: relative path -> kind and size.
fn tree(dir: &Path) -> BTreeMap<String, String> {
    crate::sandbox::copy::entries(dir, 5000)
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
    sizes: BTreeSet<u64>,
}

fn blocks(lines: &[String]) -> Vec<Block> {
    let (name, size) = (re(NAME), re(SIZE));
    let mut out: Vec<Block> = Vec::new();
    for line in lines {
        let named: BTreeSet<String> = name
            .find_iter(line)
            .map(|m| m.as_str().to_string())
            .collect();
        if !named.is_empty() {
            out.push(Block {
                names: named,
                sizes: BTreeSet::new(),
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
    let o = observe(ctx)?;
    ensure!(
        o.seen.tmp_created,
        "expected the folder tmp/ to be created in its working directory; it never was ({})",
        describe_exit(o.exit)
    );
    let blocks = blocks(&o.run.lines(Source::Stdout));
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
    // Without fanotify a fast program outruns the watch on tmp/: its listing vouches then.
    let missing: Vec<String> = names()
        .into_iter()
        .filter(|n| !seen.contains(n) && (o.seen.exact || !listed.contains(n)))
        .collect();
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

fn stat(ctx: &mut Ctx) -> Verdict {
    let o = observe(ctx)?;
    let blocks = blocks(&o.run.lines(Source::Stdout));
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
        let odd = written.bytes.as_ref().and_then(|b| {
            b.iter()
                .find(|c| !c.is_ascii_uppercase() && !c.is_ascii_digit())
        });
        if let Some(c) = odd {
            fail!(
                "{name} holds {} (byte {c}); expected only the characters A–Z and 0–9",
                quote(&String::from_utf8_lossy(&[*c]))
            );
        }
        let printed: BTreeSet<u64> = blocks
            .iter()
            .filter(|b| b.names.len() == 1 && b.names.contains(name))
            .flat_map(|b| b.sizes.iter().copied())
            .collect();
        if !printed.contains(&written.size) {
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
        "the size of each of the {} files written (10–200 bytes of A–Z, 0–9) was printed with its name",
        judged.len()
    ))
}

fn cleanup(ctx: &mut Ctx) -> Verdict {
    let o = observe(ctx)?;
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
    let lines: Vec<String> = o
        .run
        .lines(Source::Stdout)
        .into_iter()
        .chain(o.run.lines(Source::Stderr))
        .collect();
    ensure!(
        ExpectExit::SUCCESS.accepts(o.exit),
        "with tmp/ already there it {} (expected it to say so and carry on to status 0){}",
        describe_exit(o.exit),
        lines
            .last()
            .map(|l| format!("; its last line was {}", quote(l)))
            .unwrap_or_default()
    );
    ensure!(
        lines.iter().any(|l| said.is_match(l)),
        "with tmp/ already there expected a message saying it exists; none of its lines mentions that"
    );
    let seen = o.seen.names();
    let missing: Vec<String> = names().into_iter().filter(|n| !seen.contains(n)).collect();
    ensure!(
        missing.is_empty(),
        "it said tmp/ exists, but then did not write all ten files; not created: {}",
        list(&missing)
    );
    Ok("said tmp/ already exists, wrote the ten files and exited 0".into())
}
