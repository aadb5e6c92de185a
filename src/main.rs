//! `sysgrade`: the grading CLI, installed from the workspace root (`cargo install --path .`).

fn main() {
    harness::cli::main()
}
