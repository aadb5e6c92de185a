//! The Kubernetes and CI examples, read as the engines read them: every YAML document parses,
//! and the command lines they run parse with `sysgrade`'s own clap definitions, with the
//! slices, outputs and merge inputs consistent with each other.

use crate::support::{self, Outcome};
use clap::{Args, FromArgMatches};
use harness::class::auto::{self, PartitionArg};
use harness::cli::exit::ExitStatus;
use harness::cli::{GradeArgs, MergeArgs};
use harness::report::Format;
use libtest_mimic::{Failed, Trial};
use std::collections::BTreeSet;
use yaml_rust2::{Yaml, YamlLoader};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("engines::examples::k8s_jobs_match_the_cli", k8s),
        Trial::test("engines::examples::ci_uses_the_engine_flags", ci),
    ]
}

/// Every document of `examples/<rel>`.
fn docs(rel: &str) -> Result<Vec<Yaml>, Failed> {
    let text = std::fs::read_to_string(support::root().join("examples").join(rel))?;
    YamlLoader::load_from_str(&text).map_err(|e| format!("{rel}: {e}").into())
}

/// `sysgrade grade ARGS…` parsed by the CLI's own definition.
fn grade_args(args: &[String]) -> Result<GradeArgs, Failed> {
    let cmd = GradeArgs::augment_args(clap::Command::new("grade").no_binary_name(true));
    let matches = cmd
        .try_get_matches_from(args)
        .map_err(|e| format!("sysgrade grade {args:?}: {e}"))?;
    Ok(GradeArgs::from_arg_matches(&matches)?)
}

fn merge_args(args: &[String]) -> Result<MergeArgs, Failed> {
    let cmd = MergeArgs::augment_args(clap::Command::new("merge").no_binary_name(true));
    let matches = cmd
        .try_get_matches_from(args)
        .map_err(|e| format!("sysgrade merge {args:?}: {e}"))?;
    Ok(MergeArgs::from_arg_matches(&matches)?)
}

