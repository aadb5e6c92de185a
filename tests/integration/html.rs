//! The HTML report (`--format html`) in a real browser: headless Chromium loads each page
//! from disk, runs its script under its own Content-Security-Policy, and the DOM it ends with
//! is checked (bars per child, a zombie drawn as one, images shown, no console message, no
//! injected script run). Without `chromium` the browser checks are skipped (required with
//! SYSGRADE_REQUIRE_TOOLS). Pages and screenshots go to `target/html-artifacts/`.
//! Snapshots (`snapshot::html::…`) pin the page with transcripts left out (their timing
//! varies) and the drawings' x coordinates redacted.

use crate::snapshots::lacks_tools;
use crate::support::{self, Outcome};
use harness::report::{self, Format};
use harness::result::SubmissionResult;
use libtest_mimic::{Failed, Trial};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, OnceLock};

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test("html::fork_exec_one_bar_per_child", fork_exec_bars),
        Trial::test("html::zombie_drawn_as_one", zombie),
        Trial::test("html::image_fifo_shows_its_frames", images),
        Trial::test("html::missed_deadline_drawn", missed_deadline),
        Trial::test("html::class_overview_links_each_student", class),
        Trial::test("snapshot::html::good-python::fork_exec", || {
            snapshot("good-python", "fork_exec")
        }),
        Trial::test("snapshot::html::fork-exec-no-wait", || {
            snapshot("fork-exec-no-wait", "fork_exec")
        }),
        Trial::test("hostile::html_output_stays_text", hostile),
        Trial::test("hostile::html_flood_is_capped", flood),
    ]
}

type Graded = Arc<Result<SubmissionResult, String>>;

/// Each fixture graded once (with transcripts, as `--format html` grades) for every trial.
fn graded(fixture: &str, exercise: &str) -> Result<SubmissionResult, Failed> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<OnceLock<Graded>>>>> = OnceLock::new();
    let key = format!("{fixture}/{exercise}");
    let cell = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .entry(key)
        .or_default()
        .clone();
    let result = cell.get_or_init(|| {
        let mut settings = support::settings();
        settings.keep_transcripts = true;
        let dir = support::root().join("fixtures").join(fixture);
        Arc::new(support::grade_dir(&settings, &dir, &[exercise]))
    });
    (**result).clone().map_err(Failed::from)
}

fn artifacts() -> PathBuf {
    support::root().join("target/html-artifacts")
}

/// Writes the page of `result` as `artifacts/<name>.html`.
fn page(name: &str, result: &SubmissionResult) -> Result<(PathBuf, String), Failed> {
    let html = report::render(Format::Html, std::slice::from_ref(result), false);
    std::fs::create_dir_all(artifacts())?;
    let path = artifacts().join(format!("{name}.html"));
    std::fs::write(&path, &html)?;
    Ok((path, html))
}

/// `Ok(None)` when chromium is missing here (noted; an error in CI).
fn chromium() -> Result<Option<PathBuf>, Failed> {
    match harness::settings::which("chromium") {
        Some(path) => Ok(Some(path)),
        None if support::skip_missing("chromium", "apt-get install -y chromium")? => Ok(None),
        None => Err("chromium is missing".into()),
    }
}

fn headless(chromium: &Path) -> Command {
    let mut c = Command::new("timeout");
    c.arg("120").arg(chromium).args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--enable-logging=stderr",
        "--v=0",
        "--virtual-time-budget=3000",
    ]);
    c
}

/// The DOM of `page` after its scripts ran, and a screenshot beside it (`.png`). Fails on
/// any console message (an error, a CSP violation) and when the page's script did not run.
fn browse(chromium: &Path, page: &Path) -> Result<String, Failed> {
    browse_at(chromium, page, "")
}

