//! `sysgrade gradescope package`: `autograder.zip` with the static binary, the course file (or
//! none: every exercise), `setup.sh` and `run_autograder`. Deflated, in a fixed order, with a
//! fixed timestamp: the same inputs give the same bytes.
//!
//! Gradescope's image is Ubuntu 22.04, whose glibc is older than a build machine's: a
//! dynamically linked binary would not start there. So only a static binary is packed,
//! unless `--allow-dynamic` (a replay on this very machine).

use super::{apt, scripts, BINARY, COURSE_FILE};
use crate::course::Course;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Names the static binary when the running one is not static (`cargo xtask dist` builds it).
pub const STATIC_BIN_VAR: &str = "SYSGRADE_STATIC_BIN";

#[allow(dead_code)]
#[path = "../../../../xtask/src/dist/elf.rs"]
mod elf;

#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path} is dynamically linked (it asks for {interpreter}), and Gradescope's Ubuntu 22.04 has an older glibc than this machine: pack the static build from `cargo xtask dist` (--binary PATH or {STATIC_BIN_VAR}); --allow-dynamic packs it anyway, for a replay on this machine only")]
    Dynamic { path: PathBuf, interpreter: String },
    #[error("this sysgrade is dynamically linked and {STATIC_BIN_VAR} is not set: build the static binary with `cargo xtask dist` and give it with --binary PATH")]
    NoStatic,
    #[error("{path}: not a binary sysgrade can pack ({why})")]
    NotElf { path: PathBuf, why: String },
    #[error("{what}: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error(transparent)]
    Course(#[from] crate::Error),
    #[error("writing the zip: {0}")]
    Zip(#[from] zip::result::ZipError),
}

/// What to pack.
#[derive(Debug, Clone)]
pub struct Options {
    pub course: Option<PathBuf>,
    pub binary: Option<PathBuf>,
    pub allow_dynamic: bool,
    pub output: PathBuf,
}

/// What was packed, for the summary.
#[derive(Debug, Clone)]
pub struct Packed {
    pub binary: PathBuf,
    pub is_static: bool,
    pub packages: Vec<String>,
    pub exercises: usize,
}

/// Writes the zip `opts.output`.
pub fn package(opts: &Options) -> Result<Packed, PackageError> {
    let (course, course_text) = match &opts.course {
        Some(path) => (Course::load(path)?, Some(read(path)?)),
        None => (Course::default(), None),
    };
    let exercises = course.selected();
    let packages = apt::packages(&exercises);
    let (binary, is_static) = choose_binary(opts)?;
    let mut entries: Vec<(&str, Vec<u8>, u32)> = vec![
        (
            "run_autograder",
            scripts::run_autograder().into_bytes(),
            0o755,
        ),
        ("setup.sh", scripts::setup_sh(&packages).into_bytes(), 0o755),
        (BINARY, read(&binary)?, 0o755),
    ];
    if let Some(text) = course_text {
        entries.push((COURSE_FILE, text, 0o644));
    }
    write_zip(&opts.output, &entries)?;
    Ok(Packed {
        binary,
        is_static,
        packages,
        exercises: exercises.len(),
    })
}

fn read(path: &Path) -> Result<Vec<u8>, PackageError> {
    std::fs::read(path).map_err(|source| PackageError::Io {
        what: format!("reading {}", path.display()),
        source,
    })
}

/// The binary to pack and whether it is static: `--binary`, else the running binary when it
/// is static, else `$SYSGRADE_STATIC_BIN`; a dynamic one only with `--allow-dynamic`.
fn choose_binary(opts: &Options) -> Result<(PathBuf, bool), PackageError> {
    let own = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/proc/self/exe"));
    let candidate = match &opts.binary {
        Some(path) => path.clone(),
        None if interpreter(&own)?.is_none() => own,
        None => match std::env::var_os(STATIC_BIN_VAR).filter(|v| !v.is_empty()) {
            Some(path) => PathBuf::from(path),
            None if opts.allow_dynamic => own,
            None => return Err(PackageError::NoStatic),
        },
    };
    match interpreter(&candidate)? {
        None => Ok((candidate, true)),
        Some(_) if opts.allow_dynamic => Ok((candidate, false)),
        Some(interpreter) => Err(PackageError::Dynamic {
            path: candidate,
            interpreter,
        }),
    }
}

/// The dynamic loader a binary asks for; `None` for a static binary.
pub fn interpreter(path: &Path) -> Result<Option<String>, PackageError> {
    let bytes = read(path)?;
    elf::read(&bytes)
        .map(|e| e.interpreter)
        .map_err(|why| PackageError::NotElf {
            path: path.to_path_buf(),
            why,
        })
}

/// A deflated zip of `entries` (name, bytes, mode), in the order given, every entry dated
/// 1980-01-01 (the zip epoch).
fn write_zip(path: &Path, entries: &[(&str, Vec<u8>, u32)]) -> Result<(), PackageError> {
    let file = std::fs::File::create(path).map_err(|source| PackageError::Io {
        what: format!("creating {}", path.display()),
        source,
    })?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    for (name, bytes, mode) in entries {
        let options = zip::write::SimpleFileOptions::DEFAULT
            .compression_method(zip::CompressionMethod::Deflated)
            .unix_permissions(*mode);
        zip.start_file(*name, options)?;
        zip.write_all(bytes).map_err(|source| PackageError::Io {
            what: format!("writing {}", path.display()),
            source,
        })?;
    }
    let mut out = zip.finish()?;
    out.flush().map_err(|source| PackageError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(zip: &Path) -> Vec<(String, Option<u32>)> {
        let mut archive =
            zip::ZipArchive::new(std::fs::File::open(zip).expect("open")).expect("a zip");
        (0..archive.len())
            .map(|i| {
                let f = archive.by_index(i).expect("entry");
                (
                    f.name().expect("a name").to_string(),
                    f.unix_mode().map(|m| m & 0o777),
                )
            })
            .collect()
    }

    /// The headers of an x86_64 ELF file without program headers: no interpreter.
    fn static_elf() -> Vec<u8> {
        let mut bytes = vec![0u8; 64];
        bytes[..4].copy_from_slice(b"\x7fELF");
        bytes[4] = 2;
        bytes[5] = 1;
        bytes[18] = 62;
        bytes[32] = 64;
        bytes[54] = 56;
        bytes
    }

    #[test]
    fn a_dynamic_binary_is_refused_naming_cargo_xtask_dist() {
        let dir = tempfile::tempdir().expect("temp dir");
        let own = std::env::current_exe().expect("test binary");
        let opts = Options {
            course: None,
            binary: Some(own),
            allow_dynamic: false,
            output: dir.path().join("a.zip"),
        };
        let err = package(&opts)
            .expect_err("the test binary is dynamic")
            .to_string();
        assert!(err.contains("cargo xtask dist"), "{err}");
        assert!(!opts.output.exists());
    }

    #[test]
    fn the_zip_holds_the_scripts_binary_and_course_and_is_deterministic() {
        let dir = tempfile::tempdir().expect("temp dir");
        let course = dir.path().join("c.toml");
        std::fs::write(&course, "exercises = [\"make_movie\"]\n").expect("write");
        let binary = dir.path().join("static");
        std::fs::write(&binary, static_elf()).expect("write");
        let zip = |name: &str| {
            let opts = Options {
                course: Some(course.clone()),
                binary: Some(binary.clone()),
                allow_dynamic: false,
                output: dir.path().join(name),
            };
            let packed = package(&opts).expect("packed");
            assert_eq!(packed.packages, ["ffmpeg"]);
            assert!(packed.is_static);
            std::fs::read(&opts.output).expect("read")
        };
        let (a, b) = (zip("a.zip"), zip("b.zip"));
        assert!(a == b, "two packings differ");
        let listed = names(&dir.path().join("a.zip"));
        assert_eq!(
            listed,
            [
                ("run_autograder".to_string(), Some(0o755)),
                ("setup.sh".to_string(), Some(0o755)),
                ("sysgrade".to_string(), Some(0o755)),
                ("course.toml".to_string(), Some(0o644)),
            ]
        );
    }
}
