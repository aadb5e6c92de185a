//! Judging images a program produced (a FIFO frame, a shared memory segment, a decoded video
//! frame): "random coloured lines on white", as opposed to blank, noise, or garbage.

mod thumbnail;
pub use thumbnail::{base64, thumbnail};

/// What an image is made of.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    pub pixels: usize,
    /// Share of near-white pixels (every channel at least 230).
    pub white: f64,
    /// Share of clearly coloured pixels (channels differ by more than 40).
    pub colored: f64,
    /// Share of pixels whose alpha is 255 (1.0 for images without alpha).
    pub opaque: f64,
}

/// Thresholds for "lines on white". Video is lossy: its thresholds are looser.
#[derive(Debug, Clone, Copy)]
pub struct Expect {
    pub min_white: f64,
    pub max_white: f64,
    pub min_colored: f64,
}

/// For images written byte for byte (FIFO, shared memory).
pub const EXACT: Expect = Expect {
    min_white: 0.25,
    max_white: 0.985,
    min_colored: 0.02,
};
/// For decoded frames of an MPEG-4 video (chroma subsampling fades thin lines).
pub const VIDEO: Expect = Expect {
    min_white: 0.2,
    max_white: 0.995,
    min_colored: 0.003,
};

/// Statistics of pixels of `channels` bytes each (3 for RGB, 4 for RGBA).
pub fn stats(bytes: &[u8], channels: usize) -> Stats {
    let mut white = 0usize;
    let mut colored = 0usize;
    let mut opaque = 0usize;
    let pixels = bytes.len() / channels.max(1);
    for px in bytes.chunks_exact(channels) {
        let (r, g, b) = (px[0], px[1], px[2]);
        if r >= 230 && g >= 230 && b >= 230 {
            white += 1;
        }
        let (hi, lo) = (r.max(g).max(b), r.min(g).min(b));
        if hi - lo > 40 {
            colored += 1;
        }
        if channels < 4 || px[3] == 255 {
            opaque += 1;
        }
    }
    let share = |n: usize| {
        if pixels == 0 {
            0.0
        } else {
            n as f64 / pixels as f64
        }
    };
    Stats {
        pixels,
        white: share(white),
        colored: share(colored),
        opaque: share(opaque),
    }
}

/// `Ok` when `s` looks like coloured lines on white, else what is wrong with it.
pub fn lines_on_white(s: &Stats, expect: &Expect) -> Result<(), String> {
    let pct = |x: f64| format!("{:.1}%", x * 100.0);
    if s.pixels == 0 {
        return Err("the image is empty".into());
    }
    if s.white < expect.min_white {
        return Err(format!(
            "only {} of it is white: not lines on a white background (noise, or no clear)",
            pct(s.white)
        ));
    }
    if s.white > expect.max_white || s.colored < expect.min_colored {
        return Err(format!(
            "{} white and {} coloured: (nearly) blank, no coloured lines drawn",
            pct(s.white),
            pct(s.colored)
        ));
    }
    Ok(())
}

/// Share of bytes that differ between two images of the same size.
pub fn difference(a: &[u8], b: &[u8]) -> f64 {
    if a.len() != b.len() || a.is_empty() {
        return 1.0;
    }
    a.iter().zip(b).filter(|(x, y)| x != y).count() as f64 / a.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn image(f: impl Fn(usize) -> [u8; 4]) -> Vec<u8> {
        (0..400 * 400).flat_map(f).collect()
    }

    #[test]
    fn blank_noise_and_lines_are_told_apart() {
        let blank = image(|_| [255, 255, 255, 255]);
        assert!(lines_on_white(&stats(&blank, 4), &EXACT).is_err());
        let noise = image(|i| {
            [
                (i * 7919 % 251) as u8,
                (i * 104729 % 241) as u8,
                (i * 31 % 239) as u8,
                255,
            ]
        });
        assert!(lines_on_white(&stats(&noise, 4), &EXACT).is_err());
        let lines = image(|i| {
            if i % 400 < 40 || i / 400 % 50 == 0 {
                [200, 30, 30, 255]
            } else {
                [255; 4]
            }
        });
        assert_eq!(lines_on_white(&stats(&lines, 4), &EXACT), Ok(()));
        assert_eq!(stats(&lines, 4).opaque, 1.0);
    }
}
