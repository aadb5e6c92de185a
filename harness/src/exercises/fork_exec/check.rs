//! What `fork_exec.children` asks of each child: it became `ls -l` and forked nothing
//! itself. A child that never exec'd either still runs (the parent's code, the counter loop)
//! or died before exec (an exec that failed, in Python an exception); the feedback says which,
//! with its exit status and the last line it printed on standard error.

use super::observe::Observed;
use crate::outcome::Failure;
use crate::run::describe_exit;
use crate::run::processes::{ProcRecord, UNKNOWN};
use crate::text::quote;
use crate::{ensure, fail};

/// Checks every judged child, the first failure first: one still running the counter loop,
/// then those that died before exec (all named), then each exec and grandchild.
pub fn children(obs: &Observed, kids: &[&ProcRecord]) -> Result<(), Failure> {
    if let Some(kid) = kids
        .iter()
        .find(|k| k.execs.is_empty() && k.exited.is_none())
    {
        fail!(
            "the child forked at counter {} (pid {}) never called exec (it was still running): it ran the parent's code, the counter loop, instead of becoming `ls -l`",
            obs.counter_at(kid.forked),
            kid.pid
        );
    }
    let died: Vec<&ProcRecord> = kids
        .iter()
        .copied()
        .filter(|k| k.execs.is_empty())
        .collect();
    if !died.is_empty() {
        return Err(died_before_exec(obs, kids, &died));
    }
    for kid in kids {
        became_ls(obs, kid)?;
    }
    Ok(())
}

/// "; the counter went back from 10 to 1 (it should keep counting up)" when it did, else "".
pub fn restarted(obs: &Observed) -> String {
    match restarts(&obs.counters).first() {
        Some((from, to)) => {
            format!("; the counter went back from {from} to {to} (it should keep counting up)")
        }
        None => String::new(),
    }
}

/// The lines where the counter started again (fell by more than one: a copy of the program a
/// line behind falls by one): (value before, value after).
pub fn restarts(counters: &[(i64, u64)]) -> Vec<(i64, i64)> {
    counters
        .windows(2)
        .filter(|w| w[1].0 + 1 < w[0].0)
        .map(|w| (w[0].0, w[1].0))
        .collect()
}

/// The tenth iterations among `counters` but the last line (what happens at that line may be
/// cut off), by their values. A value printed again by another process (a child running the
/// loop) is the same iteration; printed again after the counter went down (it started
/// again), a new one.
pub fn tens(counters: &[(i64, u64)]) -> Vec<i64> {
    let before_last = counters.len().saturating_sub(1);
    let values: Vec<i64> = counters[..before_last].iter().map(|(v, _)| *v).collect();
    (0..values.len())
        .filter(|&i| values[i] > 0 && values[i] % 10 == 0)
        .filter(|&i| {
            let earlier = &values[..i];
            let since_lower = earlier
                .iter()
                .rposition(|v| *v < values[i])
                .map_or(earlier, |j| &earlier[j + 1..]);
            !since_lower.contains(&values[i])
        })
        .map(|i| values[i])
        .collect()
}

/// How many iterations the counter `values` printed after one showing `reached` make: a value
/// above any before, or a counter that started again (a fall of more than one). Values printed
/// again (by a copy of the program running the loop, or read late) are no new iteration.
pub fn new_iterations(values: impl IntoIterator<Item = i64>, reached: i64) -> usize {
    let (mut top, mut prev, mut count) = (reached, reached, 0);
    for v in values {
        if v > top || v + 1 < prev {
            count += 1;
            top = v;
        }
        prev = v;
    }
    count
}

