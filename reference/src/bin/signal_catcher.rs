//! signal_catcher (lecture: Processes/signal_test.py): prints `Running program pid is <pid>`,
//! then prints `.` every 10 s. SIGHUP and SIGINT are answered with `got signal <n>` and the
//! program keeps running (the 10 s period is not restarted, as Python resumes its sleep);
//! SIGTERM keeps its default action and ends it.
//!
//! Scenarios: `signal_catcher.sighup`, `signal_catcher.sigint`, `signal_catcher.sigterm`.

use nix::sys::signal::Signal;
use reference::signals::Catcher;
use std::time::{Duration, Instant};

fn main() {
    let caught = [Signal::SIGHUP, Signal::SIGINT];
    let catcher = Catcher::new(&caught).expect("install handlers");
    println!("Running program pid is {}", nix::unistd::getpid());
    loop {
        let deadline = Instant::now() + Duration::from_secs(10);
        while catcher.sleep_until(deadline) {
            for sig in caught {
                for _ in 0..catcher.take(sig) {
                    println!("got signal {}", sig as i32);
                }
            }
        }
        println!(".");
    }
}
