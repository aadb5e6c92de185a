//! `sysgrade gradescope run <zip> <submission>`: what Gradescope does, on this machine. A
//! fresh autograder root gets `source/` (the zip unpacked), `submission/` (a copy) and
//! `results/`; `setup.sh` is checked (`sh -n`, and which of its packages are missing here),
//! not run; `run_autograder` is copied to the root and run with `SYSGRADE_AUTOGRADER_ROOT`
//! naming it; `results/results.json` is checked against Gradescope's documented fields.
//!
//! The root lies outside every place a run may write when namespaces are refused (`/tmp`,
//! `/var/tmp`, `/dev/shm`, `/run/lock`): as on Gradescope, where `/autograder` is outside them,
//! a program must not reach `results/` or `source/` through a scratch place.

use super::{validate, Layout, ROOT_VAR};
use crate::sandbox::rootfs::PRIVATE_DIRS;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{0}: not a zip Gradescope could unpack: {1}")]
    Zip(PathBuf, zip::result::ZipError),
    #[error("the replay root {0} lies in a place every run may write when namespaces are refused; set XDG_CACHE_HOME to a folder outside /tmp, /var/tmp, /dev/shm and /run/lock")]
    Scratch(PathBuf),
    #[error("{0} is not a folder")]
    NotAFolder(PathBuf),
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ReplayError {
    let what = what.into();
    move |source| ReplayError::Io { what, source }
}

/// What a replay found.
#[derive(Debug)]
pub struct Replayed {
    pub root: PathBuf,
    /// `run_autograder`'s exit status (Gradescope wants 0).
    pub exit: Option<i32>,
    /// The results file's text, when there is one.
    pub results: Option<String>,
    /// What is wrong with it (empty: valid).
    pub problems: Vec<String>,
    /// What `sh -n setup.sh` said, when it refused the script.
    pub setup_syntax: Option<String>,
    /// Packages `setup.sh` installs that this machine lacks.
    pub setup_missing: Vec<String>,
}

impl Replayed {
    pub fn valid(&self) -> bool {
        self.exit == Some(0)
            && self.results.is_some()
            && self.problems.is_empty()
            && self.setup_syntax.is_none()
    }
}

/// Where to replay: a fresh folder of our own, removed afterwards unless kept; or a folder
/// given (`--root`), new or empty, always kept.
#[derive(Debug, Clone)]
pub enum Root {
    Fresh { keep: bool },
    At(PathBuf),
}

/// Replays `zip` on `submission` in `root`.
pub fn replay(zip: &Path, submission: &Path, root: &Root) -> Result<Replayed, ReplayError> {
    if !submission.is_dir() {
        return Err(ReplayError::NotAFolder(submission.to_path_buf()));
    }
    let dir = match root {
        Root::Fresh { .. } => {
            let base = base()?;
            let dir = tempfile::Builder::new()
                .prefix("gradescope-")
                .tempdir_in(&base)
                .map_err(io(format!("creating a replay root in {}", base.display())))?;
            Some(dir)
        }
        Root::At(path) => {
            std::fs::create_dir_all(path).map_err(io(format!("creating {}", path.display())))?;
            outside_scratch(&path.canonicalize().unwrap_or_else(|_| path.clone()))?;
            None
        }
    };
    let root_path = match (&dir, root) {
        (Some(d), _) => d.path().to_path_buf(),
        (None, Root::At(path)) => path.clone(),
        (None, Root::Fresh { .. }) => unreachable!("a fresh root is a temporary folder"),
    };
    let layout = Layout::at(&root_path);
    lay_out(&layout, zip, submission)?;
    let setup = layout.source().join("setup.sh");
    let setup_syntax = syntax(&setup);
    let setup_missing = missing_packages(&setup);
    let script = layout.root.join("run_autograder");
    std::fs::copy(layout.source().join("run_autograder"), &script)
        .map_err(io("copying run_autograder to the root"))?;
    chmod(&script, 0o755)?;
    let status = Command::new(&script)
        .env(ROOT_VAR, &layout.root)
        .current_dir(&layout.root)
        .status()
        .map_err(io(format!("running {}", script.display())))?;
    let results = std::fs::read_to_string(layout.results_json()).ok();
    let problems = match &results {
        Some(text) => validate::problems(text),
        None => vec!["no results/results.json was written".into()],
    };
    let root = match (dir, root) {
        (Some(d), Root::Fresh { keep: true }) => d.keep(),
        (Some(d), _) => d.path().to_path_buf(),
        (None, _) => root_path,
    };
    Ok(Replayed {
        root,
        exit: status.code(),
        results,
        problems,
        setup_syntax,
        setup_missing,
    })
}

/// Where replay roots are made: `/var/cache/sysgrade` for root, the user's cache folder
/// otherwise; never below a scratch place.
fn base() -> Result<PathBuf, ReplayError> {
    let base = if nix::unistd::geteuid().is_root() {
        PathBuf::from("/var/cache/sysgrade")
    } else {
        match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
            Some(dir) => PathBuf::from(dir).join("sysgrade"),
            None => std::env::var_os("HOME")
                .map_or_else(|| PathBuf::from("/var/cache"), PathBuf::from)
                .join(".cache/sysgrade"),
        }
    };
    std::fs::create_dir_all(&base).map_err(io(format!("creating {}", base.display())))?;
    let real = base.canonicalize().unwrap_or_else(|_| base.clone());
    outside_scratch(&real)?;
    Ok(real)
}

/// Refuses a root a run could write through a scratch place.
fn outside_scratch(path: &Path) -> Result<(), ReplayError> {
    if PRIVATE_DIRS.iter().any(|d| path.starts_with(d)) {
        return Err(ReplayError::Scratch(path.to_path_buf()));
    }
    Ok(())
}

/// `source/` from the zip, `submission/` copied, an empty `results/`; the root as
/// Gradescope's (root-owned, readable).
fn lay_out(layout: &Layout, zip: &Path, submission: &Path) -> Result<(), ReplayError> {
    chmod(&layout.root, 0o755)?;
    let file = std::fs::File::open(zip).map_err(io(format!("opening {}", zip.display())))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| ReplayError::Zip(zip.to_path_buf(), e))?;
    archive
        .extract(layout.source())
        .map_err(|e| ReplayError::Zip(zip.to_path_buf(), e))?;
    chmod(&layout.source(), 0o755)?;
    crate::sandbox::copy::copy_tree(submission, &layout.submission())
        .map_err(io(format!("copying {}", submission.display())))?;
    std::fs::create_dir_all(layout.results()).map_err(io("creating results/"))?;
    chmod(&layout.results(), 0o755)
}

fn chmod(path: &Path, mode: u32) -> Result<(), ReplayError> {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(io(format!("chmod {}", path.display())))
}

/// What `sh -n` says of a script, `None` when it parses.
fn syntax(script: &Path) -> Option<String> {
    match Command::new("sh").arg("-n").arg(script).output() {
        Ok(out) if out.status.success() => None,
        Ok(out) => Some(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        Err(e) => Some(format!("sh: {e}")),
    }
}

/// The packages of `setup.sh`'s `apt-get install` lines that dpkg does not know installed.
fn missing_packages(setup: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(setup).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("apt-get install"))
        .flat_map(str::split_whitespace)
        .filter(|w| !w.starts_with('-'))
        .filter(|p| !installed(p))
        .map(str::to_string)
        .collect()
}

fn installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}
