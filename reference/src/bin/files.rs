//! files (lecture: FileSystem/file.py): makes `tmp/` in the working directory (printing
//! `directory already exists` if it is there, and carrying on), writes `tmpfile0.txt` ..
//! `tmpfile9.txt` in it with 10..=200 random `[A-Z0-9]` characters each, lists them
//! (`files <name>` lines), prints a stat of each (`<name> <path> st_mode=... st_size=<n> ...`,
//! one line per file), then removes the files and `tmp/`.
//!
//! Scenarios: `files.created`, `files.stat`, `files.cleanup`, `files.tmp_exists`.

use reference::rng::Rng;
use std::fs;
use std::io::{ErrorKind, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::exit;

const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

fn fail(what: &str, err: std::io::Error) -> ! {
    eprintln!("files: {what}: {err}");
    exit(1);
}

/// The entries of `dir`, sorted by name (the order of the listing is otherwise arbitrary).
fn sorted_entries(dir: &Path) -> Vec<fs::DirEntry> {
    let read = fs::read_dir(dir).unwrap_or_else(|e| fail("listing tmp", e));
    let mut entries: Vec<_> = read
        .collect::<Result<_, _>>()
        .unwrap_or_else(|e| fail("listing tmp", e));
    entries.sort_by_key(|e| e.file_name());
    entries
}

fn main() {
    let tmp = Path::new("tmp");
    match fs::create_dir(tmp) {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => println!("directory already exists"),
        Err(e) => fail("creating tmp", e),
    }

    let mut rng = Rng::from_entropy();
    for i in 0..10 {
        let len = rng.range(10, 200) as usize;
        let text: Vec<u8> = (0..len)
            .map(|_| ALPHABET[rng.range(0, ALPHABET.len() as i64 - 1) as usize])
            .collect();
        let path = tmp.join(format!("tmpfile{i}.txt"));
        let mut file = fs::File::create(&path).unwrap_or_else(|e| fail("creating a file", e));
        file.write_all(&text)
            .unwrap_or_else(|e| fail("writing a file", e));
    }

    for entry in sorted_entries(tmp) {
        println!("files {}", entry.file_name().to_string_lossy());
    }

    for entry in sorted_entries(tmp) {
        let path = entry.path();
        let m = fs::metadata(&path).unwrap_or_else(|e| fail("stat", e));
        println!(
            "{} {} st_mode=0o{:o} st_ino={} st_dev={} st_nlink={} st_uid={} st_gid={} \
             st_size={} st_atime={} st_mtime={} st_ctime={}",
            entry.file_name().to_string_lossy(),
            path.display(),
            m.mode(),
            m.ino(),
            m.dev(),
            m.nlink(),
            m.uid(),
            m.gid(),
            m.size(),
            m.atime(),
            m.mtime(),
            m.ctime()
        );
    }

    for entry in sorted_entries(tmp) {
        fs::remove_file(entry.path()).unwrap_or_else(|e| fail("removing a file", e));
    }
    fs::remove_dir(tmp).unwrap_or_else(|e| fail("removing tmp", e));
}
