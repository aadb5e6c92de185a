//! Progress while grading, from grading's events: a bar on a terminal (students done,
//! running, failing, time left), plain lines elsewhere. Written to standard error.

use crate::events::Event;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct Progress {
    bar: Option<ProgressBar>,
    running: usize,
    failing: usize,
    students: usize,
    done: usize,
    quiet: bool,
}

impl Progress {
    /// A bar when standard error is a terminal, plain lines otherwise (none when `quiet`).
    pub fn new(quiet: bool) -> Self {
        let bar = (!quiet && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::new(0);
            let style =
                ProgressStyle::with_template("{bar:30} {pos}/{len} scenarios, {msg} (eta {eta})")
                    .unwrap_or_else(|_| ProgressStyle::default_bar());
            bar.set_style(style);
            bar
        });
        Progress {
            bar,
            running: 0,
            failing: 0,
            students: 0,
            done: 0,
            quiet,
        }
    }

    pub fn on_event(&mut self, event: &Event) {
        match event {
            Event::Started {
                submissions,
                scenarios,
            } => {
                self.students = *submissions;
                if let Some(bar) = &self.bar {
                    bar.set_length(*scenarios as u64);
                }
            }
            Event::ScenarioStarted { .. } => self.running += 1,
            Event::ScenarioFinished { .. } => {
                self.running = self.running.saturating_sub(1);
                if let Some(bar) = &self.bar {
                    bar.inc(1);
                }
            }
            Event::SubmissionFinished { result } => {
                self.done += 1;
                self.failing += usize::from(!result.all_passed());
                if self.bar.is_none() && !self.quiet && self.students > 1 {
                    eprintln!(
                        "graded {} ({}/{}): {}/{}",
                        crate::report::escape::text(&result.submission),
                        self.done,
                        self.students,
                        result.score,
                        result.max_score
                    );
                }
            }
            Event::Planned {
                scenarios,
                expected,
                ..
            } => {
                if let Some(bar) = &self.bar {
                    bar.set_length(
                        (bar.length().unwrap_or(0) + *scenarios as u64)
                            .saturating_sub(*expected as u64),
                    );
                }
            }
            Event::Prepared { .. } => {}
        }
        if let Some(bar) = &self.bar {
            bar.set_message(format!(
                "students {}/{} done, {} running, {} not full marks",
                self.done, self.students, self.running, self.failing
            ));
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
