//! `--exit-status`: what `grade`'s exit status says. `verdicts` (the default) is for a person
//! or a CI job that fails when a student lost points; `report` is for grading engines
//! (Kubernetes retries a pod that exits non-zero, PrairieLearn reads results only after exit
//! 0), where the status says whether every report was written.

/// `--exit-status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ExitStatus {
    /// 0 when every scenario passed, 1 when a student lost points, 2 for a usage error or a
    /// fault of the grader.
    #[default]
    Verdicts,
    /// 0 whenever every report was written, whatever the verdicts; 2 for a usage error or a
    /// fault of the grader; never 1.
    Report,
}

impl ExitStatus {
    /// The exit code for a grading whose reports were all written and whose verdicts give
    /// `verdicts` (0, 1 or 2, as `--exit-status verdicts` has it).
    pub fn code(self, verdicts: i32) -> i32 {
        match (self, verdicts) {
            (ExitStatus::Report, 1) => 0,
            (_, code) => code,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ExitStatus;

    #[test]
    fn report_never_says_1_and_keeps_a_fault_at_2() {
        let statuses = |mode: ExitStatus| [0, 1, 2].map(|c| mode.code(c));
        assert_eq!(statuses(ExitStatus::Verdicts), [0, 1, 2]);
        assert_eq!(statuses(ExitStatus::Report), [0, 0, 2]);
    }
}
