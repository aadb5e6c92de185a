//! `echo_client`: not written yet (see the catalogue).

use super::Exercise;

pub static EXERCISE: Exercise = Exercise {
    id: "echo_client",
    lecture: &["SimpleSocket/client.py"],
    aliases: &[],
    scenarios: &[],
};
