//! shm_writer_ui (the lecture's ImageSharedMemory/createImageUI.py), headless: the form's
//! widgets answer the harness's driver protocol (`reference::gui`). It attaches to the
//! viewer's segment `imageMap` (never creating it); Start toggles a timer and each tick draws
//! a 400x400 image in the chosen mode into the segment. Closing leaves the segment in place.
//!
//! Scenarios: `shm_writer_ui.idle`, `.writes`, `.stop`, `.kept`.

use nix::fcntl::OFlag;
use nix::sys::mman::shm_open;
use nix::sys::stat::Mode;
use reference::gui::{self, Controls, Form, Output};
use reference::image::{FRAME_BYTES, SEGMENT};
use reference::rng::Rng;
use std::fs::File;
use std::os::unix::fs::FileExt;

/// The viewer's segment.
struct Painter {
    rng: Rng,
    segment: File,
}

impl Output for Painter {
    fn frame(&mut self, form: &Controls) {
        // The segment holds one 400x400 image, whatever the form's size says.
        let mut controls = Controls {
            width: 400,
            height: 400,
            ..Controls::default()
        };
        controls.mode = form.mode;
        let image = controls.draw(&mut self.rng);
        if let Err(e) = self.segment.write_all_at(&image.pixels, 0) {
            eprintln!("shm_writer_ui: writing {SEGMENT}: {e}");
        }
    }
}

fn main() {
    let segment = match shm_open(SEGMENT, OFlag::O_RDWR, Mode::empty()) {
        Ok(fd) => File::from(fd),
        Err(e) => {
            eprintln!(
                "shm_writer_ui: cannot open shared memory {SEGMENT}: {e} (start the viewer first)"
            );
            std::process::exit(1);
        }
    };
    match segment.metadata() {
        Ok(m) if m.len() >= FRAME_BYTES as u64 => {}
        _ => {
            eprintln!("shm_writer_ui: {SEGMENT} is smaller than {FRAME_BYTES} bytes");
            std::process::exit(1);
        }
    }
    gui::run(&mut Form::new(Painter {
        rng: Rng::from_entropy(),
        segment,
    }));
}
