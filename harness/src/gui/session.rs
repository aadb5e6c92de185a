//! [`Gui`]: a driven window and the steps scenarios take with it — click a button, set a
//! widget, wait until a label shows an image, close the window. Every command
//! has a deadline (nominal, multiplied by the time scale) and is noted in the transcript; a
//! window that does not answer is a busy or blocked GUI thread, said so in the feedback.

use super::channel::Channel;
use super::image::{self, Rgba};
use super::setup::{self, SOCKET_VAR};
use crate::clock::Clock;
use crate::ipc;
use crate::outcome::{Failure, Status};
use crate::run::transcript::Source;
use crate::run::{secs, Run};
use crate::sandbox::protocol::Exit;
use crate::sandbox::reach::Reach;
use crate::scenario::{Ctx, Launch};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Python and Qt start-up: importing PyQt, loading a form, the first show.
const START: Duration = Duration::from_secs(10);
/// A command's answer (the GUI thread runs it at its next turn).
const ANSWER: Duration = Duration::from_secs(2);
/// From closing the window to the program's exit.
const EXIT: Duration = Duration::from_secs(3);

/// A program whose window the harness drives.
pub struct Gui {
    channel: Channel,
    clock: Clock,
    next: u64,
    /// A Python program (the feedback names Python's ways).
    python: bool,
}

impl Gui {
    /// Starts the program with the driver and waits until its event loop runs.
    pub fn start(ctx: &mut Ctx, launch: Launch) -> Result<(Run, Gui), Failure> {
        Self::start_prepared(ctx, launch, |_| Ok(()))
    }

    /// [`Gui::start`], with `prepare` run inside the run's namespaces first (a segment).
    pub fn start_prepared(
        ctx: &mut Ctx,
        launch: Launch,
        prepare: impl FnOnce(&Reach) -> Result<(), Failure>,
    ) -> Result<(Run, Gui), Failure> {
        setup::check_pyqt(ctx)?;
        let prepared = setup::prepare(ctx, launch)?;
        let channel = Channel::listen(&prepared.socket)
            .map_err(|e| Failure::fault(format!("listening for the Qt driver: {e}")))?;
        let mut gui = Gui {
            channel,
            clock: ctx.clock(),
            next: 0,
            python: ctx.program().is_python(),
        };
        let mut run = ctx.start_prepared(prepared.launch, prepare)?;
        gui.attach(&mut run, gui.python)?;
        Ok((run, gui))
    }

    fn deadline(&self, within: Duration) -> Instant {
        self.clock.deadline(within)
    }

    /// Believes the program's connection and waits for its event loop.
    fn attach(&mut self, run: &mut Run, python: bool) -> Result<(), Failure> {
        let deadline = self.deadline(START);
        let pid = run.pid();
        if !self.channel.attach(pid, deadline, || !run.alive()) {
            return Err(self.not_started(run, python, "connected"));
        }
        match self.channel.wait(deadline, |v| v["event"] == "ready") {
            Ok(ready) => {
                // The objectNames the window had when its event loop started.
                let widgets = strings(&ready["widgets"]);
                run.note(format!(
                    "its window is up ({}); widgets: {}",
                    ready["binding"].as_str().unwrap_or("?"),
                    widgets.join(", ")
                ));
                // From now on the run ends as a person ends it: by closing the window.
                if let Some(closer) = self.channel.closer() {
                    run.set_closer(closer);
                }
                Ok(())
            }
            Err(_) => Err(self.not_started(run, python, "started its event loop")),
        }
    }

