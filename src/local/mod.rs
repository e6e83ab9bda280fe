//! `stackctl local`: a stack's APIs served on this machine (issue 10).
//!
//! Built in pieces, each without I/O where it can be: [`routing`] selects a
//! route as API Gateway does.

pub mod routing;
