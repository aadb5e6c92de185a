//! The optional tools: where each is, its version, and the command that installs it here.
//! Looked for the way the scenarios look (`Tool::locate`: PATH, the library's path, the
//! interpreter programs run with); installs are worded for this interpreter and this user.

use super::facts::{ToolFact, ToolKind};
use crate::exercises;
use crate::scenario::tools::{Kind, Tool, ALL};
use crate::scenario::Need;
use std::path::Path;
use std::time::Duration;

/// Debian's install prefix, as every [`Tool::install`] starts.
const APT: &str = "apt-get install -y ";
/// The interpreter Debian's Python packages are for.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// Every optional tool, probed.
pub fn tools(python: &Path, root: bool) -> Vec<ToolFact> {
    ALL.iter()
        .map(|tool| {
            let path = tool.locate(python);
            ToolFact {
                name: tool.command.to_string(),
                kind: kind(tool),
                found: path.is_some(),
                version: path.as_deref().and_then(|p| version(tool, p)),
                path,
                install: install(tool, python, root),
                needed_by: needed_by(tool),
                without: without(tool),
            }
        })
        .collect()
}

fn kind(tool: &Tool) -> ToolKind {
    match tool.kind {
        Kind::Command { .. } => ToolKind::Command,
        Kind::Module { .. } => ToolKind::Module,
        Kind::Library { .. } => ToolKind::Library,
    }
}

/// The command installing `tool` for `python`, as this user: Debian's package for the
/// system's interpreter and for commands (with `sudo` when not root), pip for another.
pub fn install(tool: &Tool, python: &Path, root: bool) -> String {
    if let Kind::Module { pip, .. } = tool.kind {
        if python != Path::new(SYSTEM_PYTHON) {
            return format!("{} -m pip install {pip}", python.display());
        }
    }
    let sudo = if root { "" } else { "sudo " };
    format!("{sudo}{}", tool.install)
}

/// One command installing every tool in `missing`: one `apt-get` for Debian's packages, one
/// pip for the interpreter's, joined with `&&`; `None` when nothing is missing.
pub fn install_command(missing: &[&Tool], python: &Path, root: bool) -> Option<String> {
    let mut apt: Vec<&str> = Vec::new();
    let mut pip: Vec<&str> = Vec::new();
    for tool in missing {
        match tool.kind {
            Kind::Module { pip: package, .. } if python != Path::new(SYSTEM_PYTHON) => {
                pip.push(package)
            }
            _ => apt.extend(
                tool.install
                    .strip_prefix(APT)
                    .unwrap_or(tool.install)
                    .split_whitespace(),
            ),
        }
    }
    let mut parts = Vec::new();
    for (packages, command) in [
        (
            &mut apt,
            format!("{}{APT}", if root { "" } else { "sudo " }),
        ),
        (&mut pip, format!("{} -m pip install ", python.display())),
    ] {
        let mut seen = std::collections::BTreeSet::new();
        packages.retain(|p| seen.insert(*p));
        if !packages.is_empty() {
            parts.push(format!("{command}{}", packages.join(" ")));
        }
    }
    (!parts.is_empty()).then(|| parts.join(" && "))
}

/// The exercises whose scenarios name `tool` (in `needs` or `requires`).
fn needed_by(tool: &Tool) -> Vec<String> {
    exercises::ALL
        .iter()
        .filter(|e| {
            e.scenarios.iter().any(|s| {
                s.needs.iter().any(|t| t.command == tool.command)
                    || s.requires.iter().any(|n| names(n, tool))
            })
        })
        .map(|e| e.id.to_string())
        .collect()
}

fn names(need: &Need, tool: &Tool) -> bool {
    match need {
        Need::Module(t) | Need::Faster(t, _) => t.command == tool.command,
        Need::Layer(_) | Need::Helped(..) => false,
    }
}

