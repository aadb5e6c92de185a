//! The zip's two POSIX sh scripts. `setup.sh` installs the course's tools with `apt-get` and
//! fetches nothing else; `run_autograder` runs `sysgrade gradescope grade` and, should the
//! binary itself fail to run, writes a minimal valid `results.json` that blames the grader;
//! it always exits 0.

use super::{BINARY, DEFAULT_ROOT, ROOT_VAR};

/// `setup.sh` for these Debian packages.
pub fn setup_sh(packages: &[String]) -> String {
    let install = if packages.is_empty() {
        "# No exercise of this course declares an optional tool: nothing to install.\n".to_string()
    } else {
        format!(
            "export DEBIAN_FRONTEND=noninteractive\napt-get update\napt-get install -y --no-install-recommends {}\n",
            packages.join(" ")
        )
    };
    format!(
        "#!/bin/sh
# Written by `sysgrade gradescope package`. Gradescope runs it once, as root, when it builds
# the autograder's image: it installs the tools this course's exercises declare (see
# `sysgrade doctor`), and nothing else from the network.
set -eu
{install}chmod 755 {DEFAULT_ROOT}/source/{BINARY} {DEFAULT_ROOT}/source/run_autograder
"
    )
}

/// `run_autograder`.
pub fn run_autograder() -> String {
    format!(
        r#"#!/bin/sh
# Written by `sysgrade gradescope package`. Grades {DEFAULT_ROOT}/submission into
# {DEFAULT_ROOT}/results/results.json, always leaves a valid results.json behind, and exits 0:
# the grader writes it even when it fails or runs out of the course's time budget, and this
# script writes a minimal one, blaming the grader, should the binary itself not run.
# {ROOT_VAR} moves the root (`sysgrade gradescope run` replays in a folder of its own).
root="${{{ROOT_VAR}:-{DEFAULT_ROOT}}}"
export {ROOT_VAR}="$root"
results="$root/results/results.json"
bin="$root/source/{BINARY}"
mkdir -p "$root/results"
rm -f "$results"
[ -x "$bin" ] || chmod 755 "$bin" 2>/dev/null
"$bin" gradescope grade
status=$?
if [ ! -s "$results" ]; then
    message="**The grader failed to run, not your program** (exit status $status). Nothing was judged; your course staff will regrade."
    printf '{{"score": 0, "output": "%s", "output_format": "md", "extra_data": {{"grader_exit_status": %d}}, "tests": []}}\n' "$message" "$status" >"$results"
fi
exit 0
"#
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn setup_installs_exactly_the_packages_given() {
        let text = super::setup_sh(&["ffmpeg".into(), "faketime".into()]);
        assert!(text.contains("apt-get install -y --no-install-recommends ffmpeg faketime\n"));
        assert_eq!(text.matches("apt-get install").count(), 1);
        let none = super::setup_sh(&[]);
        assert!(!none.contains("apt-get"), "{none}");
    }

    #[test]
    fn run_autograder_honours_the_root_variable_and_exits_0() {
        let text = super::run_autograder();
        assert!(text.contains("root=\"${SYSGRADE_AUTOGRADER_ROOT:-/autograder}\""));
        assert!(text.trim_end().ends_with("exit 0"));
    }
}
