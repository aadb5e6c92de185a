//! procloop (lecture: Processes/procloop.cpp): prints `Process id is <pid>` forever, doing a
//! little CPU work and then sleeping 10 s each time round; it is ended with `kill`.
//!
//! Scenarios: `procloop.first_line`, `procloop.keeps_running` (asleep, not spinning),
//! `procloop.killed` (SIGTERM keeps its default action and ends it at once).

use std::hint::black_box;
use std::time::Duration;

fn main() {
    let pid = nix::unistd::getpid();
    loop {
        println!("Process id is {pid}");
        // Some work so that the process shows up in `top`, as in the lecture.
        let mut sum = 0.0f64;
        for i in 1..100_000u32 {
            sum += black_box(f64::from(i)).sqrt();
        }
        black_box(sum);
        std::thread::sleep(Duration::from_secs(10));
    }
}
