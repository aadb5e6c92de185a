//! What the interpreter programs run with can import (matplotlib for the plotter, PyQt for the
//! GUI exercises), asked once per interpreter and question, so a scenario can be `skip` with
//! the install command rather than fail.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// Whether `python` can import matplotlib.
pub fn has_matplotlib(python: &Path) -> bool {
    // A real attribute: an empty folder named matplotlib imports as a namespace package.
    runs(python, "import matplotlib; matplotlib.__version__")
}

/// Whether `python` can import `binding`'s (`PyQt6`, `PyQt5`) widgets, and `uic` when asked.
pub fn has_pyqt(python: &Path, binding: &str, uic: bool) -> bool {
    // Real attributes: an empty folder named PyQt6 would import as a namespace package.
    let mut code = format!("from {binding} import QtWidgets; QtWidgets.QApplication");
    if uic {
        code.push_str(&format!("; from {binding} import uic; uic.loadUi"));
    }
    runs(python, &code)
}

/// Whether `python -c code` succeeds within 30 s, cached per interpreter and code.
fn runs(python: &Path, code: &str) -> bool {
    /// (interpreter, code) → it succeeded.
    type Answers = HashMap<(PathBuf, String), bool>;
    static KNOWN: OnceLock<Mutex<Answers>> = OnceLock::new();
    let key = (python.to_path_buf(), code.to_string());
    let known = KNOWN.get_or_init(|| Mutex::new(HashMap::new()));
    let mut known = known.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(&answer) = known.get(&key) {
        return answer;
    }
    let answer = ask(python, code);
    known.insert(key, answer);
    answer
}

fn ask(python: &Path, code: &str) -> bool {
    use wait_timeout::ChildExt;
    let child = std::process::Command::new(python)
        .args(["-c", code])
        .env_clear()
        .env("LANG", "C.UTF-8")
        // Runs get a home; a grader user without a passwd entry has none to lend.
        .env("HOME", std::env::temp_dir())
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    let Ok(mut child) = child else {
        return false;
    };
    match child.wait_timeout(Duration::from_secs(30)) {
        Ok(Some(status)) => status.success(),
        _ => {
            let _ = child.kill();
            let _ = child.wait();
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interpreter_without_the_module_is_told_apart() {
        assert!(!has_pyqt(Path::new("/bin/false"), "PyQt6", true));
        assert!(!has_matplotlib(Path::new("/bin/false")));
        assert!(runs(Path::new("/bin/true"), "anything"));
    }
}
