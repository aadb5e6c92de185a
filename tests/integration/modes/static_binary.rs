//! `modes::static_binary::<mode>`: the static (musl) `sysgrade`, copied alone into an empty
//! folder outside the checkout, grades `fixtures/good-python` with the verdicts the glibc
//! build gives in the same place and mode, and with those its `fixture.toml` states.
//!
//! The binary is named by `SYSGRADE_STATIC_BIN` (`.ci/run` builds it with `cargo build
//! --release --target x86_64-unknown-linux-musl`). Without it the trials pass with a note,
//! unless tools are required (CI), where they fail.

use super::{tail, verdicts, Mode, Place};
use crate::fixtures;
use crate::support::{self, Outcome};
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The variable naming the static binary under test.
pub const STATIC_BIN: &str = "SYSGRADE_STATIC_BIN";

const LIMIT: Duration = Duration::from_secs(600);

pub fn trials() -> Vec<Trial> {
    let mut trials = vec![Trial::test(
        "modes::static_binary::the_check_tells_a_dynamic_binary",
        tells_dynamic,
    )];
    trials.extend(Mode::ALL.into_iter().map(|mode| {
        Trial::test(
            format!("modes::static_binary::{}", mode.name()),
            move || static_binary(mode),
        )
    }));
    trials
}

/// The glibc build under test has an interpreter: the static check would catch one.
fn tells_dynamic() -> Outcome {
    match is_static(Path::new(support::SYSGRADE)) {
        Err(e) if format!("{e:?}").contains("not static") => Ok(()),
        other => {
            Err(format!("the glibc build passed for static or was not read: {other:?}").into())
        }
    }
}

fn static_binary(mode: Mode) -> Outcome {
    let Some(bin) = std::env::var_os(STATIC_BIN).map(PathBuf::from) else {
        support::skip_missing(
            STATIC_BIN,
            "cargo build --release --target x86_64-unknown-linux-musl -p sysgrade, then set it to target/x86_64-unknown-linux-musl/release/sysgrade",
        )?;
        return Ok(());
    };
    is_static(&bin)?;
    let fixture = support::root().join("fixtures/good-python");
    let expected = fixtures::read(&fixture)?;
    let place = Place::new(mode)?;
    place.add_binary(&bin, "sysgrade-static")?;
    place.copy(&fixture, "good-python")?;
    let glibc = statuses(&place, "sysgrade", &expected)?;
    let musl = statuses(&place, "sysgrade-static", &expected)?;
    let differ: Vec<String> = glibc
        .iter()
        .filter_map(|(id, g)| {
            let m = musl.get(id).map_or("absent", String::as_str);
            // A skip says the machine could not judge (an overloaded moment): not a verdict.
            (g != m && g != "skip" && m != "skip").then(|| format!("{id}: glibc {g}, static {m}"))
        })
        .collect();
    if differ.is_empty() && musl.len() == glibc.len() {
        Ok(())
    } else {
        Err(format!(
            "{} mode: the static build's verdicts differ from the glibc build's ({} vs {} scenarios):\n{}",
            mode.name(),
            musl.len(),
            glibc.len(),
            differ.join("\n")
        )
        .into())
    }
}

/// Grades the place's `good-python` with `bin/<binary>`, checks the verdicts against the
/// fixture's statement, and returns each scenario's status.
fn statuses(
    place: &Place,
    binary: &str,
    expected: &fixtures::FixtureToml,
) -> Result<BTreeMap<String, String>, Failed> {
    let mut cmd = place.binary(binary);
    cmd.args(["grade", "--format", "json", "--quiet", "good-python"]);
    let ran = place.run(cmd, LIMIT)?;
    ran.exited_normally(place.mode)?;
    let report = ran.json(place.mode, &ran.stdout)?;
    let entry = report.first().ok_or("an empty report")?;
    let wrong = verdicts::mismatches("good-python", expected, entry, place.mode);
    if !wrong.is_empty() {
        return Err(format!(
            "{} mode, {binary}: {}\nstderr:\n{}",
            place.mode.name(),
            wrong.join("\n"),
            tail(&ran.stderr, 2000)
        )
        .into());
    }
    let empty = Vec::new();
    Ok(entry["exercises"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .flat_map(|e| e["scenarios"].as_array().unwrap_or(&empty))
        .filter_map(|s| {
            Some((
                s["id"].as_str()?.to_string(),
                s["status"].as_str()?.to_string(),
            ))
        })
        .collect())
}

/// An ELF executable with no program interpreter (`PT_INTERP`): nothing to load it but the
/// kernel, so it runs on any Linux whatever its libc.
fn is_static(bin: &Path) -> Outcome {
    let bytes = std::fs::read(bin).map_err(|e| format!("reading {}: {e}", bin.display()))?;
    match interpreter(&bytes) {
        Some(false) => Ok(()),
        Some(true) => Err(format!(
            "{} asks for a program interpreter: it is not static",
            bin.display()
        )
        .into()),
        None => Err(format!("{} is not a 64-bit little-endian ELF file", bin.display()).into()),
    }
}

/// Whether a 64-bit little-endian ELF image has a `PT_INTERP` header; `None` if it is not one.
fn interpreter(elf: &[u8]) -> Option<bool> {
    const PT_INTERP: u32 = 3;
    if elf.get(..6)? != b"\x7fELF\x02\x01" {
        return None;
    }
    let u16_at = |at: usize| Some(u16::from_le_bytes(elf.get(at..at + 2)?.try_into().ok()?));
    let u32_at = |at: usize| Some(u32::from_le_bytes(elf.get(at..at + 4)?.try_into().ok()?));
    let u64_at = |at: usize| Some(u64::from_le_bytes(elf.get(at..at + 8)?.try_into().ok()?));
    let phoff = usize::try_from(u64_at(0x20)?).ok()?;
    let (size, count) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    let mut any = false;
    for i in 0..count {
        any |= u32_at(phoff + i * size)? == PT_INTERP;
    }
    Some(any)
}
