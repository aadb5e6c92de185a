//! `pathlib`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "pathlib",
    lecture: &["FileSystem/path_lib.py"],
    aliases: &["path_lib"],
    scenarios: &[],
};
