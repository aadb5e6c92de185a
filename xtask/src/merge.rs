//! `cargo xtask merge results/*.json`: joins the JSON reports of a class graded in slices
//! (`--partition K/N`) into one gradebook, the same as grading the class in one run.

use anyhow::Context;
use harness::report::{self, Format};
use harness::result::SubmissionResult;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Merge {
    /// JSON reports (each one object or an array of them).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The merged report's format.
    #[arg(long, value_enum, default_value = "csv")]
    format: Format,
}

impl Merge {
    pub fn run(&self) -> anyhow::Result<()> {
        let mut all: Vec<SubmissionResult> = Vec::new();
        for file in &self.files {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            let value: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", file.display()))?;
            let part: Vec<SubmissionResult> = match value {
                serde_json::Value::Array(_) => serde_json::from_value(value),
                other => serde_json::from_value(other).map(|one| vec![one]),
            }
            .with_context(|| format!("{} is not a sysgrade JSON report", file.display()))?;
            all.extend(part);
        }
        all.sort_by(|a, b| a.submission.cmp(&b.submission));
        let before = all.len();
        all.dedup_by(|a, b| a.submission == b.submission);
        anyhow::ensure!(
            all.len() == before,
            "the same submission appears in two reports: were the slices overlapping?"
        );
        print!("{}", report::render(self.format, &all, false));
        Ok(())
    }
}