/// The children that exited without exec: when, how, and what they said.
fn died_before_exec(obs: &Observed, kids: &[&ProcRecord], died: &[&ProcRecord]) -> Failure {
    let at: Vec<String> = died
        .iter()
        .map(|k| obs.counter_at(k.forked).to_string())
        .collect();
    let exits: Vec<String> = died
        .iter()
        .filter_map(|k| k.exited.map(|(_, e)| describe_exit(e)))
        .collect();
    let how = if exits.iter().all(|e| Some(e) == exits.first()) {
        match died {
            [_] => format!("it {}", exits.first().map_or("", String::as_str)),
            _ => format!("each {}", exits.first().map_or("", String::as_str)),
        }
    } else {
        format!("they {}", super::list(&exits))
    };
    // What the first one printed on standard error before the next fork.
    let first = died[0];
    let next_fork = kids.iter().map(|k| k.forked).find(|f| *f > first.forked);
    let said = obs
        .stderr_between(first.forked, next_fork)
        .into_iter()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map_or_else(String::new, |l| {
            let whose = if died.len() == 1 {
                "its"
            } else {
                "the first one's"
            };
            format!(
                " ({whose} last line on standard error: {})",
                quote(l.trim())
            )
        });
    let whom = match died {
        [one] => format!("the child forked at counter {} (pid {})", at[0], one.pid),
        _ => format!(
            "the {} children forked at counter {}",
            died.len(),
            super::list(&at)
        ),
    };
    Failure::fail(format!(
        "{whom} died before exec: {how} without becoming `ls -l`{said}{}; {}",
        restarted(obs),
        if obs.python {
            "os.execvp raises an exception instead of running the program when it cannot (an empty argument list or an empty first element, the program's name, for one): call os.execvp(\"ls\", [\"ls\", \"-l\"])"
        } else {
            "an exec that returns has failed: check the program's name and the argument list, which starts with the program's name and ends with NULL: execlp(\"ls\", \"ls\", \"-l\", (char *)NULL)"
        }
    ))
}

/// One child that exec'd: the program must be `ls -l`, and it must fork nothing itself.
fn became_ls(obs: &Observed, kid: &ProcRecord) -> Result<(), Failure> {
    let forked_at = obs.counter_at(kid.forked);
    let Some(exec) = kid.execs.first() else {
        return Ok(());
    };
    let words: Vec<&str> = exec.command.split_whitespace().collect();
    let program = words
        .first()
        .map_or("", |w| w.rsplit('/').next().unwrap_or(w));
    let long = words
        .get(1..)
        .unwrap_or(&[])
        .iter()
        .any(|w| w.starts_with('-') && !w.starts_with("--") && w.contains('l'));
    // Only the name is known when the child was gone before its command line was read (the
    // listing, checked after, shows what it ran).
    let only_comm = program == "[ls]" || exec.command == UNKNOWN;
    ensure!(
        (program == "ls" && long) || only_comm,
        "the child forked at counter {forked_at} (pid {}) became {}; expected `ls -l`",
        kid.pid,
        quote(&exec.command)
    );
    if let Some(grandchild) = obs.procs.iter().find(|p| p.parent == kid.pid) {
        fail!(
            "the child forked at counter {forked_at} forked again ({}): only the counting process should fork",
            obs.name(grandchild)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{new_iterations, restarts, tens};

    fn lines(values: impl IntoIterator<Item = i64>) -> Vec<(i64, u64)> {
        values.into_iter().map(|v| (v, 0)).collect()
    }

    #[test]
    fn tenth_iterations_by_value_and_by_restart() {
        assert_eq!(tens(&lines(1..=25)), vec![10, 20]);
        // The last line is not judged.
        assert_eq!(tens(&lines(1..=20)), vec![10]);
        // A child running the loop prints 20 too: one iteration.
        let copies: Vec<i64> = (1..=19).chain([20, 20, 21, 21, 22]).collect();
        assert_eq!(tens(&lines(copies)), vec![10, 20]);
        // Started again at 1 after each fork: each 10 is an iteration of its own.
        let again: Vec<i64> = (1..=10).chain(1..=10).chain(1..=5).collect();
        assert_eq!(tens(&lines(again.clone())), vec![10, 10]);
        assert_eq!(restarts(&lines(again)), vec![(10, 1), (10, 1)]);
        assert!(restarts(&lines(1..=25)).is_empty());
    }

    #[test]
    fn iterations_after_a_value() {
        assert_eq!(new_iterations(21..=25, 20), 5);
        // A copy of the program prints 26 before the parent's 25 is read.
        assert_eq!(new_iterations([25, 26, 26, 25, 26], 25), 1);
        // Started again at 1 after 10.
        assert_eq!(new_iterations([1, 2, 3], 10), 3);
        assert_eq!(new_iterations([], 10), 0);
    }
}
