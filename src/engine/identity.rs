//! Who the credentials belong to (STS GetCallerIdentity): the account every
//! name stackctl derives (the artifact bucket) depends on, and the first
//! call that shows whether the credentials work at all.

use super::error::{AwsError, ErrorKind};
use super::retry::RetryPolicy;
use std::future::Future;

/// The identity behind the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account: String,
    pub arn: String,
}

/// The one STS call stackctl makes.
pub trait Identity {
    fn caller(&self) -> impl Future<Output = Result<Caller, AwsError>> + Send;
}

/// STS through the SDK.
pub struct Sts {
    client: aws_sdk_sts::Client,
    retry: RetryPolicy,
}

impl Sts {
    pub fn new(client: aws_sdk_sts::Client) -> Self {
        Sts {
            client,
            retry: RetryPolicy::default(),
        }
    }
}

impl Identity for Sts {
    async fn caller(&self) -> Result<Caller, AwsError> {
        const OPERATION: &str = "find out whose the AWS credentials are (STS GetCallerIdentity)";
        let me = self
            .retry
            .run(|| async {
                self.client
                    .get_caller_identity()
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(OPERATION, e))
            })
            .await?;
        let account = me.account().ok_or_else(|| {
            AwsError::new(
                ErrorKind::UnexpectedAnswer,
                OPERATION,
                "STS did not say which account the credentials belong to",
            )
        })?;
        Ok(Caller {
            account: account.to_string(),
            arn: me.arn().unwrap_or_default().to_string(),
        })
    }
}

/// Temporary credentials of a role, as `local` hands them to a function.
#[derive(Clone, PartialEq, Eq)]
pub struct RoleCredentials {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
    /// Seconds since the epoch.
    pub expires_epoch_s: Option<i64>,
}

impl std::fmt::Debug for RoleCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Secrets stay out of logs and panic messages.
        f.debug_struct("RoleCredentials")
            .field("access_key_id", &self.access_key_id)
            .field("expires_epoch_s", &self.expires_epoch_s)
            .finish_non_exhaustive()
    }
}

impl Sts {
    /// Credentials of `role_arn` for one hour (the most a chained role
    /// session may last), in a session named `session_name`.
    pub async fn assume_role(
        &self,
        role_arn: &str,
        session_name: &str,
    ) -> Result<RoleCredentials, AwsError> {
        let operation = format!("assume the role {role_arn} (STS AssumeRole)");
        let answer = self
            .retry
            .run(|| async {
                self.client
                    .assume_role()
                    .role_arn(role_arn)
                    .role_session_name(session_name)
                    .duration_seconds(3600)
                    .send()
                    .await
                    .map_err(|e| AwsError::from_sdk(operation.clone(), e))
            })
            .await?;
        let Some(credentials) = answer.credentials() else {
            return Err(AwsError::new(
                ErrorKind::UnexpectedAnswer,
                operation,
                "STS answered without credentials",
            ));
        };
        Ok(RoleCredentials {
            access_key_id: credentials.access_key_id().to_string(),
            secret_access_key: credentials.secret_access_key().to_string(),
            session_token: credentials.session_token().to_string(),
            expires_epoch_s: Some(credentials.expiration().secs()),
        })
    }
}
