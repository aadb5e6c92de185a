//! `--partition auto`: the slice a grading engine gives this job, read from the variables the
//! engine sets. A Kubernetes Indexed Job sets `JOB_COMPLETION_INDEX` (0-based) and the total
//! comes from `SYSGRADE_PARTITIONS` or `--partitions N`; GitLab's `parallel:` sets
//! `CI_NODE_INDEX` (1-based) and `CI_NODE_TOTAL`. Anything missing or inconsistent is refused,
//! naming the variables looked for, so a slice is never guessed.

use super::Partition;

/// Kubernetes Indexed Jobs: this pod's index, 0-based.
pub const K8S_INDEX: &str = "JOB_COMPLETION_INDEX";
/// The number of slices, for engines that give only an index (Kubernetes).
pub const TOTAL: &str = "SYSGRADE_PARTITIONS";
/// GitLab `parallel:`: this job's index, 1-based.
pub const GITLAB_INDEX: &str = "CI_NODE_INDEX";
/// GitLab `parallel:`: the number of jobs.
pub const GITLAB_TOTAL: &str = "CI_NODE_TOTAL";

/// What `--partition` was given: a fixed slice `K/N`, or `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PartitionArg {
    Fixed(Partition),
    Auto,
}

impl std::str::FromStr for PartitionArg {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if s.trim() == "auto" {
            return Ok(PartitionArg::Auto);
        }
        s.parse()
            .map(PartitionArg::Fixed)
            .map_err(|e| format!("{e} (or `auto`: the slice from the engine's variables)"))
    }
}

/// Why `--partition auto` found no slice. Each message names what was looked for.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum AutoError {
    #[error("--partition auto found no slice: none of {K8S_INDEX} (Kubernetes Indexed Job, with {TOTAL} or --partitions N), or {GITLAB_INDEX} and {GITLAB_TOTAL} (GitLab parallel) is set")]
    NoneSet,
    #[error("--partition auto: {name}={value:?} is not a whole number")]
    NotANumber { name: &'static str, value: String },
    #[error("--partition auto: {K8S_INDEX} is set but the number of slices is not: set {TOTAL} to the Job's completions, or pass --partitions N")]
    NoTotal,
    #[error(
        "--partition auto: {GITLAB_INDEX} and {GITLAB_TOTAL} go together, but only {0} is set"
    )]
    HalfGitlab(&'static str),
    #[error("--partition auto: {0}")]
    Inconsistent(String),
    #[error("--partitions N goes with --partition auto; --partition K/N already says N")]
    PartitionsWithFixed,
}

/// A slice and where it came from, for the log: `slice 2/4 (JOB_COMPLETION_INDEX=1,
/// SYSGRADE_PARTITIONS=4)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    pub partition: Partition,
    pub from: String,
}

