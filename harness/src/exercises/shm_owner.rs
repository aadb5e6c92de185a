//! `shm_owner`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "shm_owner",
    lecture: &[],
    aliases: &[],
    scenarios: &[],
};
