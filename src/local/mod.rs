//! `stackctl local`: a stack's APIs served on this machine (issue 10).
//!
//! Built in pieces, each without I/O where it can be:
//! - the API side: [`routing`] selects a route as API Gateway does;
//!   [`payload`] and [`rest_payload`] build the payload 2.0 and 1.0 events
//!   and read the function's answer as API Gateway would; [`authorizer`]
//!   checks JWTs as the JWT and Cognito authorizers do; [`lambda_authorizer`]
//!   speaks to Lambda authorizers; [`gateway`] puts these together for one
//!   API, and [`server`] serves it;
//! - the function side: [`runtime_api`] is the Lambda Runtime API a
//!   `bootstrap` talks to, [`functions`] runs and supervises the processes;
//! - the AWS side: [`iam`] classifies a function's calls and evaluates its
//!   role's policy, [`aws_proxy`] enforces that on every call;
//! - [`template`] reads the functions and APIs out of the rendered template,
//!   resolved against the deployed stack, and [`triggers`] its schedules and
//!   bucket notifications; [`session`] starts and stops all of it.

pub mod authorizer;
pub mod aws_proxy;
pub mod functions;
pub mod gateway;
pub mod http_client;
pub mod iam;
pub mod key_sets;
pub mod lambda_authorizer;
pub mod payload;
pub mod queue_triggers;
pub mod rest_payload;
pub mod routing;
pub mod runtime_api;
pub mod server;
pub mod session;
pub mod template;
pub mod triggers;
pub mod utc;
