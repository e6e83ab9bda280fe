//! IAM for `stackctl local`: every AWS call a function makes is checked
//! against its own role's policy, action and resource, the way IAM checks
//! an identity policy (the emulator's own enforcement takes every resource
//! as `*`, so the resource evaluation is ours).
//!
//! Pure pieces, no I/O: [`role`] reads a function's role out of the
//! rendered template, resolved against the deployed stack; [`policy`] and
//! [`condition`] evaluate a request against it; [`classify`] turns an HTTP
//! request to an AWS service into the IAM actions and resource ARNs it
//! needs; [`terms`] names a missing grant as the stack file would declare
//! it; [`usage`] keeps which grants were used, to list the unused ones.
//! The proxy that applies all this is `super::aws_proxy`.

pub mod classify;
pub mod condition;
pub mod pattern;
pub mod policy;
pub mod role;
pub mod terms;
pub mod usage;

#[cfg(test)]
pub(crate) mod fixtures;

pub use classify::{classify, Call, Check, Classified, Request, Scope};
pub use condition::Context;
pub use policy::{Decision, Evaluation, RolePolicy, Statement};
pub use role::{role_policy, RoleError};
pub use terms::{function_name, Remedy, StackTerms};
pub use usage::{UnusedGrant, Usage};