    /// Why the window never came: Qt cannot start here (skip), the program ended, or it never
    /// reached QApplication.exec().
    fn not_started(&self, run: &mut Run, python: bool, what: &str) -> Failure {
        let stderr = run.lines(Source::Stderr);
        if let Some(line) = setup::qt_cannot_start(&stderr) {
            return Failure::missing(
                &["PyQt6"],
                format!(
                    "Qt cannot start on this machine ({}); install it with `{}`",
                    crate::text::quote(&line),
                    setup::APT_INSTALL
                ),
            );
        }
        if let Some(how) = ipc::ended(run) {
            return Failure::fail(format!(
                "expected its window to open; {how} before the window's event loop started"
            ));
        }
        let rejected = self.channel.rejected();
        let others = if rejected.is_empty() {
            String::new()
        } else {
            format!(" (connections not believed: {})", rejected.join("; "))
        };
        if !python {
            return Failure::fail(format!(
                "it never {what} to the harness's driver socket (${SOCKET_VAR}) within {}: GUI exercises are PyQt programs, driven through their widgets{others}",
                secs(START)
            ));
        }
        if self
            .channel
            .wait(Instant::now(), |v| v["event"] == "loop")
            .is_ok()
        {
            return Failure::fail(format!(
                "its event loop ran, but no window was shown within {}: call show() on the window before QApplication.exec()",
                secs(START)
            ));
        }
        Failure::timeout(format!(
            "its window's event loop did not start within {}: QApplication.exec() was never reached (is the main thread blocked before it, for example opening a FIFO?){others}",
            secs(START)
        ))
    }

    /// Sends `cmd` and waits for its answer until `within` (plus the answer's own time).
    fn request(
        &mut self,
        run: &mut Run,
        mut cmd: Value,
        within: Duration,
    ) -> Result<Value, Failure> {
        self.next += 1;
        let id = self.next;
        cmd["id"] = json!(id);
        let what = describe(&cmd);
        let gone = |run: &mut Run| {
            let how = ipc::ended(run).unwrap_or_else(|| "its window's connection closed".into());
            Failure::fail(format!("could not {what}: {how}"))
        };
        if self.channel.send(&cmd).is_err() {
            return Err(gone(run));
        }
        match self.channel.wait(self.deadline(within + ANSWER), |v| v["id"] == id) {
            Ok(reply) if reply["ok"] == true => Ok(reply),
            Ok(reply) => Err(Failure::fail(format!(
                "could not {what}: {}",
                reply["error"].as_str().unwrap_or("the window said no")
            ))),
            Err(true) => Err(gone(run)),
            Err(false) => Err(Failure::timeout(format!(
                "the window did not {what} within {}: its GUI thread is busy or blocked (long work belongs on a timer or a thread)",
                secs(within + ANSWER)
            ))),
        }
    }

    /// Clicks the button `name`.
    pub fn click(&mut self, run: &mut Run, name: &str) -> Result<(), Failure> {
        self.request(run, json!({"cmd": "click", "name": name}), Duration::ZERO)?;
        run.note(format!("clicked {name}"));
        Ok(())
    }

    /// Sets widget `name` to `value`; returns the value it then holds.
    pub fn set(&mut self, run: &mut Run, name: &str, value: Value) -> Result<Value, Failure> {
        let cmd = json!({"cmd": "set", "name": name, "value": value});
        let reply = self.request(run, cmd, Duration::ZERO)?;
        run.note(format!("set {name} to {value}"));
        Ok(reply["value"].clone())
    }

    /// Waits until a label (`name`, or any) shows `want`, byte for byte, within `within`.
    pub fn shows(
        &mut self,
        run: &mut Run,
        name: Option<&str>,
        want: &Rgba,
        within: Duration,
    ) -> Result<(), Failure> {
        let (shown, what) = self.await_image(run, name, want, within, false)?;
        image::compare(&shown, want).map_err(|why| Failure::fail(format!("{what}; {why}")))?;
        run.note(format!("the window shows the {} frame", want.size()));
        Ok(())
    }

    /// [`Gui::shows`], where `want` with red and blue swapped counts too (a scenario that is
    /// not about the colour order); true when it was shown swapped.
    pub fn shows_in_either_order(
        &mut self,
        run: &mut Run,
        name: Option<&str>,
        want: &Rgba,
        within: Duration,
    ) -> Result<bool, Failure> {
        let (shown, what) = self.await_image(run, name, want, within, true)?;
        let Err(why) = image::compare(&shown, want) else {
            run.note(format!("the window shows the {} frame", want.size()));
            return Ok(false);
        };
        if image::compare(&shown, &image::swap_red_blue(want)).is_err() {
            return Err(Failure::fail(format!("{what}; {why}")));
        }
        run.note(format!(
            "the window shows the {} frame, with red and blue swapped",
            want.size()
        ));
        Ok(true)
    }

