//! The image's root filesystem (`mmdebstrap`) and its import into podman's store.

use anyhow::Context;
use std::path::Path;
use std::process::Command;

/// What goes into the root filesystem.
pub struct Spec<'a> {
    pub suite: &'a str,
    pub mirror: &'a str,
    pub packages: Vec<String>,
    pub binary: &'a Path,
}

/// Always installed: certificates, and the compilers and interpreters submissions are built
/// and run with (Python, C, C++; Rust with `--package cargo`).
const BASE: [&str; 6] = [
    "ca-certificates",
    "python3",
    "gcc",
    "g++",
    "make",
    "libc6-dev",
];

/// The base packages, every optional tool's packages (from the scenarios' own declarations,
/// as `sysgrade doctor` lists them) and the `extra` ones, each once.
pub fn packages(extra: &[String]) -> Vec<String> {
    let tools = harness::scenario::tools::apt_packages(&harness::scenario::tools::ALL);
    let mut all: Vec<String> = Vec::new();
    let named = BASE.iter().chain(tools.iter()).map(|p| p.to_string());
    for package in named.chain(extra.iter().cloned()) {
        if !all.contains(&package) {
            all.push(package);
        }
    }
    all
}

/// The `mmdebstrap` command line that writes `tar`. The binary is copied in by a hook from
/// a folder whose path holds no space (hooks are shell commands).
pub fn command(spec: &Spec, staged: &Path, tar: &Path) -> Command {
    let mut cmd = Command::new("mmdebstrap");
    cmd.args(["--variant=apt", "--quiet"])
        .arg(format!("--include={}", spec.packages.join(",")));
    for excluded in [
        "/usr/share/doc/*",
        "/usr/share/man/*",
        "/usr/share/locale/*",
    ] {
        cmd.arg(format!("--dpkgopt=path-exclude={excluded}"));
    }
    cmd.arg(format!(
        "--customize-hook=copy-in {} /usr/local/bin",
        staged.display()
    ))
    .arg("--customize-hook=chroot \"$1\" /usr/local/bin/sysgrade --version")
    .arg(spec.suite)
    .arg(tar)
    .arg(spec.mirror);
    cmd
}

/// Builds the root filesystem into `tar`.
pub fn build(spec: &Spec, tar: &Path) -> anyhow::Result<()> {
    let stage = tempfile::Builder::new()
        .prefix("sysgrade-image")
        .tempdir_in("/tmp")?;
    let staged = stage.path().join("sysgrade");
    std::fs::copy(spec.binary, &staged)
        .with_context(|| format!("copying {}", spec.binary.display()))?;
    println!(
        "image: mmdebstrap {} with {}",
        spec.suite,
        spec.packages.join(" ")
    );
    let started = std::time::Instant::now();
    let status = command(spec, &staged, tar)
        .status()
        .context("running mmdebstrap")?;
    anyhow::ensure!(status.success(), "mmdebstrap failed ({status})");
    let size = std::fs::metadata(tar).map(|m| m.len()).unwrap_or(0);
    println!(
        "image: root filesystem in {:.0} s, {} MB",
        started.elapsed().as_secs_f64(),
        size / 1_000_000
    );
    Ok(())
}

/// Imports `tar` as `tag`, with `sysgrade` as the entry point.
pub fn import(tar: &Path, tag: &str, version: &str) -> anyhow::Result<()> {
    let status = Command::new("podman")
        .args(["import", "--quiet"])
        .args(["--change", r#"ENTRYPOINT ["/usr/local/bin/sysgrade"]"#])
        .args(["--change", r#"CMD ["--help"]"#])
        .args(["--change", "WORKDIR /work"])
        .args([
            "--change",
            &format!("LABEL org.opencontainers.image.version={version}"),
        ])
        .args(["--change", "LABEL org.opencontainers.image.title=sysgrade"])
        .arg(tar)
        .arg(tag)
        .status()
        .context("running podman import")?;
    anyhow::ensure!(status.success(), "podman import failed ({status})");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_is_installed_once_with_the_extras() {
        let all = packages(&["cargo".into(), "ffmpeg".into()]);
        for wanted in [
            "python3",
            "gcc",
            "ffmpeg",
            "python3-pyqt6",
            "pyqt6-dev-tools",
            "cargo",
        ] {
            assert_eq!(all.iter().filter(|p| *p == wanted).count(), 1, "{wanted}");
        }
    }

    #[test]
    fn the_binary_is_copied_in_and_run() {
        let spec = Spec {
            suite: "bookworm",
            mirror: "http://deb.debian.org/debian",
            packages: packages(&[]),
            binary: Path::new("/x/sysgrade"),
        };
        let cmd = command(&spec, Path::new("/tmp/s/sysgrade"), Path::new("/o/r.tar"));
        let args: Vec<String> = cmd.get_args().map(|a| a.to_string_lossy().into()).collect();
        assert!(args.contains(&"--customize-hook=copy-in /tmp/s/sysgrade /usr/local/bin".into()));
        assert_eq!(
            args[args.len() - 3..],
            ["bookworm", "/o/r.tar", spec.mirror]
        );
    }
}
