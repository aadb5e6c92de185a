//! The step vocabulary of a live run: waiting for lines, exits and idleness, sending signals,
//! measuring CPU demand, typing on standard input. Every wait has a deadline (nominal,
//! multiplied by the time scale) and records what it did in the transcript.

use super::evidence::{answered_otherwise, Pending};
use super::state::Reaped;
use super::transcript::{Entry, Source};
use super::{explain, secs, Awaited, Line, Run};
use crate::outcome::Failure;
use crate::sandbox::procfs;
use crate::sandbox::protocol::Exit;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use regex::Regex;
use std::io::Write;
use std::time::{Duration, Instant};

/// A place in a run's transcript (see [`Run::mark`]): scenarios compare places through it,
/// never by index arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Mark(usize);

impl Run {
    /// Waits for the next line on `source` matching `re` (after the last one matched there).
    pub fn expect_line(
        &mut self,
        source: Source,
        re: &Regex,
        within: Duration,
    ) -> Result<Line, Failure> {
        let what = format!(
            "a line matching /{}/",
            re.as_str().trim_start_matches("(?i)")
        );
        self.expect_described(source, re, &what, within)
    }

    /// [`Run::expect_line`], with `what` describing the line in failure messages.
    pub fn expect_described(
        &mut self,
        source: Source,
        re: &Regex,
        what: &str,
        within: Duration,
    ) -> Result<Line, Failure> {
        let from = self.cursors.get(&source).copied().unwrap_or(0);
        let began_ms = self.shared.now_ms();
        let deadline = self.deadline(within);
        let span = self.shared.deadline_span(deadline);
        let found = self.shared.wait_for(deadline, |st| {
            let hit = st.entries[from..]
                .iter()
                .position(|e| e.source == source && re.is_match(&e.text))
                .map(|i| (from + i, st.entries[from + i].text.clone()));
            if hit.is_some() {
                return Some(hit);
            }
            let stream_done = st.stream(source).eof;
            (st.flooded.is_some() || stream_done || st.supervisor_gone).then_some(None)
        });
        let awaited = format!("{what} on {}", source.label());
        self.shared
            .note_deadline(awaited, span, matches!(found, Some(Some(_))));
        match found {
            Some(Some((index, text))) => {
                self.cursors.insert(source, index + 1);
                Ok(Line { index, text })
            }
            other => {
                if other.is_some() {
                    // The stream ended: if the program died, its exit report is on its way.
                    // Wait for it (briefly), so the feedback names the death, not the silence.
                    let _ = self
                        .shared
                        .wait_for(Instant::now() + Duration::from_millis(500), |st| {
                            (st.main_exit.is_some() || st.supervisor_gone).then_some(())
                        });
                }
                let st = self.shared.lock();
                let what = format!(
                    "expected {what} on {} within {}",
                    source.label(),
                    secs(within)
                );
                let timed_out = other.is_none();
                if timed_out && st.main_exit.is_none() && st.flooded.is_none() && !st.wall_limit {
                    if let Some(said) = answer(&st, from, source, began_ms, re) {
                        return Err(Failure::fail(format!("{what}; {said}")));
                    }
                }
                Err(explain(&st, what, timed_out, Awaited::Line))
            }
        }
    }

    /// Like [`Run::expect_line`] on standard output.
    pub fn expect_stdout(&mut self, re: &Regex, within: Duration) -> Result<Line, Failure> {
        self.expect_line(Source::Stdout, re, within)
    }

    /// Waits for a stdout line matching `re` and checks that its first capture group is the
    /// number `expected`; `what` names the number in messages ("process id").
    pub fn expect_number(
        &mut self,
        re: &Regex,
        what: &str,
        expected: i64,
        within: Duration,
    ) -> Result<i64, Failure> {
        let line = self.expect_stdout(re, within)?;
        let got = re
            .captures(&line.text)
            .and_then(|c| c.get(1)?.as_str().parse::<i64>().ok());
        match got {
            Some(n) if n == expected => Ok(n),
            Some(n) => Err(Failure::fail(format!(
                "printed {what} {n}, but it is {expected}"
            ))),
            None => Err(Failure::fail(format!(
                "printed {} with no number for {what}",
                crate::text::quote(&line.text)
            ))),
        }
    }

    /// Makes the next `expect_line` on `source` search from the first line again.
    pub fn rewind(&mut self, source: Source) {
        self.cursors.remove(&source);
    }

    /// A place in the transcript: what comes after it happened later.
    pub fn mark(&self) -> Mark {
        Mark(self.shared.lock().entries.len())
    }

