//! `fork_exec`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "fork_exec",
    lecture: &[],
    aliases: &[],
    scenarios: &[],
};
