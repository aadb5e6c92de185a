//! The cache key of a student's stored result: what went into grading it. Two parts, each a
//! SHA-256 in lower-case hex: the submission's content, and the run's (the grader's version
//! and build, the course file's bytes, the exercises, and every setting that can change a
//! verdict). A result is reused only when both are unchanged.

use crate::grading::Request;
use crate::sandbox::copy::SKIPPED;
use crate::settings::Settings;
use sha2::{Digest, Sha256};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::sync::OnceLock;

/// The parts of a student's key, as a result file stores them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Key {
    /// The grader, the course, the exercises, the settings: the same for a whole run.
    pub run: String,
    /// The submission folder's content.
    pub content: String,
    /// The grader's version and build, for a person reading the file.
    pub grader: String,
}

/// This grader: the crate's version and a SHA-256 prefix of the running binary, computed
/// once. A rebuilt grader (a fixed bug) is another grader, so it regrades everyone. A binary
/// this user may execute but not read is known by its size and modification time instead.
pub fn grader() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let build = exe_hash().or_else(|_| exe_stamp()).unwrap_or_else(|e| {
            // Never the same id twice: with no way to know the build, nothing is reused.
            format!("unknown-{:?}-{e}", std::time::SystemTime::now())
        });
        format!("{}+{build}", env!("CARGO_PKG_VERSION"))
    })
}

fn exe_hash() -> io::Result<String> {
    let mut h = Sha256::new();
    hash_reader(std::fs::File::open("/proc/self/exe")?, &mut h)?;
    Ok(hex(h)[..16].to_string())
}

fn exe_stamp() -> io::Result<String> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata("/proc/self/exe")?;
    Ok(format!("stat-{}-{}.{}", m.len(), m.mtime(), m.mtime_nsec()))
}

/// The run's part of the key. `course` is the course file's bytes (none: the catalogue's).
pub fn run(grader: &str, course: Option<&[u8]>, request: &Request, settings: &Settings) -> String {
    let mut h = Sha256::new();
    field(&mut h, "grader", grader.as_bytes());
    field(&mut h, "course", course.unwrap_or(b"(none)"));
    let ids: Vec<&str> = request.exercises.iter().map(|e| e.id).collect();
    field(&mut h, "exercises", ids.join(",").as_bytes());
    // What changes a verdict or what a result shows; not the parallelism, not where cargo
    // keeps its builds. Debug output is stable within one grader build, which is in the key.
    let verdicts = format!(
        "{:?} repeat={} require_tools={} scale={} python={} limits={:?} cap={} wall={} build={}",
        request.audience,
        request.repeat.max(1),
        request.course.require_tools,
        settings.time_scale,
        settings.python.display(),
        settings.limits,
        settings.output_cap,
        settings.run_wall_limit_secs,
        settings.build_limit_secs,
    );
    field(&mut h, "settings", verdicts.as_bytes());
    hex(h)
}

/// The content part of the key: every entry of the folder the grader copies (names, kinds,
/// permission bits, bytes, link targets), in name order. The folders it never copies
/// (`.git`, `target`, …; `sandbox::copy::SKIPPED`) are left out, so are the bytes of FIFOs,
/// sockets and devices, which it does not read either (their names and kinds count).
pub fn content(dir: &Path) -> io::Result<String> {
    let mut h = Sha256::new();
    walk(dir, Path::new(""), &mut h)?;
    Ok(hex(h))
}

fn walk(root: &Path, rel: &Path, h: &mut Sha256) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(root.join(rel))?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if SKIPPED.iter().any(|s| name == *s) {
            continue;
        }
        let path = rel.join(&name);
        let meta = std::fs::symlink_metadata(entry.path())?;
        let kind = meta.file_type();
        let mode = meta.permissions().mode() & 0o7777;
        let tag = if kind.is_symlink() {
            "link"
        } else if kind.is_dir() {
            "dir"
        } else if kind.is_file() {
            "file"
        } else if kind.is_fifo() {
            "fifo"
        } else if kind.is_socket() {
            "socket"
        } else {
            "device"
        };
        field(h, tag, path.as_os_str().as_encoded_bytes());
        field(h, "mode", &mode.to_le_bytes());
        if kind.is_symlink() {
            field(
                h,
                "target",
                std::fs::read_link(entry.path())?
                    .as_os_str()
                    .as_encoded_bytes(),
            );
        } else if kind.is_dir() {
            walk(root, &path, h)?;
            field(h, "end", path.as_os_str().as_encoded_bytes());
        } else if kind.is_file() {
            field(h, "size", &meta.len().to_le_bytes());
            hash_reader(std::fs::File::open(entry.path())?, h)?;
        }
    }
    Ok(())
}

/// A length-prefixed, named field: no two different inputs hash the same stream.
fn field(h: &mut Sha256, name: &str, bytes: &[u8]) {
    h.update((name.len() as u64).to_le_bytes());
    h.update(name.as_bytes());
    h.update((bytes.len() as u64).to_le_bytes());
    h.update(bytes);
}

fn hash_reader(mut r: impl Read, h: &mut Sha256) -> io::Result<()> {
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match r.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

fn hex(h: Sha256) -> String {
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::content;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn content_follows_names_bytes_and_modes_not_build_output() {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = dir.path();
        std::fs::write(p.join("process.py"), "print(1)\n").expect("write");
        std::fs::create_dir(p.join("sub")).expect("mkdir");
        std::fs::write(p.join("sub/a.c"), "int x;\n").expect("write");
        let first = content(p).expect("hash");
        assert_eq!(first, content(p).expect("hash"), "stable");
        // Build output and version control are never copied, so never read.
        std::fs::create_dir_all(p.join("target/debug")).expect("mkdir");
        std::fs::write(p.join("target/debug/x"), "built").expect("write");
        std::fs::create_dir(p.join(".git")).expect("mkdir");
        assert_eq!(
            first,
            content(p).expect("hash"),
            "target/ and .git/ left out"
        );
        let changes: [&dyn Fn(); 4] = [
            &|| std::fs::write(p.join("sub/a.c"), "int y;\n").expect("write"),
            &|| {
                std::fs::set_permissions(p.join("process.py"), PermissionsExt::from_mode(0o755))
                    .expect("chmod")
            },
            &|| std::fs::rename(p.join("sub/a.c"), p.join("sub/b.c")).expect("rename"),
            &|| std::fs::write(p.join(".hidden"), "").expect("write"),
        ];
        let mut seen = vec![first];
        for change in changes {
            change();
            let now = content(p).expect("hash");
            assert!(!seen.contains(&now), "a change left the key as it was");
            seen.push(now);
        }
    }
}
