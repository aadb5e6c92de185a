//! make_movie (lecture: Subprocess/make_movie.py): starts
//! `ffmpeg -f rawvideo -pixel_format rgba -video_size 400x400 -framerate 24 -i - -vcodec mpeg4
//! -y movie.mp4` (found on PATH) and writes 200 frames of random lines on white (400x400 RGBA)
//! to its standard input, then closes it and waits for ffmpeg (which the lecture forgets).
//! Exits 0 only if ffmpeg succeeded.
//!
//! Scenarios: `make_movie.piped`, `make_movie.video`, `make_movie.waits`.

use reference::image::random_lines_frame;
use reference::rng::Rng;
use std::io::Write;
use std::process::{exit, Command, Stdio};

const FRAMES: usize = 200;

fn main() {
    #[rustfmt::skip]
    let args = [
        "-f", "rawvideo", "-pixel_format", "rgba", "-video_size", "400x400",
        "-framerate", "24", "-i", "-", "-vcodec", "mpeg4", "-y", "movie.mp4",
    ];
    let mut ffmpeg = Command::new("ffmpeg")
        .args(args)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("make_movie: cannot start ffmpeg: {e}");
            exit(1)
        });

    let mut rng = Rng::from_entropy();
    let mut input = ffmpeg.stdin.take().expect("piped stdin");
    let mut write_error = None;
    for _ in 0..FRAMES {
        let frame = random_lines_frame(&mut rng);
        if let Err(e) = input.write_all(&frame.pixels) {
            write_error = Some(e);
            break;
        }
    }
    // Closing the pipe is ffmpeg's end of input.
    drop(input);

    let status = ffmpeg.wait().unwrap_or_else(|e| {
        eprintln!("make_movie: waiting for ffmpeg: {e}");
        exit(1)
    });
    if let Some(e) = write_error {
        eprintln!("make_movie: writing frames to ffmpeg: {e}");
        exit(1);
    }
    if !status.success() {
        eprintln!("make_movie: ffmpeg failed ({status})");
        exit(1);
    }
    println!("movie.mp4 written ({FRAMES} frames)");
}
