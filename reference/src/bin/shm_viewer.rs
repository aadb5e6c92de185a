//! shm_viewer (the lecture's ImageSharedMemory/DisplayPixmap.py), headless: creates the
//! segment `imageMap` of width x height x 4 bytes and "shows" it: the label's image, read
//! from the segment whenever the harness looks (as a redraw timer would), answers the
//! harness's driver protocol (`reference::gui`). Closing the window unlinks the segment.
//!
//! Options: `--width`/`-w`, `--height`/`-ht` (400 each).
//! Scenarios: `shm_viewer.created`, `.shows`, `.close`.

use nix::fcntl::OFlag;
use nix::sys::mman::{shm_open, shm_unlink};
use nix::sys::stat::Mode;
use reference::gui::{self, Window};
use reference::image::SEGMENT;
use std::fs::File;
use std::os::unix::fs::FileExt;

struct Viewer {
    segment: File,
    size: (usize, usize),
}

impl Window for Viewer {
    fn widgets(&self) -> Vec<&'static str> {
        vec!["screen"]
    }
    fn shown(&mut self) -> Option<(usize, usize, Vec<u8>)> {
        let (w, h) = self.size;
        let mut image = vec![0u8; w * h * 4];
        self.segment.read_exact_at(&mut image, 0).ok()?;
        Some((w, h, image))
    }
    fn close(&mut self) {
        if let Err(e) = shm_unlink(SEGMENT) {
            eprintln!("shm_viewer: unlinking {SEGMENT}: {e}");
        }
    }
}

fn main() {
    let size = gui::size_option();
    let flags = OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_RDWR;
    let segment = match shm_open(SEGMENT, flags, Mode::from_bits_truncate(0o600)) {
        Ok(fd) => File::from(fd),
        Err(e) => {
            eprintln!("shm_viewer: creating shared memory {SEGMENT}: {e}");
            std::process::exit(1);
        }
    };
    if let Err(e) = segment.set_len((size.0 * size.1 * 4) as u64) {
        eprintln!("shm_viewer: sizing {SEGMENT}: {e}");
        let _ = shm_unlink(SEGMENT);
        std::process::exit(1);
    }
    gui::run(&mut Viewer { segment, size });
}
