//! Extra scenarios written as data in `course.toml`: a small vocabulary of steps over the same
//! [`Run`] the built-in scenarios use. Patterns are case-insensitive, like the catalogue's.
//!
//! ```toml
//! [[scenarios]]
//! id = "signal_catcher.double_hup"   # `<exercise>.<name>`
//! points = 2                          # default 1
//! hidden = true                       # feedback for staff only
//! args = ["--verbose"]
//! env = { GREETING = "hi" }
//! unset = ["ENV_STARTUP"]
//! steps = [
//!   { step = "expect", pattern = "pid is (\\d+)", stream = "stdout", within = 2.0 },
//!   { step = "signal", signal = "SIGHUP" },           # sent once the program is idle
//!   { step = "expect", pattern = "got signal 1" },
//!   { step = "write", text = "5\n" },
//!   { step = "close_stdin" },
//!   { step = "idle", within = 1.0 },                  # still running, blocked
//!   { step = "exit", status = "0", within = 1.0 },    # "0".."255", "nonzero", "any", "SIGTERM"
//! ]
//! ```
//!
//! A PyQt program is driven through its widgets (by objectName) when a scenario uses the GUI
//! steps; it then starts with the harness's Qt driver (`crate::gui`):
//! `{ step = "set", name = "width", value = 200 }`, `{ step = "click", name = "start_sim" }`,
//! `{ step = "shows", width = 400, height = 400, color = "#ff0000", name = "label", within = 1.0 }`
//! (a label shows an image of that size, all of that colour; `name` optional),
//! `{ step = "close" }` (closes the window and expects the program to exit).

use crate::gui::{Gui, Rgba};
use crate::outcome::{Failure, Verdict};
use crate::run::transcript::Source;
use crate::run::{ExpectExit, Run};
use crate::scenario::{Ctx, Launch};
use nix::sys::signal::Signal;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::ops::Range;
use std::str::FromStr;
use std::time::Duration;
use toml::Spanned;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataScenario {
    pub id: String,
    pub summary: Option<String>,
    pub points: Option<u32>,
    #[serde(default)]
    pub hidden: bool,
    #[serde(default)]
    pub args: Vec<String>,
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub unset: Vec<String>,
    /// Each step keeps its place in the file, so that an error names the step's own line.
    pub steps: Vec<Spanned<Step>>,
}

fn default_within() -> f64 {
    2.0
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case", deny_unknown_fields)]
pub enum Step {
    Expect {
        pattern: String,
        #[serde(default)]
        stream: Stream,
        #[serde(default = "default_within")]
        within: f64,
    },
    Signal {
        signal: String,
    },
    Write {
        text: String,
    },
    CloseStdin,
    Idle {
        #[serde(default = "default_within")]
        within: f64,
    },
    Exit {
        status: String,
        #[serde(default = "default_within")]
        within: f64,
    },
    Click {
        name: String,
    },
    Set {
        name: String,
        value: serde_json::Value,
    },
    Shows {
        name: Option<String>,
        width: u32,
        height: u32,
        color: String,
        #[serde(default = "default_shows_within")]
        within: f64,
    },
    Close,
}

fn default_shows_within() -> f64 {
    1.0
}

impl Step {
    /// Whether the step needs the window driven.
    fn is_gui(&self) -> bool {
        matches!(
            self,
            Step::Click { .. } | Step::Set { .. } | Step::Shows { .. } | Step::Close
        )
    }
}

/// `#rrggbb` or `#rrggbbaa` as RGBA bytes.
fn parse_color(text: &str) -> Option<[u8; 4]> {
    let hex = text.strip_prefix('#')?;
    if !matches!(hex.len(), 6 | 8) || !hex.is_ascii() {
        return None;
    }
    let byte = |i: usize| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok();
    let alpha = if hex.len() == 8 { byte(6)? } else { 255 };
    Some([byte(0)?, byte(2)?, byte(4)?, alpha])
}

#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stream {
    #[default]
    Stdout,
    Stderr,
}

impl DataScenario {
    /// The exercise part of the id.
    pub fn exercise(&self) -> &str {
        self.id.split('.').next().unwrap_or("")
    }

