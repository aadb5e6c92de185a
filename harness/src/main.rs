//! `harness`: the grading CLI (the same `grade` as `cargo xtask grade`).

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "harness",
    version,
    about = "Grade systems-programming submissions"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Grade submission folders.
    Grade(harness::cli::GradeArgs),
}

fn main() {
    harness::sandbox::supervisor::dispatch();
    let cli = Cli::parse();
    let code = match cli.command {
        Cmd::Grade(args) => harness::cli::grade(&args, harness::Settings::from_env()),
    };
    std::process::exit(code);
}
