//! `copy_project`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "copy_project",
    lecture: &["FileSystem/copy_project.py"],
    aliases: &[],
    scenarios: &[],
};
