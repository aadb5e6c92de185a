//! `cargo xtask bench --html N`: the HTML report of a class of N: one submission graded once
//! (transcripts kept, as `--format html` grades), its result copied N times under N names,
//! rendered; prints the page's size and how long headless Chromium takes to load it (minus
//! the time it takes to load an empty page). The page is kept in `target/html-artifacts/`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

pub fn run(
    settings: &harness::Settings,
    dir: &Path,
    exercises: &[String],
    n: usize,
) -> anyhow::Result<()> {
    let mut settings = settings.clone();
    settings.keep_transcripts = true;
    let request = harness::grading::Request {
        submissions: vec![dir.to_path_buf()],
        exercises: harness::cli::select(exercises)?,
        ..Default::default()
    };
    println!(
        "bench: HTML report of a class of {n} copies of {}",
        dir.display()
    );
    let mut results = harness::grading::grade(&settings, &request, &mut |_| {})?;
    let one = results.pop().ok_or_else(|| anyhow::anyhow!("no result"))?;
    let class: Vec<_> = (0..n)
        .map(|i| {
            let mut r = one.clone();
            r.submission = format!("class/student{i:03}");
            r
        })
        .collect();
    let rendering = Instant::now();
    let html = harness::report::render(harness::report::Format::Html, &class, false);
    let render_s = rendering.elapsed().as_secs_f64();
    let out = crate::workspace_root().join("target/html-artifacts");
    std::fs::create_dir_all(&out)?;
    let page = out.join(format!("class-{n}.html"));
    std::fs::write(&page, &html)?;
    let empty = out.join("empty.html");
    std::fs::write(&empty, "<!DOCTYPE html><title>empty</title>")?;
    println!(
        "page: {} ({:.2} MB), rendered in {render_s:.2} s",
        page.display(),
        html.len() as f64 / 1e6
    );
    let Some(chromium) = harness::settings::which("chromium") else {
        println!("chromium not installed: load time not measured (apt-get install -y chromium)");
        return Ok(());
    };
    let base = median_load(&chromium, &empty)?;
    let full = median_load(&chromium, &page)?;
    println!(
        "headless Chromium load (median of 3, --dump-dom): {full:.2} s; an empty page {base:.2} s; difference {:.2} s",
        full - base
    );
    Ok(())
}

fn median_load(chromium: &Path, page: &Path) -> anyhow::Result<f64> {
    let mut times = Vec::new();
    for _ in 0..3 {
        let start = Instant::now();
        let status = Command::new(chromium)
            .args(["--headless", "--no-sandbox", "--disable-gpu", "--dump-dom"])
            .arg(format!("file://{}", page.display()))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()?;
        anyhow::ensure!(status.success(), "chromium failed on {}", page.display());
        times.push(start.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    Ok(times[1])
}
