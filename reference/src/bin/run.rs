//! run (lecture: Subprocess/run.py): prints `i=0` .. `i=9`; with exactly one argument, an
//! integer N, prints `Using command line args` on stderr and then `i=0` .. `i=N-1`. An
//! argument that is not an integer is an error (message on stderr, exit 1).
//!
//! Scenarios: `run.default`, `run.with_arg`, `run.streams`, `run.bad_arg`.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let count: i64 = if let [arg] = args.as_slice() {
        // Like Python's int(): surrounding blanks and a sign are fine.
        let n = arg.trim().parse().unwrap_or_else(|_| {
            eprintln!("run: invalid integer argument {arg:?}");
            std::process::exit(1)
        });
        eprintln!("Using command line args");
        n
    } else {
        10
    };
    for i in 0..count {
        println!("i={i}");
    }
}
