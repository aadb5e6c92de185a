//! image_fifo (lecture: ImageFIFO/createImage.py): writes 200 frames of random lines on
//! white (400x400 RGBA, 640000 bytes each) to the existing FIFO `imagefifo`, opening and
//! closing it once per frame, with a `doing frame <i>` progress line on stderr.
//!
//! Scenarios: `image_fifo.frames`, `image_fifo.content`.
//!
//! Unlike the lecture (Python's `open(..., "wb")`), a missing `imagefifo` is an error, not a
//! regular file to create.

use reference::image::random_lines_frame;
use reference::rng::Rng;
use std::io::Write;
use std::process::exit;

const FIFO: &str = "imagefifo";
const FRAMES: usize = 200;

fn main() {
    let mut rng = Rng::from_entropy();
    for i in 0..FRAMES {
        let frame = random_lines_frame(&mut rng);
        eprintln!("doing frame {i}");
        // Opening for writing blocks until there is a reader.
        let result = std::fs::OpenOptions::new()
            .write(true)
            .open(FIFO)
            .and_then(|mut fifo| fifo.write_all(&frame.pixels));
        if let Err(e) = result {
            eprintln!("image_fifo: writing frame {i} to {FIFO}: {e}");
            exit(1);
        }
    }
    println!("wrote {FRAMES} frames");
}
