//! Making each found program runnable, once per grading: C and C++ compiled (or built by the
//! Makefile or CMakeLists.txt beside them), cargo projects built, scripts and executables
//! taken as they are. A compile error is a finding about the exercise, never the grader's.

use super::{Entry, Found, Language, Program};
use crate::error::Error;
use crate::outcome::{Failure, Status};
use crate::run::oneshot::until_exit;
use crate::sandbox::copy::{chown_tree, copy_tree};
use crate::sandbox::identity::{self, Lease};
use crate::sandbox::protocol::{Exit, Network, Spec, View};
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// A build tool (gcc, make, cargo, …) that could not be run: the grader's fault, whatever
/// stopped it (the tool missing on this machine, a supervisor that did not start it), since
/// no code of the student's ran yet.
fn tool_not_run(tool: &str, f: Failure) -> Failure {
    match f.status {
        Status::Fault => f.context(format!("could not run `{tool}`")),
        _ => Failure::fault(format!(
            "grader fault: could not run `{tool}`: {}",
            f.message
        )),
    }
}

/// Lines of compiler output kept in feedback.
const KEPT_LINES: usize = 25;

/// Builds the programs of one submission inside `work`.
pub struct Builder<'a> {
    settings: &'a Settings,
    guarantees: &'a Guarantees,
    submission: PathBuf,
    work: PathBuf,
    copy: Option<PathBuf>,
    lease: Option<Lease>,
    cargo: HashMap<PathBuf, Result<PathBuf, Failure>>,
}

impl<'a> Builder<'a> {
    pub fn new(
        settings: &'a Settings,
        guarantees: &'a Guarantees,
        submission: &Path,
        work: &Path,
    ) -> Self {
        Builder {
            settings,
            guarantees,
            submission: submission.to_path_buf(),
            work: work.to_path_buf(),
            copy: None,
            lease: None,
            cargo: HashMap::new(),
        }
    }

    /// Makes `found` runnable for exercise `id`.
    pub fn build(&mut self, id: &str, found: &Found) -> Result<Result<Program, Failure>, Error> {
        let program = |entry, warnings| Program {
            found: found.clone(),
            entry,
            warnings,
        };
        match found.language {
            Language::Python => Ok(Ok(program(
                Entry::Interpreted {
                    interpreter: self.settings.python.clone(),
                },
                None,
            ))),
            Language::Executable => Ok(Ok(program(Entry::InPlace, None))),
            Language::C | Language::Cpp | Language::Make | Language::CMake => Ok(self
                .compile(id, found)?
                .map(|(binary, warnings)| program(Entry::Native { binary }, warnings))),
            Language::Rust => Ok(self
                .cargo(found)?
                .map(|binary| program(Entry::Native { binary }, None))),
        }
    }

    /// The submission copied once into `work/src`, owned by the build identity.
    fn source_copy(&mut self) -> Result<PathBuf, Error> {
        if let Some(copy) = &self.copy {
            return Ok(copy.clone());
        }
        let copy = self.work.join("src");
        copy_tree(&self.submission, &copy).map_err(io("copying the submission for the build"))?;
        if self.lease.is_none() && self.guarantees.separate_uid {
            self.lease = identity::lease();
        }
        if let Some(lease) = &self.lease {
            chown_tree(&self.work, lease.uid, lease.gid)
                .map_err(io("preparing the build folder"))?;
        }
        self.copy = Some(copy.clone());
        Ok(copy)
    }

