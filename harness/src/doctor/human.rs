//! `sysgrade doctor` for people: one line per layer and tool with its mark, the cause and the
//! fix indented below each missing one, the exercises, and the install command; within 80
//! columns. Marks are ✓ ✗ – ? on a terminal, and `ok`, `NO`, `--`, `?` elsewhere.

use super::facts::{ExerciseFact, Facts, LayerFact, ToolFact, ToolKind, When};

const WIDTH: usize = 80;
/// The column a layer's or tool's name takes.
const NAME: usize = 18;

/// The report; `terminal` chooses the marks.
pub fn render(facts: &Facts, terminal: bool) -> String {
    let marks = if terminal { &SYMBOLS } else { &WORDS };
    let mut out = Out::default();
    let g = &facts.grader;
    out.line(
        "",
        &format!(
            "sysgrade doctor: uid {}{}, Linux {}; Python programs run with {}",
            g.uid,
            if g.root { " (root)" } else { "" },
            g.kernel,
            g.python.display()
        ),
        0,
    );
    out.heading("Sandbox and kernel");
    layer_lines(&mut out, marks, &facts.layers);
    out.heading("Tools");
    for tool in &facts.tools {
        tool_lines(&mut out, marks, tool);
    }
    out.heading("Exercises");
    exercise_lines(&mut out, marks, &facts.exercises);
    out.heading("Install every missing tool");
    match &facts.install_command {
        Some(command) => out.line("  ", command, 4),
        None => out.line("  ", "nothing to install: every optional tool is here", 4),
    }
    out.text
}

/// The marks: available, missing, not needed here, may be skip.
struct Marks {
    ok: &'static str,
    missing: &'static str,
    unused: &'static str,
    maybe: &'static str,
}

const SYMBOLS: Marks = Marks {
    ok: "✓",
    missing: "✗",
    unused: "–",
    maybe: "?",
};

const WORDS: Marks = Marks {
    ok: "ok",
    missing: "NO",
    unused: "--",
    maybe: "?",
};

/// A line per layer, the cause and fix below each missing one; several layers refused for one
/// cause say it once.
fn layer_lines(out: &mut Out, marks: &Marks, layers: &[LayerFact]) {
    let mut said: Option<&LayerFact> = None;
    for layer in layers {
        let mark = match layer.available {
            Some(true) => marks.ok,
            Some(false) => marks.missing,
            None => marks.unused,
        };
        out.item(mark, layer.name.title(), &layer.detail);
        let same = |s: &&LayerFact| (&s.why, &s.fix) == (&layer.why, &layer.fix);
        if let Some(first) = said.filter(same) {
            let text = format!("{} above", first.name.title());
            out.line("      why, fix: as for the ", &text, 11);
            continue;
        }
        if let Some(why) = &layer.why {
            out.line("      why: ", why, 11);
            said = Some(layer);
        }
        if let Some(fix) = &layer.fix {
            out.line("      fix: ", fix, 11);
        }
    }
}

fn tool_lines(out: &mut Out, marks: &Marks, tool: &ToolFact) {
    if tool.found {
        let at = tool
            .path
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        let text = match (&tool.version, tool.kind) {
            (Some(v), ToolKind::Module) => format!("{v}, for {at}"),
            (Some(v), _) => format!("{at} ({v})"),
            (None, _) => at,
        };
        out.item(marks.ok, &tool.name, &text);
        return;
    }
    let what = if tool.kind == ToolKind::Module {
        "cannot be imported"
    } else {
        "not installed"
    };
    out.item(
        marks.missing,
        &tool.name,
        &format!("{what}; {}: {}", tool.needed_by.join(", "), tool.without),
    );
    out.line("      install: ", &tool.install, 15);
}

fn exercise_lines(out: &mut Out, marks: &Marks, exercises: &[ExerciseFact]) {
    let full: Vec<&str> = exercises
        .iter()
        .filter(|e| e.fully_judged)
        .map(|e| e.id.as_str())
        .collect();
    out.line(
        "  ",
        &format!("fully judged ({}): {}", full.len(), full.join(", ")),
        4,
    );
    for e in exercises {
        for (when, reason, ids) in groups(e) {
            let (mark, verb) = match when {
                When::Always => (marks.missing, "skip"),
                When::Python => (marks.missing, "skip for a Python program"),
                When::Maybe => (marks.maybe, "may be skip"),
            };
            out.line(
                &format!("  {mark} "),
                &format!("{}: {} {verb}", e.id, ids.join(", ")),
                4,
            );
            out.line("      why: ", &reason, 11);
        }
        for note in &e.notes {
            out.line("  ", &format!("{}: {note}", e.id), 4);
        }
    }
}

