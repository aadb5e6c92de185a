//! `grade --results DIR`: every student's result stored as soon as it is done, atomically,
//! and reused on the next run while its cache key is unchanged (`regrade.rs`). The key is
//! `key.rs`; the folder on disk is `store.rs`.

mod key;
mod regrade;
mod store;

pub use key::{grader, Key};
pub use regrade::{grade, Options, Summary};
pub use store::{Store, Stored, CACHE_FIELD};

/// Whether `a` and `b` are the same folder (both existing).
pub fn same_folder(a: &std::path::Path, b: &std::path::Path) -> bool {
    matches!((a.canonicalize(), b.canonicalize()), (Ok(a), Ok(b)) if a == b)
}
