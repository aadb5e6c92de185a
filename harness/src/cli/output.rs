//! Delivering reports: standard output (a closed pipe is not an error), `--output` files, and
//! one Gradescope `results.json` per student.

use super::GradeArgs;
use crate::report::{self, Format};
use crate::result::SubmissionResult;
use std::collections::BTreeSet;
use std::io::{IsTerminal, Write};
use std::path::Path;

/// Why Gradescope output for several submissions needs a folder.
pub(super) const GRADESCOPE_ONE: &str = "a Gradescope results.json holds one submission: give --output DIR to write DIR/<student>/results.json for each student";

/// Writes `text` to standard output. A reader that went away (`sysgrade list | head`) ends
/// the output quietly instead of a panic.
pub fn emit(text: &str) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("error: writing to standard output: {e}");
        }
    }
}

/// Renders and delivers `results` (settled for their audience) as `args` ask. `several`: a
/// class or several folders.
pub(super) fn deliver(
    args: &GradeArgs,
    results: Vec<SubmissionResult>,
    several: bool,
) -> anyhow::Result<()> {
    let terminal = std::io::stdout().is_terminal();
    match &args.output {
        Some(path) => {
            if args.format == Format::Gradescope && several {
                write_each(path, &results)?;
            } else {
                write(path, &report::render(args.format, &results, false))?;
            }
            emit(&report::render(Format::Human, &results, terminal));
        }
        None => emit(&report::render(
            args.format,
            &results,
            args.format == Format::Human && terminal,
        )),
    }
    Ok(())
}

/// `dir/<student>/results.json` for each submission.
fn write_each(dir: &Path, results: &[SubmissionResult]) -> anyhow::Result<()> {
    let mut used = BTreeSet::new();
    for r in results {
        let base = match report::junit::name_of(&r.submission).as_str() {
            "" | "." | ".." => "submission".to_string(),
            name => name.replace('/', "_"),
        };
        let mut name = base.clone();
        let mut n = 1;
        while !used.insert(name.clone()) {
            n += 1;
            name = format!("{base}-{n}");
        }
        let folder = dir.join(&name);
        std::fs::create_dir_all(&folder)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", folder.display()))?;
        write(
            &folder.join("results.json"),
            &report::render(Format::Gradescope, std::slice::from_ref(r), false),
        )?;
    }
    eprintln!(
        "wrote {} Gradescope results: {}/<student>/results.json",
        results.len(),
        dir.display()
    );
    Ok(())
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}
