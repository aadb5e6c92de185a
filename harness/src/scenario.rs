//! A scenario: one named check of an exercise, written as a function over a [`Ctx`] that
//! prepares the program's folder, starts runs and takes steps with them.
//!
//! Each scenario gets a fresh copy of the submission, an identity of its own (when root) and
//! its own home folder; every run it starts is torn down and its leftovers recorded, even when
//! the scenario returns early.

mod launch;
mod needs;
pub mod shared;
pub mod tools;

pub use crate::sandbox::Layer;
pub use launch::Launch;
pub use needs::Need;
pub use shared::{Judged, Shared, SharedRun};
pub use tools::Tool;

use crate::clock::Clock;
use crate::error::Error;
use crate::outcome::{Failure, Verdict};
use crate::run::{Oversight, Run, RunRecord};
use crate::sandbox::copy::{chown_tree, copy_tree};
use crate::sandbox::identity::{self, Lease};
use crate::sandbox::names;
use crate::sandbox::protocol::{Network, Spec, View};
use crate::sandbox::reach::Reach;
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use crate::submission::{Entry, Program};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One check of an exercise.
pub struct Scenario {
    /// The short id; the public id is `<exercise>.<id>`.
    pub id: &'static str,
    /// One line: what a correct program does here.
    pub summary: &'static str,
    /// The scenario run on its own: it starts the program and judges what it sees.
    pub check: fn(&mut Ctx) -> Verdict,
    /// The run it shares with other scenarios of its exercise, if any: it is judged from
    /// that run, and `check` is its run of its own when the shared run cannot show it.
    pub shared: Option<&'static dyn SharedRun>,
    /// Commands it is `skip` without; the grader checks them before it runs.
    pub needs: &'static [Tool],
    /// What else it relies on: modules, layers, speed-ups (for `sysgrade doctor`).
    pub requires: &'static [Need],
}

impl Scenario {
    /// A scenario that needs no tool beyond the program itself.
    pub const fn new(
        id: &'static str,
        summary: &'static str,
        check: fn(&mut Ctx) -> Verdict,
    ) -> Self {
        Scenario {
            id,
            summary,
            check,
            shared: None,
            needs: &[],
            requires: &[],
        }
    }

    /// The same scenario, judged from `run` (which lists it among its members) when it can
    /// be; `check` stays its run of its own.
    pub const fn shared(mut self, run: &'static dyn SharedRun) -> Self {
        self.shared = Some(run);
        self
    }

    /// The same scenario, `skip` on a machine without one of `tools`.
    pub const fn needs(mut self, tools: &'static [Tool]) -> Self {
        self.needs = tools;
        self
    }

    /// The same scenario, declaring what else it relies on (see [`Need`]).
    pub const fn requires(mut self, needs: &'static [Need]) -> Self {
        self.requires = needs;
        self
    }
}

/// What the scenario layer needs of its exercise: the catalogue's data, handed down by the
/// grader (`Exercise::rules`), so that this layer never looks its exercise up.
#[derive(Debug, Clone, Copy)]
pub struct RunRules {
    /// The exercise's id.
    pub exercise: &'static str,
    /// How a person ends its program (see `Exercise::ending`).
    pub ending: nix::sys::signal::Signal,
    /// The TCP ports its runs may use when they share the host's network.
    pub ports: &'static [u16],
    /// The shared memory segments its programs use by a fixed name.
    pub segments: &'static [&'static str],
}

/// What a scenario works with.
pub struct Ctx<'a> {
    settings: &'a Settings,
    guarantees: &'a Guarantees,
    program: &'a Program,
    rules: RunRules,
    /// The scenario's own folder: `sub/` (the copy) and `home/`.
    dir: PathBuf,
    own_root: PathBuf,
    lease: Option<Lease>,
    records: Arc<Mutex<Vec<RunRecord>>>,
    started: usize,
    /// The names this scenario takes in turns with others, held for its life.
    _claims: Vec<names::NameLock>,
}

impl<'a> Ctx<'a> {
    /// Copies the submission into `dir/sub` and leases an identity. `own_root` is the grading
    /// folder: files below it are the harness's, never a run's leftovers.
    pub fn new(
        settings: &'a Settings,
        guarantees: &'a Guarantees,
        program: &'a Program,
        rules: RunRules,
        submission: &Path,
        dir: &Path,
        own_root: &Path,
    ) -> Result<Self, Error> {
        let io = |what: &str| {
            let what = what.to_string();
            move |source| Error::Io { what, source }
        };
        crate::sandbox::phases::time("copy", || copy_tree(submission, &dir.join("sub")))
            .map_err(io("copying the submission"))?;
        std::fs::create_dir_all(dir.join("home")).map_err(io("creating the run's home"))?;
        Ok(Ctx {
            settings,
            guarantees,
            program,
            rules,
            dir: dir.to_path_buf(),
            own_root: own_root.to_path_buf(),
            lease: if guarantees.separate_uid {
                identity::lease()
            } else {
                None
            },
            records: Arc::new(Mutex::new(Vec::new())),
            started: 0,
            _claims: serialising_claims(guarantees, &rules)?,
        })
    }

    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// The grading's clock: nominal durations made real.
    pub fn clock(&self) -> Clock {
        Clock::new(self.settings.time_scale)
    }

