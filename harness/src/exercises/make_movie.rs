//! `make_movie`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "make_movie",
    lecture: &["Subprocess/make_movie.py"],
    aliases: &[],
    scenarios: &[],
};
