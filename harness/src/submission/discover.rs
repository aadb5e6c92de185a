//! Finding each exercise's program in a submission, in the catalogue's order: a mapping in
//! `submission.toml`, a file named after the exercise (or a cargo binary of that name), the
//! lecture's own file names.

use super::{manifest, Found, Language};
use crate::error::Error;
use crate::exercises::Exercise;
use crate::sandbox::copy::SKIPPED;
use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// Files deeper than this, or past this count, are not looked at.
const MAX_DEPTH: usize = 6;
const MAX_FILES: usize = 20_000;

/// One file of the submission.
#[derive(Debug, Clone)]
pub struct File {
    pub rel: PathBuf,
    pub executable: bool,
}

/// What discovery knows about a submission's files.
#[derive(Debug)]
pub struct Listing {
    pub root: PathBuf,
    pub files: Vec<File>,
    pub mapping: BTreeMap<String, PathBuf>,
}

impl Listing {
    pub fn read(root: &Path) -> Result<Listing, Error> {
        let mut files = Vec::new();
        walk(root, Path::new(""), 0, &mut files);
        files.sort_by(|a, b| a.rel.cmp(&b.rel));
        Ok(Listing {
            root: root.to_path_buf(),
            files,
            mapping: manifest::read(root)?,
        })
    }
}

fn walk(root: &Path, rel: &Path, depth: usize, out: &mut Vec<File>) {
    if depth > MAX_DEPTH || out.len() >= MAX_FILES {
        return;
    }
    let Ok(entries) = std::fs::read_dir(root.join(rel)) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) || name.to_string_lossy().starts_with('.') {
            continue;
        }
        let rel = rel.join(&name);
        let Ok(meta) = std::fs::symlink_metadata(root.join(&rel)) else {
            continue;
        };
        if meta.is_dir() {
            walk(root, &rel, depth + 1, out);
        } else if meta.is_file() {
            out.push(File {
                rel,
                executable: meta.permissions().mode() & 0o111 != 0,
            });
        }
    }
}

/// The outcome of looking for one exercise.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Found),
    /// Not there; the message says what was looked for.
    Missing(String),
}

/// Looks for `exercise` in `listing`. `lecture_unique` says which lecture base names are
/// unambiguous across the catalogue (those may match in any folder).
pub fn find(
    listing: &Listing,
    exercise: &Exercise,
    lecture_unique: &dyn Fn(&str) -> bool,
    aliases: &[PathBuf],
) -> Lookup {
    if let Some(path) = listing.mapping.get(exercise.id) {
        return mapped(listing, path);
    }
    if let Some(found) = by_alias(listing, aliases) {
        return Lookup::Found(found);
    }
    if let Some(found) = by_name(listing, exercise) {
        return Lookup::Found(found);
    }
    if let Some(found) = by_cargo_bin(listing, exercise.id) {
        return Lookup::Found(found);
    }
    if let Some(found) = by_lecture_name(listing, exercise, lecture_unique) {
        return Lookup::Found(found);
    }
    if let Some(junk) = listing
        .files
        .iter()
        .find(|f| f.executable && f.rel.file_name().is_some_and(|n| n == exercise.id))
    {
        return Lookup::Missing(format!(
            "found {}, but it is not a program: neither an ELF binary nor a script starting with #!",
            junk.rel.display()
        ));
    }
    let mut names = vec![
        format!("{}.py", exercise.id),
        format!("{}.cpp", exercise.id),
    ];
    names.extend(exercise.lecture.iter().map(|s| s.to_string()));
    Lookup::Missing(format!(
        "no program for `{}` found (looked for {}, a cargo binary `{}`, or a mapping in submission.toml)",
        exercise.id,
        names.join(", "),
        exercise.id
    ))
}

fn mapped(listing: &Listing, path: &Path) -> Lookup {
    let file = listing.files.iter().find(|f| f.rel == path);
    match file.and_then(|f| language(listing, f).map(|l| (f, l))) {
        Some((f, language)) => Lookup::Found(Found {
            source: f.rel.clone(),
            language,
            bin: None,
            via: "submission.toml",
        }),
        None if file.is_some() => Lookup::Missing(format!(
            "submission.toml maps it to {}, which is neither .py, .c, .cpp nor executable",
            path.display()
        )),
        None => Lookup::Missing(format!(
            "submission.toml maps it to {}, which does not exist",
            path.display()
        )),
    }
}

