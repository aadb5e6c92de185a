//! `run_process`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "run_process",
    lecture: &["Subprocess/run_process.py"],
    aliases: &[],
    scenarios: &[],
};
