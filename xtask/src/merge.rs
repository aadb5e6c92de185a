//! `cargo xtask merge results/*.json`: joins the JSON reports of a class graded in slices
//! (`--partition K/N`) into one gradebook, the same as grading the class in one run.

use anyhow::Context;
use harness::report::{self, Format};
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
        let mut reports = Vec::new();
        for file in &self.files {
            let text = std::fs::read_to_string(file)
                .with_context(|| format!("reading {}", file.display()))?;
            reports.push((file.display().to_string(), text));
        }
        let all = harness::merge::join(&reports).map_err(anyhow::Error::msg)?;
        print!("{}", report::render(self.format, &all, false));
        Ok(())
    }
}
