//! `cargo xtask snapshots [--check]`: the insta snapshots in `snapshots/` are written by the
//! integration tests; this runs them with insta told to accept (or, with `--check`, to fail
//! on any change, as CI does).

use anyhow::Context;
use std::process::Command;

#[derive(clap::Args)]
pub struct Snapshots {
    /// Fail when a snapshot differs instead of rewriting it.
    #[arg(long)]
    check: bool,
}

impl Snapshots {
    pub fn run(&self) -> anyhow::Result<()> {
        let mode = if self.check { "no" } else { "always" };
        // `snapshot::…` holds the reference's output and the complete reports; the fixture
        // trials (`fixtures::…`) pin each single-defect fixture's feedback.
        let mut ok = true;
        for filter in ["snapshot", "fixtures::"] {
            let status = Command::new(env!("CARGO"))
                .current_dir(crate::workspace_root())
                .args(["test", "--test", "integration", "--", filter])
                .env("INSTA_UPDATE", mode)
                .env("INSTA_FORCE_PASS", if self.check { "0" } else { "1" })
                .status()
                .context("running cargo test")?;
            ok &= status.success();
        }
        anyhow::ensure!(
            ok,
            "snapshot tests failed{}",
            if self.check {
                ": run `cargo xtask snapshots` and review the diff"
            } else {
                ""
            }
        );
        if !self.check {
            println!("snapshots regenerated in snapshots/: review with `git diff snapshots/` (or `cargo insta review`) and commit");
        }
        Ok(())
    }
}
