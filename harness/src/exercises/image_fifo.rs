//! `image_fifo` (ImageFIFO/createImage.py): writes 200 frames of 400×400 RGBA to the FIFO
//! `imagefifo`, opening and closing it once per frame. The harness makes the FIFO, keeps its
//! read end open for the whole run (so the writer never waits or gets SIGPIPE because of the
//! reader's timing), counts the writer's opens with inotify and judges the frames as images.

use super::Exercise;
use crate::ipc;
use crate::ipc::fifo::{self, Reader};
use crate::ipc::watch::{Counts, PathWatch};
use crate::outcome::{Failure, Verdict};
use crate::picture;
use crate::run::{secs, Run};
use crate::scenario::{Ctx, Launch, Scenario, Shared};
use crate::{ensure, fail};
use std::time::{Duration, Instant};

pub static EXERCISE: Exercise = Exercise {
    id: "image_fifo",
    lecture: &["ImageFIFO/createImage.py"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[
        Scenario::new(
            "frames",
            "200 × 640000 bytes arrive, one open of the FIFO per frame",
            frames,
        )
        .shared(&RUN),
        Scenario::new(
            "content",
            "frames are opaque coloured lines on white, and differ",
            content,
        )
        .shared(&RUN),
    ],
};

/// Both scenarios judge what one run sent through the FIFO: its byte count and opens, and
/// the first frames kept.
static RUN: Shared<Sent> = Shared {
    why: "the frames' count and their content are what one run sent through the FIFO",
    observe: sent,
    judges: &[
        ("frames", |s| judge_frames(s).into()),
        ("content", |s| judge_content(s).into()),
    ],
};

const FIFO: &str = "imagefifo";
const FRAME: usize = 400 * 400 * 4;
const FRAMES: usize = 200;
/// The longest pause between two signs of progress (bytes or an open) before a timeout.
const STALL: Duration = Duration::from_secs(10);
/// Frames judged by `content`.
const LOOKED_AT: usize = 3;

/// What crossed the FIFO.
struct Received {
    bytes: usize,
    /// The first bytes, up to what the caller asked to keep.
    kept: Vec<u8>,
    counts: Counts,
    /// Nothing came for `STALL` while the program kept running.
    stalled: bool,
}

/// Makes the FIFO, opens its read end, starts the program and reads until it ends (or
/// stalls), keeping the first `keep` bytes.
fn receive(ctx: &mut Ctx, keep: usize) -> Result<(Run, Received), Failure> {
    let fault =
        |what: &'static str| move |e: std::io::Error| Failure::fault(format!("{what}: {e}"));
    let path = ctx.workdir().join(FIFO);
    fifo::make(&path).map_err(fault("making the FIFO"))?;
    let reader = Reader::open(&path, true).map_err(fault("opening the FIFO"))?;
    reader.grow(1 << 20);
    // Watched after the harness's own open: every event is the program's.
    let watch = PathWatch::opens_and_closes(&path).map_err(fault("watching the FIFO"))?;
    let clock = ctx.clock();
    let mut run = ctx.start(Launch::new())?;
    let mut got = Received {
        bytes: 0,
        kept: Vec::new(),
        counts: Counts::default(),
        stalled: false,
    };
    let mut stall = clock.deadline(STALL);
    loop {
        let before = (got.bytes, got.counts);
        let ready = ipc::wait_ready(
            &[reader.fd(), watch.fd()],
            nix::poll::PollFlags::POLLIN,
            stall,
            Duration::from_millis(50),
        );
        if ready.first().is_some_and(|r| !r.is_empty()) {
            got.bytes += reader.drain(&mut got.kept, keep).0;
        }
        watch.count(&mut got.counts);
        if !run.alive() {
            // Everything it wrote is in the pipe by now.
            got.bytes += reader.drain(&mut got.kept, keep).0;
            watch.count(&mut got.counts);
            // Its exit is reported a moment after it shows in /proc.
            let _ = run.let_exit(Duration::from_secs(2));
            return Ok((run, got));
        }
        if (got.bytes, got.counts) != before {
            stall = clock.deadline(STALL);
        } else if Instant::now() >= stall {
            got.stalled = true;
            return Ok((run, got));
        }
    }
}

/// What one run sent through the FIFO, and how it ended.
struct Sent {
    got: Received,
    /// How the program ended ("it exited with status 0"), when it did.
    how: String,
}

/// Receives the frames (keeping the first [`LOOKED_AT`]) and notes how the program ended.
fn sent(ctx: &mut Ctx) -> Result<Sent, Failure> {
    let (mut run, got) = receive(ctx, LOOKED_AT * FRAME)?;
    run.keep_frames("frame received", &got.kept, (400, 400), 4);
    let how = if got.stalled {
        String::new()
    } else {
        ipc::ended(&mut run).unwrap_or_default()
    };
    Ok(Sent { got, how })
}

/// The timeout for a program that stopped sending while it kept running.
fn stalled(got: &Received) -> Failure {
    Failure::timeout(format!(
        "nothing more came through {FIFO} for {} after {} bytes ({} open(s)); the program kept running",
        secs(STALL),
        got.bytes,
        got.counts.opens
    ))
}

fn frames(ctx: &mut Ctx) -> Verdict {
    judge_frames(&sent(ctx)?)
}

fn judge_frames(sent: &Sent) -> Verdict {
    let (got, how) = (&sent.got, &sent.how);
    if got.stalled {
        return Err(stalled(got));
    }
    let want = FRAMES * FRAME;
    ensure!(
        got.bytes == want,
        "{} bytes came through {FIFO} ({} whole frame(s) of {FRAME} and {} bytes over); expected {FRAMES} × {FRAME} = {want}; {how}",
        got.bytes,
        got.bytes / FRAME,
        got.bytes % FRAME
    );
    let writes = got.counts.closes_write;
    ensure!(
        writes == FRAMES,
        "all {want} bytes came, but {FIFO} was opened for writing and closed {writes} time(s) ({} open(s) in all); expected once per frame, {FRAMES} times",
        got.counts.opens
    );
    Ok(format!(
        "{FRAMES} frames ({want} bytes) through {FRAMES} opens of {FIFO}"
    ))
}

/// What is wrong with frame `i`, if anything.
fn judge_frame(i: usize, frame: &[u8]) -> Result<(), String> {
    let s = picture::stats(frame, 4);
    if s.opaque < 1.0 {
        return Err(format!(
            "frame {}: alpha is not 255 everywhere ({:.1}% of pixels are not opaque)",
            i + 1,
            (1.0 - s.opaque) * 100.0
        ));
    }
    picture::lines_on_white(&s, &picture::EXACT).map_err(|e| format!("frame {}: {e}", i + 1))
}

fn content(ctx: &mut Ctx) -> Verdict {
    judge_content(&sent(ctx)?)
}

fn judge_content(sent: &Sent) -> Verdict {
    let got = &sent.got;
    if got.kept.len() < LOOKED_AT * FRAME {
        if got.stalled {
            return Err(stalled(got));
        }
        fail!(
            "only {} bytes came through {FIFO} before the program ended; {LOOKED_AT} frames of {FRAME} bytes needed",
            got.kept.len()
        );
    }
    let frames: Vec<&[u8]> = got.kept.chunks_exact(FRAME).collect();
    for (i, frame) in frames.iter().enumerate() {
        judge_frame(i, frame).map_err(Failure::fail)?;
    }
    for i in 1..frames.len() {
        let d = picture::difference(frames[i - 1], frames[i]);
        ensure!(
            d > 0.005,
            "frames {i} and {} are (nearly) the same ({:.2}% of bytes differ): each frame should be drawn anew",
            i + 1,
            d * 100.0
        );
    }
    Ok(format!(
        "the first {LOOKED_AT} frames are opaque coloured lines on white, and differ"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::Status;

    /// A white frame with a red band of `rows` rows starting at row `from`.
    fn frame(from: usize, rows: usize) -> Vec<u8> {
        let mut f: Vec<u8> = [255u8, 255, 255, 255].repeat(FRAME / 4);
        for row in from..from + rows {
            for x in 0..400 {
                let i = (row * 400 + x) * 4;
                f[i..i + 4].copy_from_slice(&[200, 20, 20, 255]);
            }
        }
        f
    }

    fn sent(bytes: usize, closes: usize, kept: Vec<u8>) -> Sent {
        Sent {
            got: Received {
                bytes,
                kept,
                counts: Counts {
                    opens: closes,
                    closes_write: closes,
                    ..Counts::default()
                },
                stalled: false,
            },
            how: "it exited with status 0".into(),
        }
    }

    fn three(frames: [Vec<u8>; 3]) -> Vec<u8> {
        frames.concat()
    }

    #[test]
    fn two_hundred_frames_in_two_hundred_opens_of_drawn_frames_pass_both() {
        let s = sent(
            FRAMES * FRAME,
            FRAMES,
            three([frame(10, 20), frame(100, 20), frame(200, 20)]),
        );
        assert!(judge_frames(&s).is_ok(), "{:?}", judge_frames(&s));
        assert!(judge_content(&s).is_ok(), "{:?}", judge_content(&s));
    }

    #[test]
    fn one_open_for_all_frames_fails_frames_only() {
        let s = sent(
            FRAMES * FRAME,
            1,
            three([frame(10, 20), frame(100, 20), frame(200, 20)]),
        );
        let f = judge_frames(&s).unwrap_err();
        assert!(f.message.contains("closed 1 time(s)"), "{}", f.message);
        assert!(judge_content(&s).is_ok());
    }

    #[test]
    fn the_same_frame_again_fails_content_only() {
        let s = sent(
            FRAMES * FRAME,
            FRAMES,
            three([frame(10, 20), frame(10, 20), frame(10, 20)]),
        );
        assert!(judge_frames(&s).is_ok());
        let f = judge_content(&s).unwrap_err();
        assert!(f.message.contains("(nearly) the same"), "{}", f.message);
    }

    #[test]
    fn a_stall_is_a_timeout_for_both() {
        let mut s = sent(FRAME, 1, frame(10, 20));
        s.got.stalled = true;
        assert_eq!(judge_frames(&s).unwrap_err().status, Status::Timeout);
        assert_eq!(judge_content(&s).unwrap_err().status, Status::Timeout);
    }
}
