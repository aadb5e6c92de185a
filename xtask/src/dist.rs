//! `cargo xtask dist [--target T]… [--out DIR] [--download-url URL]`: a release, built the same
//! way on a laptop and in `.github/workflows/release.yml`.
//!
//! For each target: `cargo build --profile dist-release` (`build.rs`), a check that the binary is
//! static and for the target's machine (`elf.rs`), and `sysgrade-<version>-<target>.tar.gz`
//! holding `sysgrade-<version>-<target>/{README.md, install.sh, sysgrade}` (`pack.rs`). Then
//! `install.sh` (stamped with `--download-url` as its default) and `sha256.sum` beside them, in
//! `target/dist/` by default.
//!
//! The default targets are x86_64-unknown-linux-musl and aarch64-unknown-linux-musl; one that
//! this toolchain cannot link is skipped with a note. A target named with `--target` is never
//! skipped: dist fails instead.

pub(crate) mod build;
pub(crate) mod elf;
mod pack;

use anyhow::Context;
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_TARGETS: [&str; 2] = ["x86_64-unknown-linux-musl", "aarch64-unknown-linux-musl"];

#[derive(clap::Args)]
pub struct Dist {
    /// A target triple to build (repeatable; default: x86_64 and aarch64 musl, aarch64 only
    /// where this toolchain can link it).
    #[arg(long = "target", value_name = "TRIPLE")]
    targets: Vec<String>,
    /// Where to write the archives, sha256.sum and install.sh (default: target/dist).
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// The folder of the release's files, stamped into install.sh as its default download URL
    /// (e.g. https://github.com/OWNER/REPO/releases/latest/download).
    #[arg(long, value_name = "URL")]
    download_url: Option<String>,
}

/// One target's binary, built and checked.
struct Built {
    target: String,
    binary: Vec<u8>,
}

impl Dist {
    pub fn run(&self) -> anyhow::Result<()> {
        let root = crate::workspace_root();
        let version = version(&root)?;
        let install_sh = self.install_sh(&root)?;
        let readme = std::fs::read(root.join("README.md")).context("reading README.md")?;
        let mtime = mtime()?;
        let built = self.build_all(&root, &version)?;
        let out = self.out.clone().unwrap_or_else(|| root.join("target/dist"));
        clear_stale(&out)?;
        let mut files = Vec::new();
        for b in &built {
            let contents = pack::Contents {
                binary: &b.binary,
                readme: &readme,
                install_sh: install_sh.as_bytes(),
            };
            files.push(write_archive(&out, &version, &b.target, &contents, mtime)?);
        }
        files.push(pack::write(&out, "install.sh", install_sh.as_bytes())?);
        make_executable(&out.join("install.sh"))?;
        pack::write(&out, "sha256.sum", pack::sums(&files).as_bytes())?;
        self.summary(&out, &files);
        Ok(())
    }

    /// The targets asked for (`true`: named explicitly) or the defaults.
    fn targets(&self) -> Vec<(String, bool)> {
        if self.targets.is_empty() {
            DEFAULT_TARGETS
                .iter()
                .map(|t| (t.to_string(), false))
                .collect()
        } else {
            self.targets.iter().map(|t| (t.clone(), true)).collect()
        }
    }

    fn build_all(&self, root: &Path, version: &str) -> anyhow::Result<Vec<Built>> {
        let mut built = Vec::new();
        for (target, explicit) in self.targets() {
            if let build::Linkable::No(why) = build::probe(&target)? {
                anyhow::ensure!(!explicit, "cannot build {target}: {why}");
                println!("dist: note: skipping {target}: this toolchain cannot link it: {why}");
                continue;
            }
            let started = Instant::now();
            let path = build::cargo_build(root, &target)?;
            let binary =
                std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
            build::check(&path, &binary, &target, version)?;
            println!(
                "dist: built {target} in {:.0} s: {} bytes, static",
                started.elapsed().as_secs_f64(),
                binary.len()
            );
            built.push(Built { target, binary });
        }
        anyhow::ensure!(!built.is_empty(), "no target could be built");
        Ok(built)
    }

    /// The repository's install.sh, stamped with `--download-url` when given.
    fn install_sh(&self, root: &Path) -> anyhow::Result<String> {
        let script =
            std::fs::read_to_string(root.join("install.sh")).context("reading install.sh")?;
        match &self.download_url {
            Some(url) => pack::stamp(&script, url).map_err(anyhow::Error::msg),
            None => Ok(script),
        }
    }

    fn summary(&self, out: &Path, files: &[(String, String)]) {
        println!("dist: wrote to {}:", out.display());
        for (name, _) in files {
            println!("  {name}");
        }
        println!(
            "  sha256.sum (check: cd {} && sha256sum -c sha256.sum)",
            out.display()
        );
        if self.download_url.is_none() {
            println!("dist: note: install.sh has no default download URL (--download-url): it needs SYSGRADE_DOWNLOAD_URL");
        }
    }
}

/// Writes `out/sysgrade-<version>-<target>.tar.gz`; returns its name and sha256.
fn write_archive(
    out: &Path,
    version: &str,
    target: &str,
    contents: &pack::Contents,
    mtime: u64,
) -> anyhow::Result<(String, String)> {
    let stem = pack::stem(version, target);
    let bytes = pack::archive(&stem, contents, mtime, pack::Compression::best())?;
    let name = format!("{stem}.tar.gz");
    pack::write(out, &name, &bytes)
        .with_context(|| format!("writing {}", out.join(&name).display()))
}

/// The `sysgrade` package's version, from the root Cargo.toml.
pub(crate) fn version(root: &Path) -> anyhow::Result<String> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        package: Package,
    }
    #[derive(serde::Deserialize)]
    struct Package {
        version: String,
    }
    let text = std::fs::read_to_string(root.join("Cargo.toml")).context("reading Cargo.toml")?;
    let manifest: Manifest = toml::from_str(&text).context("reading Cargo.toml's version")?;
    Ok(manifest.package.version)
}

/// The archives' mtime: `SOURCE_DATE_EPOCH` when set, else [`pack::MTIME`].
fn mtime() -> anyhow::Result<u64> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(s) => s
            .trim()
            .parse()
            .with_context(|| format!("SOURCE_DATE_EPOCH={s:?} is not a number of seconds")),
        Err(_) => Ok(pack::MTIME),
    }
}

/// Creates `out`, removing the archives of an earlier dist (another version, a target no
/// longer built) so that sha256.sum and the folder agree. Nothing else in `out` is touched.
fn clear_stale(out: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    for entry in std::fs::read_dir(out)? {
        let name = entry?.file_name().to_string_lossy().into_owned();
        if name.starts_with("sysgrade-") && name.ends_with(".tar.gz") {
            std::fs::remove_file(out.join(&name))
                .with_context(|| format!("removing the stale {name}"))?;
        }
    }
    Ok(())
}

fn make_executable(path: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .with_context(|| format!("making {} executable", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_is_the_sysgrade_package_s() {
        let root = crate::workspace_root();
        let text = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let v = version(&root).unwrap();
        assert!(text.contains(&format!("version = \"{v}\"")));
        assert!(v.split('.').count() == 3, "{v}");
    }

    #[test]
    fn stale_archives_go_and_nothing_else() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["sysgrade-0.0.9-x.tar.gz", "notes.txt", "sha256.sum"] {
            std::fs::write(dir.path().join(name), "x").unwrap();
        }
        clear_stale(dir.path()).unwrap();
        let mut left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        left.sort();
        assert_eq!(left, ["notes.txt", "sha256.sum"]);
    }
}
