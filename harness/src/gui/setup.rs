//! Getting a PyQt program ready to be driven: is PyQt there for the interpreter programs run
//! with (else `skip`, with the install command), and the run's environment: Qt's offscreen
//! platform, a private `XDG_RUNTIME_DIR`, the driver on `PYTHONPATH` as `sitecustomize`, and
//! the driver socket's path.

use crate::outcome::Failure;
use crate::scenario::{Ctx, Launch};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The driver, loaded into the program by the `sitecustomize` below.
const DRIVER: &str = include_str!("../../assets/qt_sysgrade_driver.py");
const SITECUSTOMIZE: &str =
    "# sysgrade: load the harness's PyQt driver before the program runs.\nimport qt_sysgrade_driver\n";
/// The variable naming the driver socket.
pub const SOCKET_VAR: &str = "SYSGRADE_QT_SOCKET";
/// Debian's packages, for /usr/bin/python3 (uic is in the dev tools).
pub const APT_INSTALL: &str = "apt-get install -y python3-pyqt6 pyqt6-dev-tools";

/// The files and variables of one driven run.
#[derive(Debug)]
pub struct Prepared {
    pub launch: Launch,
    pub socket: PathBuf,
}

/// `skip` when the program is Python and its interpreter cannot import the PyQt it uses (and
/// `uic`, when it loads a form).
pub fn check_pyqt(ctx: &Ctx) -> Result<(), Failure> {
    if !ctx.program().is_python() {
        return Ok(());
    }
    let source = ctx.copy_root().join(&ctx.program().found.source);
    let text = std::fs::read_to_string(source).unwrap_or_default();
    let uic = text.contains("uic");
    let mut bindings: Vec<&str> = ["PyQt6", "PyQt5"]
        .into_iter()
        .filter(|b| text.contains(b))
        .collect();
    if bindings.is_empty() {
        return Ok(());
    }
    let (python, _) = ctx.program().command(&ctx.copy_root());
    if bindings
        .iter()
        .any(|b| crate::python::has_pyqt(&python, b, uic))
    {
        return Ok(());
    }
    bindings.sort();
    let what = if uic {
        "QtWidgets and uic"
    } else {
        "QtWidgets"
    };
    // A program that only knows PyQt5 needs PyQt5; otherwise PyQt6 serves.
    let only5 = bindings == ["PyQt5"];
    let install = match (python == Path::new("/usr/bin/python3"), only5) {
        (true, false) => format!("`{APT_INSTALL}`"),
        (true, true) => "`apt-get install -y python3-pyqt5 pyqt5-dev-tools`".to_string(),
        (false, only5) => format!(
            "`{} -m pip install {}`",
            python.display(),
            if only5 { "PyQt5" } else { "PyQt6" }
        ),
    };
    let tool = if only5 { "PyQt5" } else { "PyQt6" };
    Err(Failure::missing(
        &[tool],
        format!(
            "{} cannot import {what} from {}; install it with {install}",
            python.display(),
            bindings.join(" or ")
        ),
    ))
}

/// Writes the driver into the scenario's scratch and adds the variables to `launch`.
pub fn prepare(ctx: &Ctx, launch: Launch) -> Result<Prepared, Failure> {
    let fault = |e: std::io::Error| Failure::fault(format!("preparing Qt: {e}"));
    let driver = ctx.scratch().join("qt");
    let runtime = ctx.scratch().join("xdg-runtime");
    for (dir, mode) in [(&driver, 0o755), (&runtime, 0o700)] {
        std::fs::create_dir_all(dir).map_err(fault)?;
        if let Some((uid, gid)) = ctx.identity() {
            std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(fault)?;
        }
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode)).map_err(fault)?;
    }
    std::fs::write(driver.join("qt_sysgrade_driver.py"), DRIVER).map_err(fault)?;
    std::fs::write(driver.join("sitecustomize.py"), SITECUSTOMIZE).map_err(fault)?;
    let socket = driver.join("driver.sock");
    let launch = launch
        .env("QT_QPA_PLATFORM", "offscreen")
        .env("XDG_RUNTIME_DIR", runtime.display().to_string())
        .env("PYTHONPATH", driver.display().to_string())
        .env(SOCKET_VAR, socket.display().to_string());
    Ok(Prepared { launch, socket })
}

/// The reason, when standard error says Qt itself could not start (no platform plugin, a
/// missing shared library), which makes the scenario `skip` rather than the program's fault.
pub fn qt_cannot_start(stderr: &[String]) -> Option<String> {
    const SIGNS: &[&str] = &[
        "could not load the qt platform plugin",
        "no qt platform plugin could be initialized",
        "could not find the qt platform plugin",
        "libqt6",
        "libqt5",
    ];
    stderr
        .iter()
        .find(|l| {
            let l = l.to_lowercase();
            SIGNS.iter().any(|s| l.contains(s))
        })
        .cloned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qt_failing_to_start_is_recognised() {
        let said =
            vec!["qt.qpa.plugin: Could not load the Qt platform plugin \"offscreen\"".to_string()];
        assert!(qt_cannot_start(&said).is_some());
        assert!(qt_cannot_start(&["Traceback (most recent call last):".into()]).is_none());
    }
}
