//! fifo_writer_ui (the lecture's ImageFIFO/createImageUI.py), headless: the form's widgets
//! answer the harness's driver protocol (`reference::gui`). Start toggles a timer; each tick
//! draws a frame in the chosen mode and writes it to the FIFO through its own open and close;
//! changing width or height writes `resize W H` the same way. The FIFO is the reader's: it
//! is never made here.
//!
//! Scenarios: `fifo_writer_ui.idle`, `.frames`, `.stop`, `.resize`.

use reference::gui::{self, Controls, Form, Output};
use reference::rng::Rng;
use std::io::Write;

/// The FIFO the form names.
struct Fifo {
    rng: Rng,
}

/// One message, one open: the reader sees end of file after it.
fn send(fifo: &str, bytes: &[u8]) {
    let sent = std::fs::OpenOptions::new()
        .write(true)
        .open(fifo)
        .and_then(|mut f| f.write_all(bytes));
    if let Err(e) = sent {
        eprintln!("fifo_writer_ui: writing to {fifo}: {e}");
    }
}

impl Output for Fifo {
    fn frame(&mut self, controls: &Controls) {
        let frame = controls.draw(&mut self.rng);
        send(&controls.fifo_name, &frame.pixels);
    }
    fn resized(&mut self, controls: &Controls) {
        let (w, h) = (controls.width, controls.height);
        send(&controls.fifo_name, format!("resize {w} {h}").as_bytes());
    }
}

fn main() {
    gui::run(&mut Form::new(Fifo {
        rng: Rng::from_entropy(),
    }));
}