    /// The instant `nominal` (a duration as the catalogue states it) from now ends.
    pub fn within(&self, nominal: std::time::Duration) -> std::time::Instant {
        self.clock().deadline(nominal)
    }

    pub fn exercise(&self) -> &'static str {
        self.rules.exercise
    }

    pub fn program(&self) -> &Program {
        self.program
    }

    /// The folder the program runs in (its own folder inside the copy). Prepare files here
    /// before `start`.
    pub fn workdir(&self) -> PathBuf {
        self.dir.join("sub").join(self.program.workdir())
    }

    /// The root of the submission's copy.
    pub fn copy_root(&self) -> PathBuf {
        self.dir.join("sub")
    }

    /// The program's HOME.
    pub fn home(&self) -> PathBuf {
        self.dir.join("home")
    }

    /// A scratch folder of the harness's own, outside the program's copy.
    pub fn scratch(&self) -> PathBuf {
        let p = self.dir.join("harness");
        let _ = std::fs::create_dir_all(&p);
        p
    }

    /// The uid/gid programs run as, if not the grader's own.
    pub fn identity(&self) -> Option<(u32, u32)> {
        self.lease.as_ref().map(|l| (l.uid, l.gid))
    }

    /// The standard environment: LANG, TZ, PATH, HOME, and for Python no bytecode files.
    pub fn standard_env(&self, launch: &Launch) -> Vec<(String, String)> {
        let mut path: Vec<String> = launch
            .path_first
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        path.push("/usr/local/bin:/usr/bin:/bin".into());
        let mut env = vec![
            ("LANG".to_string(), "C.UTF-8".to_string()),
            ("TZ".to_string(), "UTC".to_string()),
            ("PATH".to_string(), path.join(":")),
            ("HOME".to_string(), self.home().display().to_string()),
        ];
        if self.program.is_python() {
            env.push(("PYTHONDONTWRITEBYTECODE".into(), "1".into()));
        }
        env
    }

    /// Starts the program. A program that cannot start is a `Failure` (status error).
    pub fn start(&mut self, launch: Launch) -> Result<Run, Failure> {
        self.start_with(launch, None)
    }

    /// Starts the program after `prepare` has run inside its namespaces (its network and
    /// /dev/shm), for set-up the program must find in place: a segment, a listening server.
    pub fn start_prepared(
        &mut self,
        launch: Launch,
        prepare: impl FnOnce(&Reach) -> Result<(), Failure>,
    ) -> Result<Run, Failure> {
        self.start_with(launch, Some(Box::new(prepare)))
    }

    fn start_with(
        &mut self,
        launch: Launch,
        prepare: Option<crate::run::Prepare<'_>>,
    ) -> Result<Run, Failure> {
        let mut env = if launch.bare_env {
            Vec::new()
        } else {
            self.standard_env(&launch)
        };
        env.retain(|(k, _)| !launch.unset.contains(k) && !launch.env.iter().any(|(k2, _)| k2 == k));
        env.extend(launch.env.iter().cloned());
        let (program, mut args) = self.program.command(&self.copy_root());
        args.extend(launch.args.iter().cloned());
        if let Some(lease) = &self.lease {
            crate::sandbox::phases::time("copy.chown", || {
                chown_tree(&self.dir.join("sub"), lease.uid, lease.gid)
                    .and_then(|()| chown_tree(&self.home(), lease.uid, lease.gid))
            })
            .map_err(|e| Failure::fault(format!("preparing the run folder: {e}")))?;
        }
        let guarantees = self.guarantees;
        let network = match launch.join_network {
            Some(pid) => Network::Join(pid),
            None => Network::Private,
        };
        let spec = Spec {
            program,
            args,
            cwd: self.workdir(),
            env,
            identity: self.identity(),
            limits: self.settings.limits,
            wall_limit_ms: self
                .clock()
                .real_ms(Duration::from_secs(self.settings.run_wall_limit_secs)),
            sandbox: guarantees.sandbox(self.view(), network, self.ports()),
            hold: prepare.is_some(),
            observe_removals: launch.observe_removals,
            observe_processes: launch.observe_processes,
        };
        self.started += 1;
        let oversight = Oversight {
            clock: self.clock(),
            own_root: self.own_root.clone(),
            records: self.records.clone(),
            label: format!("run {}", self.started),
            ending: self.rules.ending,
        };
        Run::start(
            &self.settings.supervisor,
            spec,
            self.settings.output_cap,
            oversight,
            prepare,
        )
    }

    /// The TCP ports the exercise's runs may bind and connect to when they share the host's
    /// network (`Exercise::ports`).
    fn ports(&self) -> &'static [u16] {
        self.rules.ports
    }

    /// What a run of this scenario may see besides the system: its copy and home and the
    /// harness's scratch read-write; the built program and an interpreter living outside the
    /// system folders read-only.
    fn view(&self) -> View {
        let _ = std::fs::create_dir_all(self.dir.join("harness"));
        let mut ro = Vec::new();
        match &self.program.entry {
            Entry::Native { binary } => ro.extend(binary.parent().map(Path::to_path_buf)),
            Entry::Interpreted { interpreter } => {
                ro.extend(crate::settings::interpreter_roots(interpreter))
            }
            Entry::InPlace => {}
        }
        View {
            rw: vec![self.copy_root(), self.home(), self.dir.join("harness")],
            ro,
        }
    }

    /// Runs one of the harness's own tools (ffprobe on the program's movie) to its end, in the
    /// same sandbox as the program: it reads files the program wrote, which the grader never
    /// trusts enough to parse outside one. Its output lines (standard output, then error), or
    /// why it could not run; `limit` is nominal.
    pub fn run_tool(
        &self,
        program: &Path,
        args: Vec<String>,
        limit: std::time::Duration,
    ) -> Result<crate::run::oneshot::Finished, Failure> {
        let guarantees = self.guarantees;
        let spec = Spec {
            program: program.to_path_buf(),
            args,
            cwd: self.workdir(),
            env: self.standard_env(&Launch::new()),
            identity: self.identity(),
            limits: self.settings.limits,
            wall_limit_ms: self.clock().real_ms(limit),
            sandbox: guarantees.sandbox(self.view(), Network::Private, self.ports()),
            hold: false,
            observe_removals: false,
            observe_processes: false,
        };
        match crate::run::oneshot::until_exit(self.settings, spec, limit, &self.own_root) {
            // The tool is the harness's, not the student's: not starting it is a fault.
            Err(f) if f.status == crate::outcome::Status::Error => Err(Failure::fault(f.message)),
            other => other,
        }
    }

    /// A folder in the scratch the run's uid may write (a tool's output).
    pub fn scratch_for_run(&self, name: &str) -> Result<PathBuf, Failure> {
        let dir = self.scratch().join(name);
        let fault = |e: std::io::Error| Failure::fault(format!("preparing {name}: {e}"));
        std::fs::create_dir_all(&dir).map_err(fault)?;
        if let Some((uid, gid)) = self.identity() {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).map_err(fault)?;
        }
        Ok(dir)
    }

    /// Keeps an image (`channels` bytes a pixel) with the record of the last run that ended,
    /// for the report's pictures: for what the harness looked at after tearing the run down
    /// (a frame its tool decoded from the program's movie).
    pub fn keep_picture_after(
        &self,
        label: &str,
        size: (u32, u32),
        pixels: &[u8],
        channels: usize,
    ) {
        let Ok(mut records) = self.records.lock() else {
            return;
        };
        let Some(last) = records.last_mut() else {
            return;
        };
        let held = last.pictures.len();
        if let Some(p) = crate::run::pictured::picture_if_room(held, label, size, pixels, channels)
        {
            last.pictures.push(p);
        }
    }

    /// The transcripts and leftovers of every run this scenario started (call after the
    /// scenario function returned, so every run has been torn down).
    pub fn take_records(&self) -> Vec<RunRecord> {
        self.records
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
    }
}

