//! Building `sysgrade` for one target: whether this toolchain can link the target at all (a
//! probe), then `cargo build --profile dist-release`, then the checks a binary must pass before it is
//! packed (static, the target's machine, and for the host's architecture, `--version`).
//!
//! A target of another architecture than the host is linked with `rust-lld` (shipped with
//! rustup's toolchain) and the target's self-contained crt objects and libc (rustup's musl
//! targets carry them), so no cross C toolchain is needed. `CARGO_TARGET_<TRIPLE>_LINKER`
//! set by the user wins.

use super::elf;
use anyhow::Context;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The cargo profile of release binaries (`[profile.dist-release]` in the root Cargo.toml).
pub const PROFILE: &str = "dist-release";

/// The linker a target is built with: the user's `CARGO_TARGET_<TRIPLE>_LINKER`, else
/// `rust-lld` for another architecture than the host's, else cargo's default (`None`).
pub fn linker(target: &str) -> Option<String> {
    if let Ok(chosen) = std::env::var(linker_var(target)) {
        return Some(chosen);
    }
    (arch_of(target) != std::env::consts::ARCH).then(|| "rust-lld".to_string())
}

fn linker_var(target: &str) -> String {
    format!(
        "CARGO_TARGET_{}_LINKER",
        target.to_uppercase().replace(['-', '.'], "_")
    )
}

/// The architecture a triple names (`aarch64-unknown-linux-musl` → `aarch64`).
pub fn arch_of(target: &str) -> &str {
    target.split('-').next().unwrap_or(target)
}

/// Whether rustc can compile and link for a target.
#[derive(Debug, PartialEq, Eq)]
pub enum Linkable {
    Yes,
    /// Why not, in one line (the standard library is not installed, the linker is missing…).
    No(String),
}

/// Whether rustc can compile and link an empty program for `target` with its linker; `Err`
/// only when rustc could not be run at all.
pub fn probe(target: &str) -> anyhow::Result<Linkable> {
    let dir = tempfile::tempdir()?;
    std::fs::write(dir.path().join("probe.rs"), "fn main() {}\n")?;
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let mut cmd = Command::new(&rustc);
    cmd.current_dir(dir.path()).args([
        "--edition",
        "2021",
        "--target",
        target,
        "-o",
        "probe",
        "probe.rs",
    ]);
    if let Some(linker) = linker(target) {
        cmd.arg("-C").arg(format!("linker={linker}"));
    }
    let out = cmd
        .output()
        .with_context(|| format!("running {rustc} to probe {target}"))?;
    if out.status.success() {
        return Ok(Linkable::Yes);
    }
    Ok(Linkable::No(why_not(
        target,
        &String::from_utf8_lossy(&out.stderr),
    )))
}

/// rustc's first error line, with the remedy for the usual one.
fn why_not(target: &str, stderr: &str) -> String {
    let first = stderr
        .lines()
        .map(str::trim)
        .find(|l| l.starts_with("error"))
        .unwrap_or("rustc failed without an error line");
    if first.contains("can't find crate for `std`") || first.contains("can't find crate for `core`")
    {
        format!("{first} (run `rustup target add {target}`)")
    } else {
        first.to_string()
    }
}

/// `cargo build --locked --profile dist-release --target T -p sysgrade`; returns the binary's path as
/// cargo reports it (so `CARGO_TARGET_DIR` and the like are honoured).
pub fn cargo_build(root: &Path, target: &str) -> anyhow::Result<PathBuf> {
    let mut cmd = Command::new(env!("CARGO"));
    cmd.current_dir(root)
        .args([
            "build",
            "--locked",
            "--profile",
            PROFILE,
            "--target",
            target,
        ])
        .args(["-p", "sysgrade", "--message-format=json-render-diagnostics"])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    if let Some(linker) = linker(target) {
        cmd.env(linker_var(target), linker);
    }
    let out = cmd.output().context("running cargo build")?;
    anyhow::ensure!(out.status.success(), "cargo build for {target} failed");
    executable(&String::from_utf8_lossy(&out.stdout))
        .with_context(|| format!("cargo build for {target} named no `sysgrade` executable"))
}

