//! Programs that attack the grader: floods, hangs, daemons. Each is graded (fail or timeout
//! with a clear message) and cleaned up, and the grader stays bounded.

use crate::support::{self, Outcome};
use libtest_mimic::{Failed, Trial};
use std::process::Command;

pub fn trials() -> Vec<Trial> {
    vec![Trial::test(
        "hostile::flood_keeps_grader_memory_bounded",
        flood_memory,
    )]
}

/// Grades the flooding fixture in a child process and reads its peak memory.
fn flood_memory() -> Outcome {
    let dir = support::root().join("fixtures/hostile-flood");
    let out = Command::new(env!("CARGO_BIN_EXE_sysgrade"))
        .args(["grade", "--exercise", "procloop"])
        .arg(&dir)
        .output()?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    if !stdout.contains("flood") && !stdout.contains("spins") {
        return Err(Failed::from(format!(
            "the report does not name the flood:\n{stdout}"
        )));
    }
    // SAFETY: getrusage fills the struct we pass.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) };
    let peak_mib = usage.ru_maxrss / 1024;
    if peak_mib > 200 {
        return Err(Failed::from(format!(
            "peak memory of the grader (or a child) was {peak_mib} MiB"
        )));
    }
    Ok(())
}
