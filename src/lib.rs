//! stackctl: typed stack definitions in, secure CloudFormation out.
//!
//! The pure pipeline (source → model → validate → plan → render → check,
//! and the template diff) lives in the `stackctl-core` crate and is
//! re-exported here under its old paths, so `stackctl::model::…` keeps
//! working. This crate adds what needs the outside world: building handler
//! packages ([`build`], [`artifact`]), talking to AWS ([`engine`]) and the
//! command line ([`cli`]).

pub use stackctl_core::{
    check, diagnostic, diff, iam_actions, kinds, load, model, naming, pipeline, plan, reference,
    render, resource_schema, rollback, schema, source, validate,
};

pub mod artifact;
pub mod atomic_file;
pub mod build;
pub mod cli;
pub mod engine;
pub mod local;
pub mod posture;
