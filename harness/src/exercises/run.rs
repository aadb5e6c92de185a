//! `run`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "run",
    lecture: &["Subprocess/run.py"],
    aliases: &[],
    scenarios: &[],
};
