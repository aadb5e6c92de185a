//! `image_fifo`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "image_fifo",
    lecture: &["ImageFIFO/createImage.py"],
    aliases: &[],
    scenarios: &[],
};
