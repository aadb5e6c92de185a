//! run_process (lecture: Subprocess/run_process.py): runs `./run.py` three times, one after
//! the other, waiting for each: with no argument and with `11` (their output goes straight to
//! our stdout/stderr), then with `2` with its output captured, which is printed afterwards
//! after a `Captured output` line (its stdout, then `Captured stderr` and its stderr, then
//! `Return code <n>`).
//!
//! Scenarios: `run_process.children`, `run_process.capture`.

use std::io::Write;
use std::process::{exit, Command};

const PROGRAM: &str = "./run.py";

fn cannot_run(e: std::io::Error) -> ! {
    eprintln!("run_process: cannot run {PROGRAM}: {e}");
    exit(1);
}

fn main() {
    for args in [&[][..], &["11"][..]] {
        let status = Command::new(PROGRAM)
            .args(args)
            .status()
            .unwrap_or_else(|e| cannot_run(e));
        if !status.success() {
            eprintln!(
                "run_process: {PROGRAM} {} ended with {status}",
                args.join(" ")
            );
        }
    }

    let output = Command::new(PROGRAM)
        .arg("2")
        .output()
        .unwrap_or_else(|e| cannot_run(e));
    let mut out = std::io::stdout().lock();
    let code = output
        .status
        .code()
        .map_or_else(|| output.status.to_string(), |c| c.to_string());
    let _ = writeln!(out, "Captured output");
    let _ = out.write_all(&output.stdout);
    let _ = writeln!(out, "Captured stderr");
    let _ = out.write_all(&output.stderr);
    let _ = writeln!(out, "Return code {code}");
    let _ = out.flush();
}
