//! What a use case concluded, which the CLI maps to its exit code.

use boardproof_evidence::{Report, Verdict};

/// What a use case concluded: 0 clean, 1 findings, 2 could not verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Verified, or nothing to report.
    Clean,
    /// Findings: integrity violated.
    Findings,
    /// Could not verify (the caller said why).
    CouldNotVerify,
}

impl Outcome {
    /// A report's outcome.
    pub fn of(report: &Report) -> Outcome {
        match report.verdict {
            Verdict::Verified => Outcome::Clean,
            Verdict::Findings => Outcome::Findings,
        }
    }

    /// The worse of two: could-not-verify over findings over clean.
    #[must_use]
    pub fn and(self, other: Outcome) -> Outcome {
        use Outcome::*;
        match (self, other) {
            (CouldNotVerify, _) | (_, CouldNotVerify) => CouldNotVerify,
            (Findings, _) | (_, Findings) => Findings,
            _ => Clean,
        }
    }
}