#[derive(serde::Deserialize)]
struct Message {
    reason: String,
    #[serde(default)]
    target: Option<Artifact>,
    #[serde(default)]
    executable: Option<PathBuf>,
}

#[derive(serde::Deserialize)]
struct Artifact {
    name: String,
}

/// The `sysgrade` executable among cargo's JSON messages.
fn executable(json_lines: &str) -> Option<PathBuf> {
    json_lines
        .lines()
        .filter_map(|l| serde_json::from_str::<Message>(l).ok())
        .filter(|m| m.reason == "compiler-artifact")
        .filter(|m| m.target.as_ref().is_some_and(|t| t.name == "sysgrade"))
        .find_map(|m| m.executable)
}

/// Refuses a binary that is not static or not for `target`'s machine; for the host's
/// architecture, also one whose `--version` is not `sysgrade <version>`.
pub fn check(binary: &Path, bytes: &[u8], target: &str, version: &str) -> anyhow::Result<()> {
    let elf = elf::read(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", binary.display()))?;
    if let Some(interp) = elf.interpreter {
        anyhow::bail!(
            "{} is dynamically linked (it asks for {interp}): refusing to pack it",
            binary.display()
        );
    }
    let arch = elf::arch(elf.machine).unwrap_or("an unknown machine");
    anyhow::ensure!(
        arch == arch_of(target),
        "{} is built for {arch}, not for {target}",
        binary.display()
    );
    if arch == std::env::consts::ARCH {
        let out = Command::new(binary).arg("--version").output()?;
        let said = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let want = format!("sysgrade {version}");
        anyhow::ensure!(
            out.status.success() && said == want,
            "{} --version says {said:?}, expected {want:?}",
            binary.display()
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cross_targets_link_with_rust_lld() {
        let other = if std::env::consts::ARCH == "aarch64" {
            "x86_64-unknown-linux-musl"
        } else {
            "aarch64-unknown-linux-musl"
        };
        if std::env::var_os(linker_var(other)).is_none() {
            assert_eq!(linker(other).as_deref(), Some("rust-lld"));
        }
        let native = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        if std::env::var_os(linker_var(&native)).is_none() {
            assert_eq!(linker(&native), None);
        }
        assert_eq!(
            linker_var("aarch64-unknown-linux-musl"),
            "CARGO_TARGET_AARCH64_UNKNOWN_LINUX_MUSL_LINKER"
        );
    }

    #[test]
    fn the_executable_is_found_among_cargo_messages() {
        let lines = [
            r#"{"reason":"compiler-artifact","target":{"name":"harness"},"executable":"/t/harness"}"#,
            r#"{"reason":"build-script-executed","package_id":"x"}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"sysgrade"},"executable":"/t/x/dist/sysgrade"}"#,
            r#"{"reason":"build-finished","success":true}"#,
        ]
        .join("\n");
        assert_eq!(
            executable(&lines),
            Some(PathBuf::from("/t/x/dist/sysgrade"))
        );
        assert_eq!(executable(r#"{"reason":"build-finished"}"#), None);
    }

    #[test]
    fn a_missing_standard_library_names_the_remedy() {
        let stderr = "error[E0463]: can't find crate for `std`\n  |\n  = note: the `sparc-x` target may not be installed\n";
        assert_eq!(
            why_not("sparc-x", stderr),
            "error[E0463]: can't find crate for `std` (run `rustup target add sparc-x`)"
        );
        assert_eq!(
            why_not("t", "warning: w\nerror: linker `rust-lld` not found\n"),
            "error: linker `rust-lld` not found"
        );
    }

    #[test]
    fn the_probe_fails_for_a_target_rustc_does_not_know() {
        let Linkable::No(why) = probe("sparc99-unknown-nowhere").unwrap() else {
            panic!("a made-up target linked");
        };
        assert!(why.starts_with("error"), "{why}");
    }

    #[test]
    fn a_dynamic_binary_is_refused() {
        let exe = std::env::current_exe().unwrap();
        let bytes = std::fs::read(&exe).unwrap();
        let target = format!("{}-unknown-linux-gnu", std::env::consts::ARCH);
        let err = check(&exe, &bytes, &target, "0").unwrap_err().to_string();
        assert!(err.contains("is dynamically linked"), "{err}");
    }
}
