//! The Debian packages `setup.sh` installs: exactly those the course's exercises declare,
//! read from each scenario's `needs` and `requires` (`scenario/tools.rs` names each tool's
//! `apt-get install` once, as `sysgrade doctor` prints it).

use crate::exercises::Exercise;
use crate::scenario::tools::{apt_packages, Tool};
use crate::scenario::Need;
use std::collections::BTreeSet;

/// The packages `exercises` need, sorted, each once.
pub fn packages(exercises: &[&Exercise]) -> Vec<String> {
    let mut tools: Vec<Tool> = Vec::new();
    for s in exercises.iter().flat_map(|e| e.scenarios) {
        let required = s.requires.iter().filter_map(|need| match need {
            Need::Module(tool) | Need::Faster(tool, _) => Some(tool),
            Need::Layer(_) | Need::Helped(..) => None,
        });
        tools.extend(s.needs.iter().chain(required).copied());
    }
    let sorted: BTreeSet<&str> = apt_packages(&tools).into_iter().collect();
    sorted.into_iter().map(str::to_string).collect()
}

#[cfg(test)]
mod tests {
    use super::packages;
    use crate::exercises;

    fn of(ids: &[&str]) -> Vec<String> {
        let list: Vec<_> = ids.iter().filter_map(|id| exercises::get(id)).collect();
        assert_eq!(list.len(), ids.len(), "unknown exercise in {ids:?}");
        packages(&list)
    }

    #[test]
    fn only_what_the_exercises_declare() {
        assert_eq!(of(&["process", "signals"]), Vec::<String>::new());
        assert_eq!(of(&["make_movie"]), ["ffmpeg"]);
        assert_eq!(of(&["fork_exec"]), ["faketime"]);
        let all = packages(exercises::ALL);
        for p in [
            "ffmpeg",
            "faketime",
            "python3-matplotlib",
            "python3-pyqt6",
            "pyqt6-dev-tools",
        ] {
            assert!(all.iter().any(|x| x == p), "{p} missing from {all:?}");
        }
        assert!(all.iter().all(|p| !p.starts_with('-')), "{all:?}");
    }
}
