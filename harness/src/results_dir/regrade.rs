//! `grade --results DIR`: grade only what changed. Each student's stored result is reused
//! when its key (the submission's content and the run's: grader, course, exercises,
//! settings) is unchanged; a student forced with `--regrade NAME`, or whose key changed or
//! whose file cannot be trusted, is graded again in full; an exercise forced with
//! `--regrade ID`, or one whose stored verdicts hold a `skip` or a grader `fault` (the machine,
//! not the submission, decided those), is graded again alone and spliced into the stored
//! result. Every result is written the moment its student is done, so a killed run resumes
//! where it stopped; the report is then read back from the folder.

use super::key::{self, Key};
use super::store::{Store, Stored};
use crate::error::Error;
use crate::events::Event;
use crate::exercises::Exercise;
use crate::grading::{self, Request, Scope};
use crate::outcome::Status;
use crate::result::SubmissionResult;
use crate::settings::Settings;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Where results go and what to force.
#[derive(Debug, Clone, Copy)]
pub struct Options<'a> {
    pub dir: &'a Path,
    /// `--regrade` values: exercise ids and student names.
    pub regrade: &'a [String],
    /// The course file, whose bytes are part of the key.
    pub course_file: Option<&'a Path>,
}

/// How many students were reused and graded (for the human output).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    pub dir: PathBuf,
    pub reused: usize,
    /// Graded in full: new, changed, forced, or their file not trusted.
    pub graded: usize,
    /// Some exercises graded again (forced, or a `skip` or `fault` before), the rest reused.
    pub partly: usize,
    /// Of the graded: files that were there but could not be trusted (damaged, not ours).
    pub untrusted: usize,
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "results in {}: {} reused, {} graded, {} regraded in part",
            self.dir.display(),
            self.reused,
            self.graded,
            self.partly
        )?;
        if self.untrusted > 0 {
            write!(
                f,
                " ({} damaged or foreign result file(s) not trusted, graded again)",
                self.untrusted
            )?;
        }
        Ok(())
    }
}

