//! The live facts `verify` compares with a stack's definition, each read
//! through its own service's API: WAFv2 (which web ACL protects a
//! resource), KMS (key state, rotation, policy), IAM (a role's inline and
//! attached policies), SNS (a topic's subscriptions), DynamoDB (PITR and
//! table key) and S3 (public access block, default encryption).
//!
//! "Not there" is an answer, not an error: each read returns `None` for a
//! resource that does not exist, recognised by the SDK's typed errors and
//! the service's error code, never by message text.

use super::error::AwsError;
use super::retry::RetryPolicy;
use crate::posture::judge::{BucketFacts, KeyFacts, RoleFacts, SubscriptionFacts, TableFacts};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use serde_json::Value;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};

/// The reads `verify` makes, one per kind of resource it checks.
pub trait PostureReader {
    /// The ARN of the web ACL that protects `resource_arn`, if any.
    fn web_acl_of(
        &self,
        resource_arn: &str,
    ) -> impl Future<Output = Result<Option<String>, AwsError>> + Send;
    fn key(&self, key_id: &str) -> impl Future<Output = Result<Option<KeyFacts>, AwsError>> + Send;
    fn role(
        &self,
        role_name: &str,
    ) -> impl Future<Output = Result<Option<RoleFacts>, AwsError>> + Send;
    fn subscriptions(
        &self,
        topic_arn: &str,
    ) -> impl Future<Output = Result<Vec<SubscriptionFacts>, AwsError>> + Send;
    fn table(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<TableFacts>, AwsError>> + Send;
    fn bucket(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<BucketFacts>, AwsError>> + Send;
}

/// The reads through the SDK.
pub struct LivePosture {
    clients: super::context::ServiceClients,
    s3: aws_sdk_s3::Client,
    retry: RetryPolicy,
}

impl LivePosture {
    pub fn new(clients: super::context::ServiceClients, s3: aws_sdk_s3::Client) -> Self {
        LivePosture {
            clients,
            s3,
            retry: RetryPolicy::default(),
        }
    }
}

/// Runs one SDK call with retries; `Ok(None)` when its error means "no
/// such thing" (by the SDK's error metadata: `is_absent` looks at the
/// service's error code).
async fn read<T, E, F, Fut>(
    retry: &RetryPolicy,
    operation: &str,
    is_absent: fn(Option<&str>) -> bool,
    call: F,
) -> Result<Option<T>, AwsError>
where
    F: Fn() -> Fut,
    Fut: Future<
        Output = Result<
            T,
            aws_smithy_runtime_api::client::result::SdkError<
                E,
                aws_smithy_runtime_api::client::orchestrator::HttpResponse,
            >,
        >,
    >,
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    // Atomic rather than a Cell: the futures holding it must be Send.
    let not_there = AtomicBool::new(false);
    let flag = &not_there;
    let result = retry
        .run(|| {
            let answer = call();
            async move {
                answer.await.map_err(|e| {
                    let absent = e.as_service_error().is_some_and(|s| is_absent(s.code()));
                    flag.store(absent, Ordering::Relaxed);
                    AwsError::from_sdk(operation, e)
                })
            }
        })
        .await;
    match result {
        Ok(v) => Ok(Some(v)),
        Err(_) if not_there.load(Ordering::Relaxed) => Ok(None),
        Err(e) => Err(e),
    }
}

impl PostureReader for LivePosture {
    async fn web_acl_of(&self, resource_arn: &str) -> Result<Option<String>, AwsError> {
        let operation =
            format!("read which web ACL protects {resource_arn} (WAFv2 GetWebACLForResource)");
        let answer = read(
            &self.retry,
            &operation,
            |c| c == Some("WAFNonexistentItemException"),
            || {
                self.clients
                    .wafv2
                    .get_web_acl_for_resource()
                    .resource_arn(resource_arn)
                    .send()
            },
        )
        .await?;
        Ok(answer.and_then(|a| a.web_acl().map(|acl| acl.arn().to_string())))
    }