/// [`browse`], the page opened at `fragment` (`#sort=…`).
fn browse_at(chromium: &Path, page: &Path, fragment: &str) -> Result<String, Failed> {
    let url = format!("file://{}{fragment}", page.display());
    let out = headless(chromium).arg("--dump-dom").arg(&url).output()?;
    let log = String::from_utf8_lossy(&out.stderr);
    let dom = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("chromium failed ({}): {log}", out.status).into());
    }
    let console: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught") || l.contains("Refused to"))
        .collect();
    if !console.is_empty() {
        return Err(format!(
            "console messages in {}:\n{}",
            page.display(),
            console.join("\n")
        )
        .into());
    }
    if !dom.contains("data-ready=\"1\"") {
        return Err(format!(
            "the page's script did not run (CSP hash?): {}",
            page.display()
        )
        .into());
    }
    let shot = page.with_extension("png");
    let out = headless(chromium)
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1000,1600")
        .arg(&url)
        .output()?;
    if !out.status.success() || !shot.exists() {
        return Err(format!("no screenshot: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(dom)
}

/// How many elements carry exactly `class` in `dom`.
fn count(dom: &str, class: &str) -> usize {
    dom.matches(&format!("class=\"{class}\"")).count()
}

/// The children of the program in the runs of `result` (processes whose parent was
/// followed): in all distinct runs (a shared run, in each of its scenarios, is drawn once),
/// and the most in one run.
fn children(result: &SubmissionResult) -> (usize, usize) {
    let mut runs: Vec<&harness::run::RunRecord> = Vec::new();
    for e in &result.exercises {
        let first = runs.len();
        for run in e.scenarios.iter().flat_map(|s| &s.runs) {
            let seen = runs[first..]
                .iter()
                .any(|r| r.label == run.label && r.transcript == run.transcript);
            if !seen {
                runs.push(run);
            }
        }
    }
    let child = |p: &harness::run::ProcessSpan, all: &[harness::run::ProcessSpan]| {
        all.iter().any(|q| q.pid == p.parent)
    };
    let per_run: Vec<usize> = runs
        .iter()
        .map(|r| {
            r.processes
                .iter()
                .filter(|p| child(p, &r.processes))
                .count()
        })
        .collect();
    let drawn = per_run.iter().sum();
    let distinct = per_run.iter().copied().max().unwrap_or(0);
    (drawn, distinct)
}

fn fork_exec_bars() -> Outcome {
    if lacks_tools("fork_exec")? {
        return Ok(());
    }
    let result = graded("good-python", "fork_exec")?;
    let (drawn, per_run) = children(&result);
    // The catalogue: a child per ten counts; the scenario counts to 25 at least.
    if per_run < 2 {
        return Err(format!("expected at least 2 children in a run, recorded {per_run}").into());
    }
    let (path, _) = page("fork_exec", &result)?;
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    let bars = count(&dom, "proc child");
    if bars != drawn {
        return Err(format!("{bars} child bars in the page, {drawn} children recorded").into());
    }
    if count(&dom, "zombie unreaped") != 0 {
        return Err("a reaped child is drawn as a zombie never reaped".into());
    }
    Ok(())
}

fn zombie() -> Outcome {
    if lacks_tools("fork_exec")? {
        return Ok(());
    }
    let result = graded("fork-exec-no-wait", "fork_exec")?;
    let (drawn, _) = children(&result);
    let (path, _) = page("fork_exec_zombies", &result)?;
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    let zombies = count(&dom, "zombie unreaped");
    if zombies == 0 || zombies > drawn {
        return Err(format!("{zombies} zombies never reaped drawn, {drawn} children").into());
    }
    Ok(())
}

fn images() -> Outcome {
    let result = graded("good-python", "image_fifo")?;
    let (path, _) = page("image_fifo", &result)?;
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    let shown = dom.matches("<img src=\"data:image/png;base64,").count();
    if shown == 0 {
        return Err("no frame shown in the image_fifo page".into());
    }
    Ok(())
}

/// A first line that comes too late (`procloop-slow-start`): the deadline its timeout rests
/// on is drawn as missed; the passing scenarios' deadlines as met.
fn missed_deadline() -> Outcome {
    let result = graded("procloop-slow-start", "procloop")?;
    let recorded = |met: bool| {
        result
            .exercises
            .iter()
            .flat_map(|e| &e.scenarios)
            .flat_map(|s| &s.runs)
            .flat_map(|r| &r.deadlines)
            .filter(|d| d.met == met)
            .count()
    };
    if recorded(false) == 0 || recorded(true) == 0 {
        return Err(format!(
            "expected deadlines both met and missed, recorded {} met and {} missed",
            recorded(true),
            recorded(false)
        )
        .into());
    }
    let (path, _) = page("procloop_deadlines", &result)?;
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    if count(&dom, "deadline missed") == 0 {
        return Err("no missed deadline drawn for the first line that came too late".into());
    }
    if count(&dom, "waited met") == 0 {
        return Err("no met deadline drawn".into());
    }
    Ok(())
}

/// A class of three (one lost a point): the overview has a row per student, coloured,
/// each linking to a section of the page, and the script that sorts it ran.
fn class() -> Outcome {
    let one = graded("good-python", "image_fifo")?;
    let mut class: Vec<SubmissionResult> = ["ada", "bob", "cy"]
        .iter()
        .map(|name| SubmissionResult {
            submission: format!("class/{name}"),
            ..one.clone()
        })
        .collect();
    let lost = &mut class[1].exercises[0];
    lost.scenarios[0].points = 0;
    lost.scenarios[0].status = harness::outcome::Status::Fail;
    *lost = lost.clone().total();
    class[1] = class[1].clone().total();
    let html = report::render(Format::Html, &class, false);
    std::fs::create_dir_all(artifacts())?;
    let path = artifacts().join("class.html");
    std::fs::write(&path, &html)?;
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    for i in 0..3 {
        let (link, target) = (format!("href=\"#sub-{i}\""), format!("id=\"sub-{i}\""));
        if !dom.contains(&link) || !dom.contains(&target) {
            return Err(format!("student {i}: no link {link} to {target}").into());
        }
    }
    if count(&dom, "partial") + count(&dom, "low") == 0 || count(&dom, "full") < 2 {
        return Err("the overview does not colour the scores apart".into());
    }
    // The sorting script, run as a bookmark runs it: bob (student 1) lost a point of
    // image_fifo, so he comes first sorted up by that column and last sorted down.
    let order = |dom: &str| -> Vec<usize> {
        let mut at: Vec<(usize, usize)> = (0..3)
            .filter_map(|i| dom.find(&format!("href=\"#sub-{i}\"")).map(|p| (p, i)))
            .collect();
        at.sort_unstable();
        at.into_iter().map(|(_, i)| i).collect()
    };
    let unsorted = order(&dom);
    let up = order(&browse_at(&chromium, &path, "#sort=image_fifo")?);
    let down = order(&browse_at(&chromium, &path, "#sort=image_fifo-down")?);
    if unsorted != [0, 1, 2] || up.first() != Some(&1) || down.last() != Some(&1) {
        return Err(format!(
            "sorting by image_fifo: rows {unsorted:?} as rendered, {up:?} up, {down:?} down"
        )
        .into());
    }
    Ok(())
}

/// The page of `fixture` on `exercise`, transcripts left out, x coordinates and times
/// redacted.
fn snapshot(fixture: &str, exercise: &str) -> Outcome {
    if lacks_tools(exercise)? {
        return Ok(());
    }
    let mut result = graded(fixture, exercise)?;
    if support::overloaded(&result) {
        eprintln!("note: the machine was too loaded to judge {fixture}: page not compared");
        return Ok(());
    }
    for run in result
        .exercises
        .iter_mut()
        .flat_map(|e| &mut e.scenarios)
        .flat_map(|s| &mut s.runs)
    {
        run.transcript.clear();
    }
    let html = report::render(Format::Html, &[result], false).replace('>', ">\n");
    let mut settings = support::insta_settings();
    for (pattern, replacement) in [
        // Ticks depend on how long the run took.
        (
            r#"(?m)^<path class="tick".*\n</path>\n(<text class="tick".*\n.*</text>\n)*"#,
            "",
        ),
        (r#"\b(x|x1|x2|width|d)="[^"]*""#, r#"$1="[X]""#),
        (r"\b\d+\.\ds\b", "[T]"),
        (r"(?m)^(\d+) ", "[PID] "),
        (r"\(parent \d+\)", "(parent [PID])"),
        // Which counter a fork is attributed to can differ by one under load.
        (r"forked at counter \d+", "forked at counter [N]"),
        // A short-lived child's command line, or its `[comm]` when it was gone already.
        (r"(ls -l|\[ls\])", "[LS]"),
    ] {
        settings.add_filter(pattern, replacement);
    }
    let name = format!("html__{fixture}__{exercise}");
    settings.bind(|| insta::assert_snapshot!(name, html));
    Ok(())
}

fn hostile() -> Outcome {
    let result = graded("hostile-html", "process")?;
    let (path, html) = page("hostile", &result)?;
    for attack in [
        "<script>window",
        "<img src=x",
        "<svg onload",
        "<a href=\"javascript:",
    ] {
        if html.contains(attack) {
            return Err(format!("`{attack}` reached the page as markup").into());
        }
    }
    if !html.contains("&lt;script&gt;window.__pwned=1") {
        return Err("the program's output is not shown as text".into());
    }
    let Some(chromium) = chromium()? else {
        return Ok(());
    };
    let dom = browse(&chromium, &path)?;
    let root = dom
        .lines()
        .find(|l| l.contains("<html"))
        .unwrap_or_default();
    if root.contains("data-pwned") || dom.contains("data-pwned=\"") {
        return Err(format!("an injected script ran: {root}").into());
    }
    Ok(())
}

fn flood() -> Outcome {
    let result = graded("hostile-flood", "procloop")?;
    let (_, html) = page("flood", &result)?;
    let cap = 2_000_000;
    if html.len() > cap {
        return Err(format!("the page of a flood is {} bytes (cap {cap})", html.len()).into());
    }
    if !html.contains("more lines left out") {
        return Err("the page does not say the flood was cut".into());
    }
    Ok(())
}
