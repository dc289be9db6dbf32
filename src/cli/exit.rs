//! Outcomes of a command mapped to process exit codes, in one place.

use std::process::ExitCode;

/// How a command ended. The numeric codes are part of the CLI's contract with scripts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// The command did what was asked (`plan`: no changes; `verify`: ready for cutover).
    Success,
    /// The command could not run: bad input, unreachable cluster, refused plan.
    Error,
    /// The command ran and found something to act on (`plan --detailed-exitcode`: changes
    /// pending; `verify`: not ready).
    Attention,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::Error => 1,
            ExitStatus::Attention => 2,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}
