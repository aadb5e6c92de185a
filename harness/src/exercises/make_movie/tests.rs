//! The judges from hand-built observations.

use super::*;
use crate::outcome::Status;
use crate::scenario::Judged;
use serde_json::json;

const ARGV: &str = "-f rawvideo -pixel_format rgba -video_size 400x400 -framerate 24 -i - -vcodec mpeg4 -y movie.mp4";

/// The program (pid 10) started the shim (pid 20) itself and waited for it.
fn movie(bytes: u64, file: MovieFile) -> Movie {
    let argv: Vec<&str> = ARGV.split(' ').collect();
    Movie {
        exit: Exit::Code(0),
        starts: vec![json!({"event": "start", "pid": 20, "argv": argv, "ancestors": [10, 1]})],
        dones: vec![json!({"event": "done", "pid": 20, "bytes": bytes, "code": 0})],
        log_tail: String::new(),
        own: 10,
        reaped: Vec::new(),
        present: Vec::new(),
        file,
    }
}

#[test]
fn a_correct_run_passes_all_three() {
    let m = movie(EXPECTED_BYTES, MovieFile::Good);
    for (id, judge) in RUN.judges {
        assert!(matches!(judge(&m), Judged::Verdict(Ok(_))), "{id}");
    }
}

#[test]
fn half_the_frames_fail_piped_only() {
    let m = movie(EXPECTED_BYTES / 2, MovieFile::Good);
    let f = judge_piped(&m).unwrap_err();
    assert!(f.message.contains("(100 whole frames)"), "{}", f.message);
    assert!(judge_video(&m).is_ok() && judge_waits(&m).is_ok());
}

#[test]
fn a_shim_left_to_the_supervisor_fails_waits_only() {
    let mut m = movie(EXPECTED_BYTES, MovieFile::Good);
    m.reaped = vec![20];
    let f = judge_waits(&m).unwrap_err();
    assert!(
        f.message.starts_with("the program never waited for ffmpeg"),
        "{}",
        f.message
    );
    assert!(judge_piped(&m).is_ok() && judge_video(&m).is_ok());
}

#[test]
fn a_wrong_stream_fails_video_and_ffmpeg_never_started_fails_piped_and_waits() {
    let m = movie(EXPECTED_BYTES, MovieFile::Wrong(vec!["100 frames".into()]));
    let f = judge_video(&m).unwrap_err();
    assert_eq!(f.message, "movie.mp4 has 100 frames");
    let mut m = movie(0, MovieFile::Good);
    m.starts.clear();
    m.dones.clear();
    assert!(judge_video(&m)
        .unwrap()
        .contains("not started through PATH"));
    assert_eq!(judge_piped(&m).unwrap_err().status, Status::Fail);
    assert_eq!(judge_waits(&m).unwrap_err().status, Status::Fail);
}

#[test]
fn ffmpeg_that_never_finished_is_a_timeout() {
    let mut m = movie(EXPECTED_BYTES, MovieFile::Missing);
    m.dones.clear();
    assert_eq!(judge_piped(&m).unwrap_err().status, Status::Timeout);
    assert_eq!(judge_video(&m).unwrap_err().status, Status::Timeout);
}