    /// Waits for a stdout line matching `re` that came after `mark` (and after the last one
    /// matched): an answer to something the harness did then, never an earlier line.
    pub fn expect_stdout_since(
        &mut self,
        mark: Mark,
        re: &Regex,
        within: Duration,
    ) -> Result<Line, Failure> {
        let cursor = self.cursors.entry(Source::Stdout).or_insert(0);
        *cursor = (*cursor).max(mark.0);
        self.expect_line(Source::Stdout, re, within)
    }

    /// The transcript entries from `from` up to (not including) `to`.
    pub fn entries_between(&self, from: Mark, to: &Line) -> Vec<Entry> {
        let st = self.shared.lock();
        let end = to.index.min(st.entries.len());
        st.entries[from.0.min(end)..end].to_vec()
    }

    /// The transcript entries before `line`.
    pub fn entries_before(&self, line: &Line) -> Vec<Entry> {
        let st = self.shared.lock();
        st.entries[..line.index.min(st.entries.len())].to_vec()
    }

    /// Lines the program printed on `source` so far.
    pub fn lines(&self, source: Source) -> Vec<String> {
        self.shared
            .lock()
            .entries
            .iter()
            .filter(|e| e.source == source)
            .map(|e| e.text.clone())
            .collect()
    }

    /// The transcript so far.
    pub fn entries(&self) -> Vec<Entry> {
        self.shared.lock().entries.clone()
    }

    /// How the program ended, if it has.
    pub fn exit(&self) -> Option<Exit> {
        self.shared.lock().main_exit.map(|r| r.exit)
    }

    /// The processes the supervisor reaped so far, the program among them: orphans that
    /// were re-parented to it. A child the program waited for itself never appears here.
    pub fn reaped(&self) -> Vec<Reaped> {
        self.shared.lock().reaped.clone()
    }

    /// Whether the program is still running (not yet reaped and not a zombie).
    pub fn alive(&self) -> bool {
        if self.exit().is_some() {
            return false;
        }
        procfs::read(self.pid()).is_some_and(|p| !p.is_zombie())
    }

    /// Waits until the program has ended (a deadline of the record).
    pub fn wait_exit(&mut self, within: Duration) -> Result<Exit, Failure> {
        let span = self.shared.deadline_span(self.deadline(within));
        let ended = self.let_exit(within);
        self.shared
            .note_deadline("the program to exit", span, ended.is_ok());
        ended
    }

    /// [`Run::wait_exit`] without recording a deadline: the harness letting the program
    /// finish, or one slice of a longer wait, never a check of its own.
    pub fn let_exit(&mut self, within: Duration) -> Result<Exit, Failure> {
        let deadline = self.deadline(within);
        let done = self.shared.wait_for(deadline, |st| {
            if let Some(r) = st.main_exit {
                return Some(Some(r.exit));
            }
            st.supervisor_gone.then_some(None)
        });
        match done {
            Some(Some(exit)) => {
                self.drain();
                Ok(exit)
            }
            other => {
                let st = self.shared.lock();
                Err(explain(
                    &st,
                    format!("expected the program to exit within {}", secs(within)),
                    other.is_none(),
                    Awaited::End,
                ))
            }
        }
    }

    /// Waits until nothing of the program's tree is left, descendants included (a Python
    /// resource tracker finishing its clean-up); false when something still runs at the end.
    pub fn wait_tree_done(&self, within: Duration) -> bool {
        let deadline = self.deadline(within);
        self.shared
            .wait_for(deadline, |st| {
                (st.empty || st.supervisor_gone).then_some(())
            })
            .is_some()
    }

    /// Whether nothing of the program's tree is left (or its supervisor is gone): nothing of
    /// it can write, draw or answer any more.
    pub fn tree_ended(&self) -> bool {
        let st = self.shared.lock();
        st.empty || st.supervisor_gone
    }

    /// After the program exited: waits (briefly) until its output streams reach end of file,
    /// so every line it printed is in the transcript. A child still holding the terminal
    /// keeps them open; then the wait ends at its deadline.
    fn drain(&self) {
        let deadline = self.deadline(Duration::from_secs(1));
        let _ = self.shared.wait_for(deadline, |st| {
            (st.stdout.eof && st.stderr.eof).then_some(())
        });
    }

    /// Sends `sig` once the program blocks, or anyway when it does not block within
    /// `within` (a busy program must still be signalled; the transcript says so).
    pub fn signal_soon(&self, sig: Signal, within: Duration) -> Result<(), Failure> {
        // Ends as soon as the program blocks or ends; only a program that never blocks is
        // waited on for all of `within` (there is no event for "it will not block").
        if let Err(f) = self.idle_by(self.deadline(within), within) {
            if f.status != crate::outcome::Status::Timeout {
                return Err(f);
            }
            self.note(format!(
                "the program never blocked within {}: signalling it while it runs",
                secs(within)
            ));
        }
        self.signal(sig)
    }