    fn compile(
        &mut self,
        id: &str,
        found: &Found,
    ) -> Result<Result<(PathBuf, Option<String>), Failure>, Error> {
        let copy = self.source_copy()?;
        let src = copy.join(&found.source);
        let dir = src.parent().unwrap_or(&copy).to_path_buf();
        let stem = found
            .source
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let out = self.work.join("bin").join(id);
        std::fs::create_dir_all(&out).map_err(io("creating the build output folder"))?;
        let identity = self.lease.as_ref().map(|l| (l.uid, l.gid));
        if let Some((uid, gid)) = identity {
            chown_tree(&out, uid, gid).map_err(io("preparing the build output folder"))?;
        }
        let binary = out.join(&stem);
        let steps: Vec<Vec<String>> = match found.language {
            Language::C => vec![words(
                &["gcc", "-std=c17", "-Wall", "-Wextra", "-O2", "-o"],
                &binary,
                &src,
                &["-lm", "-lpthread"],
            )],
            Language::Cpp => vec![words(
                &["g++", "-std=c++17", "-Wall", "-Wextra", "-O2", "-o"],
                &binary,
                &src,
                &["-lm", "-pthread"],
            )],
            Language::Make => vec![vec!["make".into()]],
            _ => vec![
                vec![
                    "cmake".into(),
                    "-S".into(),
                    ".".into(),
                    "-B".into(),
                    "build".into(),
                ],
                vec!["cmake".into(), "--build".into(), "build".into()],
            ],
        };
        let mut log = Vec::new();
        for argv in steps {
            let view = View {
                rw: vec![self.work.clone()],
                ro: Vec::new(),
            };
            let spec = self.spec(&argv, &dir, identity, base_env(&self.work), view);
            let finished = match self.run_step(spec)? {
                Ok(f) => f,
                Err(f) => return Ok(Err(tool_not_run(&argv[0], f))),
            };
            let prefix = format!("{}/", copy.display());
            log.extend(finished.output.into_iter().map(|l| l.replace(&prefix, "")));
            match finished.exit {
                Some(Exit::Code(0)) => {}
                Some(exit) => {
                    return Ok(Err(Failure::error(format!(
                        "{}`{}` failed ({}):\n{}",
                        first_error(&log),
                        argv.join(" ")
                            .replace(&*self.work.to_string_lossy(), "<build>"),
                        crate::run::describe_exit(exit),
                        trim(&log)
                    ))))
                }
                None => {
                    return Ok(Err(Failure::error(format!(
                        "`{}` did not finish within {} s",
                        argv[0], self.settings.build_limit_secs
                    ))))
                }
            }
        }
        if !matches!(found.language, Language::C | Language::Cpp) {
            let built = [
                dir.join(&stem),
                dir.join("build").join(&stem),
                dir.join(id),
                dir.join("build").join(id),
            ];
            match built.iter().find(|p| p.is_file()) {
                Some(p) => {
                    std::fs::copy(p, &binary).map_err(io("collecting the built program"))?;
                }
                None => {
                    return Ok(Err(Failure::error(format!(
                        "the build succeeded but made no executable named `{stem}` or `{id}`"
                    ))))
                }
            }
        }
        chown_tree(&out, 0, 0).ok();
        let warnings = (!log.is_empty()).then(|| trim(&log));
        Ok(Ok((binary, warnings)))
    }

    /// Runs one build command to its end, within the build limit.
    fn run_step(
        &self,
        spec: Spec,
    ) -> Result<Result<crate::run::oneshot::Finished, Failure>, Error> {
        until_exit(
            self.settings,
            spec,
            Duration::from_secs(self.settings.build_limit_secs),
            &self.work,
        )
    }

    fn spec(
        &self,
        argv: &[String],
        cwd: &Path,
        identity: Option<(u32, u32)>,
        env: Vec<(String, String)>,
        view: View,
    ) -> Spec {
        let guarantees = self.guarantees;
        // Compilers need no network; cargo fetches crates.
        let network = if argv[0] == "cargo" {
            Network::Host
        } else {
            Network::Private
        };
        Spec {
            program: find_tool(&argv[0]),
            args: argv[1..].to_vec(),
            cwd: cwd.to_path_buf(),
            env,
            identity,
            limits: crate::sandbox::protocol::Limits {
                cpu_seconds: self.settings.build_limit_secs,
                ..self.settings.limits
            },
            wall_limit_ms: (self.settings.build_limit_secs as f64
                * 1000.0
                * self.settings.time_scale) as u64,
            sandbox: guarantees.sandbox(view, network),
            hold: false,
        }
    }

    /// Builds a cargo project's binaries once (as the grader's own user: the toolchain lives
    /// in its home) and returns the binary `found.bin`.
    fn cargo(&mut self, found: &Found) -> Result<Result<PathBuf, Failure>, Error> {
        let manifest = found.source.clone();
        if !self.cargo.contains_key(&manifest) {
            let result = self.cargo_build(&manifest)?;
            self.cargo.insert(manifest.clone(), result);
        }
        let bin = found.bin.clone().unwrap_or_default();
        Ok(match &self.cargo[&manifest] {
            Ok(dir) => Ok(dir.join(&bin)),
            Err(f) => Err(f.clone()),
        })
    }

