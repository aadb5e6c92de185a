//! Driving a PyQt program's window headless: the harness supplies a driver
//! (`assets/qt_sysgrade_driver.py`, loaded as `sitecustomize`) that runs inside the program
//! under Qt's offscreen platform and answers commands over a socket whose peer the grader
//! verifies ([`channel`]). [`Gui`] offers the steps: click, set, "a label shows this image",
//! close the window.

mod channel;
pub mod image;
pub mod pictures;
mod session;
pub mod setup;
pub mod writer_form;

pub use image::Rgba;
pub use session::Gui;
