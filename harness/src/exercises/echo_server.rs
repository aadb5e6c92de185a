//! `echo_server`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "echo_server",
    lecture: &["SimpleSocket/server.py"],
    aliases: &[],
    scenarios: &[],
};
