//! Shipping packages to the artifact bucket: content-addressed keys, so a
//! package already there is never sent again (one HEAD each).

use super::error::{AwsError, ErrorKind};
use anyhow::{bail, Context as _};
use aws_sdk_s3::types::{
    AbortIncompleteMultipartUpload, BucketLifecycleConfiguration, BucketLocationConstraint,
    BucketVersioningStatus, CreateBucketConfiguration, ExpirationStatus, LifecycleRule,
    LifecycleRuleFilter, NoncurrentVersionExpiration, PublicAccessBlockConfiguration,
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule, VersioningConfiguration,
};

/// Where packages go. Scripted in tests; S3 for real.
pub trait ArtifactStore {
    /// Whether an object exists at `key`.
    fn exists(&self, key: &str)
        -> impl std::future::Future<Output = Result<bool, AwsError>> + Send;
    /// Stores `bytes` at `key`; `sha256_base64` lets the store verify them.
    fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        sha256_base64: &str,
    ) -> impl std::future::Future<Output = Result<(), AwsError>> + Send;
    /// Makes sure the store exists and is set up; true when it was created now.
    fn ensure(&self) -> impl std::future::Future<Output = Result<bool, AwsError>> + Send;
    /// The HTTPS URL CloudFormation reads an object at.
    fn url(&self, key: &str) -> String;
}

/// What an upload did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UploadReport {
    pub uploaded: Vec<String>,
    pub already_there: Vec<String>,
}

/// A package to ship: its key, where it is on disk, its checksum.
#[derive(Debug, Clone)]
pub struct Shipment {
    pub key: String,
    pub path: std::path::PathBuf,
    pub sha256_base64: String,
}

/// Ships each distinct package that the store does not have yet.
pub async fn upload<S: ArtifactStore>(
    store: &S,
    shipments: &[Shipment],
) -> anyhow::Result<UploadReport> {
    upload_reporting(store, shipments, |_, _| {}).await
}

/// Like [`upload`], telling `each(key, sent)` about every package as it goes.
pub async fn upload_reporting<S: ArtifactStore>(
    store: &S,
    shipments: &[Shipment],
    each: impl Fn(&str, bool),
) -> anyhow::Result<UploadReport> {
    let mut report = UploadReport::default();
    let mut seen = std::collections::BTreeSet::new();
    for s in shipments.iter().filter(|s| seen.insert(s.key.clone())) {
        if store.exists(&s.key).await? {
            each(&s.key, false);
            report.already_there.push(s.key.clone());
            continue;
        }
        let bytes = std::fs::read(&s.path).with_context(|| {
            format!(
                "cannot read the package `{}`; run `stackctl build` again",
                s.path.display()
            )
        })?;
        if crate::artifact::sha256(&bytes).base64 != s.sha256_base64 {
            bail!(
                "the package `{}` changed since it was built; run `stackctl build` again",
                s.path.display()
            );
        }
        store.put(&s.key, bytes, &s.sha256_base64).await?;
        each(&s.key, true);
        report.uploaded.push(s.key.clone());
    }
    Ok(report)
}

/// The artifact bucket in S3.
#[derive(Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    pub bucket: String,
    region: String,
    account: String,
    /// Deny requests without TLS by bucket policy. Off only for a plain-HTTP
    /// endpoint (a local emulator), where the policy would deny stackctl itself.
    tls_only: bool,
}

impl S3Store {
    /// The artifact bucket of `account` in `region`:
    /// `stackctl-artifacts-{account}-{region}`.
    pub fn new(client: aws_sdk_s3::Client, account: &str, region: &str, tls_only: bool) -> S3Store {
        S3Store {
            client,
            bucket: format!("stackctl-artifacts-{account}-{region}"),
            region: region.to_string(),
            account: account.to_string(),
            tls_only,
        }
    }

    /// What a failed call on the bucket was doing, for its error.
    fn on_bucket(&self, what: &str) -> String {
        format!("{what} (bucket {})", self.bucket)
    }
}

