//! The exercise catalogue: one file per exercise, one line per exercise in [`ALL`].

mod copy_project;
mod echo_client;
mod echo_server;
mod env;
mod environ;
mod fifo_client;
mod fifo_server;
mod fifo_viewer;
mod fifo_writer_ui;
mod files;
mod fork_exec;
mod image_fifo;
mod make_movie;
mod pathlib;
mod plotter;
mod process;
mod procloop;
mod run;
mod run_process;
mod shm_image;
mod shm_owner;
mod shm_viewer;
mod shm_writer_ui;
mod signal_catcher;
mod signals;
mod time_server;

use crate::scenario::{RunRules, Scenario};

/// One lecture example and its scenarios.
pub struct Exercise {
    pub id: &'static str,
    /// The lecture's file names, with their folder.
    pub lecture: &'static [&'static str],
    /// Other conventional file stems (besides the id).
    pub aliases: &'static [&'static str],
    /// How a person ends the program (Ctrl-C, `kill`, SIGHUP for signals). When a scenario
    /// is over and the program still runs, the harness ends it this way first, with a grace,
    /// so that what it cleans up on that signal is not blamed on it.
    pub ending: nix::sys::signal::Signal,
    /// The TCP ports its programs bind or connect to. Where runs share the host's network
    /// (no network namespace), these are the only ones they may use (`Sandbox::tcp_ports`).
    pub ports: &'static [u16],
    /// The POSIX shared memory segments its programs use by a fixed name. Where runs share
    /// the host's `/dev/shm`, scenarios of exercises using one take turns, as they do for
    /// `ports` where runs share the host's network.
    pub segments: &'static [&'static str],
    pub scenarios: &'static [Scenario],
}

impl std::fmt::Debug for Exercise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id)
    }
}

impl Exercise {
    /// What its scenarios' runs need to know of it.
    pub fn rules(&self) -> RunRules {
        RunRules {
            exercise: self.id,
            ending: self.ending,
            ports: self.ports,
            segments: self.segments,
        }
    }
}

/// The suffix of every exercise's hygiene scenario.
pub const HYGIENE: &str = "hygiene";

/// Every exercise, in catalogue order.
pub static ALL: &[&Exercise] = &[
    &process::EXERCISE,
    &procloop::EXERCISE,
    &signals::EXERCISE,
    &signal_catcher::EXERCISE,
    &env::EXERCISE,
    &environ::EXERCISE,
    &files::EXERCISE,
    &pathlib::EXERCISE,
    &copy_project::EXERCISE,
    &run::EXERCISE,
    &run_process::EXERCISE,
    &make_movie::EXERCISE,
    &fifo_server::EXERCISE,
    &fifo_client::EXERCISE,
    &image_fifo::EXERCISE,
    &shm_image::EXERCISE,
    &shm_owner::EXERCISE,
    &echo_server::EXERCISE,
    &echo_client::EXERCISE,
    &time_server::EXERCISE,
    &fifo_viewer::EXERCISE,
    &fifo_writer_ui::EXERCISE,
    &shm_viewer::EXERCISE,
    &shm_writer_ui::EXERCISE,
    &fork_exec::EXERCISE,
    &plotter::EXERCISE,
];

/// Looks an exercise up by id.
pub fn get(id: &str) -> Option<&'static Exercise> {
    ALL.iter().copied().find(|e| e.id == id)
}

/// Whether a lecture base name (like `signal.cpp`) names one exercise only, so it may be
/// matched in any folder.
pub fn lecture_name_is_unique(base: &str) -> bool {
    ALL.iter()
        .flat_map(|e| e.lecture.iter())
        .filter(|l| l.rsplit('/').next() == Some(base))
        .count()
        == 1
}

/// Every public scenario id, `exercise.scenario`, hygiene included.
pub fn scenario_ids() -> Vec<String> {
    ALL.iter()
        .flat_map(|e| {
            e.scenarios
                .iter()
                .map(move |s| format!("{}.{}", e.id, s.id))
                .chain(std::iter::once(format!("{}.{HYGIENE}", e.id)))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A shared run's members are exactly the scenarios of one exercise that name it.
    #[test]
    fn shared_runs_list_exactly_the_scenarios_that_name_them() {
        let mut sharing = 0;
        for e in ALL {
            for s in e.scenarios {
                let Some(run) = s.shared else { continue };
                sharing += 1;
                let naming: Vec<&str> = e
                    .scenarios
                    .iter()
                    .filter(|o| o.shared.is_some_and(|r| std::ptr::addr_eq(r, run)))
                    .map(|o| o.id)
                    .collect();
                assert_eq!(run.members(), naming, "{}.{}: {}", e.id, s.id, run.why());
            }
        }
        assert!(sharing > 0, "no exercise shares a run");
    }
}
