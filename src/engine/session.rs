//! Credentials, region and account from the standard AWS chain
//! (environment, profiles, SSO), with `AWS_ENDPOINT_URL` for an emulator.

use anyhow::{bail, Context as _};
use aws_config::{BehaviorVersion, Region};

/// Where stackctl acts: the SDK configuration, the account and the region.
#[derive(Clone)]
pub struct Session {
    pub sdk: aws_config::SdkConfig,
    pub account: String,
    pub region: String,
}

/// What the user chose on the command line, over the environment.
#[derive(Debug, Clone, Default)]
pub struct SessionOptions {
    pub profile: Option<String>,
    pub region: Option<String>,
}

impl Session {
    /// Loads the chain and asks STS who we are; a missing region or
    /// credential is one line that says what to set.
    pub async fn load(options: &SessionOptions) -> anyhow::Result<Session> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(p) = &options.profile {
            loader = loader.profile_name(p);
        }
        if let Some(r) = &options.region {
            loader = loader.region(Region::new(r.clone()));
        }
        let sdk = loader.load().await;
        let Some(region) = sdk.region().map(|r| r.to_string()) else {
            bail!("no AWS region is set: pass --region, set AWS_REGION, or set `region` in your AWS profile");
        };
        if sdk.credentials_provider().is_none() {
            bail!("no AWS credentials: set AWS_PROFILE (and run `aws sso login` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY");
        }
        let sts = aws_sdk_sts::Client::new(&sdk);
        let me = sts.get_caller_identity().send().await.map_err(|e| {
            let text = format!("{}", aws_sdk_sts::error::DisplayErrorContext(&e));
            // The chain's report spans many lines; the person needs one.
            let first_line = text.lines().next().unwrap_or_default().to_string();
            if text.contains("no credentials found in chain") {
                anyhow::anyhow!("no AWS credentials: set AWS_PROFILE (and run `aws sso login` for SSO), or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (looked in the environment, profiles, web identity, container and instance metadata)")
            } else if text.contains("credentials") || text.contains("Credentials") || text.contains("token") {
                anyhow::anyhow!("the AWS credentials cannot be used ({first_line}): renew them (`aws sso login` for SSO), or set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY")
            } else {
                anyhow::anyhow!("cannot reach AWS STS in {region}: {first_line}")
            }
        })?;
        let account = me
            .account()
            .context("STS did not say which account the credentials belong to")?
            .to_string();
        Ok(Session {
            sdk,
            account,
            region,
        })
    }

    /// The artifact bucket of this account and region.
    pub fn artifact_bucket(&self) -> String {
        format!("stackctl-artifacts-{}-{}", self.account, self.region)
    }

    /// Whether requests go over plain HTTP (a local emulator).
    pub fn plain_http(&self) -> bool {
        ["AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"]
            .iter()
            .filter_map(std::env::var_os)
            .any(|u| u.to_string_lossy().starts_with("http://"))
    }

    /// An S3 client (path-style addressing against a local endpoint).
    pub fn s3(&self) -> aws_sdk_s3::Client {
        let local = std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&self.sdk)
                .force_path_style(local)
                .build(),
        )
    }
}
