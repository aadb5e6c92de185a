//! `cargo xtask image [--check]`: a container image for CI and Kubernetes, built without a
//! registry: Debian's root filesystem from Debian's packages (`mmdebstrap`), the optional
//! tools every exercise needs, the static `sysgrade` as the entry point, imported with
//! `podman`. `--check` then grades `fixtures/good-python` inside it twice: under the default
//! confinement of a container (its own network namespace, the default seccomp profile, no
//! `CAP_SYS_ADMIN`), and with `--network host`. Minutes of downloading and packing, so a task
//! run before a release, not a test.

mod check;
mod rootfs;

use anyhow::Context;
use std::path::{Path, PathBuf};

/// The Debian release the image is made of.
const SUITE: &str = "bookworm";

#[derive(clap::Args)]
pub struct Image {
    /// The static binary to put in (default: built with `cargo build --profile dist-release`
    /// for the host's musl target).
    #[arg(long)]
    binary: Option<PathBuf>,
    /// The image's name (default: localhost/sysgrade:<version>).
    #[arg(long)]
    tag: Option<String>,
    /// The Debian mirror packages come from.
    #[arg(long, default_value = "http://deb.debian.org/debian")]
    mirror: String,
    /// More Debian packages (repeatable), e.g. `cargo` for Rust submissions.
    #[arg(long = "package", value_name = "NAME")]
    packages: Vec<String>,
    /// After building, grade fixtures/good-python inside the image.
    #[arg(long)]
    check: bool,
    /// Only check an image built before (skips the build).
    #[arg(long, requires = "check")]
    no_build: bool,
}

impl Image {
    pub fn run(&self) -> anyhow::Result<()> {
        let root = crate::workspace_root();
        let version = crate::dist::version(&root)?;
        let tag = self
            .tag
            .clone()
            .unwrap_or_else(|| format!("localhost/sysgrade:{version}"));
        require("podman", "apt-get install -y podman")?;
        if !self.no_build {
            require("mmdebstrap", "apt-get install -y mmdebstrap")?;
            let binary = self.binary(&root, &version)?;
            let out = root.join("target/image");
            std::fs::create_dir_all(&out).context("making target/image")?;
            let tar = out.join(format!("sysgrade-{version}-rootfs.tar"));
            let spec = rootfs::Spec {
                suite: SUITE,
                mirror: &self.mirror,
                packages: rootfs::packages(&self.packages),
                binary: &binary,
            };
            rootfs::build(&spec, &tar)?;
            rootfs::import(&tar, &tag, &version)?;
            println!("image: {tag} (root filesystem kept in {})", tar.display());
        }
        if self.check {
            check::run(&root, &tag)?;
        }
        Ok(())
    }

    fn binary(&self, root: &Path, version: &str) -> anyhow::Result<PathBuf> {
        let target = format!("{}-unknown-linux-musl", std::env::consts::ARCH);
        let path = match &self.binary {
            Some(path) => path.clone(),
            None => crate::dist::build::cargo_build(root, &target)?,
        };
        let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
        crate::dist::build::check(&path, &bytes, &target, version)?;
        Ok(path)
    }
}

/// Fails with the install command when `command` is not on PATH.
fn require(command: &str, install: &str) -> anyhow::Result<()> {
    anyhow::ensure!(
        harness::settings::which(command).is_some(),
        "`cargo xtask image` needs {command}, which is not on PATH: {install}"
    );
    Ok(())
}