/// The slice `arg` means. `partitions` is `--partitions N`; `var` reads the environment
/// (`std::env::var` in the CLI, a table in tests). `None` when no `--partition` was given.
pub fn resolve(
    arg: Option<PartitionArg>,
    partitions: Option<u64>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Resolved>, AutoError> {
    match (arg, partitions) {
        (None, _) => Ok(None),
        (Some(PartitionArg::Fixed(_)), Some(_)) => Err(AutoError::PartitionsWithFixed),
        (Some(PartitionArg::Fixed(p)), None) => Ok(Some(Resolved {
            partition: p,
            from: format!("--partition {}/{}", p.k, p.n),
        })),
        (Some(PartitionArg::Auto), given) => auto(given, var).map(Some),
    }
}

/// A variable's value, unset when empty or absent.
fn read(
    var: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Option<(&'static str, String)> {
    var(name)
        .map(|v| v.trim().to_string())
        .filter(|v| !v.is_empty())
        .map(|v| (name, v))
}

fn number(read: &(&'static str, String)) -> Result<u64, AutoError> {
    read.1.parse().map_err(|_| AutoError::NotANumber {
        name: read.0,
        value: read.1.clone(),
    })
}

fn auto(given: Option<u64>, var: &dyn Fn(&str) -> Option<String>) -> Result<Resolved, AutoError> {
    let k8s = kubernetes(given, var)?;
    let gitlab = gitlab(given, var)?;
    match (k8s, gitlab) {
        (None, None) => Err(AutoError::NoneSet),
        (Some(a), Some(b)) if a.partition != b.partition => Err(AutoError::Inconsistent(format!(
            "the Kubernetes variables say {} but GitLab's say {}",
            a.from, b.from
        ))),
        (Some(one), _) | (None, Some(one)) => Ok(one),
    }
}

/// `JOB_COMPLETION_INDEX` (0-based) with the total from `SYSGRADE_PARTITIONS` or
/// `--partitions`; both given must agree.
fn kubernetes(
    given: Option<u64>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Resolved>, AutoError> {
    let Some(index) = read(var, K8S_INDEX) else {
        return Ok(None);
    };
    let i = number(&index)?;
    let total = read(var, TOTAL);
    let n = match (total.as_ref().map(number).transpose()?, given) {
        (None, None) => return Err(AutoError::NoTotal),
        (Some(a), Some(b)) if a != b => {
            return Err(AutoError::Inconsistent(format!(
                "{TOTAL}={a} but --partitions {b}"
            )))
        }
        (Some(n), _) | (None, Some(n)) => n,
    };
    let from = match total {
        Some(_) => format!("{K8S_INDEX}={i}, {TOTAL}={n}"),
        None => format!("{K8S_INDEX}={i}, --partitions {n}"),
    };
    slice(i.checked_add(1), n, from).map(Some)
}

/// `CI_NODE_INDEX` (1-based) and `CI_NODE_TOTAL`; `--partitions`, if given, must agree.
fn gitlab(
    given: Option<u64>,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Resolved>, AutoError> {
    let (index, total) = match (read(var, GITLAB_INDEX), read(var, GITLAB_TOTAL)) {
        (None, None) => return Ok(None),
        (Some(_), None) => return Err(AutoError::HalfGitlab(GITLAB_INDEX)),
        (None, Some(_)) => return Err(AutoError::HalfGitlab(GITLAB_TOTAL)),
        (Some(i), Some(t)) => (number(&i)?, number(&t)?),
    };
    if let Some(b) = given.filter(|b| *b != total) {
        return Err(AutoError::Inconsistent(format!(
            "{GITLAB_TOTAL}={total} but --partitions {b}"
        )));
    }
    slice(
        Some(index),
        total,
        format!("{GITLAB_INDEX}={index}, {GITLAB_TOTAL}={total}"),
    )
    .map(Some)
}

/// Slice `k` (1-based) of `n`, or why the variables do not make one.
fn slice(k: Option<u64>, n: u64, from: String) -> Result<Resolved, AutoError> {
    match k {
        Some(k) if n > 0 && (1..=n).contains(&k) => Ok(Resolved {
            partition: Partition { k, n },
            from,
        }),
        _ => Err(AutoError::Inconsistent(format!(
            "{from} is no slice: the index is outside the {n} slices"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        }
    }

    fn auto_with(pairs: &[(&str, &str)], given: Option<u64>) -> Result<Partition, AutoError> {
        let var = env(pairs);
        resolve(Some(PartitionArg::Auto), given, &var)
            .map(|r| r.expect("a partition was asked for").partition)
    }

    const fn p(k: u64, n: u64) -> Partition {
        Partition { k, n }
    }

    #[test]
    fn the_argument_is_k_of_n_or_auto() {
        assert_eq!("auto".parse(), Ok(PartitionArg::Auto));
        assert_eq!("2/3".parse(), Ok(PartitionArg::Fixed(p(2, 3))));
        let wrong = "automatic".parse::<PartitionArg>().unwrap_err();
        assert!(wrong.contains("or `auto`"), "{wrong}");
        assert!("0/3".parse::<PartitionArg>().is_err());
    }

    #[test]
    fn kubernetes_index_is_0_based_with_its_total_from_either_place() {
        let k8s = [(K8S_INDEX, "0"), (TOTAL, "4")];
        assert_eq!(auto_with(&k8s, None), Ok(p(1, 4)));
        assert_eq!(auto_with(&k8s, Some(4)), Ok(p(1, 4)));
        assert_eq!(auto_with(&[(K8S_INDEX, "3")], Some(4)), Ok(p(4, 4)));
        let var = env(&k8s);
        let said = resolve(Some(PartitionArg::Auto), None, &var).unwrap();
        assert_eq!(
            said.map(|r| r.from).as_deref(),
            Some("JOB_COMPLETION_INDEX=0, SYSGRADE_PARTITIONS=4")
        );
    }

    #[test]
    fn gitlab_index_is_1_based() {
        let gitlab = [(GITLAB_INDEX, "2"), (GITLAB_TOTAL, "3")];
        assert_eq!(auto_with(&gitlab, None), Ok(p(2, 3)));
        assert_eq!(auto_with(&gitlab, Some(3)), Ok(p(2, 3)));
    }

    #[test]
    fn nothing_set_is_refused_naming_every_variable() {
        let e = auto_with(&[(K8S_INDEX, ""), ("HOME", "/root")], None).unwrap_err();
        assert_eq!(e, AutoError::NoneSet);
        let text = e.to_string();
        for name in [K8S_INDEX, TOTAL, GITLAB_INDEX, GITLAB_TOTAL] {
            assert!(text.contains(name), "{text}");
        }
    }

    #[test]
    fn missing_halves_and_bad_numbers_are_refused() {
        assert_eq!(
            auto_with(&[(K8S_INDEX, "1")], None),
            Err(AutoError::NoTotal)
        );
        assert_eq!(
            auto_with(&[(GITLAB_INDEX, "1")], None),
            Err(AutoError::HalfGitlab(GITLAB_INDEX))
        );
        assert_eq!(
            auto_with(&[(GITLAB_TOTAL, "4")], None),
            Err(AutoError::HalfGitlab(GITLAB_TOTAL))
        );
        assert_eq!(
            auto_with(&[(K8S_INDEX, "one"), (TOTAL, "4")], None),
            Err(AutoError::NotANumber {
                name: K8S_INDEX,
                value: "one".into()
            })
        );
        assert!(auto_with(&[(K8S_INDEX, "-1"), (TOTAL, "4")], None).is_err());
    }

    #[test]
    fn inconsistent_values_are_refused() {
        let inconsistent =
            |r: Result<Partition, AutoError>| matches!(r, Err(AutoError::Inconsistent(_)));
        // An index past the end, 0 of GitLab's 1-based index, no slices at all.
        assert!(inconsistent(auto_with(
            &[(K8S_INDEX, "4"), (TOTAL, "4")],
            None
        )));
        assert!(inconsistent(auto_with(
            &[(GITLAB_INDEX, "0"), (GITLAB_TOTAL, "4")],
            None
        )));
        assert!(inconsistent(auto_with(
            &[(K8S_INDEX, "0"), (TOTAL, "0")],
            None
        )));
        // The total said twice, differently.
        assert!(inconsistent(auto_with(
            &[(K8S_INDEX, "0"), (TOTAL, "4")],
            Some(3)
        )));
        assert!(inconsistent(auto_with(
            &[(GITLAB_INDEX, "1"), (GITLAB_TOTAL, "4")],
            Some(3)
        )));
        // Both engines' variables, naming different slices; the same slice is accepted.
        let both = |gitlab: &'static str| {
            [
                (K8S_INDEX, "0"),
                (TOTAL, "2"),
                (GITLAB_INDEX, gitlab),
                (GITLAB_TOTAL, "2"),
            ]
        };
        assert!(inconsistent(auto_with(&both("2"), None)));
        assert_eq!(auto_with(&both("1"), None), Ok(p(1, 2)));
    }

    #[test]
    fn a_fixed_slice_ignores_the_environment_and_refuses_partitions() {
        let var = env(&[(K8S_INDEX, "0"), (TOTAL, "4")]);
        let fixed = Some(PartitionArg::Fixed(p(2, 3)));
        assert_eq!(
            resolve(fixed, None, &var).unwrap().map(|r| r.partition),
            Some(p(2, 3))
        );
        assert_eq!(
            resolve(fixed, Some(3), &var),
            Err(AutoError::PartitionsWithFixed)
        );
        assert_eq!(resolve(None, None, &var), Ok(None));
    }
}
