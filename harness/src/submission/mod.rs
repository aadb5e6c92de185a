//! A submission: where each exercise's program is (discovery) and how it runs once built.

pub mod build;
pub mod discover;
pub mod manifest;
mod sync;

use std::path::{Path, PathBuf};

/// How a program is made runnable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    Python,
    C,
    Cpp,
    /// A cargo project; the program is one of its binaries.
    Rust,
    /// A Makefile beside the source builds it.
    Make,
    /// A CMakeLists.txt beside the source builds it.
    CMake,
    /// A file with the executable bit, run as it is.
    Executable,
}

impl Language {
    /// Guesses from a file name; `None` for files that are no program.
    pub fn of(path: &Path, executable: bool) -> Option<Language> {
        match path.extension().and_then(|e| e.to_str()) {
            Some("py") => Some(Language::Python),
            Some("c") => Some(Language::C),
            Some("cpp" | "cc" | "cxx") => Some(Language::Cpp),
            None if executable => Some(Language::Executable),
            _ => None,
        }
    }
}

/// Where an exercise's program was found, and why that file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Relative to the submission's root.
    pub source: PathBuf,
    pub language: Language,
    /// For cargo projects: the binary's name.
    pub bin: Option<String>,
    /// How it was found: "submission.toml", "file name", "lecture file name", "cargo binary".
    pub via: &'static str,
}

/// A program ready to run inside a copy of its submission.
#[derive(Debug, Clone)]
pub struct Program {
    pub found: Found,
    pub entry: Entry,
    /// Compiler warnings, trimmed.
    pub warnings: Option<String>,
}

/// What to execute.
#[derive(Debug, Clone)]
pub enum Entry {
    /// `interpreter <script>`, the script named relative to the working directory.
    Interpreted { interpreter: PathBuf },
    /// A binary built outside the copy (absolute path).
    Native { binary: PathBuf },
    /// The source file itself, executed.
    InPlace,
}

impl Program {
    /// The working directory, relative to the copy's root: the source file's folder.
    pub fn workdir(&self) -> PathBuf {
        self.found
            .source
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default()
    }

    /// The executable and the arguments that precede the scenario's own, for a copy at `root`.
    pub fn command(&self, root: &Path) -> (PathBuf, Vec<String>) {
        let file_name = self
            .found
            .source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match &self.entry {
            Entry::Interpreted { interpreter } => (interpreter.clone(), vec![file_name]),
            Entry::Native { binary } => (binary.clone(), Vec::new()),
            Entry::InPlace => (root.join(&self.found.source), Vec::new()),
        }
    }

    pub fn is_python(&self) -> bool {
        self.found.language == Language::Python
    }
}

#[cfg(test)]
mod tests {
    use super::Language;
    use rstest::rstest;
    use std::path::Path;

    #[rstest]
    #[case("signals.py", false, Some(Language::Python))]
    #[case("env.c", false, Some(Language::C))]
    #[case("procloop.cpp", false, Some(Language::Cpp))]
    #[case("procloop.cc", false, Some(Language::Cpp))]
    #[case("shm.cxx", false, Some(Language::Cpp))]
    #[case("time_server", true, Some(Language::Executable))]
    #[case("notes", false, None)]
    #[case("README.md", true, None)]
    fn a_file_name_tells_the_language(
        #[case] name: &str,
        #[case] executable: bool,
        #[case] want: Option<Language>,
    ) {
        assert_eq!(Language::of(Path::new(name), executable), want);
    }
}
