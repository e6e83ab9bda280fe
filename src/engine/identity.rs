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
