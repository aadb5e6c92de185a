//! A class: a folder holding one submission folder per student. Detection, and stable
//! partitions for spreading a class over CI jobs.

pub mod auto;

use crate::exercises;
use crate::submission::discover::{self, Listing, Lookup};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The student folders of `dir`, sorted by name (hidden folders left out).
pub fn members(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.is_dir()
                        && !p
                            .file_name()
                            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
                })
                .collect()
        })
        .unwrap_or_default();
    dirs.sort();
    dirs
}

/// Whether `dir` looks like a class: at least two of its subfolders hold an exercise, and some
/// exercise is found in more than one of them (a lecture-layout submission has `Processes/`
/// and `Env/`, but no exercise twice).
pub fn looks_like_class(dir: &Path) -> bool {
    if dir.join(crate::submission::manifest::FILE).exists() {
        return false;
    }
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let mut holding = 0;
    for member in members(dir) {
        let Ok(listing) = Listing::read(&member) else {
            continue;
        };
        let found: Vec<&str> = exercises::ALL
            .iter()
            .filter(|e| {
                matches!(
                    discover::find(&listing, e, &exercises::lecture_name_is_unique, &[]),
                    Lookup::Found(_)
                )
            })
            .map(|e| e.id)
            .collect();
        holding += usize::from(!found.is_empty());
        for id in found {
            *seen.entry(id).or_default() += 1;
        }
    }
    holding >= 2 && seen.values().any(|n| *n > 1)
}

/// A slice `k` of `n` (1-based), as `--partition k/n` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Partition {
    pub k: u64,
    pub n: u64,
}

impl std::str::FromStr for Partition {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (k, n) = s
            .split_once('/')
            .ok_or_else(|| format!("`{s}` is not K/N"))?;
        let (k, n): (u64, u64) = (
            k.trim()
                .parse()
                .map_err(|_| format!("`{k}` is not a number"))?,
            n.trim()
                .parse()
                .map_err(|_| format!("`{n}` is not a number"))?,
        );
        if n == 0 || k == 0 || k > n {
            return Err(format!("partition {k}/{n}: K must be between 1 and N"));
        }
        Ok(Partition { k, n })
    }
}

impl Partition {
    /// Whether the student folder named `name` belongs to this slice. Stable: by a hash of
    /// the name (FNV-1a), so adding a student never moves the others between slices.
    pub fn holds(&self, name: &str) -> bool {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in name.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
        h % self.n == self.k - 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_cover_every_name_once() {
        let parts: Vec<Partition> = (1..=3).map(|k| Partition { k, n: 3 }).collect();
        for i in 0..100 {
            let name = format!("student{i:03}");
            assert_eq!(parts.iter().filter(|p| p.holds(&name)).count(), 1);
        }
        assert!("0/3".parse::<Partition>().is_err() && "4/3".parse::<Partition>().is_err());
    }
}
