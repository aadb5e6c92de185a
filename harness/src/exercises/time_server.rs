//! `time_server`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "time_server",
    lecture: &[],
    aliases: &[],
    scenarios: &[],
};