/// What happens without `tool`, from the declarations that name it.
fn without(tool: &Tool) -> String {
    let needs = exercises::ALL.iter().flat_map(|e| e.scenarios.iter());
    for s in needs {
        if s.needs.iter().any(|t| t.command == tool.command) {
            return "its scenarios are skip".into();
        }
        for need in s.requires {
            match need {
                Need::Module(t) if t.command == tool.command => {
                    return "skip for a Python program that uses it".into()
                }
                Need::Faster(t, how) if t.command == tool.command => {
                    return format!("judged all the same, slower: {how}")
                }
                _ => {}
            }
        }
    }
    "nothing relies on it".into()
}

/// The tool's version line, where it is cheap to ask (a command's `-version`, a module's
/// version attribute); `None` for a library.
fn version(tool: &Tool, found: &Path) -> Option<String> {
    let mut cmd = match tool.kind {
        Kind::Command { version } => {
            let mut cmd = std::process::Command::new(found);
            cmd.arg(version);
            cmd
        }
        Kind::Module { version, .. } => {
            let mut cmd = std::process::Command::new(found);
            cmd.args(["-c", version])
                .env_clear()
                .env("LANG", "C.UTF-8")
                .env("HOME", std::env::temp_dir());
            cmd
        }
        Kind::Library { .. } => return None,
    };
    first_line(&mut cmd)
}

/// The first line `cmd` prints within 10 s.
fn first_line(cmd: &mut std::process::Command) -> Option<String> {
    use std::io::Read;
    use wait_timeout::ChildExt;
    let mut child = cmd
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .ok()?;
    let finished = child.wait_timeout(Duration::from_secs(10)).ok().flatten();
    if finished.is_none() {
        let _ = child.kill();
        let _ = child.wait();
        return None;
    }
    let mut text = String::new();
    child.stdout.take()?.read_to_string(&mut text).ok()?;
    // ffmpeg's first line goes on with its copyright.
    let line = text.lines().next()?.split(" Copyright").next()?.trim();
    (!line.is_empty()).then(|| line.chars().take(120).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::tools::{FAKETIME, FFMPEG, FFPROBE, MATPLOTLIB, PYQT6_UIC};

    const SYSTEM: &str = "/usr/bin/python3";
    const PYENV: &str = "/root/.pyenv/versions/3.11.9/bin/python3.11";

    #[test]
    fn every_tool_installs_with_apt_get() {
        for tool in ALL {
            assert!(tool.install.starts_with(APT), "{}", tool.install);
        }
    }

    #[test]
    fn modules_install_with_apt_for_the_system_python_and_pip_otherwise() {
        assert_eq!(
            install(&MATPLOTLIB, Path::new(SYSTEM), true),
            "apt-get install -y python3-matplotlib"
        );
        assert_eq!(
            install(&MATPLOTLIB, Path::new(SYSTEM), false),
            "sudo apt-get install -y python3-matplotlib"
        );
        assert_eq!(
            install(&PYQT6_UIC, Path::new(PYENV), false),
            format!("{PYENV} -m pip install PyQt6")
        );
        assert_eq!(
            install(&FFMPEG, Path::new(PYENV), false),
            "sudo apt-get install -y ffmpeg"
        );
    }

    #[test]
    fn one_command_installs_everything_missing_once() {
        let missing = [&FFMPEG, &FFPROBE, &FAKETIME, &MATPLOTLIB, &PYQT6_UIC];
        assert_eq!(
            install_command(&missing, Path::new(SYSTEM), true).as_deref(),
            Some("apt-get install -y ffmpeg faketime python3-matplotlib python3-pyqt6 pyqt6-dev-tools")
        );
        assert_eq!(
            install_command(&missing, Path::new(PYENV), false).as_deref(),
            Some(
                format!("sudo apt-get install -y ffmpeg faketime && {PYENV} -m pip install matplotlib PyQt6")
                    .as_str()
            )
        );
        assert_eq!(install_command(&[], Path::new(SYSTEM), true), None);
    }

    #[test]
    fn the_declarations_say_who_needs_each_tool() {
        assert_eq!(needed_by(&FFMPEG), ["make_movie"]);
        assert_eq!(needed_by(&FAKETIME), ["fork_exec"]);
        assert_eq!(needed_by(&MATPLOTLIB), ["plotter"]);
        assert_eq!(without(&FFPROBE), "its scenarios are skip");
        assert!(without(&FAKETIME).contains("12 s"));
    }
}
