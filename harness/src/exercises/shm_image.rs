//! `shm_image` (the writer side of the lecture's ImageSharedMemory): attaches to the existing
//! POSIX shared memory segment `imageMap` (400×400×4 bytes), writes one RGBA image of random
//! lines on white and exits without unlinking it. The harness makes the segment in the run's
//! private /dev/shm before the program starts and reads it through a descriptor of its own.

use super::Exercise;
use crate::ipc::segment::{self, ImageSegment};
use crate::ipc::watch::Counts;
use crate::ipc::{IMAGE_BYTES as SIZE, IMAGE_SEGMENT, IMAGE_SEGMENT as SEGMENT};
use crate::outcome::{Failure, Status, Verdict};
use crate::picture;
use crate::run::Exit;
use crate::run::ExpectExit;
use crate::run::{describe_exit, secs, Run};
use crate::scenario::{Ctx, Launch, Scenario};
use crate::{ensure, fail};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "shm_image",
    lecture: &[],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[IMAGE_SEGMENT],
    scenarios: &[
        Scenario::new(
            "content",
            "the segment holds an opaque image of coloured lines on white",
            content,
        ),
        Scenario::new(
            "kept",
            "the segment still exists after the program (and its helpers) ended",
            kept,
        ),
        Scenario::new(
            "missing",
            "with no segment: non-zero exit, and no segment created",
            missing,
        ),
    ],
};

/// The writer draws one image and exits: generous for a slow interpreter.
const FINISH: Duration = Duration::from_secs(10);
/// For descendants (a Python resource tracker) to finish after the program.
const HELPERS: Duration = Duration::from_secs(5);

/// Makes the segment, starts the writer and waits for it to exit. The returned file is the
/// harness's own descriptor on the segment, opened before the program ran, so its content is
/// readable even if the segment's name is gone.
fn written(ctx: &mut Ctx) -> Result<(Run, File, Exit), Failure> {
    let (run, file, _opens, exit) = written_watched(ctx)?;
    Ok((run, file, exit))
}

/// [`written`], with how often the program opened the segment (`None`: not watched here).
fn written_watched(ctx: &mut Ctx) -> Result<(Run, File, Option<usize>, Exit), Failure> {
    let mut segment = ImageSegment::new(ctx)?;
    let mut run = ctx.start_prepared(Launch::new(), |reach| segment.make(reach))?;
    let (file, watch) = segment.adopt_watched(&mut run)?;
    let exit = finished(&mut run)?;
    let opens = watch.map(|w| {
        let mut counts = Counts::default();
        w.count(&mut counts);
        counts.opens
    });
    Ok((run, file, opens, exit))
}

/// Waits for the writer to exit (a writer that never does is a timeout).
fn finished(run: &mut Run) -> Result<Exit, Failure> {
    run.wait_exit(FINISH).map_err(|f| match f.status {
        Status::Timeout => Failure::timeout(format!(
            "expected it to write the image and exit within {}; it kept running",
            secs(FINISH)
        )),
        _ => f,
    })
}

fn content(ctx: &mut Ctx) -> Verdict {
    let (run, file, exit) = written(ctx)?;
    let mut image = vec![0u8; SIZE];
    file.read_exact_at(&mut image, 0).map_err(|e| {
        Failure::fail(format!(
            "could not read {SIZE} bytes of {SEGMENT} after the program: {e} (was it shrunk?)"
        ))
    })?;
    run.keep_frames("image in the segment", &image, (400, 400), 4);
    forget_segment(run);
    if image.iter().all(|b| *b == 0) {
        fail!(
            "{SEGMENT} still holds only zero bytes after the program {}: nothing was written into it",
            describe_exit(exit)
        );
    }
    let s = picture::stats(&image, 4);
    ensure!(
        s.opaque == 1.0,
        "alpha is not 255 everywhere in {SEGMENT} ({:.1}% of pixels are not opaque)",
        (1.0 - s.opaque) * 100.0
    );
    picture::lines_on_white(&s, &picture::EXACT)
        .map_err(|e| Failure::fail(format!("{SEGMENT} holds an image, but {e}")))?;
    Ok(format!("{SEGMENT} holds opaque coloured lines on white"))
}

fn kept(ctx: &mut Ctx) -> Verdict {
    let python = ctx.program().is_python();
    let (run, file, opens, exit) = written_watched(ctx)?;
    run.wait_tree_done(HELPERS);
    // Kept by the program only if it used the segment: one it never opened proves nothing.
    // Without the watch, bytes it wrote are the evidence that it used it.
    if opens.is_none() && !wrote_into(&file) {
        forget_segment(run);
        return Err(Failure::skip(format!(
            "inotify could not watch the segment {SEGMENT} and the program wrote nothing into it, so whether it used the segment and left it cannot be shown here"
        )));
    }
    if opens == Some(0) {
        // The segment is the harness's: removed here, never the program's leftover.
        forget_segment(run);
        fail!(
            "the program {} without ever opening the segment {SEGMENT}: it should attach to the existing segment, write the image into it and leave it",
            describe_exit(exit)
        );
    }
    let path = run.reach().shm_path(SEGMENT);
    if !path.exists() {
        let why = segment::left_hint(python);
        fail!(
            "after the program {} the segment {SEGMENT} was gone: the writer must leave it for the viewer.{why}",
            describe_exit(exit)
        );
    }
    forget_segment(run);
    Ok(format!(
        "{SEGMENT} still exists after the program {}",
        describe_exit(exit)
    ))
}

/// Whether any byte of the segment (read through the harness's descriptor) is not zero.
fn wrote_into(file: &File) -> bool {
    let mut image = vec![0u8; SIZE];
    file.read_exact_at(&mut image, 0).is_ok() && image.iter().any(|b| *b != 0)
}

/// Ends the run and removes the harness's segment (it outlives a run that shares the
/// host's /dev/shm).
fn forget_segment(run: Run) {
    let _ = std::fs::remove_file(run.reach().shm_path(SEGMENT));
    drop(run);
}

fn missing(ctx: &mut Ctx) -> Verdict {
    let mut run = ctx.start(Launch::new())?;
    let exit = finished(&mut run)?;
    run.wait_tree_done(HELPERS);
    let created = run.reach().shm_path(SEGMENT).exists();
    ensure!(
        !created,
        "with no segment {SEGMENT} it created one (and {}): it should attach to the viewer's segment only, never create it",
        describe_exit(exit)
    );
    ExpectExit::Nonzero
        .check(exit, format!("with no segment {SEGMENT} it"))
        .map_err(|f| f.hint(" (an error)"))?;
    Ok(format!(
        "with no segment it {} and created none",
        describe_exit(exit)
    ))
}
