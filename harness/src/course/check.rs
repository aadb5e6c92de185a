//! Checking a course file beyond its syntax: every name known, every entry about an exercise
//! the course grades, every mistake located on its own line with the nearest valid name.

use super::Course;
use crate::exercises;
use crate::suggest::did_you_mean;
use std::ops::Range;
use toml::Spanned;

impl Course {
    pub(super) fn check(&self, text: &str) -> Result<(), String> {
        let at = |span: Range<usize>| format!("line {}: ", line_at(text, span.start));
        let exercise_ids = || exercises::ALL.iter().map(|e| e.id);
        for id in self.exercises.iter().flatten() {
            if exercises::get(id.get_ref()).is_none() {
                return Err(format!(
                    "{}exercises: unknown exercise `{id}`{}",
                    at(id.span()),
                    did_you_mean(id.get_ref(), exercise_ids())
                ));
            }
        }
        let known = self.scenario_ids();
        let entries = self
            .points
            .keys()
            .map(|id| ("points", id))
            .chain(self.hidden.iter().map(|id| ("hidden", id)));
        for (kind, id) in entries {
            if !known.contains(id.get_ref()) {
                return Err(format!(
                    "{}{kind}: unknown scenario id `{id}`{}",
                    at(id.span()),
                    did_you_mean(id.get_ref(), known.iter().map(String::as_str))
                ));
            }
            self.graded(text, kind, id)?;
        }
        if let Some(id) = self
            .aliases
            .keys()
            .find(|id| exercises::get(id.get_ref()).is_none())
        {
            return Err(format!(
                "{}aliases: unknown exercise `{id}`{}",
                at(id.span()),
                did_you_mean(id.get_ref(), exercise_ids())
            ));
        }
        for s in &self.scenarios {
            s.get_ref()
                .check()
                .map_err(|(span, e)| format!("{}scenarios: {e}", at(span.unwrap_or(s.span()))))?;
            let id = Spanned::new(s.span(), s.get_ref().id.clone());
            self.graded(text, "scenarios", &id)?;
        }
        if let Some(t) = self
            .limits
            .time_scale
            .filter(|t| !(*t > 0.0 && t.is_finite()))
        {
            let line = text
                .lines()
                .position(|l| l.contains("time_scale"))
                .map_or_else(String::new, |l| format!("line {}: ", l + 1));
            return Err(format!(
                "{line}limits.time_scale must be a positive number, not {t}"
            ));
        }
        Ok(())
    }

    /// An entry about scenario `id` must be about an exercise the course grades: otherwise
    /// it would silently never count.
    fn graded(&self, text: &str, kind: &str, id: &Spanned<String>) -> Result<(), String> {
        let Some(list) = &self.exercises else {
            return Ok(());
        };
        let exercise = id.get_ref().split('.').next().unwrap_or_default();
        if list.iter().any(|e| e.get_ref() == exercise) {
            return Ok(());
        }
        let listed = list.first().map_or_else(String::new, |e| {
            format!(" (line {})", line_at(text, e.span().start))
        });
        Err(format!(
            "line {}: {kind}: `{id}` is about `{exercise}`, which is not in `exercises`{listed}, so it would never count: add \"{exercise}\" to `exercises` or remove the entry",
            line_at(text, id.span().start)
        ))
    }
}

/// The 1-based line of byte offset `at`.
pub(super) fn line_at(text: &str, at: usize) -> usize {
    text.get(..at).map_or(1, |t| t.matches('\n').count() + 1)
}

/// A serde/TOML error as a message, with the nearest valid name for an unknown key or step.
pub(super) fn serde_message(e: &toml::de::Error) -> String {
    let message = e.to_string().trim_end().to_string();
    let unknown = regex::Regex::new(r"unknown (?:field|variant) `([^`]*)`, expected (.*)")
        .ok()
        .and_then(|re| {
            let c = re.captures(&message)?;
            let word = c.get(1)?.as_str().to_string();
            let expected: Vec<String> = c
                .get(2)?
                .as_str()
                .split('`')
                .skip(1)
                .step_by(2)
                .map(String::from)
                .collect();
            Some(did_you_mean(&word, expected.iter().map(String::as_str)))
        });
    match unknown {
        Some(hint) if !hint.is_empty() => format!("{message}\n{}", hint.trim_start()),
        _ => message,
    }
}

#[cfg(test)]
mod tests {
    use super::Course;

    fn error(text: &str) -> String {
        Course::parse(text).expect_err("invalid")
    }

    #[test]
    fn a_bad_step_is_located_on_its_own_line_with_its_pattern_as_written() {
        let text = "hidden = [\"signals.extra\"]\n\n[[scenarios]]\nid = \"signals.extra\"\nsteps = [\n  { step = \"expect\", pattern = \"pid\" },\n  { step = \"expect\", pattern = \"got (\" },\n]\n";
        let e = error(text);
        assert!(e.starts_with("line 7: "), "{e}");
        assert!(e.contains("`got (`") && !e.contains("(?i)"), "{e}");
    }

    #[test]
    fn unknown_names_get_the_nearest_valid_one() {
        let text = "[[scenarios]]\nid = \"signals.extra\"\nsteps = [\n  { step = \"signal\", signal = \"SIGHPU\" },\n]\n";
        let e = error(text);
        assert!(
            e.starts_with("line 4: ") && e.contains("did you mean `SIGHUP`?"),
            "{e}"
        );
        let e = error("hidden = [\"signals.promt\"]\n");
        assert!(e.contains("did you mean `signals.prompt`?"), "{e}");
        let e = error("exercises = [\"signls\"]\n");
        assert!(e.contains("did you mean `signals`?"), "{e}");
        let e = error("nmae = \"x\"\n");
        assert!(
            e.contains("line 1") && e.contains("did you mean `name`?"),
            "{e}"
        );
        let e = error("[[scenarios]]\nid = \"signals.x\"\nsteps = [ { step = \"expekt\", pattern = \"x\" } ]\n");
        assert!(e.contains("did you mean `expect`?"), "{e}");
    }

    #[test]
    fn entries_for_exercises_the_course_does_not_grade_are_errors() {
        for (text, line) in [
            ("exercises = [\"signals\"]\n[points]\n\"env.set\" = 2\n", 3),
            ("exercises = [\"signals\"]\nhidden = [\"env.set\"]\n", 2),
            (
                "exercises = [\"signals\"]\n\n[[scenarios]]\nid = \"signal_catcher.double_hup\"\nsteps = []\n",
                3,
            ),
        ] {
            let e = error(text);
            assert!(
                e.starts_with(&format!("line {line}: ")) && e.contains("not in `exercises`"),
                "{e}"
            );
        }
    }
}
