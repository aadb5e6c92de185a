//! The lecture's image writer window (`form.ui` of ImageFIFO/createImageUI.py and
//! ImageSharedMemory/createImageUI.py): the button `start_sim` toggles a timer of
//! `timer_duration` ms that draws one image per tick in the mode of `mode`. What the
//! `fifo_writer_ui` and `shm_writer_ui` scenarios share: the names, the waits, and Start.

use super::Gui;
use crate::clock::Clock;
use crate::outcome::Failure;
use crate::run::Run;
use serde_json::json;
use std::time::Duration;

/// The button that starts and stops the timer.
pub const START: &str = "start_sim";
/// The timer period the harness sets, in ms (a scenario stays short).
pub const PERIOD_MS: u64 = 50;
/// For what a scenario looks at to arrive after a click or a mode change (the first tick, a
/// few frames): generous, since the wait ends as soon as it is there and a loaded machine
/// delays Qt.
pub const ARRIVE: Duration = Duration::from_secs(3);
/// How long "nothing more arrives" is watched.
pub const QUIET: Duration = Duration::from_millis(300);

/// How long (real) "nothing more arrives" is watched once the timer is stopped: [`QUIET`], at
/// least four periods as set, and at least four as measured between two ticks before the
/// click (a program that ignores `timer_duration` is watched for four of its own periods),
/// at most [`ARRIVE`].
pub fn quiet_after_stop(clock: Clock, measured: Duration) -> Duration {
    let set = QUIET.max(Duration::from_millis(PERIOD_MS * 4));
    clock.real(set).max(measured * 4).min(clock.real(ARRIVE))
}

/// A real duration for feedback: "0.30 s".
pub fn real_secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

/// Sets the period to [`PERIOD_MS`] and mode 0 (lines on white), then clicks [`START`].
pub fn go(gui: &mut Gui, run: &mut Run) -> Result<(), Failure> {
    gui.set(run, "timer_duration", json!(PERIOD_MS))?;
    gui.set(run, "mode", json!(0))?;
    gui.click(run, START)
}