/// The language of a file, upgraded to Make/CMake when a build file sits beside a C/C++ source.
fn language(listing: &Listing, file: &File) -> Option<Language> {
    let lang = Language::of(&file.rel, file.executable)?;
    if lang == Language::Executable && !looks_runnable(&listing.root.join(&file.rel)) {
        return None;
    }
    if matches!(lang, Language::C | Language::Cpp) {
        let dir = file.rel.parent().unwrap_or(Path::new(""));
        let beside = |name: &str| listing.files.iter().any(|f| f.rel == dir.join(name));
        if beside("Makefile") || beside("makefile") {
            return Some(Language::Make);
        }
        if beside("CMakeLists.txt") {
            return Some(Language::CMake);
        }
    }
    Some(lang)
}

/// An executable file worth running: an ELF binary or a `#!` script (not junk that only has
/// the exec bit, which the system would hand to /bin/sh).
fn looks_runnable(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    let n = std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .unwrap_or(0);
    n >= 2 && (head[..2] == *b"#!" || (n == 4 && head == *b"\x7fELF"))
}

fn rank(lang: Language) -> u8 {
    match lang {
        Language::Cpp | Language::Make | Language::CMake => 0,
        Language::C => 1,
        Language::Python => 2,
        Language::Rust => 3,
        Language::Executable => 4,
    }
}

fn best(listing: &Listing, pick: impl Fn(&File) -> bool, via: &'static str) -> Option<Found> {
    listing
        .files
        .iter()
        .filter(|f| pick(f))
        .filter_map(|f| language(listing, f).map(|l| (f, l)))
        .min_by_key(|(f, l)| (f.rel.components().count(), rank(*l), f.rel.clone()))
        .map(|(f, language)| Found {
            source: f.rel.clone(),
            language,
            bin: None,
            via,
        })
}

/// A course's aliases: paths relative to the submission, or bare file names anywhere.
fn by_alias(listing: &Listing, aliases: &[PathBuf]) -> Option<Found> {
    aliases.iter().find_map(|alias| {
        best(
            listing,
            |f| {
                f.rel == *alias
                    || (alias.components().count() == 1 && f.rel.file_name() == alias.file_name())
            },
            "course alias",
        )
    })
}

fn by_name(listing: &Listing, exercise: &Exercise) -> Option<Found> {
    let names: Vec<&str> = std::iter::once(exercise.id)
        .chain(exercise.aliases.iter().copied())
        .collect();
    best(
        listing,
        |f| {
            f.rel
                .file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| names.contains(&s))
        },
        "file name",
    )
}

fn by_lecture_name(
    listing: &Listing,
    exercise: &Exercise,
    unique: &dyn Fn(&str) -> bool,
) -> Option<Found> {
    exercise.lecture.iter().find_map(|lecture| {
        let lecture = Path::new(lecture);
        let base = lecture.file_name()?.to_str()?;
        best(
            listing,
            |f| {
                f.rel.ends_with(lecture)
                    || (unique(base) && f.rel.file_name().and_then(|n| n.to_str()) == Some(base))
            },
            "lecture file name",
        )
    })
}

fn by_cargo_bin(listing: &Listing, id: &str) -> Option<Found> {
    listing
        .files
        .iter()
        .filter(|f| f.rel.file_name().is_some_and(|n| n == "Cargo.toml"))
        .find(|f| cargo_bins(&listing.root, &f.rel).iter().any(|b| b == id))
        .map(|f| Found {
            source: f.rel.clone(),
            language: Language::Rust,
            bin: Some(id.to_string()),
            via: "cargo binary",
        })
}

/// The binary names a cargo manifest builds: `[[bin]]` entries, `src/bin/*.rs`, `src/main.rs`.
pub fn cargo_bins(root: &Path, manifest: &Path) -> Vec<String> {
    let dir = root.join(manifest.parent().unwrap_or(Path::new("")));
    let Ok(text) = std::fs::read_to_string(root.join(manifest)) else {
        return Vec::new();
    };
    let Ok(table) = text.parse::<toml::Table>() else {
        return Vec::new();
    };
    let mut bins: Vec<String> = table
        .get("bin")
        .and_then(|b| b.as_array())
        .into_iter()
        .flatten()
        .filter_map(|b| b.get("name")?.as_str().map(str::to_string))
        .collect();
    if let Ok(entries) = std::fs::read_dir(dir.join("src/bin")) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "rs") {
                if let Some(stem) = path.file_stem().and_then(|s| s.to_str()) {
                    bins.push(stem.to_string());
                }
            } else if path.join("main.rs").exists() {
                bins.push(entry.file_name().to_string_lossy().into_owned());
            }
        }
    }
    let package = table
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str());
    if let (Some(name), true) = (package, dir.join("src/main.rs").exists()) {
        bins.push(name.to_string());
    }
    bins
}
