//! sysgrade's harness: grades systems-programming submissions.
//!
//! Data flows one way: [`plan`] (discover and build) → [`grading`] (run scenarios in
//! sandboxes, then settle each into its [`result`] with the course's policy applied, and only
//! then emit [`events`]) → [`report`]. See ARCHITECTURE.md.

pub mod class;
pub mod cli;
pub mod clock;
pub mod course;
pub mod cpu_quota;
pub mod doctor;
pub mod engines;
pub mod error;
pub mod events;
pub mod exercises;
pub mod explain;
pub mod grading;
pub mod gui;
pub mod hygiene;
pub mod ipc;
pub mod merge;
pub mod outcome;
pub mod peer;
pub mod picture;
pub mod plan;
pub mod probe;
pub mod progress;
pub mod python;
pub mod report;
pub mod result;
pub mod results_dir;
pub mod run;
pub mod sandbox;
pub mod scenario;
pub mod settings;
pub mod submission;
pub mod suggest;
pub mod text;

pub use error::Error;
pub use settings::Settings;
pub mod wait;
