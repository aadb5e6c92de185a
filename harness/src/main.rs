//! `harness`: the grading CLI (the same `grade` as `cargo xtask grade`).

fn main() {
    harness::cli::main()
}
