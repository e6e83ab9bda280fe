//! stackctl: typed stack definitions in, secure CloudFormation out.
//!
//! The pipeline runs one way: [`source`] (YAML with locations) →
//! [`model`] (typed definition) → [`validate`] → [`plan`] (resources, IAM,
//! names) → [`render`] (handlebars templates) → [`check`] (the template as
//! CloudFormation will see it). None of these stages does I/O or talks to AWS.

pub mod artifact;
pub mod atomic_file;
pub mod build;
pub mod check;
pub mod cli;
pub mod diagnostic;
pub mod diff;
pub mod engine;
pub mod load;
pub mod model;
pub mod naming;
pub mod pipeline;
pub mod plan;
pub mod reference;
pub mod render;
pub mod resource_schema;
pub mod schema;
pub mod source;
pub mod validate;
