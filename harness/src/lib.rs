//! sysgrade's harness: grades systems-programming submissions.
//!
//! Data flows one way: [`plan`] (discover and build) → [`runner`] (run scenarios in
//! sandboxes, emitting [`events`]) → [`result`] → [`report`]. See ARCHITECTURE.md.

pub mod class;
pub mod cli;
pub mod course;
pub mod error;
pub mod events;
pub mod exercises;
pub mod explain;
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
pub mod run;
pub mod runner;
pub mod sandbox;
pub mod scenario;
pub mod settings;
pub mod submission;
pub mod suggest;
pub mod text;

pub use error::Error;
pub use settings::Settings;
pub mod wait;
