//! Images crossing the driver socket (RGBA8888 bytes in base64) and the comparison behind
//! "the label shows this image": byte-equal, or a description of how it differs.

/// An RGBA8888 image: 4 bytes per pixel, rows without padding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rgba {
    pub width: u32,
    pub height: u32,
    pub bytes: Vec<u8>,
}

impl Rgba {
    /// An image whose pixel at (x, y) is `f(x, y)`.
    pub fn from_fn(width: u32, height: u32, f: impl Fn(u32, u32) -> [u8; 4]) -> Rgba {
        let bytes = (0..height)
            .flat_map(|y| (0..width).map(move |x| (x, y)))
            .flat_map(|(x, y)| f(x, y))
            .collect();
        Rgba {
            width,
            height,
            bytes,
        }
    }

    /// Reads the driver's `{"width", "height", "rgba"}`; `None` when malformed.
    pub fn from_json(v: &serde_json::Value) -> Option<Rgba> {
        let width = u32::try_from(v.get("width")?.as_u64()?).ok()?;
        let height = u32::try_from(v.get("height")?.as_u64()?).ok()?;
        let bytes = decode(v.get("rgba")?.as_str()?)?;
        (bytes.len() as u64 == u64::from(width) * u64::from(height) * 4).then_some(Rgba {
            width,
            height,
            bytes,
        })
    }

    /// "400×400".
    pub fn size(&self) -> String {
        format!("{}×{}", self.width, self.height)
    }

    fn pixel(&self, i: usize) -> [u8; 4] {
        let p = &self.bytes[i * 4..i * 4 + 4];
        [p[0], p[1], p[2], p[3]]
    }
}

/// `Ok` when `shown` is `sent`, byte for byte; else what differs, in one sentence.
pub fn compare(shown: &Rgba, sent: &Rgba) -> Result<(), String> {
    if (shown.width, shown.height) != (sent.width, sent.height) {
        return Err(format!(
            "the label shows a {} image; the frame sent is {}",
            shown.size(),
            sent.size()
        ));
    }
    if shown.bytes == sent.bytes {
        return Ok(());
    }
    let pixels = sent.bytes.len() / 4;
    let differ: Vec<usize> = (0..pixels)
        .filter(|&i| shown.pixel(i) != sent.pixel(i))
        .collect();
    let first = differ.first().copied().unwrap_or(0);
    let (x, y) = (first % sent.width as usize, first / sent.width as usize);
    let swapped = (0..pixels).all(|i| {
        let [r, g, b, a] = sent.pixel(i);
        shown.pixel(i) == [b, g, r, a]
    });
    let hint = if swapped {
        ": red and blue are swapped (the frame is RGBA8888, not BGRA/ARGB32)"
    } else {
        ""
    };
    Err(format!(
        "the label shows a {} image, but {:.1}% of its pixels differ from the frame sent (first at ({x}, {y}): shown {:?}, sent {:?}){hint}",
        shown.size(),
        differ.len() as f64 * 100.0 / pixels.max(1) as f64,
        shown.pixel(first),
        sent.pixel(first)
    ))
}

/// `image` with red and blue swapped: what a viewer taking RGBA bytes as BGRA shows.
pub fn swap_red_blue(image: &Rgba) -> Rgba {
    let mut bytes = image.bytes.clone();
    for p in bytes.chunks_exact_mut(4) {
        p.swap(0, 2);
    }
    Rgba {
        bytes,
        ..image.clone()
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 (padding optional); `None` on any other character.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let mut table = [255u8; 256];
    for (i, c) in ALPHABET.iter().enumerate() {
        table[*c as usize] = i as u8;
    }
    let digits: Vec<u8> = text.bytes().take_while(|b| *b != b'=').collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let mut n = 0u32;
        for (i, d) in chunk.iter().enumerate() {
            let v = table[*d as usize];
            if v == 255 {
                return None;
            }
            n |= u32::from(v) << (18 - 6 * i);
        }
        out.extend((0..chunk.len().saturating_sub(1)).map(|i| (n >> (16 - 8 * i)) as u8));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        for n in 0..10 {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 5) as u8).collect();
            assert_eq!(decode(&encode(&bytes)), Some(bytes));
        }
        assert_eq!(encode(b"Man"), "TWFu");
        assert_eq!(encode(b"Ma"), "TWE=");
        assert_eq!(decode("TWE="), Some(b"Ma".to_vec()));
    }

    #[test]
    fn swapped_channels_are_named() {
        let sent = Rgba::from_fn(4, 2, |x, _| [200, 10, (x * 9) as u8, 255]);
        let shown = Rgba::from_fn(4, 2, |x, _| [(x * 9) as u8, 10, 200, 255]);
        assert_eq!(compare(&sent, &sent), Ok(()));
        let why = compare(&shown, &sent).unwrap_err();
        assert!(why.contains("red and blue are swapped"), "{why}");
    }
}
