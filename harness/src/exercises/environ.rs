//! `environ` (Env/env2.cpp): prints `Program starting` and then exactly its environment.

use super::Exercise;
use crate::fail;
use crate::outcome::{Status, Verdict};
use crate::run::transcript::Source;
use crate::scenario::{Ctx, Launch, Scenario};
use crate::text::quote;
use std::collections::BTreeSet;
use std::time::Duration;

pub static EXERCISE: Exercise = Exercise {
    id: "environ",
    lecture: &["Env/env2.cpp"],
    aliases: &[],
    ending: nix::sys::signal::Signal::SIGINT,
    ports: &[],
    segments: &[],
    scenarios: &[Scenario::new(
        "exact",
        "prints exactly the KEY=VALUE pairs of its environment",
        exact,
    )],
};

fn exact(ctx: &mut Ctx) -> Verdict {
    let vars = [
        ("LANG", "C.UTF-8".to_string()),
        ("HOME", ctx.home().display().to_string()),
        ("SYSGRADE_EQUATION", "a=b=c".to_string()),
        ("SYSGRADE_GREETING", "grüß dich, 世界 ✓".to_string()),
    ];
    let mut launch = Launch::new().bare_env();
    for (k, v) in &vars {
        launch = launch.env(*k, v.clone());
    }
    let mut run = ctx.start(launch)?;
    // The description asks for the lines, not for an exit: a program that printed them and
    // then waits (for a key, say: `getchar()`) is judged on what it printed by then.
    let waiting = match run.let_exit(Duration::from_secs(5)) {
        Ok(_) => String::new(),
        Err(f) if f.status == Status::Timeout && run.wait_idle(Duration::from_secs(1)).is_ok() => {
            format!(
                "; it then kept running{}, and the harness ended it",
                run.doing()
            )
        }
        Err(f) => return Err(f),
    };
    let expected: BTreeSet<String> = vars.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let printed: BTreeSet<String> = run
        .lines(Source::Stdout)
        .into_iter()
        .filter(|l| {
            l.split_once('=')
                .is_some_and(|(k, _)| !k.is_empty() && !k.contains(' '))
        })
        .collect();
    let missing: Vec<String> = expected.difference(&printed).map(|l| quote(l)).collect();
    let extra: Vec<String> = printed.difference(&expected).map(|l| quote(l)).collect();
    if !missing.is_empty() || !extra.is_empty() {
        let mut why = Vec::new();
        if !missing.is_empty() {
            why.push(format!("missing {}", missing.join(", ")));
        }
        if !extra.is_empty() {
            why.push(format!("not in its environment {}", extra.join(", ")));
        }
        fail!(
            "the KEY=VALUE lines differ from its environment ({} variables): {}",
            expected.len(),
            why.join("; ")
        );
    }
    Ok(format!(
        "printed exactly its {} variables{waiting}",
        expected.len()
    ))
}
