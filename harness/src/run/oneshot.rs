//! Running a command to its end in the sandbox: for builds (a Makefile is the student's code
//! too) and other helpers that need no scenario.

use super::transcript::{Entry, Source};
use super::{Oversight, Run};
use crate::clock::Clock;
use crate::outcome::Failure;
use crate::sandbox::protocol::{Exit, Spec};
use crate::settings::Settings;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How a command run to its end went.
#[derive(Debug)]
pub struct Finished {
    /// `None` when it did not end within its limit (it was killed).
    pub exit: Option<Exit>,
    /// Its stdout and stderr lines, in order.
    pub output: Vec<String>,
}

/// Runs `spec` until it exits or `limit` (nominal) passes. Not starting it is a `Failure`
/// (`error` for the command, `fault` for the grader's supervisor).
pub fn until_exit(
    settings: &Settings,
    spec: Spec,
    limit: Duration,
    own_root: &std::path::Path,
) -> Result<Finished, Failure> {
    let records = Arc::new(Mutex::new(Vec::new()));
    let oversight = Oversight {
        clock: Clock::new(settings.time_scale),
        own_root: own_root.to_path_buf(),
        records: records.clone(),
        label: "build".into(),
        ending: nix::sys::signal::Signal::SIGTERM,
    };
    let mut run = Run::start(
        &settings.supervisor,
        spec,
        settings.output_cap,
        oversight,
        None,
    )?;
    let exit = run.wait_exit(limit).ok();
    run.finish();
    let transcript: Vec<Entry> = records
        .lock()
        .map(|r| r.iter().flat_map(|rec| rec.transcript.clone()).collect())
        .unwrap_or_default();
    let output = transcript
        .into_iter()
        .filter(|e| e.source != Source::Harness)
        .map(|e| e.text)
        .collect();
    Ok(Finished { exit, output })
}