    /// Asks the driver to wait until a label shows `want` (or, `either_order`, `want` with red
    /// and blue swapped); the image a label shows, and what was expected in words.
    fn await_image(
        &mut self,
        run: &mut Run,
        name: Option<&str>,
        want: &Rgba,
        within: Duration,
        either_order: bool,
    ) -> Result<(Rgba, String), Failure> {
        let ms = self.clock.real(within).as_millis() as u64;
        let cmd = json!({"cmd": "image", "name": name, "within_ms": ms, "either_order": either_order,
            "want": {"width": want.width, "height": want.height, "rgba": image::encode(&want.bytes)}});
        let reply = self.request(run, cmd, within)?;
        let what = format!(
            "expected the window to show the {} frame within {}",
            want.size(),
            secs(within)
        );
        // For the HTML report: what was sent beside what the window showed.
        run.keep_picture("frame sent", want.width, want.height, &want.bytes, 4);
        match reply.get("image").and_then(Rgba::from_json) {
            Some(shown) => {
                run.keep_picture("window showed", shown.width, shown.height, &shown.bytes, 4);
                Ok((shown, what))
            }
            None => Err(Failure::fail(format!("{what}; no label shows any image"))),
        }
    }

    /// Closes the window as a user would (its closeEvent runs) and waits for the exit.
    pub fn close(&mut self, run: &mut Run) -> Result<Exit, Failure> {
        self.close_window(run)?;
        let exit = run.expect_exit_after(EXIT, "the window was closed", "the program should exit");
        let Err(f) = exit else { return exit };
        match self.threads(run) {
            Some(n) if f.status == Status::Fail && n > 1 => Err(f.hint(format!(
                " (it still runs {} thread(s) besides its main one: a thread that is not a daemon keeps Python running after the event loop returns; start it with threading.Thread(..., daemon=True), or end it in closeEvent)",
                n - 1
            ))),
            _ => Err(f),
        }
    }

    /// How many threads a Python program runs now (Qt's offscreen platform starts none of
    /// its own); `None` for other programs, or when it cannot be read.
    fn threads(&self, run: &Run) -> Option<usize> {
        if !self.python {
            return None;
        }
        let tasks = std::fs::read_dir(format!("/proc/{}/task", run.pid())).ok()?;
        Some(tasks.count())
    }

    /// [`Gui::close`], then, once the program ended, waits up to `helpers` for what it
    /// started (a resource tracker): its exit (or why not), and whether everything ended.
    pub fn close_and_settle(
        &mut self,
        run: &mut Run,
        helpers: Duration,
    ) -> (Result<Exit, Failure>, bool) {
        let exit = self.close(run);
        let ended = exit.is_ok() && run.wait_tree_done(helpers);
        (exit, ended)
    }

    /// Closes the window as a user would (its closeEvent runs) and waits up to the usual
    /// time for the program (and its helpers, a resource tracker) to end, without judging
    /// whether it did; true when it did.
    pub fn close_and_wait(&mut self, run: &mut Run, helpers: Duration) -> Result<bool, Failure> {
        self.close_window(run)?;
        let ended = run.let_exit(EXIT).is_ok();
        if !ended {
            run.note(format!(
                "it was still running {} after its window was closed",
                secs(EXIT)
            ));
        }
        Ok(ended && run.wait_tree_done(helpers))
    }

    /// Asks the window to close, as a user would (its closeEvent runs).
    fn close_window(&mut self, run: &mut Run) -> Result<(), Failure> {
        // Noted first: the program may exit before the answer is read.
        run.note("closing the window");
        let reply = match self.request(run, json!({"cmd": "close"}), Duration::ZERO) {
            Ok(reply) => reply,
            // It ended as the window closed, before answering: the close did its work.
            Err(f) if f.status != Status::Timeout && run.let_exit(EXIT).is_ok() => return Ok(()),
            Err(f) => return Err(f),
        };
        if reply["windows"].as_u64().unwrap_or(0) > 0 && reply["closed"].as_u64() == Some(0) {
            run.note("its closeEvent refused to close");
        }
        Ok(())
    }
}

/// "click start_sim", "set width to 200": a command in words.
fn describe(cmd: &Value) -> String {
    let name = cmd["name"].as_str().unwrap_or("a label");
    match cmd["cmd"].as_str().unwrap_or("") {
        "click" => format!("click {name}"),
        "set" => format!("set {name} to {}", cmd["value"]),
        "image" => format!("show an image in {name}"),
        "close" => "close the window".into(),
        other => other.to_string(),
    }
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}
