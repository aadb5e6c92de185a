//! `files`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "files",
    lecture: &["FileSystem/file.py"],
    aliases: &[],
    scenarios: &[],
};
