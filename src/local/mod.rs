//! `stackctl local`: a stack's APIs served on this machine (issue 10).
//!
//! Built in pieces, each without I/O where it can be: [`routing`] selects a
//! route as API Gateway does; [`payload`] builds the event an HTTP API sends
//! a function and reads
//! a function's answer as API Gateway would, and [`rest_payload`] does the
//! same for a REST API's proxy integration (payload 1.0); [`authorizer`]
//! checks JWTs as the HTTP API JWT and REST Cognito authorizers do, and
//! [`lambda_authorizer`] builds the events of and reads the answers from
//! Lambda TOKEN and REQUEST authorizers; [`template`] reads the APIs and
//! functions out of a rendered template, resolved against the deployed
//! stack; [`runtime_api`] is the Lambda Runtime API a function's `bootstrap`
//! talks to.

pub mod authorizer;
pub mod aws_proxy;
pub mod functions;
pub mod gateway;
pub mod http_client;
pub mod iam;
pub mod key_sets;
pub mod lambda_authorizer;
pub mod payload;
pub mod rest_payload;
pub mod routing;
pub mod runtime_api;
pub mod server;
pub mod session;
pub mod template;
pub mod triggers;
pub mod utc;
