//! The results folder on disk: one file per student, `<student>.json`, holding the JSON
//! report's submission object plus a `cache` object (its key). `merge` and any JSON reader
//! take the file as an ordinary report; the extra field is ignored there.
//!
//! **Invariant:** no result file is ever half-written. Each is written to a temporary file in
//! the same folder (`.sysgrade-tmp-*.part`, held with an `flock` while it is written),
//! synced, and renamed over the old one. A temporary file nobody holds was left by a killed
//! grader: [`Store::open`] removes it; readers never look at it.

use super::key::Key;
use crate::error::Error;
use crate::result::SubmissionResult;
use nix::fcntl::{Flock, FlockArg};
use serde_json::Value;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

const TEMP_PREFIX: &str = ".sysgrade-tmp-";
const TEMP_SUFFIX: &str = ".part";
/// The field of a result file that holds its key.
pub const CACHE_FIELD: &str = "cache";

/// A results folder.
#[derive(Debug, Clone)]
pub struct Store {
    dir: PathBuf,
}

/// What a student's file held.
#[derive(Debug)]
pub enum Stored {
    /// No file.
    Absent,
    /// A file that is not a result with a key (damaged, or not ours): not trusted.
    Unreadable(String),
    Found(Box<SubmissionResult>, Key),
}

impl Store {
    /// Opens (creates) the folder and removes temporary files left by a killed grader.
    pub fn open(dir: &Path) -> Result<Store, Error> {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
        let store = Store {
            dir: dir.to_path_buf(),
        };
        store.remove_strays();
        Ok(store)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of the student named `name`.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.join(format!("{name}.json"))
    }

    /// Reads the student `name`'s result and key.
    pub fn read(&self, name: &str) -> Stored {
        match std::fs::read_to_string(self.path(name)) {
            Ok(text) => {
                parse(&text).map_or_else(Stored::Unreadable, |(r, k)| Stored::Found(Box::new(r), k))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Stored::Absent,
            Err(e) => Stored::Unreadable(e.to_string()),
        }
    }

    /// Writes the student `name`'s result and key, atomically.
    pub fn write(&self, name: &str, result: &SubmissionResult, key: &Key) -> Result<(), Error> {
        let text = render(result, key)?;
        // Another grader's `remove_strays` may take a temporary file in the instant between
        // its creation and its lock: then it is gone, and another is made.
        for _ in 0..3 {
            if self.write_once(name, &text)? {
                return Ok(());
            }
        }
        Err(Error::Internal(format!(
            "writing {}: its temporary file kept being removed",
            self.path(name).display()
        )))
    }

    /// One attempt: `false` when the temporary file was removed before it was held.
    fn write_once(&self, name: &str, text: &str) -> Result<bool, Error> {
        use std::os::unix::fs::MetadataExt;
        let what = || format!("writing {}", self.path(name).display());
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            // As any report written: readable as the umask allows (tempfile's own is 0600).
            .permissions(std::fs::Permissions::from_mode(0o666))
            .tempfile_in(&self.dir)
            .map_err(io(what()))?;
        // Held while written: `remove_strays` in another grader leaves it alone.
        let held = temp
            .as_file()
            .try_clone()
            .map_err(io(what()))
            .and_then(|f| {
                Flock::lock(f, FlockArg::LockExclusiveNonblock)
                    .map_err(|(_, e)| io(what())(std::io::Error::from(e)))
            })?;
        if temp.as_file().metadata().map_err(io(what()))?.nlink() == 0 {
            return Ok(false);
        }
        temp.write_all(text.as_bytes()).map_err(io(what()))?;
        temp.as_file().sync_all().map_err(io(what()))?;
        temp.persist(self.path(name))
            .map_err(|e| io(what())(e.error))?;
        drop(held);
        Ok(true)
    }

    /// Every result file's name and text, sorted by name (what `merge DIR` reads).
    pub fn reports(&self) -> Result<Vec<(String, String)>, Error> {
        let mut out = Vec::new();
        let entries =
            std::fs::read_dir(&self.dir).map_err(io(format!("reading {}", self.dir.display())))?;
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with(TEMP_PREFIX) || !name.ends_with(".json") || !path.is_file() {
                continue;
            }
            let text = std::fs::read_to_string(&path)
                .map_err(io(format!("reading {}", path.display())))?;
            out.push((path.display().to_string(), text));
        }
        out.sort();
        Ok(out)
    }