    async fn key(&self, key_id: &str) -> Result<Option<KeyFacts>, AwsError> {
        let kms = &self.clients.kms;
        let not_found = |c: Option<&str>| c == Some("NotFoundException");
        let operation = format!("describe key {key_id} (KMS DescribeKey)");
        let Some(described) = read(&self.retry, &operation, not_found, || {
            kms.describe_key().key_id(key_id).send()
        })
        .await?
        else {
            return Ok(None);
        };
        let state = described
            .key_metadata()
            .and_then(|m| m.key_state())
            .map_or_else(|| "unknown".to_string(), |s| s.as_str().to_string());
        let operation = format!("read key {key_id}'s rotation (KMS GetKeyRotationStatus)");
        let rotation = read(&self.retry, &operation, not_found, || {
            kms.get_key_rotation_status().key_id(key_id).send()
        })
        .await?
        .is_some_and(|r| r.key_rotation_enabled());
        let operation = format!("read key {key_id}'s policy (KMS GetKeyPolicy)");
        let policy = read(&self.retry, &operation, not_found, || {
            kms.get_key_policy()
                .key_id(key_id)
                .policy_name("default")
                .send()
        })
        .await?
        .and_then(|p| p.policy().and_then(|text| serde_json::from_str(text).ok()))
        .unwrap_or(Value::Null);
        Ok(Some(KeyFacts {
            state,
            rotation,
            policy,
        }))
    }

    async fn role(&self, role_name: &str) -> Result<Option<RoleFacts>, AwsError> {
        let iam = &self.clients.iam;
        let no_such = |c: Option<&str>| c == Some("NoSuchEntity");
        let mut facts = RoleFacts::default();
        let mut marker: Option<String> = None;
        loop {
            let operation =
                format!("list role {role_name}'s inline policies (IAM ListRolePolicies)");
            let Some(page) = read(&self.retry, &operation, no_such, || {
                iam.list_role_policies()
                    .role_name(role_name)
                    .set_marker(marker.clone())
                    .send()
            })
            .await?
            else {
                return Ok(None);
            };
            for name in page.policy_names() {
                let operation =
                    format!("read role {role_name}'s inline policy {name} (IAM GetRolePolicy)");
                let document = read(&self.retry, &operation, no_such, || {
                    iam.get_role_policy()
                        .role_name(role_name)
                        .policy_name(name)
                        .send()
                })
                .await?
                .map(|p| decode_policy(p.policy_document()))
                .unwrap_or(Value::Null);
                facts.inline.insert(name.clone(), document);
            }
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
        let mut marker: Option<String> = None;
        loop {
            let operation =
                format!("list role {role_name}'s attached policies (IAM ListAttachedRolePolicies)");
            let Some(page) = read(&self.retry, &operation, no_such, || {
                iam.list_attached_role_policies()
                    .role_name(role_name)
                    .set_marker(marker.clone())
                    .send()
            })
            .await?
            else {
                return Ok(None);
            };
            facts.managed.extend(
                page.attached_policies()
                    .iter()
                    .filter_map(|p| p.policy_arn().map(str::to_string)),
            );
            marker = page.marker().map(str::to_string);
            if !page.is_truncated() || marker.is_none() {
                break;
            }
        }
        Ok(Some(facts))
    }

    async fn subscriptions(&self, topic_arn: &str) -> Result<Vec<SubscriptionFacts>, AwsError> {
        let mut found = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let operation =
                format!("list the subscriptions of {topic_arn} (SNS ListSubscriptionsByTopic)");
            let Some(page) = read(
                &self.retry,
                &operation,
                |c| c == Some("NotFound"),
                || {
                    self.clients
                        .sns
                        .list_subscriptions_by_topic()
                        .topic_arn(topic_arn)
                        .set_next_token(token.clone())
                        .send()
                },
            )
            .await?
            else {
                return Ok(found);
            };
            found.extend(page.subscriptions().iter().map(|s| SubscriptionFacts {
                protocol: s.protocol().unwrap_or_default().to_string(),
                endpoint: s.endpoint().unwrap_or_default().to_string(),
                arn: s.subscription_arn().unwrap_or_default().to_string(),
            }));
            token = page.next_token().map(str::to_string);
            if token.is_none() {
                return Ok(found);
            }
        }
    }

