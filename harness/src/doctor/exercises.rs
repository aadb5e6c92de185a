//! Which exercises will be fully judged here, and which scenarios will (or may) be `skip`
//! and why: read from the scenarios' declarations (`needs`, `requires`) against the layers
//! and tools found. Pure: the facts are handed in.

use super::facts::{ExerciseFact, LayerFact, SkipFact, ToolFact, When};
use crate::exercises::{Exercise, HYGIENE};
use crate::sandbox::Layer;
use crate::scenario::{Need, Scenario};

/// One fact per exercise of `catalogue`.
pub fn exercises(
    catalogue: &[&Exercise],
    layers: &[LayerFact],
    tools: &[ToolFact],
) -> Vec<ExerciseFact> {
    catalogue
        .iter()
        .map(|e| exercise(e, layers, tools))
        .collect()
}

/// A skip and whether it comes before the program starts (no run is made for it).
struct Predicted {
    skip: SkipFact,
    before_run: bool,
}

fn exercise(e: &Exercise, layers: &[LayerFact], tools: &[ToolFact]) -> ExerciseFact {
    let mut notes = Vec::new();
    let mut predicted: Vec<Predicted> = Vec::new();
    for s in e.scenarios {
        let id = format!("{}.{}", e.id, s.id);
        if let Some(p) = scenario(&id, s, layers, tools, &mut notes) {
            predicted.push(p);
        }
    }
    // With every scenario skipped before its program starts, no run takes place, and
    // hygiene has nothing to judge.
    if !e.scenarios.is_empty()
        && predicted.len() == e.scenarios.len()
        && predicted
            .iter()
            .all(|p| p.before_run && p.skip.when != When::Maybe)
    {
        let when = predicted
            .iter()
            .map(|p| p.skip.when)
            .min()
            .unwrap_or(When::Always);
        predicted.push(Predicted {
            skip: SkipFact {
                scenario: format!("{}.{HYGIENE}", e.id),
                when,
                reason: "no run takes place: every scenario is skip".into(),
            },
            before_run: true,
        });
    }
    notes.dedup();
    ExerciseFact {
        id: e.id.to_string(),
        fully_judged: predicted.is_empty(),
        skipped: predicted.into_iter().map(|p| p.skip).collect(),
        notes,
    }
}

/// Whether `s` will (or may) be `skip`: the strongest of its reasons, all of them said.
fn scenario(
    id: &str,
    s: &Scenario,
    layers: &[LayerFact],
    tools: &[ToolFact],
    notes: &mut Vec<String>,
) -> Option<Predicted> {
    let mut found: Vec<(When, bool, String)> = Vec::new();
    for tool in s.needs {
        if let Some(t) = tool_fact(tools, tool.command).filter(|t| !t.found) {
            found.push((
                When::Always,
                true,
                format!(
                    "`{}` is not installed (install it with `{}`)",
                    t.name, t.install
                ),
            ));
        }
    }
    for need in s.requires {
        match *need {
            Need::Module(tool) => {
                if let Some(t) = tool_fact(tools, tool.command).filter(|t| !t.found) {
                    found.push((
                        When::Python,
                        true,
                        format!(
                            "for a Python program using {}: it cannot be imported (install it with `{}`)",
                            t.name, t.install
                        ),
                    ));
                }
            }
            Need::Layer(layer) => {
                if let Some(l) = unused(layers, layer) {
                    found.push((
                        When::Always,
                        false,
                        format!("{} is missing: {}", layer.title(), l.detail),
                    ));
                }
            }
            Need::Helped(layer, why) => {
                if unused(layers, layer).is_some() {
                    found.push((When::Maybe, false, why.to_string()));
                }
            }
            Need::Faster(tool, how) => {
                if let Some(t) = tool_fact(tools, tool.command).filter(|t| !t.found) {
                    notes.push(format!("without {}, {how}", t.name));
                }
            }
        }
    }
    let when = found.iter().map(|(w, ..)| *w).max()?;
    Some(Predicted {
        before_run: found.iter().all(|(_, before, _)| *before),
        skip: SkipFact {
            scenario: id.to_string(),
            when,
            reason: found
                .into_iter()
                .map(|(.., reason)| reason)
                .collect::<Vec<_>>()
                .join("; "),
        },
    })
}