    /// Removes the temporary files no grader holds any more.
    fn remove_strays(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !(name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX)) {
                continue;
            }
            let Ok(file) = std::fs::File::open(entry.path()) else {
                continue;
            };
            if let Ok(_held) = Flock::lock(file, FlockArg::LockExclusiveNonblock) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }
}

/// A result file: the report's submission object, its fields in their order, then the key.
#[derive(serde::Serialize)]
struct File<'a> {
    #[serde(flatten)]
    result: &'a SubmissionResult,
    cache: &'a Key,
}

fn render(result: &SubmissionResult, key: &Key) -> Result<String, Error> {
    serde_json::to_string_pretty(&File { result, cache: key })
        .map_err(|e| Error::Internal(format!("serialising a result: {e}")))
}

fn parse(text: &str) -> Result<(SubmissionResult, Key), String> {
    let mut value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let key = value
        .as_object_mut()
        .and_then(|o| o.remove(CACHE_FIELD))
        .ok_or("no cache key")?;
    let key: Key = serde_json::from_value(key).map_err(|e| format!("bad cache key: {e}"))?;
    let result = serde_json::from_value(value).map_err(|e| format!("not a result: {e}"))?;
    Ok((result, key))
}

fn io(what: String) -> impl Fn(std::io::Error) -> Error {
    move |source| Error::Io {
        what: what.clone(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    fn key() -> Key {
        Key {
            run: "r".into(),
            content: "c".into(),
            grader: "g".into(),
        }
    }

    #[test]
    fn a_written_result_reads_back_with_its_key_and_merges_as_a_report() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open");
        let result = sample::fault_and_build_failure();
        store.write("ann", &result, &key()).expect("write");
        let Stored::Found(back, k) = store.read("ann") else {
            panic!("not found");
        };
        assert_eq!(k, key());
        assert_eq!(
            serde_json::to_string(&*back).expect("json"),
            serde_json::to_string(&result).expect("json")
        );
        let text = std::fs::read_to_string(store.path("ann")).expect("read");
        assert!(
            text.trim_start().starts_with("{\n  \"submission\""),
            "{text}"
        );
        let joined = crate::merge::join(&store.reports().expect("reports")).expect("merges");
        assert_eq!(joined.len(), 1);
    }

    #[test]
    fn damaged_files_are_not_trusted_and_stray_temporary_files_are_removed() {
        let dir = tempfile::tempdir().expect("tempdir");
        let full = serde_json::to_string(&sample::fault_and_build_failure()).expect("json");
        for (name, text) in [
            ("half", &full[..full.len() / 2]),
            ("keyless", full.as_str()),
            ("other", "[1, 2]"),
        ] {
            std::fs::write(dir.path().join(format!("{name}.json")), text).expect("write");
        }
        let stray = dir.path().join(format!("{TEMP_PREFIX}x{TEMP_SUFFIX}"));
        std::fs::write(&stray, "{").expect("write");
        // One held by a grader still writing it stays.
        let held_path = dir.path().join(format!("{TEMP_PREFIX}y{TEMP_SUFFIX}"));
        let held = Flock::lock(
            std::fs::File::create(&held_path).expect("create"),
            FlockArg::LockExclusiveNonblock,
        )
        .expect("lock");
        let store = Store::open(dir.path()).expect("open");
        for name in ["half", "keyless", "other"] {
            assert!(
                matches!(store.read(name), Stored::Unreadable(_)),
                "{name} trusted"
            );
        }
        assert!(matches!(store.read("nobody"), Stored::Absent));
        assert!(!stray.exists(), "stray temporary file left");
        assert!(held_path.exists(), "a held temporary file was removed");
        drop(held);
        let names: Vec<String> = store
            .reports()
            .expect("reports")
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(names.len(), 3, "temporary files are no reports: {names:?}");
    }
}
