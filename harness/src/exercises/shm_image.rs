//! `shm_image`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "shm_image",
    lecture: &[],
    aliases: &[],
    scenarios: &[],
};
