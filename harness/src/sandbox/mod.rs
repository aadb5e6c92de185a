//! Process control for untrusted programs: the supervisor, its protocol, namespaces, the
//! private root, Landlock, limits, identities, the pty, `/proc`, and copying submissions. All
//! process control lives here.

pub mod activity;
pub mod channel;
pub mod copy;
pub mod fanotify;
pub mod guarantees;
pub mod handle;
pub mod identity;
pub mod landlock;
pub mod layer;
pub mod limits;
pub mod listener;
pub mod names;
pub mod namespaces;
pub mod netfilter;
pub mod phases;
pub mod proc_calls;
pub mod proc_events;
pub mod procfs;
pub mod protocol;
pub mod pty;
pub mod reach;
pub mod removals;
pub mod rootfs;
pub mod sock_diag;
mod spawn;
pub mod supervisor;
mod tap;

pub use guarantees::Guarantees;
pub use layer::Layer;
