//! The plain-words account of every exercise: what a correct program does, each scenario and
//! how it is checked. The text lives in one place, `docs/exercises/<exercise>.md`, which the
//! documentation links to and `sysgrade explain` compiles in (one arm per exercise id).

/// The account of exercise `id`, or `None` for an id without one.
pub fn text(id: &str) -> Option<&'static str> {
    Some(match id {
        "process" => include_str!("../../docs/exercises/process.md"),
        "procloop" => include_str!("../../docs/exercises/procloop.md"),
        "signals" => include_str!("../../docs/exercises/signals.md"),
        "signal_catcher" => include_str!("../../docs/exercises/signal_catcher.md"),
        "env" => include_str!("../../docs/exercises/env.md"),
        "environ" => include_str!("../../docs/exercises/environ.md"),
        "files" => include_str!("../../docs/exercises/files.md"),
        "pathlib" => include_str!("../../docs/exercises/pathlib.md"),
        "copy_project" => include_str!("../../docs/exercises/copy_project.md"),
        "run" => include_str!("../../docs/exercises/run.md"),
        "run_process" => include_str!("../../docs/exercises/run_process.md"),
        "make_movie" => include_str!("../../docs/exercises/make_movie.md"),
        "fifo_server" => include_str!("../../docs/exercises/fifo_server.md"),
        "fifo_client" => include_str!("../../docs/exercises/fifo_client.md"),
        "image_fifo" => include_str!("../../docs/exercises/image_fifo.md"),
        "shm_image" => include_str!("../../docs/exercises/shm_image.md"),
        "shm_owner" => include_str!("../../docs/exercises/shm_owner.md"),
        "echo_server" => include_str!("../../docs/exercises/echo_server.md"),
        "echo_client" => include_str!("../../docs/exercises/echo_client.md"),
        "time_server" => include_str!("../../docs/exercises/time_server.md"),
        "fifo_viewer" => include_str!("../../docs/exercises/fifo_viewer.md"),
        "fifo_writer_ui" => include_str!("../../docs/exercises/fifo_writer_ui.md"),
        "shm_viewer" => include_str!("../../docs/exercises/shm_viewer.md"),
        "shm_writer_ui" => include_str!("../../docs/exercises/shm_writer_ui.md"),
        "fork_exec" => include_str!("../../docs/exercises/fork_exec.md"),
        "plotter" => include_str!("../../docs/exercises/plotter.md"),
        _ => return None,
    })
}

/// What every exercise's `<exercise>.hygiene` scenario checks, in one line.
pub const HYGIENE_SUMMARY: &str =
    "nothing left behind: no process, zombie, file, FIFO, segment or port outside its folder";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_exercise_has_its_text() {
        for id in crate::exercises::ALL.iter().map(|e| e.id) {
            let text = text(id).unwrap_or_else(|| panic!("no text for {id}"));
            assert!(text.starts_with(&format!("# {id}\n")), "{id}");
        }
    }
}
