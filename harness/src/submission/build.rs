//! Making each found program runnable, once per grading: C and C++ compiled (or built by the
//! Makefile or CMakeLists.txt beside them), cargo projects built, scripts and executables
//! taken as they are. A compile error is a finding about the exercise, never the grader's.

mod cargo;

use super::{Entry, Found, Language, Program};
use crate::clock::Clock;
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
        _ => Failure::fault(format!("could not run `{tool}`: {}", f.message)),
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
    /// Makes `found` runnable: the student's failed build is an `error`, the grader's own
    /// trouble (copying, a folder, a supervisor) a `fault`.
    pub fn build(&mut self, id: &str, found: &Found) -> Result<Program, Failure> {
        let program = |entry, warnings| Program {
            found: found.clone(),
            entry,
            warnings,
        };
        match found.language {
            Language::Python => Ok(program(
                Entry::Interpreted {
                    interpreter: self.settings.python.clone(),
                },
                None,
            )),
            Language::Executable => Ok(program(Entry::InPlace, None)),
            Language::C | Language::Cpp | Language::Make | Language::CMake => self
                .compile(id, found)
                .map(|(binary, warnings)| program(Entry::Native { binary }, warnings)),
            Language::Rust => self
                .cargo(found)
                .map(|binary| program(Entry::Native { binary }, None)),
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

    fn compile(&mut self, id: &str, found: &Found) -> Result<(PathBuf, Option<String>), Failure> {
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
            // Compilers need no network.
            let spec = self.spec(
                &argv,
                &dir,
                identity,
                base_env(&self.work),
                view,
                Network::Private,
            );
            let finished = self.run_step(spec).map_err(|f| tool_not_run(&argv[0], f))?;
            let prefix = format!("{}/", copy.display());
            log.extend(finished.output.into_iter().map(|l| l.replace(&prefix, "")));
            match finished.exit {
                Some(Exit::Code(0)) => {}
                Some(exit) => {
                    return Err(Failure::error(format!(
                        "{}`{}` failed ({}):\n{}",
                        first_error(&log),
                        argv.join(" ")
                            .replace(&*self.work.to_string_lossy(), "<build>"),
                        crate::run::describe_exit(exit),
                        trim(&log)
                    )))
                }
                None => {
                    return Err(Failure::error(format!(
                        "`{}` did not finish within {} s",
                        argv[0], self.settings.build_limit_secs
                    )))
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
                    return Err(Failure::error(format!(
                        "the build succeeded but made no executable named `{stem}` or `{id}`"
                    )))
                }
            }
        }
        chown_tree(&out, 0, 0).ok();
        let warnings = (!log.is_empty()).then(|| trim(&log));
        Ok((binary, warnings))
    }

    /// Runs one build command to its end, within the build limit.
    fn run_step(&self, spec: Spec) -> Result<crate::run::oneshot::Finished, Failure> {
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
        network: Network,
    ) -> Spec {
        let guarantees = self.guarantees;
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
            wall_limit_ms: Clock::new(self.settings.time_scale)
                .real_ms(Duration::from_secs(self.settings.build_limit_secs)),
            sandbox: guarantees.sandbox(view, network, &[]),
            hold: false,
            observe_removals: false,
            observe_processes: false,
        }
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

fn find_tool(name: &str) -> PathBuf {
    crate::settings::which(name).unwrap_or_else(|| PathBuf::from(format!("/usr/bin/{name}")))
}

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

/// The first lines of a build log, with a count of the rest.
fn trim(lines: &[String]) -> String {
    let mut out: Vec<String> = lines.iter().take(KEPT_LINES).cloned().collect();
    if lines.len() > KEPT_LINES {
        out.push(format!("… ({} more lines)", lines.len() - KEPT_LINES));
    }
    out.join("\n")
}
