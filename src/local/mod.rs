//! `stackctl local`: a stack's APIs served on this machine (issue 10).
//!
//! Built in pieces, each without I/O where it can be: [`routing`] selects a
//! route as API Gateway does; [`payload`] builds the event an HTTP API sends
//! a function and reads the function's answer as API Gateway would;
//! [`runtime_api`] is the Lambda Runtime API a function's `bootstrap` talks to.

pub mod payload;
pub mod routing;
pub mod runtime_api;