fn strings(y: &Yaml) -> Vec<String> {
    y.as_vec()
        .map(|v| {
            v.iter()
                .filter_map(|s| s.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// The document whose `kind` and `metadata.name` are these.
fn find<'a>(all: &'a [Yaml], kind: &str, name: &str) -> Result<&'a Yaml, Failed> {
    all.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .ok_or_else(|| format!("no {kind} {name}").into())
}

/// The engine's settings the grader must agree with, or what is wrong.
fn check(ok: bool, what: &str) -> Outcome {
    if ok {
        Ok(())
    } else {
        Err(what.into())
    }
}

/// Kubernetes' `$(VAR)` expansion of an argument, for one pod.
fn expand(arg: &str, index: u64) -> String {
    arg.replace("$(JOB_COMPLETION_INDEX)", &index.to_string())
}

/// The Indexed Job: its args parse as `grade --partition auto --exit-status report --format
/// json --output …`; each index resolves (with the Job's env) to a distinct slice of
/// `completions`; each pod's output is distinct, on the results mount, and matched by the
/// merge Job's glob; the volume claims exist.
fn k8s() -> Outcome {
    let mut all = docs("k8s/grade-job.yaml")?;
    all.extend(docs("k8s/merge-job.yaml")?);
    all.extend(docs("k8s/volume.yaml")?);
    let job = find(&all, "Job", "sysgrade-grade")?;
    let spec = &job["spec"];
    check(
        spec["completionMode"].as_str() == Some("Indexed"),
        "the grading Job is not Indexed",
    )?;
    let completions = spec["completions"].as_i64().ok_or("no completions")? as u64;
    let pod = &spec["template"]["spec"];
    let container = &pod["containers"][0];
    check(
        strings(&container["command"]) == ["sysgrade", "grade"],
        "the container does not run `sysgrade grade`",
    )?;
    let args = strings(&container["args"]);
    let parsed = grade_args(&args)?;
    check(
        parsed.partition == Some(PartitionArg::Auto),
        "not --partition auto",
    )?;
    check(
        parsed.exit_status == ExitStatus::Report,
        "not --exit-status report",
    )?;
    check(parsed.format == Format::Json, "not --format json")?;
    let env: Vec<(String, String)> = container["env"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(|e| {
            Some((
                e["name"].as_str()?.to_string(),
                e["value"].as_str()?.to_string(),
            ))
        })
        .collect();
    let output = parsed.output.ok_or("no --output")?.display().to_string();
    let mounts = container["volumeMounts"]
        .as_vec()
        .cloned()
        .unwrap_or_default();
    let under_mount = |path: &str, writable: bool| {
        mounts.iter().any(|m| {
            m["mountPath"]
                .as_str()
                .is_some_and(|p| path.starts_with(&format!("{p}/")))
                && (!writable || m["readOnly"].as_bool() != Some(true))
        })
    };
    check(
        under_mount(&output, true),
        "--output is not on a writable mount",
    )?;
    for dir in &parsed.dirs {
        check(
            under_mount(&dir.display().to_string(), false),
            "the class is not on a mount",
        )?;
    }
    let mut slices = BTreeSet::new();
    let mut outputs = BTreeSet::new();
    for index in 0..completions {
        let var = |name: &str| match name {
            auto::K8S_INDEX => Some(index.to_string()),
            _ => env.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()),
        };
        let resolved =
            auto::resolve(parsed.partition, parsed.partitions, &var)?.ok_or("no slice")?;
        check(
            resolved.partition.n == completions,
            "SYSGRADE_PARTITIONS is not the Job's completions",
        )?;
        slices.insert(resolved.partition.k);
        outputs.insert(expand(&output, index));
    }
    check(
        slices.len() as u64 == completions && outputs.len() as u64 == completions,
        "pods share a slice or an output",
    )?;
    merge_reads(&all, &outputs)?;
    for claim in all.iter().flat_map(|d| {
        d["spec"]["template"]["spec"]["volumes"]
            .as_vec()
            .cloned()
            .unwrap_or_default()
    }) {
        let name = claim["persistentVolumeClaim"]["claimName"]
            .as_str()
            .unwrap_or_default();
        find(&all, "PersistentVolumeClaim", name)?;
    }
    Ok(())
}

/// The merge Job's `sysgrade merge` commands (in `sh -c`) parse, and their glob matches
/// every grading pod's output and nothing else of the form.
fn merge_reads(all: &[Yaml], outputs: &BTreeSet<String>) -> Outcome {
    let job = find(all, "Job", "sysgrade-merge")?;
    let command = strings(&job["spec"]["template"]["spec"]["containers"][0]["command"]);
    let script = match command.as_slice() {
        [sh, c, script] if sh == "sh" && c == "-c" => script.clone(),
        _ => return Err(format!("the merge Job runs {command:?}, not sh -c").into()),
    };
    let mut merges = 0;
    for part in script.split("&&") {
        let words: Vec<String> = part
            .split('>')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .map(String::from)
            .collect();
        let [sysgrade, merge, rest @ ..] = words.as_slice() else {
            continue;
        };
        check(
            sysgrade == "sysgrade" && merge == "merge",
            "a merge step is not `sysgrade merge`",
        )?;
        let parsed = merge_args(rest)?;
        for glob in &parsed.files {
            let glob = glob.display().to_string();
            let (head, tail) = glob.split_once('*').ok_or("the merge reads no glob")?;
            let matched = outputs
                .iter()
                .all(|o| o.starts_with(head) && o.ends_with(tail));
            check(
                matched,
                &format!("{glob} does not match every slice: {outputs:?}"),
            )?;
        }
        merges += 1;
    }
    check(merges >= 1, "the merge Job runs no `sysgrade merge`")
}

/// The `sysgrade grade` command of a CI script: the words from `sysgrade grade` on, quotes
/// and line continuations removed.
fn grade_command(script: &str) -> Option<Vec<String>> {
    let start = ["sysgrade\" grade", "sysgrade grade"]
        .iter()
        .find_map(|m| script.find(m).map(|i| i + m.len()))?;
    let joined = script[start..].replace("\\\n", " ");
    let line = joined.lines().next()?;
    Some(
        line.split_whitespace()
            .map(|w| w.trim_matches('"').to_string())
            .collect(),
    )
}

/// GitLab: `--partition auto` under `parallel`; GitHub: `K/N` over the matrix (it gives a
/// job no index), each matrix value a distinct slice of N = the matrix's length. Both with
/// `--exit-status report --format json --output`.
fn ci() -> Outcome {
    let gitlab = &docs("ci/gitlab-ci.yml")?[0];
    let job = &gitlab["grade"];
    check(
        job["parallel"].as_i64().is_some(),
        "the GitLab grade job is not parallel",
    )?;
    let script = strings(&job["script"]).join("\n");
    let args = grade_command(&script).ok_or("no sysgrade grade in GitLab's script")?;
    let parsed = grade_args(&args)?;
    check(
        parsed.partition == Some(PartitionArg::Auto),
        "GitLab: not --partition auto",
    )?;
    engine_flags(&parsed, "GitLab")?;

    let github = &docs("ci/github-actions.yml")?[0];
    let job = &github["jobs"]["grade"];
    let matrix: Vec<i64> = job["strategy"]["matrix"]["slice"]
        .as_vec()
        .into_iter()
        .flatten()
        .filter_map(Yaml::as_i64)
        .collect();
    let step = job["steps"]
        .as_vec()
        .into_iter()
        .flatten()
        .find_map(|s| s["run"].as_str().filter(|r| r.contains("sysgrade\" grade")))
        .ok_or("no grading step")?;
    let mut slices = BTreeSet::new();
    for value in &matrix {
        let run = step.replace("${{ matrix.slice }}", &value.to_string());
        let parsed = grade_args(&grade_command(&run).ok_or("no sysgrade grade in the step")?)?;
        engine_flags(&parsed, "GitHub")?;
        match parsed.partition {
            Some(PartitionArg::Fixed(p)) if p.n == matrix.len() as u64 => slices.insert(p.k),
            other => {
                return Err(
                    format!("GitHub slice {value}: {other:?}, not K/{}", matrix.len()).into(),
                )
            }
        };
    }
    check(
        slices.len() == matrix.len() && !matrix.is_empty(),
        "GitHub's matrix does not give distinct slices",
    )
}

fn engine_flags(parsed: &GradeArgs, engine: &str) -> Outcome {
    check(
        parsed.exit_status == ExitStatus::Report
            && parsed.format == Format::Json
            && parsed.output.is_some(),
        &format!("{engine}: not --exit-status report --format json --output"),
    )
}
