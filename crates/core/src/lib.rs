//! stackctl's core: typed stack definitions in, checked CloudFormation out.
//!
//! The pipeline runs one way: [`source`] (YAML with locations) →
//! [`model`] (typed definition) → [`validate`] → [`plan`] (resources, IAM,
//! names) → [`render`] (handlebars templates) → [`check`] (the template as
//! CloudFormation will see it); [`diff`] compares two templates. None of
//! these stages does I/O or talks to AWS, and this crate's manifest has no
//! AWS SDK, async runtime or command-line parser to make sure of it.

pub mod check;
pub mod diagnostic;
pub mod diff;
pub mod iam_actions;
pub mod kinds;
pub mod load;
pub mod model;
pub mod naming;
pub mod pipeline;
pub mod plan;
pub mod reference;
pub mod render;
pub mod resource_schema;
pub mod rollback;
pub mod schema;
pub mod source;
pub mod validate;
