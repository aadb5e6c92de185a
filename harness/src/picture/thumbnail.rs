//! Scaling an image down for a report and encoding it as a PNG in base64 (no image crate:
//! an 8-bit RGB PNG is a header, one deflated chunk and an end).

use crate::run::Picture;
use std::io::Write;

/// Widest thumbnail, in pixels.
pub const MAX_WIDTH: u32 = 160;
/// Tallest thumbnail, in pixels.
pub const MAX_HEIGHT: u32 = 160;

/// `pixels` (`channels` bytes a pixel: 1 grey, 3 RGB, 4 RGBA; row by row) scaled down to at
/// most [`MAX_WIDTH`]×[`MAX_HEIGHT`] (each pixel the mean of the block it covers), as a PNG. `None` for an image whose
/// bytes do not match its size.
pub fn thumbnail(
    label: &str,
    width: u32,
    height: u32,
    pixels: &[u8],
    channels: usize,
) -> Option<Picture> {
    let (w, h, ch) = (width as usize, height as usize, channels);
    if w == 0 || h == 0 || !(1..=4).contains(&ch) || pixels.len() < w * h * ch {
        return None;
    }
    let scale = (width as f64 / MAX_WIDTH as f64)
        .max(height as f64 / MAX_HEIGHT as f64)
        .max(1.0);
    let tw = ((width as f64 / scale).round() as usize).max(1);
    let th = ((height as f64 / scale).round() as usize).max(1);
    let mut rgb = Vec::with_capacity(tw * th * 3);
    for y in 0..th {
        let rows = block(y, scale, h);
        for x in 0..tw {
            let cols = block(x, scale, w);
            rgb.extend(average(pixels, w, ch, rows.clone(), cols));
        }
    }
    Some(Picture {
        label: label.to_string(),
        width: tw as u32,
        height: th as u32,
        png_base64: base64(&png(tw as u32, th as u32, &rgb)),
    })
}

/// The source pixels (one axis) that target pixel `i` covers at `scale`.
fn block(i: usize, scale: f64, len: usize) -> std::ops::Range<usize> {
    let start = ((i as f64 * scale) as usize).min(len - 1);
    let end = (((i + 1) as f64 * scale) as usize).clamp(start + 1, len);
    start..end
}

/// The mean colour (RGB) of a block: thin lines fade instead of breaking up.
fn average(
    pixels: &[u8],
    width: usize,
    ch: usize,
    rows: std::ops::Range<usize>,
    cols: std::ops::Range<usize>,
) -> [u8; 3] {
    let mut sum = [0u32; 3];
    let mut n = 0u32;
    for y in rows {
        for x in cols.clone() {
            let at = (y * width + x) * ch;
            let px = &pixels[at..at + ch];
            let rgb = if ch < 3 {
                [px[0]; 3]
            } else {
                [px[0], px[1], px[2]]
            };
            for (s, v) in sum.iter_mut().zip(rgb) {
                *s += u32::from(v);
            }
            n += 1;
        }
    }
    sum.map(|s| (s / n.max(1)) as u8)
}

/// An 8-bit RGB PNG of `rgb` (`width`×`height`).
pub fn png(width: u32, height: u32, rgb: &[u8]) -> Vec<u8> {
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = Vec::new();
    ihdr.extend(width.to_be_bytes());
    ihdr.extend(height.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    chunk(&mut out, b"IHDR", &ihdr);
    let row = width as usize * 3;
    let mut raw = Vec::with_capacity(rgb.len() + height as usize);
    for line in rgb.chunks(row.max(1)) {
        raw.push(0);
        raw.extend(line);
    }
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let _ = z.write_all(&raw);
    chunk(&mut out, b"IDAT", &z.finish().unwrap_or_default());
    chunk(&mut out, b"IEND", &[]);
    out
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend((data.len() as u32).to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(kind);
    crc.update(data);
    out.extend(kind);
    out.extend(data);
    out.extend(crc.sum().to_be_bytes());
}

/// Standard base64 with padding.
pub fn base64(bytes: &[u8]) -> String {
    const ABC: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for c in bytes.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= c.len() {
                out.push(ABC[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_examples() {
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_large_image_is_scaled_down_and_encoded() {
        let pixels = vec![255u8; 640 * 480 * 4];
        let p = thumbnail("frame", 640, 480, &pixels, 4).expect("thumbnail");
        assert_eq!((p.width, p.height), (160, 120));
        assert!(p.png_base64.starts_with("iVBORw0KGgo"), "{}", p.png_base64);
        assert!(thumbnail("short", 10, 10, &pixels[..10], 3).is_none());
        let grey = [0u8, 255, 0, 255];
        assert_eq!(average(&grey, 4, 1, 0..1, 0..4), [127, 127, 127]);
        assert_eq!(block(1, 2.5, 400), 2..5);
    }
}