/// An exercise's skipped scenarios grouped by when and why, in order: short ids.
fn groups(e: &ExerciseFact) -> Vec<(When, String, Vec<String>)> {
    let mut groups: Vec<(When, String, Vec<String>)> = Vec::new();
    for s in &e.skipped {
        let short = s
            .scenario
            .strip_prefix(&format!("{}.", e.id))
            .unwrap_or(&s.scenario)
            .to_string();
        match groups.iter_mut().find(|(w, r, _)| {
            *w == s.when && (*r == s.reason || short == crate::exercises::HYGIENE)
        }) {
            Some((_, _, ids)) => ids.push(short),
            None => groups.push((s.when, s.reason.clone(), vec![short])),
        }
    }
    groups
}

/// Lines wrapped to [`WIDTH`].
#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    fn heading(&mut self, title: &str) {
        self.text.push('\n');
        self.text.push_str(title);
        self.text.push('\n');
    }

    /// `  <mark> <name>  <text>`, the text wrapped under itself.
    fn item(&mut self, mark: &str, name: &str, text: &str) {
        let lead = format!("  {mark} {name:<NAME$} ");
        let hang = lead.chars().count();
        self.line(&lead, text, hang);
    }

    /// `lead` then `text`, wrapped at word boundaries; later lines indented by `hang`.
    fn line(&mut self, lead: &str, text: &str, hang: usize) {
        let mut line = lead.to_string();
        let mut len = line.chars().count();
        let mut fresh = true;
        for word in text.split_whitespace() {
            let n = word.chars().count();
            if !fresh && len + 1 + n > WIDTH {
                self.text.push_str(line.trim_end());
                self.text.push('\n');
                line = " ".repeat(hang);
                len = hang;
                fresh = true;
            }
            if !fresh {
                line.push(' ');
                len += 1;
            }
            line.push_str(word);
            len += n;
            fresh = false;
        }
        self.text.push_str(line.trim_end());
        self.text.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::facts::{Grader, SCHEMA};
    use crate::sandbox::Layer;

    fn facts() -> Facts {
        let mut layers: Vec<LayerFact> = Layer::ALL
            .iter()
            .map(|&l| LayerFact::present(l, true, "holds"))
            .collect();
        layers[1] = LayerFact {
            why: Some("a seccomp filter is on the grader (Seccomp: 2 in /proc/self/status), as a container's default profile".into()),
            fix: Some("run the container with --security-opt seccomp=unconfined".into()),
            ..LayerFact::missing(Layer::PidNamespace, "pid namespace: Operation not permitted (os error 1)")
        };
        let tools = vec![ToolFact {
            name: "ffmpeg".into(),
            kind: ToolKind::Command,
            found: false,
            path: None,
            version: None,
            install: "apt-get install -y ffmpeg".into(),
            needed_by: vec!["make_movie".into()],
            without: "its scenarios are skip".into(),
        }];
        Facts {
            schema: SCHEMA,
            grader: Grader {
                uid: 0,
                root: true,
                kernel: "6.18.0".into(),
                python: "/usr/bin/python3".into(),
            },
            guarantees: Default::default(),
            exercises: crate::doctor::exercises::exercises(crate::exercises::ALL, &layers, &tools),
            layers,
            tools,
            install_command: Some("apt-get install -y ffmpeg".into()),
        }
    }

    #[test]
    fn a_missing_layer_shows_its_cause_and_fix_within_80_columns() {
        let text = render(&facts(), false);
        for line in text.lines() {
            assert!(line.chars().count() <= WIDTH, "too wide: {line:?}");
        }
        assert!(text.contains("\n  NO pid namespace      pid namespace: Operation not permitted"));
        assert!(text.contains("\n      why: a seccomp filter is on the grader"));
        assert!(
            text.contains("\n      fix: run the container with --security-opt seccomp=unconfined")
        );
        assert!(text.contains("\n  ok mount namespace    holds\n"));
    }

    #[test]
    fn one_cause_of_several_missing_layers_is_said_once() {
        let mut f = facts();
        f.layers[2] = LayerFact {
            name: Layer::MountNamespace,
            detail: "mount namespace: Operation not permitted (os error 1)".into(),
            ..f.layers[1].clone()
        };
        let text = render(&f, false);
        assert_eq!(text.matches("why: a seccomp filter").count(), 1, "{text}");
        assert!(
            text.contains("\n      why, fix: as for the pid namespace above\n"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_tool_names_its_install_and_the_skipped_scenarios() {
        let text = render(&facts(), true);
        assert!(text.contains("  ✗ ffmpeg             not installed; make_movie: its scenarios are skip\n      install: apt-get install -y ffmpeg\n"), "{text}");
        assert!(
            text.contains("  ✗ make_movie: piped, video, waits, hygiene skip\n"),
            "{text}"
        );
        assert!(
            text.ends_with("Install every missing tool\n  apt-get install -y ffmpeg\n"),
            "{text}"
        );
    }
}
