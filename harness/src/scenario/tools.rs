//! The optional tools scenarios rely on, declared once. `Scenario::needs` names the commands
//! a scenario is `skip` without (checked by the grader before it runs); `Scenario::requires`
//! names the rest ([`super::Need`]). `sysgrade doctor` lists [`ALL`], each with where it was
//! found and how to install it.

use std::path::{Path, PathBuf};

/// Where libfaketime is on Debian (package `faketime`, which pulls in `libfaketime`).
pub const FAKETIME_LIB: &str = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/// A tool the grading machine may lack.
#[derive(Debug, Clone, Copy)]
pub struct Tool {
    /// Its name: the command looked up on PATH, or the module or library people know.
    pub command: &'static str,
    /// Debian's install command (for a module: the package for `/usr/bin/python3`).
    pub install: &'static str,
    pub kind: Kind,
}

/// How a tool is looked for.
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// An executable on PATH; `version` is the argument that prints its version first.
    Command { version: &'static str },
    /// A module the interpreter programs run with must import. `imports` is the very check
    /// the scenarios make; `version` is Python code printing its version; `pip` the package
    /// for an interpreter Debian does not manage.
    Module {
        imports: fn(&Path) -> bool,
        version: &'static str,
        pip: &'static str,
    },
    /// A library at a fixed path, preloaded into programs.
    Library { path: &'static str },
}

impl Tool {
    /// An executable on PATH.
    pub const fn command(command: &'static str, install: &'static str) -> Tool {
        Tool {
            command,
            install,
            kind: Kind::Command {
                version: "-version",
            },
        }
    }

    /// Where the tool is for programs run with `python`: the command's or library's path, or
    /// the interpreter itself for a module it imports; `None` when it is missing.
    pub fn locate(&self, python: &Path) -> Option<PathBuf> {
        match self.kind {
            Kind::Command { .. } => crate::settings::which(self.command),
            Kind::Library { path } => Some(PathBuf::from(path)).filter(|p| p.exists()),
            Kind::Module { imports, .. } => imports(python).then(|| python.to_path_buf()),
        }
    }
}

pub const FFMPEG: Tool = Tool::command("ffmpeg", "apt-get install -y ffmpeg");
pub const FFPROBE: Tool = Tool::command("ffprobe", "apt-get install -y ffmpeg");
/// libfaketime: fork_exec's clock runs ten times faster under it.
pub const FAKETIME: Tool = Tool {
    command: "libfaketime",
    install: "apt-get install -y faketime",
    kind: Kind::Library { path: FAKETIME_LIB },
};
pub const MATPLOTLIB: Tool = Tool {
    command: "matplotlib",
    install: "apt-get install -y python3-matplotlib",
    kind: Kind::Module {
        imports: crate::python::has_matplotlib,
        version: "import matplotlib; print(matplotlib.__version__)",
        pip: "matplotlib",
    },
};
/// PyQt6's widgets, for a window driven headless.
pub const PYQT6: Tool = Tool {
    command: "PyQt6",
    install: "apt-get install -y python3-pyqt6",
    kind: Kind::Module {
        imports: pyqt6,
        version: "from PyQt6.QtCore import PYQT_VERSION_STR as v; print(v)",
        pip: "PyQt6",
    },
};
/// PyQt6 with `uic`, for a window loaded from `form.ui`.
pub const PYQT6_UIC: Tool = Tool {
    command: "PyQt6.uic",
    install: crate::gui::setup::APT_INSTALL,
    kind: Kind::Module {
        imports: pyqt6_uic,
        version: "from PyQt6.QtCore import PYQT_VERSION_STR as v; print(v)",
        pip: "PyQt6",
    },
};

/// Every optional tool, in the order `sysgrade doctor` lists them.
pub const ALL: [Tool; 6] = [FFMPEG, FFPROBE, FAKETIME, MATPLOTLIB, PYQT6, PYQT6_UIC];

/// The Debian packages that install `tools` (each once, in order): what a container image
/// or an engine's setup script installs for them.
pub fn apt_packages(tools: &[Tool]) -> Vec<&'static str> {
    let mut packages: Vec<&'static str> = Vec::new();
    for tool in tools {
        let named = tool.install.strip_prefix("apt-get install").unwrap_or("");
        for package in named.split_whitespace().filter(|w| !w.starts_with('-')) {
            if !packages.contains(&package) {
                packages.push(package);
            }
        }
    }
    packages
}

fn pyqt6(python: &Path) -> bool {
    crate::python::has_pyqt(python, "PyQt6", false)
}

fn pyqt6_uic(python: &Path) -> bool {
    crate::python::has_pyqt(python, "PyQt6", true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_tool_s_packages_once() {
        assert_eq!(
            apt_packages(&ALL),
            [
                "ffmpeg",
                "faketime",
                "python3-matplotlib",
                "python3-pyqt6",
                "pyqt6-dev-tools"
            ]
        );
    }
}