/// What becomes of one student.
enum Plan {
    Reuse,
    Full,
    /// Grade these exercises again and splice them into the stored result.
    Part(Box<SubmissionResult>, BTreeSet<&'static str>),
}

struct Student {
    path: PathBuf,
    /// The file's name in the results folder.
    name: String,
    key: Key,
    plan: Plan,
}

/// Grades `request` through the results folder; returns the results (read back from the
/// folder, scoped as `request.scope` says) and how many were reused.
pub fn grade(
    settings: &Settings,
    request: &Request,
    options: Options<'_>,
    on_event: &mut dyn FnMut(&Event),
) -> Result<(Vec<SubmissionResult>, Summary), Error> {
    outside(options.dir, &request.submissions)?;
    let store = Store::open(options.dir)?;
    let course = match options.course_file {
        Some(path) => Some(std::fs::read(path).map_err(|source| Error::Io {
            what: format!("reading {}", path.display()),
            source,
        })?),
        None => None,
    };
    let run = key::run(key::grader(), course.as_deref(), request, settings);
    let names = names(&request.submissions)?;
    let forced = Forced::parse(options.regrade, &names, &request.exercises)?;
    let mut summary = Summary {
        dir: options.dir.to_path_buf(),
        ..Summary::default()
    };
    let students: Vec<Student> = request
        .submissions
        .iter()
        .zip(names)
        .map(|(path, name)| decide(&store, &run, &forced, path, name, &mut summary))
        .collect();
    for (exercises, members) in groups(&students, &request.exercises) {
        grade_group(
            settings, request, &store, &students, exercises, &members, on_event,
        )?;
    }
    let results = students
        .iter()
        .map(|s| read_back(&store, s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok((grading::scoped(results, request.scope), summary))
}

/// The `--regrade` values, sorted into exercises and students.
struct Forced {
    exercises: BTreeSet<&'static str>,
    students: BTreeSet<String>,
}

impl Forced {
    fn parse(
        values: &[String],
        names: &[String],
        exercises: &[&'static Exercise],
    ) -> Result<Forced, Error> {
        let mut forced = Forced {
            exercises: BTreeSet::new(),
            students: BTreeSet::new(),
        };
        for value in values {
            let exercise = exercises.iter().find(|e| e.id == value);
            let student = names.iter().any(|n| n == value);
            if let Some(e) = exercise {
                forced.exercises.insert(e.id);
            }
            if student {
                forced.students.insert(value.clone());
            }
            if exercise.is_none() && !student {
                let known = exercises
                    .iter()
                    .map(|e| e.id)
                    .chain(names.iter().map(String::as_str));
                return Err(Error::Usage(format!(
                    "--regrade {value}: neither an exercise graded here nor a student{}",
                    crate::suggest::did_you_mean(value, known)
                )));
            }
        }
        Ok(forced)
    }
}

/// Refuses a results folder inside a submission (its every result would change the
/// submission's content, so nothing would ever be reused) or that is one.
fn outside(dir: &Path, submissions: &[PathBuf]) -> Result<(), Error> {
    let Some(dir) = resolved(dir) else {
        return Ok(());
    };
    for sub in submissions {
        if sub.canonicalize().is_ok_and(|s| dir.starts_with(s)) {
            return Err(Error::Usage(format!(
                "--results {}: the results folder is inside the submission {}; keep it outside \
                 every submission",
                dir.display(),
                sub.display()
            )));
        }
    }
    Ok(())
}

/// Where `dir` is or will be once made: its nearest existing ancestor resolved.
fn resolved(dir: &Path) -> Option<PathBuf> {
    let mut base = dir.to_path_buf();
    let mut tail = Vec::new();
    while base.canonicalize().is_err() {
        tail.push(base.file_name()?.to_owned());
        base = match base.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
            _ => PathBuf::from("."),
        };
    }
    let mut out = base.canonicalize().ok()?;
    out.extend(tail.iter().rev());
    Some(out)
}

/// Each submission's name in the results folder: its folder's name. Two alike are refused.
fn names(submissions: &[PathBuf]) -> Result<Vec<String>, Error> {
    let mut seen = BTreeMap::new();
    let mut out = Vec::new();
    for path in submissions {
        let name = path
            .file_name()
            .map(PathBuf::from)
            .or_else(|| path.canonicalize().ok()?.file_name().map(PathBuf::from))
            .map_or_else(|| "submission".into(), |n| n.to_string_lossy().into_owned());
        if let Some(other) = seen.insert(name.clone(), path) {
            return Err(Error::Usage(format!(
                "--results: {} and {} would both be stored as {name}.json; grade them into \
                 separate results folders",
                other.display(),
                path.display()
            )));
        }
        out.push(name);
    }
    Ok(out)
}

fn decide(
    store: &Store,
    run: &str,
    forced: &Forced,
    path: &Path,
    name: String,
    summary: &mut Summary,
) -> Student {
    // An unreadable folder gets a key no later run computes: it is graded every time.
    let content = key::content(path)
        .unwrap_or_else(|e| format!("unreadable at {:?}: {e}", std::time::SystemTime::now()));
    let key = Key {
        run: run.to_string(),
        content,
        grader: key::grader().to_string(),
    };
    let plan = match store.read(&name) {
        _ if forced.students.contains(&name) => Plan::Full,
        Stored::Found(stored, k) if k.run == key.run && k.content == key.content => {
            let redo: BTreeSet<&'static str> = forced
                .exercises
                .iter()
                .copied()
                .chain(unjudged(&stored))
                .collect();
            if redo.is_empty() {
                Plan::Reuse
            } else {
                Plan::Part(stored, redo)
            }
        }
        Stored::Unreadable(_) => {
            summary.untrusted += 1;
            Plan::Full
        }
        Stored::Found(..) | Stored::Absent => Plan::Full,
    };
    match plan {
        Plan::Reuse => summary.reused += 1,
        Plan::Full => summary.graded += 1,
        Plan::Part(..) => summary.partly += 1,
    }
    Student {
        path: path.to_path_buf(),
        name,
        key,
        plan,
    }
}

/// The exercises of a stored result with a verdict the machine decided: `skip` (a tool was
/// missing, the machine was overloaded) or a grader `fault`.
fn unjudged(stored: &SubmissionResult) -> impl Iterator<Item = &'static str> + '_ {
    stored
        .exercises
        .iter()
        .filter(|e| {
            e.scenarios
                .iter()
                .any(|s| matches!(s.status, Status::Skip | Status::Fault))
        })
        .filter_map(|e| crate::exercises::get(&e.id).map(|x| x.id))
}

/// The gradings to do: (exercises, students), the full ones first.
fn groups(
    students: &[Student],
    all: &[&'static Exercise],
) -> Vec<(Vec<&'static Exercise>, Vec<usize>)> {
    let mut full = Vec::new();
    let mut parts: BTreeMap<&BTreeSet<&'static str>, Vec<usize>> = BTreeMap::new();
    for (i, s) in students.iter().enumerate() {
        match &s.plan {
            Plan::Reuse => {}
            Plan::Full => full.push(i),
            Plan::Part(_, ids) => parts.entry(ids).or_default().push(i),
        }
    }
    let mut out = Vec::new();
    if !full.is_empty() {
        out.push((all.to_vec(), full));
    }
    for (ids, members) in parts {
        let exercises = all.iter().copied().filter(|e| ids.contains(e.id)).collect();
        out.push((exercises, members));
    }
    out
}

/// Grades `members` on `exercises`, writing each student's result the moment it is done.
fn grade_group(
    settings: &Settings,
    request: &Request,
    store: &Store,
    students: &[Student],
    exercises: Vec<&'static Exercise>,
    members: &[usize],
    on_event: &mut dyn FnMut(&Event),
) -> Result<(), Error> {
    let sub = Request {
        submissions: members.iter().map(|&i| students[i].path.clone()).collect(),
        exercises,
        // Stored unscoped: which exercises a class holds is decided over the whole class.
        scope: Scope::Listed,
        ..request.clone()
    };
    let by_label: BTreeMap<String, usize> = members
        .iter()
        .map(|&i| (students[i].path.display().to_string(), i))
        .collect();
    let mut failed = None;
    grading::grade(settings, &sub, &mut |event| {
        on_event(event);
        let Event::SubmissionFinished { result } = event else {
            return;
        };
        let Some(student) = by_label.get(&result.submission).map(|&i| &students[i]) else {
            return;
        };
        let whole = match &student.plan {
            Plan::Part(stored, _) => splice(stored, result),
            Plan::Full | Plan::Reuse => result.clone(),
        };
        if let Err(e) = store.write(&student.name, &whole, &student.key) {
            failed.get_or_insert(e);
        }
    })?;
    failed.map_or(Ok(()), Err)
}

/// The stored result with the exercises of `fresh` put in place of its own.
fn splice(stored: &SubmissionResult, fresh: &SubmissionResult) -> SubmissionResult {
    let mut whole = stored.clone();
    for exercise in &mut whole.exercises {
        if let Some(new) = fresh.exercises.iter().find(|e| e.id == exercise.id) {
            *exercise = new.clone();
        }
    }
    whole.guarantees = fresh.guarantees.clone();
    whole.total()
}

/// A student's result as the folder holds it, named as this run names the submission.
fn read_back(store: &Store, student: &Student) -> Result<SubmissionResult, Error> {
    match store.read(&student.name) {
        Stored::Found(result, _) => Ok(SubmissionResult {
            submission: student.path.display().to_string(),
            ..*result
        }),
        Stored::Absent => Err(Error::Internal(format!(
            "{} was not written",
            store.path(&student.name).display()
        ))),
        Stored::Unreadable(why) => Err(Error::Internal(format!(
            "{} cannot be read back: {why}",
            store.path(&student.name).display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::sample;

    #[test]
    fn a_regrade_value_must_name_an_exercise_or_a_student() {
        let students = vec!["ann".to_string(), "bob".to_string()];
        let exercises = vec![crate::exercises::get("process").expect("process")];
        let forced = Forced::parse(&["ann".into(), "process".into()], &students, &exercises)
            .expect("both known");
        assert!(forced.students.contains("ann") && forced.exercises.contains("process"));
        let e = Forced::parse(&["proces".into()], &students, &exercises).err();
        let message = e.map(|e| e.to_string()).unwrap_or_default();
        assert!(message.contains("did you mean `process`"), "{message}");
        let same = names(&[PathBuf::from("a/x"), PathBuf::from("b/x")]);
        assert!(same.is_err(), "two folders named x");
    }

    #[test]
    fn a_spliced_exercise_replaces_its_own_and_the_totals_follow() {
        let stored = sample::fault_and_build_failure();
        assert_eq!(
            unjudged(&stored).collect::<Vec<_>>(),
            ["process"],
            "the exercise with a grader fault is graded again"
        );
        let mut fresh = stored.clone();
        fresh.exercises.retain(|e| e.id == "process");
        for s in &mut fresh.exercises[0].scenarios {
            s.status = Status::Pass;
            s.points = s.max_points;
        }
        fresh.exercises[0] = fresh.exercises[0].clone().total();
        let whole = splice(&stored, &fresh);
        assert_eq!(whole.exercises.len(), stored.exercises.len());
        assert_eq!(whole.exercises[1].id, stored.exercises[1].id);
        assert_eq!(
            whole.score,
            fresh.exercises[0].score + stored.exercises[1].score
        );
        assert!(!whole.has_fault());
    }
}
