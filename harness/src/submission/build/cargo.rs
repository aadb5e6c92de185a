//! Cargo projects: built once per grading as the grader's own user (the toolchain lives in
//! its home), from a stable synced copy when the target folder is shared, so that cargo
//! rebuilds only what changed across gradings.

use super::*;

impl Builder<'_> {
    /// Builds a cargo project's binaries once (as the grader's own user: the toolchain lives
    /// in its home) and returns the binary `found.bin`.
    pub(super) fn cargo(&mut self, found: &Found) -> Result<PathBuf, Failure> {
        let manifest = found.source.clone();
        if !self.cargo.contains_key(&manifest) {
            let result = self.cargo_build(&manifest);
            self.cargo.insert(manifest.clone(), result);
        }
        let bin = found.bin.clone().unwrap_or_default();
        match &self.cargo[&manifest] {
            Ok(dir) => Ok(dir.join(&bin)),
            Err(f) => Err(f.clone()),
        }
    }

    fn cargo_build(&mut self, manifest: &Path) -> Result<PathBuf, Failure> {
        // With a shared target folder, the copy lives at a stable place and only changed files
        // are rewritten: cargo then rebuilds only what changed, across gradings.
        let (copy, _held) = match &self.settings.cargo_target_dir {
            Some(target) => {
                let key = stable_key(&self.submission, manifest);
                let copy = target.join("sources").join(key);
                let held = hold(&copy.with_extension("lock"))
                    .map_err(io("locking the cargo build folder"))?;
                crate::submission::sync::sync_tree(&self.submission, &copy)
                    .map_err(io("copying the submission for cargo"))?;
                (copy, Some(held))
            }
            None => {
                let copy = self.work.join("cargo");
                copy_tree(&self.submission, &copy)
                    .map_err(io("copying the submission for cargo"))?;
                (copy, None)
            }
        };
        let crate_dir = copy.join(manifest.parent().unwrap_or(Path::new("")));
        borrow_lock_file(&self.submission.join(manifest), &crate_dir);
        let target = self
            .settings
            .cargo_target_dir
            .clone()
            .unwrap_or_else(|| self.work.join("cargo-target"));
        let mut env = base_env(&self.work);
        for key in [
            "HOME",
            "CARGO_HOME",
            "RUSTUP_HOME",
            "RUSTUP_TOOLCHAIN",
            "PATH",
        ] {
            if let Ok(v) = std::env::var(key) {
                env.retain(|(k, _)| k != key);
                env.push((key.into(), v));
            }
        }
        env.push(("CARGO_TARGET_DIR".into(), target.display().to_string()));
        let argv: Vec<String> = ["cargo", "build", "--release", "--bins", "--quiet"]
            .map(String::from)
            .to_vec();
        let _ = std::fs::create_dir_all(&target);
        let cargo = crate::settings::which("cargo");
        let view = cargo_view(&copy, &target, &env, cargo.as_deref());
        // Cargo fetches crates: the host's network.
        let mut spec = self.spec(&argv, &crate_dir, None, env, view, Network::Host);
        spec.program = cargo.unwrap_or_else(|| PathBuf::from("cargo"));
        let finished = self.run_step(spec).map_err(|f| tool_not_run("cargo", f))?;
        if finished.exit != Some(Exit::Code(0)) {
            return Err(Failure::error(format!(
                "{}`cargo build` failed:\n{}",
                first_error(&finished.output),
                trim(&finished.output)
            )));
        }
        let out = self.work.join("bin").join("cargo");
        std::fs::create_dir_all(&out).map_err(io("creating the cargo output folder"))?;
        for bin in crate::submission::discover::cargo_bins(&self.submission, manifest) {
            let built = target.join("release").join(&bin);
            if built.is_file() {
                std::fs::copy(&built, out.join(&bin)).map_err(io("collecting a cargo binary"))?;
            }
        }
        Ok(out)
    }
}

/// A name for the stable copy of `submission`'s crate `manifest`.
fn stable_key(submission: &Path, manifest: &Path) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    std::fs::canonicalize(submission)
        .unwrap_or_else(|_| submission.to_path_buf())
        .hash(&mut h);
    manifest.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// Holds an exclusive lock on `path` (created) until dropped: one build of a copy at a time,
/// across threads and processes.
fn hold(path: &Path) -> std::io::Result<nix::fcntl::Flock<std::fs::File>> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)?;
    nix::fcntl::Flock::lock(file, nix::fcntl::FlockArg::LockExclusive)
        .map_err(|(_, e)| std::io::Error::from(e))
}

/// What a cargo build sees: the copy and the target folder, the cargo home (its registry
/// cache is written) and the toolchains, read-only.
fn cargo_view(copy: &Path, target: &Path, env: &[(String, String)], cargo: Option<&Path>) -> View {
    let var = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| PathBuf::from(v))
    };
    let home = var("HOME").unwrap_or_default();
    let cargo_home = var("CARGO_HOME").unwrap_or_else(|| home.join(".cargo"));
    let rustup_home = var("RUSTUP_HOME").unwrap_or_else(|| home.join(".rustup"));
    let cargo = cargo.and_then(|c| c.parent().map(Path::to_path_buf));
    let mut ro: Vec<PathBuf> = vec![rustup_home];
    ro.extend(cargo.filter(|c| !c.starts_with(&cargo_home)));
    View {
        rw: vec![copy.to_path_buf(), target.to_path_buf(), cargo_home],
        ro: ro.into_iter().filter(|p| p.exists()).collect(),
    }
}

/// A crate inside a workspace has its lock file above it; a copy built alone would resolve
/// afresh. Copy the nearest one so the build uses the versions the workspace pinned.
fn borrow_lock_file(manifest: &Path, crate_dir: &Path) {
    if crate_dir.join("Cargo.lock").exists() {
        return;
    }
    let lock = manifest
        .ancestors()
        .skip(1)
        .take(4)
        .map(|d| d.join("Cargo.lock"))
        .find(|p| p.is_file());
    if let Some(lock) = lock {
        let _ = std::fs::copy(lock, crate_dir.join("Cargo.lock"));
    }
}
