//! environ (lecture: Env/env2.cpp): prints `Program starting`, then every entry of its
//! environment (`KEY=VALUE`, raw bytes, exactly as the process received it), one a line.
//!
//! Scenario: `environ.exact`.

use std::ffi::CStr;
use std::io::Write;

extern "C" {
    /// The C library's environment block (see environ(7)).
    static environ: *const *const libc::c_char;
}

fn main() {
    println!("Program starting");
    let mut out = std::io::stdout().lock();
    // SAFETY: `environ` is a NULL-terminated array of C strings; nothing in this
    // single-threaded program modifies the environment while we read it.
    unsafe {
        let mut entry = environ;
        while !entry.is_null() && !(*entry).is_null() {
            let bytes = CStr::from_ptr(*entry).to_bytes();
            out.write_all(bytes).expect("write to stdout");
            out.write_all(b"\n").expect("write to stdout");
            entry = entry.add(1);
        }
    }
    out.flush().expect("flush stdout");
}
