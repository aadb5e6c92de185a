//! Asking a run's supervisor about the program from outside: the options of its listening
//! socket, and the files its tree removed (each read just before it went).

use super::state::Removed;
use super::{secs, Run};
use crate::sandbox::protocol::{Command, ListenerOptions};
use std::time::Duration;

impl Run {
    /// The options of the socket listening on TCP `port` in the run's network, read by the
    /// supervisor from the holder's own descriptor. `Err` says why they could not be read
    /// (the kernel's refusal, or nothing listening); `within` is nominal.
    pub fn listener_options(&self, port: u16, within: Duration) -> Result<ListenerOptions, String> {
        let Some(launched) = &self.launched else {
            return Err("the run is over".into());
        };
        let earlier = self.shared.lock().listeners.len();
        Command::ListenerOptions { port }
            .send(&launched.handle.control)
            .map_err(|e| format!("asking the supervisor: {e}"))?;
        self.shared
            .wait_for(self.deadline(within), |st| {
                let answer = st
                    .listeners
                    .get(earlier..)?
                    .iter()
                    .find(|(p, _)| *p == port);
                match answer {
                    Some((_, options)) => Some(options.clone()),
                    None => st
                        .supervisor_gone
                        .then(|| Err("the supervisor is gone".to_string())),
                }
            })
            .unwrap_or_else(|| {
                Err(format!(
                    "the supervisor did not answer within {}",
                    secs(within)
                ))
            })
    }

    /// The regular files the program's tree removed so far, each as it was just before (a
    /// run started with `Launch::observe_removals`; empty otherwise).
    pub fn removed(&self) -> Vec<Removed> {
        self.shared.lock().removed.clone()
    }

    /// Whether every removal is observed (see `Run::removed`), or why not.
    pub fn removals_observed(&self) -> Result<(), String> {
        if !self.spec.observe_removals {
            return Err("the run was not started to observe them".into());
        }
        match &self.shared.lock().removals_problem {
            Some(problem) => Err(problem.clone()),
            None => Ok(()),
        }
    }

    /// The program's process tree as the supervisor follows it (a run started with
    /// `Launch::observe_processes`), or why there is none. The supervisor reports a problem
    /// before the start, so a started run knows.
    pub fn process_tree(
        &self,
    ) -> Result<std::sync::Arc<crate::wait::Watched<crate::sandbox::proc_events::Tree>>, String>
    {
        if !self.spec.observe_processes {
            return Err("the run was not started to observe them".into());
        }
        let st = self.shared.lock();
        match &st.processes_problem {
            Some(problem) => Err(problem.clone()),
            None => Ok(st.processes.clone()),
        }
    }
}
