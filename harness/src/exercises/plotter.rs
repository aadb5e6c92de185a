//! `plotter`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "plotter",
    lecture: &[],
    aliases: &[],
    scenarios: &[],
};
