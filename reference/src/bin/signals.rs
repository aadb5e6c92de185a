//! signals (lecture: Processes/signal.cpp): prints a pid line and counts it each iteration,
//! sleeping 10 s in between. SIGINT is answered with `Got Signal 2` / `stop interrupting!`
//! and the loop carries on; SIGHUP prints `here is my number<N>` (N = pid lines printed so
//! far) and exits 0.
//!
//! Scenarios: `signals.sigint_survives`, `signals.sighup_count`, `signals.prompt` (the
//! answer comes at once, before any further pid line).
//!
//! Unlike the lecture, the handler only records the signal (printing and `exit` are not
//! async-signal-safe); the loop answers as soon as the interrupted sleep returns. As in the
//! lecture, an interrupted sleep ends that iteration, so the next pid line follows the answer.

use nix::sys::signal::Signal;
use reference::signals::Catcher;
use std::time::Duration;

fn main() {
    let catcher = Catcher::new(&[Signal::SIGHUP, Signal::SIGINT]).expect("install handlers");
    let pid = nix::unistd::getpid();
    let mut count: u64 = 0;
    loop {
        println!("Process id is {pid}");
        count += 1;
        if catcher.sleep(Duration::from_secs(10)) {
            // Standard signals do not queue: one answer per delivery we saw.
            for _ in 0..catcher.take(Signal::SIGINT) {
                println!("Got Signal {}", Signal::SIGINT as i32);
                println!("stop interrupting!");
            }
            if catcher.take(Signal::SIGHUP) > 0 {
                println!("Got Signal {}", Signal::SIGHUP as i32);
                println!("here is my number{count}");
                std::process::exit(0);
            }
        }
    }
}