    async fn table(&self, name: &str) -> Result<Option<TableFacts>, AwsError> {
        let dynamodb = &self.clients.dynamodb;
        let not_found = |c: Option<&str>| {
            matches!(
                c,
                Some("ResourceNotFoundException" | "TableNotFoundException")
            )
        };
        let operation = format!("describe table {name} (DynamoDB DescribeTable)");
        let Some(described) = read(&self.retry, &operation, not_found, || {
            dynamodb.describe_table().table_name(name).send()
        })
        .await?
        else {
            return Ok(None);
        };
        let operation = format!("read table {name}'s backups (DynamoDB DescribeContinuousBackups)");
        let backups = read(&self.retry, &operation, not_found, || {
            dynamodb
                .describe_continuous_backups()
                .table_name(name)
                .send()
        })
        .await?;
        let point_in_time_recovery = backups
            .and_then(|b| b.continuous_backups_description().cloned())
            .and_then(|d| d.point_in_time_recovery_description().cloned())
            .and_then(|p| p.point_in_time_recovery_status().cloned())
            .is_some_and(|s| s.as_str() == "ENABLED");
        let kms_key_arn = described
            .table()
            .and_then(|t| t.sse_description())
            .filter(|sse| sse.status().is_some_and(|s| s.as_str() == "ENABLED"))
            .and_then(|sse| sse.kms_master_key_arn().map(str::to_string));
        Ok(Some(TableFacts {
            point_in_time_recovery,
            kms_key_arn,
        }))
    }

    async fn bucket(&self, name: &str) -> Result<Option<BucketFacts>, AwsError> {
        let operation =
            format!("read bucket {name}'s public access block (S3 GetPublicAccessBlock)");
        let no_block = |c: Option<&str>| c == Some("NoSuchPublicAccessBlockConfiguration");
        let block = match read(&self.retry, &operation, no_block, || {
            self.s3.get_public_access_block().bucket(name).send()
        })
        .await
        {
            Err(e) if e.code.as_deref() == Some("NoSuchBucket") => return Ok(None),
            other => other?,
        };
        let public_access_block = block
            .and_then(|b| b.public_access_block_configuration().cloned())
            .map(|c| {
                [
                    c.block_public_acls().unwrap_or(false),
                    c.ignore_public_acls().unwrap_or(false),
                    c.block_public_policy().unwrap_or(false),
                    c.restrict_public_buckets().unwrap_or(false),
                ]
            });
        let operation = format!("read bucket {name}'s default encryption (S3 GetBucketEncryption)");
        let no_encryption =
            |c: Option<&str>| c == Some("ServerSideEncryptionConfigurationNotFoundError");
        let encryption = read(&self.retry, &operation, no_encryption, || {
            self.s3.get_bucket_encryption().bucket(name).send()
        })
        .await?;
        let by_default = encryption
            .and_then(|e| e.server_side_encryption_configuration().cloned())
            .and_then(|c| c.rules().first().cloned())
            .and_then(|r| r.apply_server_side_encryption_by_default().cloned());
        Ok(Some(BucketFacts {
            public_access_block,
            algorithm: by_default
                .as_ref()
                .map(|d| d.sse_algorithm().as_str().to_string()),
            kms_key: by_default.and_then(|d| d.kms_master_key_id().map(str::to_string)),
        }))
    }
}

/// IAM hands policy documents back URL-encoded (RFC 3986).
fn decode_policy(encoded: &str) -> Value {
    let text = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

#[cfg(test)]
mod tests {
    use super::decode_policy;
    use serde_json::json;

    #[test]
    fn iam_policy_documents_are_url_decoded() {
        let encoded = "%7B%22Version%22%3A%222012-10-17%22%2C%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Action%22%3A%22s3%3AGetObject%22%2C%22Resource%22%3A%22arn%3Aaws%3As3%3A%3A%3Ab%2F%2A%22%7D%5D%7D";
        assert_eq!(
            decode_policy(encoded),
            json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}]})
        );
    }
}
