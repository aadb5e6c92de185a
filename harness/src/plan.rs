//! Planning a grading run: each submission checked, each exercise looked for and built.
//! The result says, per (submission, exercise), whether there is a program to run.

use crate::course::Course;
use crate::error::Error;
use crate::exercises::{self, Exercise};
use crate::outcome::Failure;
use crate::sandbox::Guarantees;
use crate::settings::Settings;
use crate::submission::build::Builder;
use crate::submission::discover::{self, Listing, Lookup};
use crate::submission::Program;
use std::path::{Path, PathBuf};

/// Largest submission copied, in bytes (a run copies it once per scenario).
pub const MAX_SUBMISSION_BYTES: u64 = 256 << 20;

/// One exercise of one submission, ready or not.
#[derive(Debug, Clone)]
pub enum Prepared {
    Ready(Box<Program>),
    /// Not found (why, in plain words).
    Missing(String),
    /// Found but not built: the student's build failed (`error`), or the grader could not
    /// build it (`fault`).
    Broken {
        source: String,
        failure: Failure,
    },
}

/// One submission, planned.
#[derive(Debug)]
pub struct Planned {
    pub name: String,
    pub root: PathBuf,
    pub problems: Vec<String>,
    pub exercises: Vec<(&'static Exercise, Prepared)>,
}

/// Checks that `root` is a folder worth grading. A folder that is not there is the caller's
/// mistake (an `Err`); an empty or unusable one is a problem of the submission.
pub fn check_folder(root: &Path) -> Result<Option<String>, Error> {
    if !root.exists() {
        return Err(Error::MissingFolder(root.to_path_buf()));
    }
    if !root.is_dir() {
        return Err(Error::NotAFolder(root.to_path_buf()));
    }
    let size = crate::sandbox::copy::tree_size(root);
    if size > MAX_SUBMISSION_BYTES {
        return Ok(Some(format!(
            "the folder holds {} MiB; submissions over {} MiB are not graded",
            size >> 20,
            MAX_SUBMISSION_BYTES >> 20
        )));
    }
    let empty = std::fs::read_dir(root)
        .map(|mut d| d.next().is_none())
        .unwrap_or(true);
    Ok(empty.then(|| "the folder is empty".to_string()))
}

/// Discovers and builds `exercises` in the submission at `root`, building in `work`. Only a
/// folder that is not there is an `Err`; the grader failing to build one exercise is that
/// exercise's `fault`.
pub fn plan(
    settings: &Settings,
    guarantees: &Guarantees,
    name: &str,
    root: &Path,
    exercises: &[&'static Exercise],
    work: &Path,
    course: &Course,
) -> Result<Planned, Error> {
    let mut planned = Planned {
        name: name.to_string(),
        root: root.to_path_buf(),
        problems: Vec::new(),
        exercises: Vec::new(),
    };
    if let Some(problem) = check_folder(root)? {
        planned.problems.push(problem.clone());
        planned.exercises = exercises
            .iter()
            .map(|e| (*e, Prepared::Missing(format!("not graded: {problem}"))))
            .collect();
        return Ok(planned);
    }
    let listing = match Listing::read(root) {
        Ok(l) => l,
        Err(e) => {
            let problem = e.to_string();
            planned.problems.push(problem.clone());
            planned.exercises = exercises
                .iter()
                .map(|e| (*e, Prepared::Missing(problem.clone())))
                .collect();
            return Ok(planned);
        }
    };
    let mut builder = Builder::new(settings, guarantees, root, work);
    for exercise in exercises {
        let prepared = match discover::find(
            &listing,
            exercise,
            &exercises::lecture_name_is_unique,
            course.aliases.get(exercise.id).map_or(&[], Vec::as_slice),
        ) {
            Lookup::Missing(why) => Prepared::Missing(why),
            Lookup::Found(found) => {
                let broken = |failure| Prepared::Broken {
                    source: found.source.display().to_string(),
                    failure,
                };
                // The grader's trouble building (copying, a folder, a supervisor) is a fault
                // of this exercise, not of the submission, and the next one is still tried.
                match builder.build(exercise.id, &found) {
                    Ok(program) => Prepared::Ready(Box::new(program)),
                    Err(failure) => broken(failure),
                }
            }
        };
        planned.exercises.push((exercise, prepared));
    }
    if planned
        .exercises
        .iter()
        .all(|(_, p)| matches!(p, Prepared::Missing(_)))
    {
        planned.problems.push(format!(
            "no exercise found in {} ({} files looked at): name files after the exercise (signals.cpp, env.py, …), keep the lecture's names, or map them in submission.toml",
            name,
            listing.files.len()
        ));
    }
    Ok(planned)
}
