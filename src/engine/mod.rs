//! Everything that talks to AWS, behind narrow interfaces so tests can
//! script the answers. The core (model … check) never reaches here.
//!
//! - [`context`]: one per (profile, region): the SDK configuration, the
//!   account, and each service's client, built once.
//! - [`error`]: the one typed error every call returns; [`retry`]: the one
//!   retry and backoff policy.
//! - One interface per service: [`stacks::Stacks`] (CloudFormation),
//!   [`artifacts::ArtifactStore`] (S3), [`identity::Identity`] (STS),
//!   [`cloudwatch::Monitoring`] (CloudWatch alarms and metrics),
//!   [`logs::LogReader`] (CloudWatch Logs), [`posture::PostureReader`]
//!   (what `verify` reads from WAFv2, KMS, IAM, SNS, DynamoDB and S3).
//! - What stackctl does with them: [`deploy`], [`drift`], [`watch`], [`waves`], [`account`],
//!   [`triggers`] (the alarms that roll an update back).

pub mod account;
pub mod artifacts;
pub mod cloudwatch;
pub mod context;
pub mod deploy;
pub mod drift;
pub mod error;
pub mod identity;
pub mod logs;
pub mod names;
pub mod objects;
pub mod posture;
pub mod queues;
pub mod retry;
pub mod stacks;
pub mod triggers;
pub mod validation;
pub mod watch;
pub mod waves;
