//! `cargo xtask merge results/*.json [--format F]`: joins the JSON reports of a class graded
//! in slices (`--partition K/N`) into one gradebook (the same as `sysgrade merge`).

#[derive(clap::Args)]
pub struct Merge {
    #[command(flatten)]
    args: harness::cli::MergeArgs,
}

impl Merge {
    pub fn run(&self) -> i32 {
        harness::cli::merge(&self.args)
    }
}
