//! What a build produced, per stack and environment, so `render` and
//! `deploy` reference exactly those packages without building again.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub stack: String,
    pub env: String,
    /// By function name.
    pub artifacts: BTreeMap<String, ArtifactRecord>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactRecord {
    /// S3 key in the artifact bucket (content-addressed).
    pub key: String,
    /// SHA-256 of the zip, hex.
    pub sha256: String,
    /// SHA-256 of the zip, base64: what Lambda reports as `CodeSha256`.
    pub code_sha256: String,
    pub size: u64,
    /// `crate NAME` or `zip PATH`.
    pub source: String,
    pub architecture: String,
    /// The zip on disk.
    pub path: String,
}

impl Manifest {
    /// Code locations for planning: S3 keys by function.
    pub fn code_locations(&self) -> crate::plan::CodeLocations {
        crate::plan::CodeLocations {
            keys: self
                .artifacts
                .iter()
                .map(|(f, a)| (f.clone(), a.key.clone()))
                .collect(),
            ..Default::default()
        }
    }
}