fn tool_fact<'a>(tools: &'a [ToolFact], name: &str) -> Option<&'a ToolFact> {
    tools.iter().find(|t| t.name == name)
}

/// The layer's fact when gradings here do not use it.
fn unused(layers: &[LayerFact], layer: Layer) -> Option<&LayerFact> {
    layers.iter().find(|l| l.name == layer && !l.used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::facts::LayerFact;

    fn tool(name: &str, found: bool) -> ToolFact {
        ToolFact {
            name: name.into(),
            kind: crate::doctor::facts::ToolKind::Command,
            found,
            path: None,
            version: None,
            install: format!("apt-get install -y {name}"),
            needed_by: Vec::new(),
            without: String::new(),
        }
    }

    fn every_tool(found: bool) -> Vec<ToolFact> {
        crate::scenario::tools::ALL
            .iter()
            .map(|t| tool(t.command, found))
            .collect()
    }

    fn all_layers(used: bool) -> Vec<LayerFact> {
        Layer::ALL
            .iter()
            .map(|&l| LayerFact::present(l, used, "seen"))
            .collect()
    }

    fn fact<'a>(facts: &'a [ExerciseFact], id: &str) -> &'a ExerciseFact {
        facts.iter().find(|e| e.id == id).expect("the exercise")
    }

    fn skipped(e: &ExerciseFact) -> Vec<(&str, When)> {
        e.skipped
            .iter()
            .map(|s| (s.scenario.as_str(), s.when))
            .collect()
    }

    #[test]
    fn with_everything_every_exercise_is_fully_judged() {
        let facts = exercises(crate::exercises::ALL, &all_layers(true), &every_tool(true));
        assert_eq!(facts.len(), crate::exercises::ALL.len());
        assert!(facts.iter().all(|e| e.fully_judged && e.notes.is_empty()));
    }

    #[test]
    fn without_ffmpeg_make_movie_and_its_hygiene_are_skip() {
        let mut tools = every_tool(true);
        tools[0] = tool("ffmpeg", false);
        let facts = exercises(crate::exercises::ALL, &all_layers(true), &tools);
        let movie = fact(&facts, "make_movie");
        assert_eq!(
            skipped(movie),
            [
                ("make_movie.piped", When::Always),
                ("make_movie.video", When::Always),
                ("make_movie.waits", When::Always),
                ("make_movie.hygiene", When::Always),
            ]
        );
        assert!(movie.skipped[0]
            .reason
            .contains("install it with `apt-get install -y ffmpeg`"));
        assert_eq!(facts.iter().filter(|e| !e.fully_judged).count(), 1);
    }

    #[test]
    fn missing_modules_skip_python_programs_and_faketime_only_slows() {
        let facts = exercises(crate::exercises::ALL, &all_layers(true), &every_tool(false));
        let plotter = fact(&facts, "plotter");
        assert!(plotter.skipped.iter().all(|s| s.when == When::Python));
        assert_eq!(plotter.skipped.len(), 4, "three scenarios and hygiene");
        let fork = fact(&facts, "fork_exec");
        assert!(fork.fully_judged && fork.notes.len() == 1, "{fork:?}");
        assert_eq!(fact(&facts, "fifo_writer_ui").skipped.len(), 5);
    }

    #[test]
    fn missing_layers_skip_after_the_run_or_maybe() {
        let facts = exercises(crate::exercises::ALL, &all_layers(false), &every_tool(true));
        let fork = fact(&facts, "fork_exec");
        assert_eq!(fork.skipped.len(), 3, "the run starts: hygiene is judged");
        assert!(fork.skipped.iter().all(|s| s.when == When::Always));
        assert!(fork.skipped[0]
            .reason
            .starts_with("process events is missing"));
        // files.stat (the supervisor sees each removal) and time_server (it waits out
        // TIME_WAIT) are judged without fanotify or a network of their own.
        assert!(fact(&facts, "files").fully_judged);
        assert!(fact(&facts, "time_server").fully_judged);
        assert!(fact(&facts, "signals").fully_judged);
    }
}
