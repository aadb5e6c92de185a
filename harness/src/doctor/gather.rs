//! Probing: the only part of the doctor that touches the machine. The sandbox's layers come
//! from the guarantees probe `grade` makes (`Probe::current`, the same runs); fanotify and
//! the process events connector are asked the way `files` and `fork_exec` ask; the tools
//! are looked for the way the scenarios look.

use super::exercises::exercises;
use super::facts::{Facts, Grader, SCHEMA};
use super::layers::{layers, Observers};
use super::machine::Machine;
use super::tools::{install_command, tools};
use crate::sandbox::guarantees::Probe;
use crate::sandbox::{fanotify, proc_calls, proc_events};
use crate::scenario::tools::ALL;
use crate::settings::{ProcEvents, Settings, PROC_EVENTS_VAR};

/// Everything the doctor says, probed now.
pub fn gather(settings: &Settings) -> Facts {
    let machine = Machine::read();
    let probe = Probe::current(&settings.supervisor);
    let observers = Observers {
        fanotify: fanotify_works(),
        proc_connector: proc_connector_works(settings.proc_events),
        proc_fallback: proc_fallback_works(settings.proc_events),
    };
    let layers = layers(probe, &machine, &observers);
    let tools = tools(&settings.python, machine.root);
    let missing: Vec<_> = ALL
        .iter()
        .filter(|t| tools.iter().any(|f| f.name == t.command && !f.found))
        .collect();
    Facts {
        schema: SCHEMA,
        install_command: install_command(&missing, &settings.python, machine.root),
        exercises: exercises(crate::exercises::ALL, &layers, &tools),
        guarantees: probe.guarantees.clone(),
        grader: Grader {
            uid: machine.uid,
            root: machine.root,
            kernel: machine.kernel.clone(),
            python: settings.python.clone(),
        },
        layers,
        tools,
    }
}

/// A fanotify mount mark for close-after-write, as `files` makes one, on a fresh folder.
fn fanotify_works() -> Result<(), String> {
    let dir = tempfile::Builder::new()
        .prefix("sysgrade-doctor-")
        .tempdir()
        .map_err(|e| format!("making a folder to watch: {e}"))?;
    let path = dir.path().to_string_lossy().into_owned();
    fanotify::on_mount(&path)
        .map(drop)
        .map_err(|e| e.to_string())
}

/// A subscription to the process events, as `fork_exec` makes one (confirmed by the kernel),
/// unless `SYSGRADE_PROC_EVENTS` rules the connector out.
fn proc_connector_works(setting: ProcEvents) -> Result<(), String> {
    if setting == ProcEvents::Seccomp {
        return Err(format!("not used: {PROC_EVENTS_VAR}=seccomp"));
    }
    proc_events::ProcessWatch::subscribe(std::process::id() as i32)
        .map(drop)
        .map_err(|e| format!("subscribing to the process events: {e}"))
}

/// The supervisor's seccomp filter for processes, installed in a child as a run's program
/// gets it, unless `SYSGRADE_PROC_EVENTS` rules it out.
fn proc_fallback_works(setting: ProcEvents) -> Result<(), String> {
    if setting == ProcEvents::Connector {
        return Err(format!("not used: {PROC_EVENTS_VAR}=connector"));
    }
    proc_calls::probe()
}
