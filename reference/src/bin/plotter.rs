//! plotter (the student project's p5_hw8.py): a live, scrolling plot of a number typed on
//! standard input. A background thread reads lines into the shared value (anything that is
//! not a number prints `Input must be a number.` on standard error, and reading goes on);
//! the main thread draws a frame every 20 ms showing the last 10 s, y from -10 to 10.
//!
//! Where frames go: when `SYSGRADE_PLOT_RECORD` names a file (the grader's display), each
//! frame appends one JSON line there, as the grader's matplotlib backend does for Python:
//! `{"t": <monotonic s>, "lines": [{"n": <points>, "x": <last t>, "y": <last y>}], "frame": k}`.
//! Otherwise, on a terminal, a text chart is redrawn in place.
//!
//! Scenarios: `plotter.animates`, `plotter.tracks`, `plotter.bad_input`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufRead, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const PERIOD: Duration = Duration::from_millis(20);
/// Seconds of history on screen.
const SPAN: f64 = 10.0;
const Y_MAX: f64 = 10.0;
const ROWS: usize = 21;
const COLUMNS: usize = 60;

/// Reads numbers until end of input, storing each in `value` (as f64 bits).
fn read_input(value: Arc<AtomicU64>) {
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        match line.trim().parse::<f64>() {
            Ok(v) => value.store(v.to_bits(), Ordering::SeqCst),
            Err(_) => eprintln!("Input must be a number."),
        }
    }
}

/// The samples on screen: (seconds since start, value), oldest first.
#[derive(Default)]
struct Scope {
    points: VecDeque<(f64, f64)>,
}

impl Scope {
    fn push(&mut self, t: f64, y: f64) {
        self.points.push_back((t, y));
        while self.points.front().is_some_and(|(t0, _)| *t0 <= t - SPAN) {
            self.points.pop_front();
        }
    }
}

/// Where frames are shown.
enum Display {
    Record(File),
    Terminal,
    Nowhere,
}

impl Display {
    fn open() -> Display {
        if let Some(path) = std::env::var_os("SYSGRADE_PLOT_RECORD") {
            match std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&path)
            {
                Ok(f) => return Display::Record(f),
                Err(e) => eprintln!("plotter: cannot open {}: {e}", path.to_string_lossy()),
            }
        }
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(1) } == 1 {
            Display::Terminal
        } else {
            Display::Nowhere
        }
    }

    fn show(&mut self, scope: &Scope, frame: u64) {
        match self {
            Display::Record(f) => {
                let _ = f.write_all(record(scope, frame).as_bytes());
            }
            Display::Terminal => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(chart(scope).as_bytes());
                let _ = out.flush();
            }
            Display::Nowhere => {}
        }
    }
}

fn number(v: f64) -> String {
    if v.is_finite() {
        format!("{v}")
    } else {
        "null".into()
    }
}

/// One JSON line describing the frame.
fn record(scope: &Scope, frame: u64) -> String {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes into the timespec we own.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    let t = now.tv_sec as f64 + now.tv_nsec as f64 / 1e9;
    let (x, y) = scope
        .points
        .back()
        .map_or(("null".to_string(), "null".to_string()), |(x, y)| {
            (number(*x), number(*y))
        });
    format!(
        "{{\"t\": {t:.6}, \"lines\": [{{\"n\": {}, \"x\": {x}, \"y\": {y}}}], \"frame\": {frame}}}\n",
        scope.points.len()
    )
}

/// A text chart of the last `SPAN` seconds, drawn from the top-left corner of the screen.
fn chart(scope: &Scope) -> String {
    let mut grid = vec![vec![' '; COLUMNS]; ROWS];
    let end = scope.points.back().map_or(0.0, |(t, _)| *t);
    let start = (end - SPAN).max(0.0);
    for &(t, y) in &scope.points {
        let col = (((t - start) / SPAN) * (COLUMNS - 1) as f64).round() as usize;
        let row = ((Y_MAX - y) / (2.0 * Y_MAX) * (ROWS - 1) as f64).round();
        if y.is_finite() && (0.0..ROWS as f64).contains(&row) && col < COLUMNS {
            grid[row as usize][col] = '*';
        }
    }
    let mut out = String::from("\x1b[H\x1b[J");
    for (i, row) in grid.iter().enumerate() {
        let label = Y_MAX - i as f64 * 2.0 * Y_MAX / (ROWS - 1) as f64;
        let _ = writeln!(out, "{label:>4.0} |{}", row.iter().collect::<String>());
    }
    let _ = writeln!(out, "     +{}", "-".repeat(COLUMNS));
    let _ = writeln!(
        out,
        "      {start:<8.1}{:>w$.1} s",
        start + SPAN,
        w = COLUMNS - 10
    );
    out
}

fn main() {
    println!(
        "Plot running: type a number and press Enter to move the line (the plot shows -10 to 10)."
    );
    let value = Arc::new(AtomicU64::new(0f64.to_bits()));
    {
        let value = value.clone();
        std::thread::spawn(move || read_input(value));
    }
    let mut display = Display::open();
    let mut scope = Scope::default();
    let start = Instant::now();
    for frame in 1u64.. {
        let t = start.elapsed().as_secs_f64();
        scope.push(t, f64::from_bits(value.load(Ordering::SeqCst)));
        display.show(&scope, frame);
        // A steady beat: the next frame is due one period after the previous one.
        let next = start + PERIOD.mul_f64(frame as f64);
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
}
