//! Judging `movie.mp4` with the grader's own ffprobe and ffmpeg: the stream's codec, size,
//! frame count (decoded, `-count_frames`) and rate, and one decoded frame as RGB.

use crate::picture;
use serde_json::Value;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

pub const WIDTH: u64 = 400;
pub const HEIGHT: u64 = 400;
pub const FRAMES: u64 = 200;
/// The frame decoded and looked at.
const SAMPLE: u64 = 100;

/// Runs `program args` to its end within `limit`: its standard output, or what went wrong.
fn tool(program: &Path, args: &[&str], limit: Duration) -> Result<Vec<u8>, String> {
    let name = program.display().to_string();
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("could not run {name}: {e}"))?;
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let status = match child.wait_timeout(limit) {
        Ok(Some(status)) => status,
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!(
                "{name} did not finish within {} s",
                limit.as_secs()
            ));
        }
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    if status.success() {
        Ok(out)
    } else {
        let text = String::from_utf8_lossy(&err);
        Err(format!(
            "{name} failed ({status}): {}",
            crate::text::quote(text.trim())
        ))
    }
}

/// The first video stream's properties that differ from what is expected, or what made
/// them unreadable.
pub fn check_stream(ffprobe: &Path, movie: &Path, limit: Duration) -> Result<Vec<String>, String> {
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
    let out = tool(ffprobe, &args, limit)?;
    let json: Value = serde_json::from_slice(&out).map_err(|e| format!("ffprobe's answer: {e}"))?;
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

/// Decodes frame [`SAMPLE`] and judges it: lines on white, or what it is instead.
pub fn check_frame(ffmpeg: &Path, movie: &Path, limit: Duration) -> Result<(), String> {
    let path = movie.display().to_string();
    let select = format!("select=eq(n\\,{SAMPLE})");
    let args = [
        "-v", "error", "-i", &path, "-vf", &select, "-vframes", "1", "-f", "rawvideo", "-pix_fmt",
        "rgb24", "-",
    ];
    let bytes = tool(ffmpeg, &args, limit)?;
    let want = (WIDTH * HEIGHT * 3) as usize;
    if bytes.len() != want {
        return Err(format!(
            "decoding frame {SAMPLE} gave {} bytes, expected {want}",
            bytes.len()
        ));
    }
    picture::lines_on_white(&picture::stats(&bytes, 3), &picture::VIDEO)
        .map_err(|e| format!("frame {SAMPLE}: {e}"))
}
