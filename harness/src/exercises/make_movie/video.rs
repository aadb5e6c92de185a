//! Judging `movie.mp4` with the grader's own ffprobe and ffmpeg, run in the program's sandbox
//! (the movie is the program's, never trusted): the stream's codec, size, frame count
//! (decoded, `-count_frames`) and rate, and one decoded frame as RGB.

use crate::picture;
use crate::run::Exit;
use crate::scenario::Ctx;
use serde_json::Value;
use std::path::Path;
use std::time::Duration;

pub const WIDTH: u64 = 400;
pub const HEIGHT: u64 = 400;
pub const FRAMES: u64 = 200;
/// The frame decoded and looked at.
const SAMPLE: u64 = 100;

/// Runs `program args` to its end within `limit` (nominal), in the run's sandbox: its output
/// lines, or what went wrong.
fn tool(ctx: &Ctx, program: &Path, args: &[&str], limit: Duration) -> Result<Vec<String>, String> {
    let name = program.file_name().map_or_else(
        || program.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let args = args.iter().map(|a| a.to_string()).collect();
    let done = ctx
        .run_tool(program, args, limit)
        .map_err(|f| format!("could not run {name}: {}", f.message))?;
    match done.exit {
        Some(Exit::Code(0)) => Ok(done.output),
        Some(exit) => Err(format!(
            "{name} {}: {}",
            crate::run::describe_exit(exit),
            crate::text::quote(done.output.join("\n").trim())
        )),
        None => Err(format!(
            "{name} did not finish within {} s",
            limit.as_secs()
        )),
    }
}

/// The first video stream's properties that differ from what is expected, or what made
/// them unreadable.
pub fn check_stream(
    ctx: &Ctx,
    ffprobe: &Path,
    movie: &Path,
    limit: Duration,
) -> Result<Vec<String>, String> {
    let path = movie.display().to_string();
    let args = [
        "-v",
        "error",
        "-count_frames",
        "-show_streams",
        "-of",
        "json",
        &path,
    ];
    let out = tool(ctx, ffprobe, &args, limit)?.join("\n");
    let json: Value = serde_json::from_str(&out).map_err(|e| format!("ffprobe's answer: {e}"))?;
    let stream = json
        .get("streams")
        .and_then(Value::as_array)
        .and_then(|s| {
            s.iter()
                .find(|s| s.get("codec_type").and_then(Value::as_str) == Some("video"))
        })
        .ok_or("movie.mp4 holds no video stream")?;
    let text = |k: &str| {
        stream
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("?")
            .to_string()
    };
    let number = |k: &str| {
        let v = stream.get(k);
        v.and_then(Value::as_u64)
            .or_else(|| v.and_then(Value::as_str).and_then(|s| s.parse().ok()))
    };
    let mut wrong = Vec::new();
    if text("codec_name") != "mpeg4" {
        wrong.push(format!("codec {} (expected mpeg4)", text("codec_name")));
    }
    if (number("width"), number("height")) != (Some(WIDTH), Some(HEIGHT)) {
        wrong.push(format!(
            "size {}×{} (expected {WIDTH}×{HEIGHT})",
            number("width").unwrap_or(0),
            number("height").unwrap_or(0)
        ));
    }
    if number("nb_read_frames") != Some(FRAMES) {
        wrong.push(format!(
            "{} frames (expected {FRAMES})",
            number("nb_read_frames").unwrap_or(0)
        ));
    }
    if text("r_frame_rate") != "24/1" {
        wrong.push(format!("{} fps (expected 24)", text("r_frame_rate")));
    }
    Ok(wrong)
}

/// Decodes frame [`SAMPLE`] and judges it: lines on white, or what it is instead. The frame
/// decoded is kept with the run's record for the report's pictures.
pub fn check_frame(ctx: &Ctx, ffmpeg: &Path, movie: &Path, limit: Duration) -> Result<(), String> {
    let path = movie.display().to_string();
    let select = format!("select=eq(n\\,{SAMPLE})");
    let dir = ctx.scratch_for_run("frame").map_err(|f| f.message)?;
    let frame = dir.join("frame.rgb");
    let out = frame.display().to_string();
    let args = [
        "-v", "error", "-i", &path, "-vf", &select, "-vframes", "1", "-f", "rawvideo", "-pix_fmt",
        "rgb24", "-y", &out,
    ];
    tool(ctx, ffmpeg, &args, limit)?;
    let bytes = std::fs::read(&frame).map_err(|e| format!("reading the decoded frame: {e}"))?;
    let want = (WIDTH * HEIGHT * 3) as usize;
    if bytes.len() != want {
        return Err(format!(
            "decoding frame {SAMPLE} gave {} bytes, expected {want}",
            bytes.len()
        ));
    }
    ctx.keep_picture_after(
        &format!("movie.mp4, frame {SAMPLE}"),
        (WIDTH as u32, HEIGHT as u32),
        &bytes,
        3,
    );
    picture::lines_on_white(&picture::stats(&bytes, 3), &picture::VIDEO)
        .map_err(|e| format!("frame {SAMPLE}: {e}"))
}
