//! env (lecture: Env/env.cpp, Env/env.py): reads ENV_STARTUP. Unset: prints
//! `You need to set ENV_STARTUP` and exits 1. Set (even to the empty string): prints
//! `Working dir is <value>` (the value's raw bytes) and exits 0.
//!
//! Scenarios: `env.unset`, `env.set`, `env.spaces_unicode`, `env.empty`.

use std::os::unix::ffi::OsStrExt;

fn main() {
    println!("Program starting");
    match std::env::var_os("ENV_STARTUP") {
        None => {
            println!("You need to set ENV_STARTUP");
            std::process::exit(1);
        }
        Some(value) => reference::out::line_raw("Working dir is ", value.as_bytes()),
    }
}
