//! pathlib (lecture: FileSystem/path_lib.py): prints the working directory and its name,
//! then the Windows path `C:\Users\jmacey/test.py` (as Python's `PureWindowsPath` prints it),
//! its parts one a line, its name and suffixes, and finally `$HOME/scripts/test.py`.
//!
//! Scenario: `pathlib.output`. With cwd /x/FileSystem and HOME=/root the output is:
//! ```text
//! /x/FileSystem
//! name is FileSystem
//! C:\Users\jmacey\test.py
//! C:\
//! Users
//! jmacey
//! test.py
//! name is test.py
//! suffixes ['.py']
//! /root/scripts/test.py
//! ```

use reference::out::line_raw;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

/// A Windows path split as `pathlib.PureWindowsPath` does: the anchor (drive and root,
/// e.g. `C:\`) and the names after it; both `\` and `/` separate.
struct WindowsPath {
    anchor: String,
    names: Vec<String>,
}

impl WindowsPath {
    fn parse(text: &str) -> WindowsPath {
        let (drive, rest) = match text.as_bytes() {
            [letter, b':', ..] if letter.is_ascii_alphabetic() => text.split_at(2),
            _ => ("", text),
        };
        let root = if rest.starts_with(['\\', '/']) {
            "\\"
        } else {
            ""
        };
        let names = rest
            .split(['\\', '/'])
            .filter(|n| !n.is_empty() && *n != ".")
            .map(str::to_owned)
            .collect();
        WindowsPath {
            anchor: format!("{drive}{root}"),
            names,
        }
    }

    /// The path with `\` separators, as Python prints it.
    fn display(&self) -> String {
        format!("{}{}", self.anchor, self.names.join("\\"))
    }

    /// The anchor (if any) followed by the names, as `.parts` gives them.
    fn parts(&self) -> Vec<String> {
        let anchor = (!self.anchor.is_empty()).then(|| self.anchor.clone());
        anchor
            .into_iter()
            .chain(self.names.iter().cloned())
            .collect()
    }

    fn name(&self) -> &str {
        self.names.last().map_or("", String::as_str)
    }

    /// The suffixes of the name (`.tar`, `.gz`), ignoring a leading dot, as pathlib does.
    fn suffixes(&self) -> Vec<String> {
        let name = self.name();
        if name.ends_with('.') {
            return Vec::new();
        }
        let stem_start = name.len() - name.trim_start_matches('.').len();
        let mut pieces = name[stem_start..].split('.');
        pieces.next();
        pieces.map(|s| format!(".{s}")).collect()
    }
}

/// A Python list repr of strings: `['.py']`.
fn python_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| format!("'{s}'")).collect();
    format!("[{}]", quoted.join(", "))
}

/// The home folder as `Path.home()` finds it: $HOME, else the password database.
fn home() -> PathBuf {
    if let Some(home) = std::env::var_os("HOME") {
        return PathBuf::from(home);
    }
    nix::unistd::User::from_uid(nix::unistd::getuid())
        .ok()
        .flatten()
        .map(|u| u.dir)
        .unwrap_or_else(|| PathBuf::from("/"))
}

fn main() {
    let cwd = std::env::current_dir().unwrap_or_else(|e| {
        eprintln!("pathlib: cannot get the working directory: {e}");
        std::process::exit(1)
    });
    line_raw("", cwd.as_os_str().as_bytes());
    let name = cwd.file_name().map(OsString::from).unwrap_or_default();
    line_raw("name is ", name.as_bytes());

    let windows = WindowsPath::parse(r"C:\Users\jmacey/test.py");
    println!("{}", windows.display());
    for part in windows.parts() {
        println!("{part}");
    }
    println!("name is {}", windows.name());
    println!("suffixes {}", python_list(&windows.suffixes()));

    let folder = home().join("scripts").join("test.py");
    line_raw("", folder.as_os_str().as_bytes());
}
