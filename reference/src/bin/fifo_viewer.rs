//! fifo_viewer (the lecture's ImageFIFO/DisplayPixmap.py), headless: makes the FIFO
//! `imagefifo` in its folder (an existing one is fine) and "shows" what arrives: a thread
//! opens the FIFO, reads to end of file and takes the bytes as one RGBA frame, or as
//! `resize W H` for the frames that follow. The label's image answers the harness's driver
//! protocol (`reference::gui`); closing the window removes the FIFO.
//!
//! Options: `--width`/`-w`, `--height`/`-ht` (400 each).
//! Scenarios: `fifo_viewer.fifo`, `.shows`, `.resize`, `.close`.

use reference::gui::{self, Window};
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

const FIFO: &str = "imagefifo";

type Frame = (usize, usize, Vec<u8>);

struct Viewer {
    shown: Arc<Mutex<Option<Frame>>>,
    /// Set before the FIFO is removed: the reader then ends quietly (it may meet the FIFO
    /// gone on its next open).
    closing: Arc<AtomicBool>,
}

impl Window for Viewer {
    fn widgets(&self) -> Vec<&'static str> {
        vec!["picture"]
    }
    fn shown(&mut self) -> Option<Frame> {
        self.shown.lock().ok()?.clone()
    }
    fn close(&mut self) {
        self.closing.store(true, Ordering::SeqCst);
        if let Err(e) = std::fs::remove_file(FIFO) {
            eprintln!("fifo_viewer: removing {FIFO}: {e}");
        }
    }
}

/// Each open of the FIFO is one message.
fn read_forever(shown: &Mutex<Option<Frame>>, closing: &AtomicBool, mut size: (usize, usize)) {
    loop {
        let mut message = Vec::new();
        if let Err(e) = std::fs::File::open(FIFO).and_then(|mut f| f.read_to_end(&mut message)) {
            if !closing.load(Ordering::SeqCst) {
                eprintln!("fifo_viewer: reading {FIFO}: {e}");
            }
            return;
        }
        if let Some(rest) = message.strip_prefix(b"resize") {
            let words: Vec<usize> = String::from_utf8_lossy(rest)
                .split_whitespace()
                .filter_map(|w| w.parse().ok())
                .collect();
            if let [w, h] = words[..] {
                size = (w, h);
            }
        } else if message.len() == size.0 * size.1 * 4 {
            if let Ok(mut s) = shown.lock() {
                *s = Some((size.0, size.1, message));
            }
        } else if !message.is_empty() {
            eprintln!(
                "fifo_viewer: ignored {} bytes: not a {}x{} frame",
                message.len(),
                size.0,
                size.1
            );
        }
    }
}

fn main() {
    let size = gui::size_option();
    if let Err(e) = nix::unistd::mkfifo(FIFO, nix::sys::stat::Mode::from_bits_truncate(0o666)) {
        if e != nix::errno::Errno::EEXIST {
            eprintln!("fifo_viewer: mkfifo {FIFO}: {e}");
            std::process::exit(1);
        }
    }
    let shown = Arc::new(Mutex::new(None));
    let closing = Arc::new(AtomicBool::new(false));
    let (reading, ending) = (shown.clone(), closing.clone());
    std::thread::spawn(move || read_forever(&reading, &ending, size));
    gui::run(&mut Viewer { shown, closing });
}
