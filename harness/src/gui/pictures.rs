//! Pictures for the GUI exercises: the frames the harness sends to a viewer (distinct, opaque,
//! not symmetric in red and blue, so swapped channels show), and the judgement "a checker".

use super::image::Rgba;

/// The `k`-th test frame of `width`×`height`: smooth ramps that differ from frame to frame.
pub fn test_frame(k: u32, width: u32, height: u32) -> Rgba {
    Rgba::from_fn(width, height, |x, y| {
        [
            (x.wrapping_mul(k + 2) / 3 + y / 7) as u8,
            (y * 3 + k * 50) as u8,
            ((x ^ y) / 2 + k * 90) as u8,
            255,
        ]
    })
}

/// `Ok` when `rgba` (of `width` pixels a row) looks like a checker: two colours, each on
/// about half the pixels, changing along rows and along columns, in blocks (not noise).
pub fn checker(rgba: &[u8], width: usize) -> Result<(), String> {
    let px: Vec<[u8; 4]> = rgba
        .chunks_exact(4)
        .map(|p| [p[0], p[1], p[2], p[3]])
        .collect();
    if px.is_empty() || width == 0 {
        return Err("the image is empty".into());
    }
    let mut counts = std::collections::HashMap::new();
    for p in &px {
        *counts.entry(*p).or_insert(0usize) += 1;
    }
    let mut shares: Vec<f64> = counts
        .values()
        .map(|n| *n as f64 / px.len() as f64)
        .collect();
    shares.sort_by(|a, b| b.total_cmp(a));
    let two = shares.iter().take(2).sum::<f64>();
    if shares.len() < 2 || two < 0.95 || shares[1] < 0.3 {
        return Err(format!(
            "it is not two colours in about equal parts ({} colours; the two most common cover {:.0}%)",
            counts.len(),
            two * 100.0
        ));
    }
    let height = px.len() / width;
    let changes = |line: &mut dyn Iterator<Item = [u8; 4]>| {
        let v: Vec<[u8; 4]> = line.collect();
        v.windows(2).filter(|w| w[0] != w[1]).count()
    };
    let along_row = changes(&mut px[..width].iter().copied());
    let along_column = changes(&mut (0..height).map(|y| px[y * width]));
    let same_neighbour = px.windows(2).filter(|w| w[0] == w[1]).count() as f64 / px.len() as f64;
    if along_row < 2 || along_column < 2 || same_neighbour < 0.8 {
        return Err(format!(
            "the colours do not alternate in squares ({along_row} change(s) along the first row, {along_column} down the first column)"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkers_and_stripes_are_told_apart() {
        let board = Rgba::from_fn(400, 400, |x, y| {
            if (x / 50 + y / 50) % 2 == 0 {
                [0, 0, 0, 255]
            } else {
                [255; 4]
            }
        });
        assert_eq!(checker(&board.bytes, 400), Ok(()));
        let stripes = Rgba::from_fn(400, 400, |x, _| {
            if (x / 50) % 2 == 0 {
                [0, 0, 0, 255]
            } else {
                [255; 4]
            }
        });
        assert!(checker(&stripes.bytes, 400).is_err());
        assert_ne!(test_frame(0, 8, 8), test_frame(1, 8, 8));
    }
}