    /// Waits for the exit that `event` should cause. Still running at the deadline is a
    /// `fail` ("still running 1 s after SIGINT: it should exit"): the program did the wrong
    /// thing, it did not merely hang.
    pub fn expect_exit_after(
        &mut self,
        within: Duration,
        event: &str,
        should: &str,
    ) -> Result<Exit, Failure> {
        self.wait_exit(within).map_err(|f| match f.status {
            crate::outcome::Status::Timeout => Failure::fail(format!(
                "still running {} after {event}{}: {should}",
                secs(within),
                self.doing()
            )),
            _ => f,
        })
    }

    /// Waits until the program asks for input by its own sign (blocked reading its standard
    /// input) or has ended, up to `within`: what a person waits for before typing. True when
    /// it reads; false when it ended or the wait ran out (type anyway: input is buffered).
    /// There is no event for "blocked", so /proc is polled with a growing pause.
    pub fn wait_reading_stdin(&self, within: Duration) -> bool {
        let deadline = self.deadline(within);
        let mut pause = Duration::from_millis(1);
        loop {
            if self.exit().is_some() {
                return false;
            }
            if self.reading_stdin() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(20));
        }
    }

    /// Whether the program is blocked reading its standard input (waiting for a key).
    pub fn reading_stdin(&self) -> bool {
        matches!(
            crate::sandbox::activity::of(self.pid()),
            Some(crate::sandbox::activity::Activity::Reading(ref what)) if what == crate::sandbox::activity::STDIN
        )
    }

    /// What the program is doing as the kernel shows it, as a clause to follow "still
    /// running": `" (blocked reading its standard input)"`, or nothing when unknown.
    pub fn doing(&self) -> String {
        crate::sandbox::activity::of(self.pid())
            .map(|a| format!(" ({})", a.describe()))
            .unwrap_or_default()
    }

    /// Sends `sig` once the program can take it (within `ready`) and expects it to end within
    /// `within`: handling the signal by exiting counts as much as being killed by it.
    pub fn expect_ended_by(
        &mut self,
        sig: Signal,
        ready: Duration,
        within: Duration,
    ) -> Result<String, Failure> {
        self.signal_soon(sig, ready)?;
        let exit = self.expect_exit_after(
            within,
            sig.as_str(),
            &format!("it ignores or mishandles {sig}"),
        )?;
        Ok(format!("{sig} ended it: it {}", super::describe_exit(exit)))
    }

    /// Waits until the program is blocked (state `S` in /proc): asleep, reading, waiting.
    /// There is no event for this, so /proc is polled, at first every millisecond.
    pub fn wait_idle(&self, within: Duration) -> Result<(), Failure> {
        let deadline = self.deadline(within);
        let span = self.shared.deadline_span(deadline);
        let blocked = self.idle_by(deadline, within);
        self.shared
            .note_deadline("the program to block", span, blocked.is_ok());
        blocked
    }

    /// Gives the program up to `within` to block, without recording a deadline: the harness
    /// letting it finish, never a check. True when it blocked.
    pub fn let_block(&self, within: Duration) -> bool {
        self.idle_by(self.deadline(within), within).is_ok()
    }

    /// [`Run::wait_idle`] until `deadline`, unrecorded.
    fn idle_by(&self, deadline: Instant, within: Duration) -> Result<(), Failure> {
        let pid = self.pid();
        let mut pause = Duration::from_micros(500);
        loop {
            match procfs::read(pid) {
                Some(p) if p.state == 'S' => return Ok(()),
                Some(p) if !p.is_zombie() => {}
                _ => {
                    let st = self.shared.lock();
                    return Err(explain(
                        &st,
                        "expected the program to be running".into(),
                        false,
                        Awaited::End,
                    ));
                }
            }
            if Instant::now() >= deadline {
                return Err(Failure::timeout(format!(
                    "expected the program to block (sleep or wait) within {}; it kept running",
                    secs(within)
                )));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(Duration::from_millis(10));
        }
    }

    /// Judges "still running" after `event`: waits until the program blocks again or ends
    /// (up to `within`, no longer), then fails only if it ended. A program that is busy but
    /// alive at the deadline is still running.
    pub fn expect_still_running(&self, within: Duration, event: &str) -> Result<(), Failure> {
        // Ends early either way: blocked again (alive), or gone (ended). Only a program that
        // stays busy is watched for all of `within`: for it, the watch is the check (a busy
        // program that dies within `within` of `event` fails).
        let _ = self.idle_by(self.deadline(within), within);
        if self.alive() {
            return Ok(());
        }
        // Its exit report is on its way when it has just ended: wait for it (briefly).
        let how = self
            .shared
            .wait_for(Instant::now() + Duration::from_millis(500), |st| {
                st.main_exit.map(|r| r.exit)
            })
            .map(super::describe_exit)
            .unwrap_or_else(|| "ended".into());
        Err(Failure::fail(format!(
            "expected it to keep running after {event}; it {how}"
        )))
    }

    /// Sends `sig` to the program, recording it in the transcript.
    pub fn signal(&self, sig: Signal) -> Result<(), Failure> {
        let pid = self.pid();
        if pid <= 0 {
            return Err(Failure::fault("signalling a program that never started"));
        }
        self.shared
            .note(format!("sent {sig} to pid {}", self.own_pid()));
        kill(Pid::from_raw(pid), sig)
            .map_err(|e| Failure::fail(format!("could not send {sig}: {e} (the program is gone)")))
    }

    /// Waits until the program is blocked, then sends `sig`: a signal never lands between a
    /// print and the bookkeeping that follows it.
    pub fn signal_when_idle(&self, sig: Signal, within: Duration) -> Result<(), Failure> {
        self.wait_idle(within)?;
        self.signal(sig)
    }

    /// How much of one core the program asked for over `window` (0.0–1.0, more with threads):
    /// time running plus time waiting in the run queue, from /proc schedstat. A spinning
    /// program scores about 1.0 however loaded the machine is; a sleeping one about 0.
    /// Falls back to CPU time used where schedstat is missing.
    ///
    /// The whole window is watched (the share is measured over all of it), except that the
    /// watch ends as soon as the program exits: its share can then no longer be measured, and
    /// the failure is the same whenever in the window it came.
    pub fn cpu_share(&self, window: Duration) -> Result<f64, Failure> {
        let pid = self.pid();
        let gone = || Failure::fail("the program ended while its CPU use was being measured");
        let sample = || -> Option<f64> {
            let p = procfs::read(pid).filter(|p| !p.is_zombie())?;
            match procfs::cpu_demand_ns(pid) {
                Some(ns) => Some(ns as f64 / 1e9),
                None => Some(p.cpu_ticks as f64 / procfs::ticks_per_second() as f64),
            }
        };
        let before = sample().ok_or_else(gone)?;
        let t0 = Instant::now();
        if self.ended_within(t0 + self.oversight.clock.real(window)) {
            return Err(gone());
        }
        let after = sample().ok_or_else(gone)?;
        Ok((after - before).max(0.0) / t0.elapsed().as_secs_f64())
    }

    /// Waits until `deadline` (real), or until the program has ended (its exit reported, or
    /// the supervisor gone), whichever comes first: true when it ended. For watches that only
    /// a program still running can pass.
    pub fn ended_within(&self, deadline: Instant) -> bool {
        self.shared.ended_by(deadline)
    }

    /// Whether the program's output went over the cap.
    pub fn flooded(&self) -> bool {
        self.shared.lock().flooded.is_some()
    }

    /// Writes `text` to the program's standard input.
    pub fn write_stdin(&mut self, text: &str) -> Result<(), Failure> {
        self.shared.note(format!("typed {text:?}"));
        let stdin = self.launched.as_mut().and_then(|l| l.stdin.as_mut());
        let Some(stdin) = stdin else {
            return Err(Failure::fail("standard input is already closed"));
        };
        stdin
            .write_all(text.as_bytes())
            .and_then(|()| stdin.flush())
            .map_err(|e| {
                Failure::fail(format!(
                    "could not write to standard input: {e} (the program stopped reading)"
                ))
            })
    }

    /// Closes the program's standard input (end of file).
    pub fn close_stdin(&mut self) {
        if let Some(l) = self.launched.as_mut() {
            if l.stdin.take().is_some() {
                self.shared.note("closed standard input");
            }
        }
    }
}

/// What the program answered instead of a line matching `re` on `source`: on `source`, else
/// on the other stream (an answer on the wrong stream is still an answer), each counting a
/// line it has begun and not ended (a prompt answered on its own line). A line not ended
/// that matches gets a hint: the words were right, the newline missing.
fn answer(
    st: &super::state::State,
    from: usize,
    source: Source,
    began_ms: u64,
    re: &Regex,
) -> Option<String> {
    let other = match source {
        Source::Stderr => Source::Stdout,
        _ => Source::Stderr,
    };
    [source, other].into_iter().find_map(|s| {
        let stream = st.stream(s);
        let text = String::from_utf8_lossy(&stream.partial);
        let text = text.trim_end_matches('\r');
        let pending = Pending {
            text,
            at_ms: stream.partial_at_ms,
        };
        let said = answered_otherwise(&st.entries, from, s, began_ms, Some(pending))?;
        let unended = said.contains("with no newline yet") && re.is_match(text);
        Some(if unended && s == source {
            format!(
                "{said} (the words match, but the line was never ended: print a newline after it)"
            )
        } else {
            said
        })
    })
}
