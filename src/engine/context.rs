//! Where stackctl acts: one context per (profile, region), which loads the
//! SDK configuration once, learns the account once, and builds each
//! service's client once.

use super::artifacts::S3Store;
use super::error::{AwsError, ErrorKind};
use super::identity::{Caller, Identity, Sts};
use super::stacks::CloudFormation;
use aws_config::meta::region::RegionProviderChain;
use aws_config::profile::{ProfileFileCredentialsProvider, ProfileFileRegionProvider};
use aws_config::{BehaviorVersion, Region};

/// What the user chose, over the environment: an explicit profile wins
/// over credentials exported in the environment, as in the AWS CLI.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsChoice {
    pub profile: Option<String>,
    pub region: Option<String>,
}

/// The SDK configuration of one (profile, region), before any call.
#[derive(Clone)]
pub struct AwsConfig {
    sdk: aws_config::SdkConfig,
    choice: AwsChoice,
    region: String,
}

impl AwsConfig {
    /// Reads the standard chain (environment, profiles, SSO), with the
    /// user's choice first. Makes no AWS call; a missing region is known here.
    ///
    /// With `--profile`, credentials come from that profile only (never
    /// from `AWS_ACCESS_KEY_ID` in the environment), and the region from
    /// `--region`, else the profile, else `AWS_REGION`.
    pub async fn load(choice: &AwsChoice) -> Result<AwsConfig, AwsError> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(profile) = &choice.profile {
            loader = loader.profile_name(profile).credentials_provider(
                ProfileFileCredentialsProvider::builder()
                    .profile_name(profile)
                    .build(),
            );
            if choice.region.is_none() {
                loader = loader.region(
                    RegionProviderChain::first_try(
                        ProfileFileRegionProvider::builder()
                            .profile_name(profile)
                            .build(),
                    )
                    .or_default_provider(),
                );
            }
        }
        if let Some(region) = &choice.region {
            loader = loader.region(Region::new(region.clone()));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            return Err(AwsError::new(
                ErrorKind::Configuration,
                "choose an AWS region",
                "no AWS region is set",
            ));
        };
        Ok(AwsConfig {
            sdk,
            choice: choice.clone(),
            region,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    pub fn profile(&self) -> Option<&str> {
        self.choice.profile.as_deref()
    }

    /// The SDK configuration, for a service client of one's own.
    pub fn sdk(&self) -> &aws_config::SdkConfig {
        &self.sdk
    }
}

/// One account and region, with a client per service, each built once.
pub struct AwsContext {
    config: AwsConfig,
    caller: Caller,
    cloudformation: CloudFormation,
    artifacts: S3Store,
    clients: ServiceClients,
}

/// The SDK clients of the services read after a deploy (status, verify,
/// logs); each service's interface in the engine wraps one.
#[derive(Clone)]
pub struct ServiceClients {
    pub cloudwatch: aws_sdk_cloudwatch::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub iam: aws_sdk_iam::Client,
    pub kms: aws_sdk_kms::Client,
    pub sns: aws_sdk_sns::Client,
    pub wafv2: aws_sdk_wafv2::Client,
}

impl ServiceClients {
    fn new(sdk: &aws_config::SdkConfig) -> Self {
        ServiceClients {
            cloudwatch: aws_sdk_cloudwatch::Client::new(sdk),
            logs: aws_sdk_cloudwatchlogs::Client::new(sdk),
            dynamodb: aws_sdk_dynamodb::Client::new(sdk),
            iam: aws_sdk_iam::Client::new(sdk),
            kms: aws_sdk_kms::Client::new(sdk),
            sns: aws_sdk_sns::Client::new(sdk),
            wafv2: aws_sdk_wafv2::Client::new(sdk),
        }
    }
}

impl AwsContext {
    /// Asks STS whose the credentials are (the first call, so a credential
    /// problem is known before anything else), then builds the clients.
    pub async fn connect(config: AwsConfig) -> Result<AwsContext, AwsError> {
        let caller = Sts::new(aws_sdk_sts::Client::new(&config.sdk))
            .caller()
            .await?;
        Ok(AwsContext::with_caller(config, caller))
    }

    /// The context for an identity already known.
    pub fn with_caller(config: AwsConfig, caller: Caller) -> AwsContext {
        let endpoint = local_endpoint();
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config.sdk)
                // A local endpoint serves buckets by path, not by host name.
                .force_path_style(endpoint.is_some())
                .build(),
        );
        let plain_http = endpoint.is_some_and(|url| url.starts_with("http://"));
        AwsContext {
            artifacts: S3Store::new(s3, &caller.account, &config.region, !plain_http),
            cloudformation: CloudFormation::new(aws_sdk_cloudformation::Client::new(&config.sdk)),
            clients: ServiceClients::new(&config.sdk),
            caller,
            config,
        }
    }

    pub fn account(&self) -> &str {
        &self.caller.account
    }

    pub fn region(&self) -> &str {
        &self.config.region
    }

    /// The (profile, region) this context stands for.
    pub fn key(&self) -> (Option<&str>, &str) {
        (self.config.profile(), self.region())
    }

    pub fn cloudformation(&self) -> &CloudFormation {
        &self.cloudformation
    }

    pub fn artifacts(&self) -> &S3Store {
        &self.artifacts
    }

    /// The clients of CloudWatch, Logs, DynamoDB, IAM, KMS, SNS and WAFv2.
    pub fn clients(&self) -> &ServiceClients {
        &self.clients
    }

    /// STS with these credentials (`local` assumes functions' roles).
    pub fn sts(&self) -> Sts {
        Sts::new(aws_sdk_sts::Client::new(&self.config.sdk))
    }

    /// An S3 client (path-style against a local endpoint).
    /// SQS, for `local`'s delivery of queue messages.
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config.sdk)
    }

    pub fn s3(&self) -> aws_sdk_s3::Client {
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.config.sdk)
                .force_path_style(local_endpoint().is_some())
                .build(),
        )
    }

    /// The SDK configuration, for the clients `local` makes itself.
    pub fn sdk(&self) -> &aws_config::SdkConfig {
        &self.config.sdk
    }
}

/// An endpoint override for S3 (an emulator), if any.
pub fn local_endpoint() -> Option<String> {
    ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
        .iter()
        .find_map(|name| std::env::var(name).ok())
}
