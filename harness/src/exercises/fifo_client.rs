//! `fifo_client`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_client",
    lecture: &["SimpleFiFo/client.py"],
    aliases: &[],
    scenarios: &[],
};
