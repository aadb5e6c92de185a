//! `fifo_server`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "fifo_server",
    lecture: &["SimpleFiFo/server.py"],
    aliases: &[],
    scenarios: &[],
};
