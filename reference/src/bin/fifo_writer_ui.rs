//! fifo_writer_ui (the lecture's ImageFIFO/createImageUI.py), headless: the form's widgets
//! answer the harness's driver protocol (`reference::gui`). Start toggles a timer; each tick
//! draws a frame in the chosen mode and writes it to the FIFO through its own open and close;
//! changing width or height writes `resize W H` the same way. The FIFO is the reader's: it
//! is never made here.
//!
//! Scenarios: `fifo_writer_ui.idle`, `.frames`, `.stop`, `.resize`.

use reference::gui::{self, Controls, Window};
use reference::rng::Rng;
use serde_json::Value;
use std::io::Write;
use std::time::Duration;

struct Writer {
    controls: Controls,
    rng: Rng,
}

impl Writer {
    /// One message, one open: the reader sees end of file after it.
    fn send(&self, bytes: &[u8]) {
        let sent = std::fs::OpenOptions::new()
            .write(true)
            .open(&self.controls.fifo_name)
            .and_then(|mut f| f.write_all(bytes));
        if let Err(e) = sent {
            eprintln!(
                "fifo_writer_ui: writing to {}: {e}",
                self.controls.fifo_name
            );
        }
    }
}

impl Window for Writer {
    fn widgets(&self) -> Vec<&'static str> {
        Controls::WIDGETS.to_vec()
    }
    fn click(&mut self, name: &str) -> Result<String, String> {
        self.controls.click(name)
    }
    fn set(&mut self, name: &str, value: &Value) -> Result<Value, String> {
        let before = (self.controls.width, self.controls.height);
        let now = self.controls.set(name, value)?;
        let (w, h) = (self.controls.width, self.controls.height);
        if (w, h) != before {
            self.send(format!("resize {w} {h}").as_bytes());
        }
        Ok(now)
    }
    fn get(&self, name: &str) -> Result<Value, String> {
        self.controls.get(name)
    }
    fn period(&self) -> Option<Duration> {
        self.controls.period()
    }
    fn tick(&mut self) {
        let frame = self.controls.draw(&mut self.rng);
        self.send(&frame.pixels);
    }
    fn close(&mut self) {}
}

fn main() {
    let mut writer = Writer {
        controls: Controls::default(),
        rng: Rng::from_entropy(),
    };
    gui::run(&mut writer);
}
