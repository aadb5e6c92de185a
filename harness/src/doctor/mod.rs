//! `sysgrade doctor`: what this machine gives a grading, layer by layer, which exercises it
//! will judge fully and which scenarios will be `skip`, and the one command that installs
//! every missing tool. Data flows one way: [`gather`] probes (the same probe `grade` makes)
//! → [`Facts`] → [`human::render`] or [`json::render`], which only read.

mod exercises;
mod facts;
mod gather;
pub mod human;
pub mod json;
mod layers;
mod machine;
mod tools;
mod why;

pub use facts::{
    ExerciseFact, Facts, Grader, LayerFact, SkipFact, ToolFact, ToolKind, When, SCHEMA,
};
pub use gather::gather;