impl ArtifactStore for S3Store {
    async fn exists(&self, key: &str) -> Result<bool, AwsError> {
        let answer = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    self.on_bucket(&format!("check s3://{}/{key}", self.bucket)),
                    e,
                )
            });
        match answer {
            Ok(_) => Ok(true),
            Err(e) if e.kind == ErrorKind::NotFound => Ok(false),
            Err(e) if e.kind == ErrorKind::AccessDenied => Err(e.with_hint(
                "the credentials in use need s3:GetObject and s3:ListBucket on the artifact bucket",
            )),
            Err(e) => Err(e),
        }
    }

    async fn put(&self, key: &str, bytes: Vec<u8>, sha256_base64: &str) -> Result<(), AwsError> {
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/zip")
            .checksum_sha256(sha256_base64)
            .body(bytes.into())
            .send()
            .await
            .map_err(|e| {
                AwsError::from_sdk(
                    self.on_bucket(&format!("upload s3://{}/{key}", self.bucket)),
                    e,
                )
            })?;
        Ok(())
    }

    async fn ensure(&self) -> Result<bool, AwsError> {
        self.ensure_bucket().await
    }

    fn url(&self, key: &str) -> String {
        format!(
            "https://{}.s3.{}.amazonaws.com/{key}",
            self.bucket, self.region
        )
    }
}

impl S3Store {
    /// Creates the bucket when it does not exist: private, versioned,
    /// encrypted, TLS-only, old versions and abandoned uploads expiring.
    pub async fn ensure_bucket(&self) -> Result<bool, AwsError> {
        let (b, region, account) = (&self.bucket, self.region.as_str(), self.account.as_str());
        let found = self
            .client
            .head_bucket()
            .bucket(b)
            .expected_bucket_owner(account)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.on_bucket("use the artifact bucket"), e));
        match found {
            Ok(_) => return Ok(false),
            Err(e) if e.kind == ErrorKind::NotFound => {}
            Err(e) if e.kind == ErrorKind::AccessDenied => {
                return Err(e.with_hint(format!("the bucket `{b}` may belong to another account (bucket names are global), or the credentials in use lack s3:ListBucket on it")))
            }
            Err(e) => return Err(e),
        }
        let mut create = self.client.create_bucket().bucket(b);
        if region != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(region))
                    .build(),
            );
        }
        create
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.on_bucket("create the artifact bucket"), e))?;
        self.client
            .put_public_access_block()
            .bucket(b)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.in_setup("block public access"), e))?;
        self.client
            .put_bucket_versioning()
            .bucket(b)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.in_setup("turn on versioning"), e))?;
        let rule = ServerSideEncryptionRule::builder()
            .apply_server_side_encryption_by_default(
                ServerSideEncryptionByDefault::builder()
                    .sse_algorithm(ServerSideEncryption::Aes256)
                    .build()
                    .map_err(|e| self.invalid_setup(e))?,
            )
            .build();
        self.client
            .put_bucket_encryption()
            .bucket(b)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(rule)
                    .build()
                    .map_err(|e| self.invalid_setup(e))?,
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.in_setup("turn on encryption"), e))?;
        // Current packages stay (a rollback may need them); replaced versions
        // and abandoned multipart uploads go.
        let lifecycle = LifecycleRule::builder()
            .id("expire-old-versions")
            .status(ExpirationStatus::Enabled)
            .filter(LifecycleRuleFilter::builder().prefix("").build())
            .noncurrent_version_expiration(
                NoncurrentVersionExpiration::builder()
                    .noncurrent_days(30)
                    .build(),
            )
            .abort_incomplete_multipart_upload(
                AbortIncompleteMultipartUpload::builder()
                    .days_after_initiation(7)
                    .build(),
            )
            .build()
            .map_err(|e| self.invalid_setup(e))?;
        self.client
            .put_bucket_lifecycle_configuration()
            .bucket(b)
            .lifecycle_configuration(
                BucketLifecycleConfiguration::builder()
                    .rules(lifecycle)
                    .build()
                    .map_err(|e| self.invalid_setup(e))?,
            )
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.in_setup("set the lifecycle"), e))?;
        if !self.tls_only {
            return Ok(true);
        }
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Sid": "DenyInsecureTransport", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                "Resource": [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")], "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]
        });
        self.client
            .put_bucket_policy()
            .bucket(b)
            .policy(policy.to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk(self.in_setup("set the TLS-only policy"), e))?;
        Ok(true)
    }
}