impl Drop for Ctx<'_> {
    /// Removes the scenario's folder while its identity is still leased: a uid handed to the
    /// next run must not own files of this one (which that run's teardown would find in
    /// `/tmp` and blame on its own program).
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Whether `tool` is on the grader's PATH (a command), in place (a library), or importable by
/// the interpreter programs run with (a module).
pub fn have(tool: &Tool) -> bool {
    let python = match tool.kind {
        tools::Kind::Module { .. } => crate::settings::Settings::from_env().python,
        _ => PathBuf::new(),
    };
    tool.locate(&python).is_some()
}

/// Locks that keep runs apart where the machine cannot: without private scratch places, two
/// runs of one exercise (same fixed names: `/tmp/x.pid`, FIFOs, ports) take turns; and
/// without a uid of their own either, every run of this user does, so that what a run leaves
/// in `/tmp` is known to be its own.
fn serialising_claims(g: &Guarantees, rules: &RunRules) -> Result<Vec<names::NameLock>, Error> {
    let mut names = Vec::new();
    if !g.private_tmp {
        names.push(format!("exercise:{}", rules.exercise));
    }
    if !g.attributable() {
        names.push(format!("runs-of-uid:{}", nix::unistd::geteuid()));
    }
    // The exercise's fixed global names, where the machine does not keep them apart: runs of
    // exercises that use the same port or segment take turns. Always in the same order.
    if !g.private_network {
        names.extend(rules.ports.iter().map(|p| format!("tcp:{p}")));
    }
    if !g.private_tmp {
        names.extend(rules.segments.iter().map(|s| format!("shm:{s}")));
    }
    names
        .iter()
        .map(|n| {
            names::claim(n).map_err(|source| Error::Io {
                what: format!("claiming {n}"),
                source,
            })
        })
        .collect()
}