    fn cargo_build(&mut self, manifest: &Path) -> Result<Result<PathBuf, Failure>, Error> {
        // With a shared target folder, the copy lives at a stable place and only changed files
        // are rewritten: cargo then rebuilds only what changed, across gradings.
        let (copy, _held) = match &self.settings.cargo_target_dir {
            Some(target) => {
                let key = stable_key(&self.submission, manifest);
                let copy = target.join("sources").join(key);
                let held = hold(&copy.with_extension("lock"))
                    .map_err(io("locking the cargo build folder"))?;
                super::sync::sync_tree(&self.submission, &copy)
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
        let view = cargo_view(&copy, &target, &env);
        let mut spec = self.spec(&argv, &crate_dir, None, env, view);
        spec.program = crate::settings::which("cargo").unwrap_or_else(|| PathBuf::from("cargo"));
        let finished = match self.run_step(spec)? {
            Ok(f) => f,
            Err(f) => return Ok(Err(tool_not_run("cargo", f))),
        };
        if finished.exit != Some(Exit::Code(0)) {
            return Ok(Err(Failure::error(format!(
                "{}`cargo build` failed:\n{}",
                first_error(&finished.output),
                trim(&finished.output)
            ))));
        }
        let out = self.work.join("bin").join("cargo");
        std::fs::create_dir_all(&out).map_err(io("creating the cargo output folder"))?;
        for bin in super::discover::cargo_bins(&self.submission, manifest) {
            let built = target.join("release").join(&bin);
            if built.is_file() {
                std::fs::copy(&built, out.join(&bin)).map_err(io("collecting a cargo binary"))?;
            }
        }
        Ok(Ok(out))
    }
}

impl Drop for Builder<'_> {
    /// Hands the build tree back to the grader before the identity is released, so no later
    /// run leasing the same uid owns (or can change) the built programs.
    fn drop(&mut self) {
        if self.lease.is_some() {
            let _ = chown_tree(&self.work, 0, 0);
        }
    }
}

fn io(what: &'static str) -> impl Fn(std::io::Error) -> Error {
    move |source| Error::Io {
        what: what.to_string(),
        source,
    }
}

fn words(pre: &[&str], out: &Path, src: &Path, post: &[&str]) -> Vec<String> {
    let mut v: Vec<String> = pre.iter().map(|s| s.to_string()).collect();
    v.push(out.display().to_string());
    v.push(src.display().to_string());
    v.extend(post.iter().map(|s| s.to_string()));
    v
}

fn base_env(home: &Path) -> Vec<(String, String)> {
    vec![
        ("LANG".into(), "C.UTF-8".into()),
        ("PATH".into(), "/usr/local/bin:/usr/bin:/bin".into()),
        ("HOME".into(), home.display().to_string()),
    ]
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
fn cargo_view(copy: &Path, target: &Path, env: &[(String, String)]) -> View {
    let var = |k: &str| {
        env.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| PathBuf::from(v))
    };
    let home = var("HOME").unwrap_or_default();
    let cargo_home = var("CARGO_HOME").unwrap_or_else(|| home.join(".cargo"));
    let rustup_home = var("RUSTUP_HOME").unwrap_or_else(|| home.join(".rustup"));
    let cargo = crate::settings::which("cargo").and_then(|c| c.parent().map(Path::to_path_buf));
    let mut ro: Vec<PathBuf> = vec![rustup_home];
    ro.extend(cargo.filter(|c| !c.starts_with(&cargo_home)));
    View {
        rw: vec![copy.to_path_buf(), target.to_path_buf(), cargo_home],
        ro: ro.into_iter().filter(|p| p.exists()).collect(),
    }
}

fn find_tool(name: &str) -> PathBuf {
    crate::settings::which(name).unwrap_or_else(|| PathBuf::from(format!("/usr/bin/{name}")))
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

/// The first lines of a build log, with a count of the rest.
/// The first line of a build log that reports an error (`x.cpp:3:5: error: …`,
/// `error[E0425]: …`), as the opening line of the feedback; empty when there is none.
fn first_error(lines: &[String]) -> String {
    let error = regex::Regex::new(r"(?i)(^|\W)error\b").ok();
    lines
        .iter()
        .find(|l| error.as_ref().is_some_and(|re| re.is_match(l)))
        .map(|l| format!("does not compile: {}\n", l.trim()))
        .unwrap_or_default()
}

fn trim(lines: &[String]) -> String {
    let mut out: Vec<String> = lines.iter().take(KEPT_LINES).cloned().collect();
    if lines.len() > KEPT_LINES {
        out.push(format!("… ({} more lines)", lines.len() - KEPT_LINES));
    }
    out.join("\n")
}