impl S3Store {
    /// What a failed set-up step after the bucket was created was doing:
    /// says the bucket exists.
    fn in_setup(&self, what: &str) -> String {
        format!(
            "{what} on the artifact bucket `{}` (created, but not yet set up)",
            self.bucket
        )
    }

    /// A set-up request stackctl built wrongly (a missing required field).
    fn invalid_setup(&self, e: aws_sdk_s3::error::BuildError) -> AwsError {
        AwsError::new(
            ErrorKind::Configuration,
            format!("set up the artifact bucket `{}`", self.bucket),
            e.to_string(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A store in memory that records every call.
    #[derive(Default)]
    struct Recorder {
        objects: Mutex<std::collections::BTreeMap<String, Vec<u8>>>,
        calls: Mutex<Vec<String>>,
    }

    impl ArtifactStore for Recorder {
        async fn exists(&self, key: &str) -> Result<bool, AwsError> {
            self.calls.lock().unwrap().push(format!("HEAD {key}"));
            Ok(self.objects.lock().unwrap().contains_key(key))
        }
        async fn put(&self, key: &str, bytes: Vec<u8>, _: &str) -> Result<(), AwsError> {
            self.calls.lock().unwrap().push(format!("PUT {key}"));
            self.objects.lock().unwrap().insert(key.into(), bytes);
            Ok(())
        }
        async fn ensure(&self) -> Result<bool, AwsError> {
            Ok(false)
        }
        fn url(&self, key: &str) -> String {
            format!("https://bucket.s3.us-east-1.amazonaws.com/{key}")
        }
    }

    #[tokio::test]
    async fn ships_each_package_once_and_nothing_the_second_time() {
        let dir = tempfile_dir();
        let zip = crate::artifact::zip::bootstrap_zip(b"\x7fELF fake");
        let d = crate::artifact::sha256(&zip);
        let path = dir.join("a.zip");
        std::fs::write(&path, &zip).unwrap();
        let s = Shipment {
            key: format!("artifacts/app/f/{}.zip", d.hex),
            path,
            sha256_base64: d.base64,
        };
        let store = Recorder::default();
        let first = upload(&store, &[s.clone(), s.clone()]).await.unwrap();
        assert_eq!(first.uploaded.len(), 1);
        let second = upload(&store, std::slice::from_ref(&s)).await.unwrap();
        assert_eq!((second.uploaded.len(), second.already_there.len()), (0, 1));
        let calls = store.calls.lock().unwrap().clone();
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("PUT")).count(),
            1,
            "{calls:?}"
        );
        assert_eq!(
            calls.iter().filter(|c| c.starts_with("HEAD")).count(),
            2,
            "{calls:?}"
        );
    }

    #[tokio::test]
    async fn a_changed_package_is_refused() {
        let dir = tempfile_dir();
        let path = dir.join("b.zip");
        std::fs::write(&path, b"tampered").unwrap();
        let s = Shipment {
            key: "k".into(),
            path,
            sha256_base64: "not-the-hash".into(),
        };
        assert!(upload(&Recorder::default(), &[s])
            .await
            .unwrap_err()
            .to_string()
            .contains("changed since it was built"));
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let d = std::env::temp_dir().join(format!(
            "stackctl-upload-{}-{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        std::fs::create_dir_all(&d).unwrap();
        d
    }
}