    /// Checks what serde cannot: the id's exercise, patterns, signal names, statuses. An
    /// error carries the place of the step it is about, when it is about one.
    pub fn check(&self) -> Result<(), (Option<Range<usize>>, String)> {
        let exercise = self.exercise();
        if crate::exercises::get(exercise).is_none() || !self.id.contains('.') {
            let known = crate::exercises::ALL.iter().map(|e| e.id);
            return Err((
                None,
                format!(
                    "id `{}` must be `<exercise>.<name>` with a known exercise{}",
                    self.id,
                    crate::suggest::did_you_mean(exercise, known)
                ),
            ));
        }
        for (i, step) in self.steps.iter().enumerate() {
            let bad = |what: String| {
                Err((
                    Some(step.span()),
                    format!("`{}` step {}: {what}", self.id, i + 1),
                ))
            };
            match step.get_ref() {
                Step::Expect { pattern: p, .. } => {
                    if let Err(e) = pattern(p) {
                        return bad(format!("bad pattern `{p}`: {}", regex_reason(&e)));
                    }
                }
                Step::Signal { signal } if parse_signal(signal).is_none() => {
                    let names = Signal::iterator().map(Signal::as_str);
                    return bad(format!(
                        "unknown signal `{signal}`{}",
                        crate::suggest::did_you_mean(signal, names)
                    ));
                }
                Step::Exit { status, .. } if ExpectExit::parse(status).is_none() => {
                    let words = ["nonzero", "any"]
                        .into_iter()
                        .chain(Signal::iterator().map(Signal::as_str));
                    return bad(format!(
                        "status `{status}` is not a number, `nonzero`, `any` or a signal name{}",
                        crate::suggest::did_you_mean(status, words)
                    ));
                }
                Step::Shows { color, .. } if parse_color(color).is_none() => {
                    return bad(format!("color `{color}` is not `#rrggbb` or `#rrggbbaa`"))
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Runs the steps.
    pub fn run(&self, ctx: &mut Ctx) -> Verdict {
        let mut launch = Launch::new();
        for a in &self.args {
            launch = launch.arg(a);
        }
        for (k, v) in &self.env {
            launch = launch.env(k, v);
        }
        for k in &self.unset {
            launch = launch.unset(k);
        }
        let (mut run, mut gui) = if self.steps.iter().any(|s| s.get_ref().is_gui()) {
            let (run, gui) = Gui::start(ctx, launch)?;
            (run, Some(gui))
        } else {
            (ctx.start(launch)?, None)
        };
        for (i, step) in self.steps.iter().enumerate() {
            let step = step.get_ref();
            let done = match (step.is_gui(), gui.as_mut()) {
                (true, Some(gui)) => gui_step(&mut run, gui, step),
                _ => step_once(&mut run, step),
            };
            done.map_err(|f| f.context(format!("step {}", i + 1)))?;
        }
        Ok(format!("all {} steps held", self.steps.len()))
    }
}

/// A step's pattern, case-insensitive, as written (no `(?i)` prefix shows in messages).
pub fn pattern(p: &str) -> Result<regex::Regex, regex::Error> {
    regex::RegexBuilder::new(p).case_insensitive(true).build()
}

/// The reason of a regex error, without the pattern it repeats.
fn regex_reason(e: &regex::Error) -> String {
    let text = e.to_string();
    text.lines()
        .find_map(|l| l.strip_prefix("error: "))
        .unwrap_or(&text)
        .to_string()
}

/// `SIGHUP`, `sighup` (not `HUP`: the suggestion says so).
fn parse_signal(s: &str) -> Option<Signal> {
    Signal::from_str(&s.to_uppercase()).ok()
}

fn secs(x: f64) -> Duration {
    Duration::from_secs_f64(x.max(0.0))
}

/// A step on the driven window.
fn gui_step(run: &mut Run, gui: &mut Gui, step: &Step) -> Result<(), Failure> {
    match step {
        Step::Click { name } => gui.click(run, name),
        Step::Set { name, value } => gui.set(run, name, value.clone()).map(drop),
        Step::Shows {
            name,
            width,
            height,
            color,
            within,
        } => {
            let rgba = parse_color(color)
                .ok_or_else(|| Failure::fault(format!("bad color {color} in the course file")))?;
            let want = Rgba::from_fn(*width, *height, |_, _| rgba);
            gui.shows(run, name.as_deref(), &want, secs(*within))
        }
        _ => gui.close(run).map(drop),
    }
}

fn step_once(run: &mut Run, step: &Step) -> Result<(), Failure> {
    match step {
        Step::Expect {
            pattern,
            stream,
            within,
        } => {
            let source = match stream {
                Stream::Stdout => Source::Stdout,
                Stream::Stderr => Source::Stderr,
            };
            let re = self::pattern(pattern).map_err(|e| {
                Failure::fault(format!(
                    "bad pattern `{pattern}` in the course file: {}",
                    regex_reason(&e)
                ))
            })?;
            run.expect_line(source, &re, secs(*within)).map(|_| ())
        }
        Step::Signal { signal } => {
            let sig = parse_signal(signal).ok_or_else(|| {
                Failure::fault(format!("unknown signal {signal} in the course file"))
            })?;
            run.signal_when_idle(sig, Duration::from_secs(2))
        }
        Step::Write { text } => run.write_stdin(text),
        Step::CloseStdin => {
            run.close_stdin();
            Ok(())
        }
        Step::Idle { within } => run.wait_idle(secs(*within)),
        Step::Exit { status, within } => {
            let exit = run.wait_exit(secs(*within))?;
            ExpectExit::parse(status)
                .ok_or_else(|| {
                    Failure::fault(format!("unknown exit status `{status}` in the course file"))
                })?
                .check_alone(exit)
        }
        _ => Err(Failure::fault("a window step without a window")),
    }
}
