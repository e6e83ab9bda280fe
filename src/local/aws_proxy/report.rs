//! What the proxy found: denied calls named in the stack file's terms,
//! calls it let through without a check, and on exit the grants each
//! function never used.

use crate::local::iam::{Remedy, UnusedGrant};
use std::fmt;

/// A call the function's role does not allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The function's stack-file name.
    pub function: String,
    pub service: String,
    pub operation: String,
    pub action: String,
    pub resource: String,
    /// The statement that denies it explicitly; `None`: no statement allows it.
    pub denied_by: Option<String>,
    pub remedy: Remedy,
    /// Statements that might have allowed it but for a condition `local`
    /// cannot decide (taken as not met), with the reason.
    pub undecided: Vec<(String, String)>,
    /// Managed policies of the role, which `local` cannot evaluate.
    pub managed_policies: Vec<String>,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "function {} called {} on {}: ",
            self.function, self.action, self.resource
        )?;
        match &self.denied_by {
            Some(statement) => write!(f, "statement {statement} of its role denies it")?,
            None => write!(f, "no statement of its role allows it; {}", self.remedy)?,
        }
        for (statement, why) in &self.undecided {
            write!(f, "; {statement} might allow it, but its {why}")?;
        }
        if !self.managed_policies.is_empty() {
            write!(
                f,
                "; its role also has managed policies ({}), which `local` cannot evaluate, so AWS may allow it",
                self.managed_policies.join(", ")
            )?;
        }
        Ok(())
    }
}

/// A call forwarded without a check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unchecked {
    /// The calling function, when the request was signed with one's key.
    pub function: Option<String>,
    pub service: String,
    pub operation: String,
    pub why: String,
}

impl fmt::Display for Unchecked {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "not checked: {} {}", self.service, self.operation)?;
        if let Some(function) = &self.function {
            write!(f, " (function {function})")?;
        }
        write!(f, ": {}", self.why)
    }
}

/// Reported the moment it happens, the first time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    Denied(Finding),
    Unchecked(Unchecked),
}

/// Everything found so far, each finding once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub denied: Vec<Finding>,
    pub unchecked: Vec<Unchecked>,
    /// Per function (stack-file name): grants never used, in role order.
    pub unused: Vec<(String, Vec<UnusedGrant>)>,
}
