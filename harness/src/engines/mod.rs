//! The grading engines a class is graded on, each in a container per submission:
//! Gradescope (`gradescope/`).

pub mod gradescope;
