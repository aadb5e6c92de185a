//! What a scenario relies on besides a tool it is `skip` without: a module for Python
//! programs, a layer of the machine, a tool that only makes it faster. Declared beside the
//! scenario (`Scenario::requires`), read by `sysgrade doctor` to say which scenarios will be
//! `skip` on this machine. The checks themselves stay where the scenario makes them; each
//! declaration names the same tool or layer they check.

use super::tools::Tool;
use crate::sandbox::Layer;

#[derive(Debug, Clone, Copy)]
pub enum Need {
    /// For a Python program whose source names the module: `skip` when the interpreter
    /// programs run with cannot import it (checked before the program starts).
    Module(Tool),
    /// `skip` without this layer (found out once the program has started).
    Layer(Layer),
    /// Without this layer the scenario may be `skip`, depending on what the run shows; why.
    Helped(Layer, &'static str),
    /// Without this tool the scenario is judged all the same, only slower; how.
    Faster(Tool, &'static str),
}
